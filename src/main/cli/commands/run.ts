// `dynamics run CONFIG [--db FILE] [--suite] [--report FILE] [--threads N] [--options LIST]`: stores the run (or
// the suite's runs) and prints the id(s) first, on one line, so scripts can take them; then trains
// in a trainer process with a progress bar, and prints the report as tables. Every row goes to the
// store; Ctrl-C pauses at a checkpoint (`dynamics resume ID` continues).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../../shared/errors';
import { CONTROLLER_OPTIONS, withControllerOptions, type ControllerOption } from '../../../shared/run-config';
import { loadRunConfigFile } from '../../runner/config-file';
import { parseCommandArgs, parseIntegerOption, type Command } from '../command';
import { watchRuns } from './run-watch';
import { createCliSupervisor, DB_OPTION, openCliStore } from './store-access';

/** `--options`: "paper-exact", or option names separated by commas. */
export function parseControllerOptions(text: string): ControllerOption[] {
  if (text.trim() === 'paper-exact') return [];
  return text.split(',').map((raw) => {
    const name = raw.trim();
    if (!(CONTROLLER_OPTIONS as readonly string[]).includes(name)) {
      throw new UserError(`--options: ${JSON.stringify(name)} is not a controller option (${CONTROLLER_OPTIONS.join(', ')}, or "paper-exact" for none)`);
    }
    return name as ControllerOption;
  });
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run an experiment from a JSON/YAML config, store it and print its report',
  usage: `dynamics run CONFIG [--db FILE] [--suite] [--report FILE] [--threads N] [--options LIST]

Stores the run and prints its id first (one line; with --suite, the ids of every run of the suite
on that line), then trains the config's model on its sources with the DynaMiCS mixture controller
(or the fixed strategy it names) in a trainer process, with a progress bar (phase, ETA, tokens/s).
At the end it prints the target perplexity reduction on the test splits, feasibility, the worst
constraint violation, the cost as a multiple of one fixed-mixture run and the wall time per phase.

  --db FILE      the run store (default: dynamics.db in the data directory); checkpoints go to the
                 runs/ folder beside the default store, NAME-runs/ beside any other
  --suite        also run the fixed baselines (uniform and proportional, m in 0, 0.2, 0.5, 0.8, 1)
                 on the same config and seed, one run each, and report them side by side
  --report FILE  also write the report with the full history (decisions, slopes, losses,
                 evaluations) as JSON to FILE; every run also keeps one in its run folder
  --threads N    ONNX Runtime threads (default: the physical cores)
  --options LIST the controller's options beyond the paper, replacing the config's choice: a
                 comma-separated list of ${CONTROLLER_OPTIONS.join(', ')}
                 (each at the config's setting, else its default), or "paper-exact" for none of
                 them; without it, the config's beyondPaper section (the product default when absent)

Ctrl-C pauses the run at the next safe point (a checkpoint); \`dynamics resume ID\` continues it
exactly. A second Ctrl-C stops at once (the run is interrupted; a resume redoes the steps since its
last checkpoint).

Model: model.path is a Hugging Face model folder (relative to the config file) or bundled:NAME.
Datasets: each sources[].dataset and domains[].dataset is the name of an imported dataset
(\`dynamics datasets import\`), bundled:NAME for a bundled corpus, a JSONL or text file (split
into train/eval/test deterministically), or a folder with train.jsonl, eval.jsonl and test.jsonl.`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('run', argv, {
      ...DB_OPTION,
      suite: { type: 'boolean', default: false },
      report: { type: 'string' },
      threads: { type: 'string' },
      options: { type: 'string' },
    });
    if (positionals.length === 0) throw new UserError('`dynamics run` needs a CONFIG file (JSON or YAML)');
    if (positionals.length > 1) throw new UserError(`unexpected argument ${positionals[1]} for \`dynamics run\``);
    const file = path.resolve(positionals[0]!);
    const threads = parseIntegerOption('threads', values.threads, 1, 1024);
    const loaded = loadRunConfigFile(file);
    const config = values.options === undefined ? loaded : { ...loaded, beyondPaper: withControllerOptions(loaded.beyondPaper, parseControllerOptions(values.options)) };
    const reportFile = values.report ? path.resolve(values.report) : null;
    if (reportFile && !existsSync(path.dirname(reportFile))) throw new UserError(`cannot write the report to ${reportFile}: its folder does not exist`);

    const cli = openCliStore(io, values.db);
    try {
      const supervisor = createCliSupervisor(cli, threads);
      const ids = supervisor.start(config, { baseDir: path.dirname(file), configFile: file, suite: values.suite === true });
      io.out(ids.join(' '));
      return await watchRuns({ supervisor, store: cli.store, ids, io, reportFile, runFolder: (id) => cli.files.runFolder(id) });
    } finally {
      cli.close();
    }
  },
};
