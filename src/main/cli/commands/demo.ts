// `dynamics demo [--quick]`: the embedded default. One scenario on the bundled base model and
// corpora (resources/demo): DynaMiCS and fixed-mixture baselines on the same data and seed, each a
// stored run trained in its own trainer process by the run supervisor (exactly as `dynamics run`
// does), one after another; then a results table and where to look at the runs in the app.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../../shared/errors';
import { paperExactOptions, type RunConfig, type StrategyConfig } from '../../../shared/run-config';
import { resolveDataDir, resourcesDir } from '../../paths';
import { strategyLabel } from '../../mixture/baselines';
import { loadRunConfigFile } from '../../runner/config-file';
import { PreparedRun } from '../../runner/engine-setup';
import type { RunEvent } from '../../runner/events';
import { ProgressDisplay } from '../../runner/terminal';
import { parseCommandArgs, parseIntegerOption, type Command } from '../command';
import { HOW_TO_READ, resultsTable, scenarioLines, verdictLines, type DemoRow } from './demo-table';
import { terminalOutput } from './run-watch';
import { createCliSupervisor, DB_OPTION, openCliStore } from './store-access';

/** The two demo scenarios shipped in resources/demo, and the sources they expect to hurt (for the text only). */
export const DEMO_FILES = { full: 'demo.json', quick: 'demo-quick.json' } as const;
const HARMFUL = ['dictionary'];
export const DEMO_TAG = 'demo';

export interface DemoRun {
  label: string;
  adaptive: boolean;
  config: RunConfig;
}

/** Every "beyond the paper" option off: METHOD §2–4 exactly. */
function paperExact(config: RunConfig): RunConfig {
  return { ...config, beyondPaper: paperExactOptions(config.beyondPaper) };
}

/**
 * The demo's runs: DynaMiCS as the product runs it by default, the paper-exact method when the
 * default differs from it, and fixed mixtures: the paper's grid of target masses (with one target
 * uniform and proportional coincide), or in quick mode two of them.
 */
