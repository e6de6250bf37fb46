// `dynamics run CONFIG [--suite] [--report FILE]`: runs an experiment from a JSON/YAML config on
// the engine, with a progress line, prints the report as tables and writes the report with the
// full history (decisions, slopes, losses, evaluations) to a JSON file.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../../shared/errors';
import { OrtRuntime } from '../../engine/runtime/ort-runtime';
import { dataLayout, resolveDataDir, resourcesDir } from '../../paths';
import { loadRunConfigFile } from '../../runner/config-file';
import { RunCancelledError } from '../../runner/context';
import { launchRun } from '../../runner/launch';
import { fanOut, JsonReportSink, type RunSink } from '../../runner/sink';
import { formatOutcome, ProgressDisplay, type TerminalOutput } from '../../runner/terminal';
import { parseCommandArgs, parseIntegerOption, type CliIo, type Command } from '../command';

/** `20260131-142501-my-run`: sorts by time, readable, safe on every filesystem. Created by the first file written. */
function runFolderName(name: string, at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}-${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}`;
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return slug ? `${stamp}-${slug}` : stamp;
}

function freshRunDir(root: string, name: string): string {
  const base = path.join(root, runFolderName(name, new Date()));
  let dir = base;
  for (let k = 2; existsSync(dir); k++) dir = `${base}-${k}`;
  return dir;
}

/** On a terminal the status line is rewritten in place; elsewhere progress comes as plain lines on stderr. */
function terminalOutput(io: CliIo): TerminalOutput {
  const write = io.write;
  if (!write || process.stdout.isTTY !== true) return { line: (t) => io.err(t) };
  let shown = false;
  return {
    status: (line) => {
      if (line === null) {
        if (shown) write('\r\x1b[K');
        shown = false;
        return;
      }
      // a pseudo-terminal may report 0 columns
      const width = Math.max(20, (process.stdout.columns || 100) - 1);
      write(`\r\x1b[K${line.slice(0, width)}`);
      shown = true;
    },
    line: (t) => io.out(t),
  };
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run an experiment from a JSON/YAML config and print its report',
  usage: `dynamics run CONFIG [--suite] [--report FILE] [--threads N]

Trains the config's model on its sources with the DynaMiCS mixture controller (or the fixed
strategy it names), evaluates every domain, selects the best feasible checkpoint and reports the
target perplexity reduction on the test splits, feasibility, the worst constraint violation, the
cost as a multiple of one fixed-mixture run and the wall time per phase.

  --suite        also run the fixed baselines (uniform and proportional, m in 0, 0.2, 0.5, 0.8, 1)
                 on the same config and seed, and report them side by side
  --report FILE  where to write the report with the full history (decisions, slopes, losses,
                 evaluations) as JSON; default: report.json in the run's folder
  --threads N    ONNX Runtime threads (default: the physical cores)

Model: model.path is a Hugging Face model folder (relative to the config file) or bundled:NAME.
Datasets: each sources[].dataset and domains[].dataset is the name of an imported dataset
(\`dynamics datasets import\`), bundled:NAME for a bundled corpus, a JSONL or text file (split
into train/eval/test deterministically), or a folder with train.jsonl, eval.jsonl and test.jsonl.
Checkpoints go to the data directory's runs/ folder.`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('run', argv, {
      suite: { type: 'boolean', default: false },
      report: { type: 'string' },
      threads: { type: 'string' },
    });
    if (positionals.length === 0) throw new UserError('`dynamics run` needs a CONFIG file (JSON or YAML)');
    if (positionals.length > 1) throw new UserError(`unexpected argument ${positionals[1]} for \`dynamics run\``);
    const file = path.resolve(positionals[0]!);
    const threads = parseIntegerOption('threads', values.threads, 1, 1024);
    const config = loadRunConfigFile(file);
    const reportFile = values.report ? path.resolve(values.report) : null;
    if (reportFile && !existsSync(path.dirname(reportFile))) throw new UserError(`cannot write the report to ${reportFile}: its folder does not exist`);

    const layout = dataLayout(resolveDataDir(io.env));
    const runDir = freshRunDir(layout.runs, config.name);
    const out = terminalOutput(io);
    const report = new JsonReportSink(reportFile ?? path.join(runDir, 'report.json'));
    const sink: RunSink = fanOut(
      { begin: (info) => io.err(`run folder: ${info.runDir}\ndevice: ${info.device.device} (${info.device.reason})`) },
      new ProgressDisplay(out, { showLabel: values.suite === true }),
      report,
    );

    const controller = new AbortController();
    void io.untilInterrupted().then(() => controller.abort());
    try {
      const outcome = await launchRun({
        config,
        env: {
          runtime: new OrtRuntime(),
          graphCacheDir: layout.graphCache,
          tokenCacheDir: layout.tokenCache,
          datasetsDir: layout.datasets,
          resourcesDir: resourcesDir(),
          baseDir: path.dirname(file),
          ...(threads !== undefined ? { threads } : {}),
          onStatus: (m) => io.err(m),
        },
        runDir,
        suite: values.suite === true,
        sink,
        signal: controller.signal,
      });
      out.status?.(null);
      io.out(formatOutcome(outcome, config.sources.map((s) => s.id)).join('\n'));
      io.out(`\nreport and history: ${report.file}`);
      return 0;
    } catch (err) {
      out.status?.(null);
      if (err instanceof RunCancelledError) {
        io.err(`dynamics: ${err.message}; its checkpoints are in ${runDir}`);
        return 130;
      }
      throw err;
    }
  },
};