export function demoPlan(config: RunConfig, quick: boolean): DemoRun[] {
  const dynamics: RunConfig = { ...config, strategy: { kind: 'dynamics' } };
  const runs: DemoRun[] = [{ label: 'DynaMiCS', adaptive: true, config: dynamics }];
  const paper = paperExact(dynamics);
  if (JSON.stringify(paper.beyondPaper) !== JSON.stringify(dynamics.beyondPaper)) runs.push({ label: 'DynaMiCS (paper-exact)', adaptive: true, config: paper });
  const masses = quick ? [0.5, 1] : [0, 0.2, 0.5, 0.8, 1];
  for (const m of masses) {
    const strategy: StrategyConfig = { kind: 'fixed-uniform', targetMass: m };
    runs.push({ label: strategyLabel(strategy), adaptive: false, config: { ...config, strategy } });
  }
  return runs;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the embedded demo: DynaMiCS against fixed mixtures on the bundled model and corpora',
  usage: `dynamics demo [--quick] [--db FILE] [--threads N]

Runs one scenario on the bundled base model and corpora (resources/demo/demo.json): a target domain
to improve, constraint domains to keep at the base model's loss, and sources that include
auxiliary data, one of it harmful. DynaMiCS and fixed-mixture baselines train on the same data and
seed, one after another, each stored as a run (tagged "demo") like \`dynamics run\` stores it. At
the end it prints a results table: target test-perplexity reduction, feasibility, the worst
constraint violation, the cost as a multiple of one fixed run, the wall time and the mixture.
About 10 minutes on two CPU cores (the first run also tokenizes the corpora).

  --quick        a shorter scenario (resources/demo/demo-quick.json): fewer steps, DynaMiCS and two
                 fixed mixtures; about 2 minutes
  --db FILE      the run store (default: dynamics.db in the data directory, which the app shows)
  --threads N    ONNX Runtime threads (default: the physical cores)

Ctrl-C pauses the current run at its next checkpoint and stops the demo; \`dynamics resume ID\`
continues that run.`,
  async run(argv, io) {
    const { values } = parseCommandArgs('demo', argv, { ...DB_OPTION, quick: { type: 'boolean', default: false }, threads: { type: 'string' } }, false);
    const quick = values.quick === true;
    const threads = parseIntegerOption('threads', values.threads, 1, 1024);
    const demoDir = path.join(resourcesDir(), 'demo');
    const file = path.join(demoDir, quick ? DEMO_FILES.quick : DEMO_FILES.full);
    const config = loadRunConfigFile(file);
    const modelDir = PreparedRun.modelDir(config.model.path, { resourcesDir: resourcesDir(), baseDir: demoDir });
    if (!existsSync(path.join(modelDir, 'model.safetensors'))) {
      throw new UserError(`the bundled base model is missing (${modelDir}); it ships with the checkout (rebuild it with \`npm run pretrain\`)`);
    }
    const plan = demoPlan(config, quick);
    const sourceIds = config.sources.map((s) => s.id);

    io.out(`DynaMiCS demo${quick ? ' (quick)' : ''}: ${plan.length} runs, one after another`);
    for (const line of scenarioLines(config, HARMFUL)) io.out(`  ${line}`);
    io.out(`  runs: ${plan.map((r) => r.label).join(', ')}`);
    io.out('');

    const cli = openCliStore(io, values.db);
    try {
      const supervisor = createCliSupervisor(cli, threads);
      const out = terminalOutput(io);
      const display = new ProgressDisplay(out, { showLabel: true });
      const rows: DemoRow[] = [];
      let stopped: { runId: number; status: string; reason: string | null } | null = null;
      let interrupted = false;
      let current: number | null = null;
      const onInterrupt = (): void => {
        if (interrupted) return;
        interrupted = true;
        out.status?.(null);
        io.err('pausing the current run at its next checkpoint; the demo stops after it');
        if (current !== null) void supervisor.pause(current).catch(() => undefined);
      };
      void io.untilInterrupted().then(onInterrupt);

      for (const run of plan) {
        if (interrupted) break;
        const weights: { value: number[] | null } = { value: null };
        const t0 = performance.now();
        const [id] = supervisor.start(run.config, { baseDir: demoDir, configFile: file, tags: [DEMO_TAG] });
        const runId = id!;
        current = runId;
        const unsubscribe = supervisor.subscribe((e) => {
          if (e.runId !== runId) return;
          if (e.type === 'preparing') {
            out.status?.(null);
            io.err(`[${run.label}] ${e.message}`);
          } else if (e.type === 'device') {
            out.status?.(null);
            io.err(`[${run.label}] device: ${e.device} (${e.reason})`);
          } else if (e.type !== 'status' && e.type !== 'output') {
            const { runId: _, ...event } = e;
            if (event.type === 'finished') weights.value = event.report.timeAveragedWeights;
            display.event(run.label, event as RunEvent);
          }
        });
        let status: string;
        try {
          status = await supervisor.wait(runId);
        } finally {
          unsubscribe();
          out.status?.(null);
        }
        current = null;
        const s = cli.store.reader.get(runId);
        rows.push({
          runId,
          label: run.label,
          adaptive: run.adaptive,
          status,
          feasible: s.feasible,
          targetGain: s.targetGain,
          maxViolation: s.maxViolation,
          costMultiple: s.costMultiple,
          wallSeconds: (performance.now() - t0) / 1000,
          weights: weights.value,
        });
        io.err(`[${run.label}] run ${runId} ${status}${s.statusReason && status !== 'completed' ? `: ${s.statusReason}` : ''}`);
        if (status !== 'completed') {
          stopped = { runId, status, reason: s.statusReason };
          break;
        }
      }

      io.out('');
      io.out(resultsTable(rows, sourceIds).join('\n'));
      io.out('');
      io.out(verdictLines(rows).join('\n'));
      io.out('');
      io.out(HOW_TO_READ.join('\n'));
      io.out('');
      const ids = rows.map((r) => r.runId);
      const inDataDir = values.db === undefined;
      io.out(`The runs are stored${inDataDir ? ` in ${cli.layout.database}` : ` in ${cli.store.file}`} (tag "${DEMO_TAG}", ids ${ids.join(', ')}). To look at them:`);
      if (inDataDir) {
        io.out('  npx dynamics serve     the app in a browser (open the address it prints; Runs, then Compare)');
        io.out('  npm start              the desktop app');
      } else {
        io.out(`  the app shows the data directory's store (${resolveDataDir(io.env)}); this one is read by the CLI:`);
      }
      io.out(`  npx dynamics runs list${inDataDir ? '' : ` --db ${cli.store.file}`}   and   npx dynamics runs show ID`);

      if (stopped) {
        if (stopped.status === 'paused') io.err(`dynamics: run ${stopped.runId} is paused; \`dynamics resume ${stopped.runId}\` continues it`);
        else io.err(`dynamics: run ${stopped.runId} ${stopped.status}${stopped.reason ? `: ${stopped.reason}` : ''}`);
        return stopped.status === 'paused' || interrupted ? 130 : 1;
      }
      return interrupted ? 130 : 0;
    } finally {
      cli.close();
    }
  },
};
