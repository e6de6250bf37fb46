// `npm run bench:scenarios`: the scenario benchmark (METHOD §8–10). Mini-scenarios on the bundled
// base model and corpora (scenarios.ts) × seeds; in each (scenario, seed) cell: the product's default,
// the paper-exact method with its own solver (the penalty grid) and with the LP, each option beyond
// the paper alone, the paper's fixed grid (best@1, best@3, best@10 as oracles on test, and the
// eval-selected best@10 a user would keep), and a static run on the default's and the paper's own
// time-averaged mixtures. One fixed run per cell also measures the noise of the eval sets.
// Every finished run is appended to a results file; a rerun skips what is there (and a run whose
// mixture and settings equal a finished one's is not trained again), so a stopped benchmark resumes.
// Prints the per-cell table, the summary and the paired differences against best@10 with bootstrap
// intervals over cells, and ends with one JSON line {"bench":"scenarios",…}. One run at a time per
// process; --jobs N runs N processes on disjoint scenarios (one ONNX Runtime thread each), each
// appending to its own results file in the same folder, and reports once they are done.
//   --quick             two scenarios, one seed, 128 steps, the default and the paper-exact LP only
//   --out DIR           results folder (default .cache/bench-scenarios[-quick])
//   --seeds N           seeds 0..N-1 (default 1)        --scenarios a,b   scenario ids (default all)
//   --steps N           run length (default 256)        --threads N       ONNX Runtime threads
//   --options a,b       the options run alone (default: NEW_OPTIONS in variants.ts; OPTIONS lists all)
//   --combo a+b         a combination to run too; repeatable
//   --jobs N            N processes, scenarios dealt round-robin (default 1)
//   --summary           print the summary of what is recorded and exit
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RunConfig } from '../../../src/shared/run-config';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { createMixtureSolver } from '../../../src/main/mixture/solver';
import { FolderCheckpointStorage } from '../../../src/main/runner/checkpoint-storage';
import { PreparedRun, type EngineEnvironment } from '../../../src/main/runner/engine-setup';
import { runExperiment } from '../../../src/main/runner/experiment';
import { calibrationSlope } from '../../../src/main/mixture/calibration';
import type { RunReport } from '../../../src/main/runner/events';
import { NoiseProbe } from './noise';
import { ResultsFile, type RunRecord } from './results';
import { benchSettings, ensureAux, SCENARIOS, scenarioConfig, type BenchSettings } from './scenarios';
import { calibrationTable, cellTable, methodValue, cellsOf, noiseTable, pairedTable, summarize, summaryTable } from './summary';
import { averageRun, dynamicsRuns, gridRuns, NEW_OPTIONS, OPTIONS, runIdentity, type MethodRun, type OptionName, type VariantPlan } from './variants';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const QUICK_SCENARIOS = ['code', 'email'];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    seeds: { type: 'string' },
    scenarios: { type: 'string' },
    steps: { type: 'string' },
    threads: { type: 'string' },
    combo: { type: 'string', multiple: true },
    options: { type: 'string' },
    summary: { type: 'boolean', default: false },
    jobs: { type: 'string' },
    job: { type: 'string' },
  },
});

const log = (text: string) => process.stderr.write(`${text}\n`);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

function parseCombo(text: string): OptionName[] {
  return text.split('+').map((o) => {
    if (!(OPTIONS as readonly string[]).includes(o)) throw new Error(`unknown option ${o} in --combo (options: ${OPTIONS.join(', ')})`);
    return o as OptionName;
  });
}

const quick = args.quick === true;
const settings: BenchSettings = benchSettings(positive('steps', args.steps, quick ? 128 : 256));
const seeds = [...Array(positive('seeds', args.seeds, 1)).keys()];
const scenarioIds = args.scenarios ? args.scenarios.split(',') : quick ? QUICK_SCENARIOS : SCENARIOS.map((s) => s.id);
for (const id of scenarioIds) if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`unknown scenario ${id} (known: ${SCENARIOS.map((s) => s.id).join(', ')})`);
const combos = (args.combo ?? []).map(parseCombo);
const options = args.options !== undefined ? (args.options === '' ? [] : parseCombo(args.options.replaceAll(',', '+'))) : NEW_OPTIONS;
const plan: VariantPlan = quick ? { presets: false, penaltyGrid: false, options: [], combos, default: true } : { presets: false, penaltyGrid: true, options, combos, default: true };
/** The DynaMiCS variants whose time-averaged mixture is also run as a static mixture. */
const AVERAGED = ['default', 'paper-lp'];
const outDir = path.resolve(args.out ?? path.join(repoRoot, '.cache', quick ? 'bench-scenarios-quick' : 'bench-scenarios'));
const threads = args.threads ? positive('threads', args.threads, 1) : undefined;

mkdirSync(outDir, { recursive: true });
const jobs = positive('jobs', args.jobs, 1);
/** Set in a child of --jobs: its results file's name. */
const job = args.job;
if (job !== undefined && !/^\d+$/.test(job)) throw new Error('--job must be a number (it is set by --jobs)');
const results = new ResultsFile(path.join(outDir, job === undefined ? 'results.jsonl' : `results-job${job}.jsonl`), outDir);
const resourcesDir = path.join(repoRoot, 'resources');
const auxDir = path.join(outDir, 'aux');

/** A domain's role in a scenario (as the scenario spec defines it). */
function roleOf(scenario: string, domain: string): string | undefined {
  const spec = SCENARIOS.find((s) => s.id === scenario);
  if (!spec) return undefined;
  return spec.targets.includes(domain) ? 'target' : spec.constraints.some((c) => c.domain === domain) ? 'constraint' : undefined;
}

function report(recorded: ResultsFile): void {
  const records = recorded.all().filter((r) => scenarioIds.includes(r.scenario) && seeds.includes(r.seed));
  const summary = summarize(records);
  const dates = records.map((r) => r.finishedAt).filter((d) => d.length > 0).sort();
  const cpu = os.cpus();
  const lines = [
    `# Scenario benchmark${quick ? ' (quick)' : ''}: ${settings.steps} steps, batch ${settings.batchSize} × ${settings.seqLength}, ${scenarioIds.length} scenarios × ${seeds.length} seeds`,
    '',
    `- scenarios: ${scenarioIds.join(', ')}; seeds: ${seeds.join(', ')}`,
    `- evaluation sets per domain: regular ${settings.regularBatches}, probe ${settings.probeBatches}, test ${settings.testBatches} batches of ${settings.batchSize} × ${settings.seqLength} tokens; a regular evaluation every ${settings.evalInterval} steps; probe cap ${settings.probeCap}`,
    `- runs finished between ${dates[0] ?? '-'} and ${dates.at(-1) ?? '-'}; ${Math.round(records.reduce((t, r) => t + r.wallSeconds, 0) / 60)} minutes of training in all`,
    `- machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}, ONNX Runtime on the CPU`,
    '',
    '## Target test-perplexity reduction per cell (✗: infeasible; best@1 shows the feasible share of the grid)',
    '',
    ...cellTable(records),
    '',
    '## Summary over the complete cells (every method on the same cells)',
    '',
    ...summaryTable(summary),
    '',
    '## Paired differences against best@10 (percentage points of target test-ppl reduction; 90% bootstrap interval of the median over cells)',
    '',
    ...pairedTable(records),
    '',
    '## Calibration: slope of measured against predicted change per domain, over each run\'s decisions (1 = predictions of the right size)',
    '',
    ...calibrationTable(records, roleOf),
    '',
    '## Noise of the evaluation sets (per scenario, at the end of one fixed run: the largest standard error of a domain\'s change from the base model, against a quarter of the smallest constraint tolerance)',
    '',
    ...noiseTable(records),
  ];
  writeFileSync(path.join(outDir, 'summary.md'), `${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
  const byName = Object.fromEntries(summary.map((s) => [s.method, s]));
  const def = byName.default;
  const b10 = byName['best@10'];
  const cells = cellsOf(records);
  const completeCells = cells.filter((c) => methodValue(c, 'best@10') && methodValue(c, 'default')).length;
  const round = (x: number | undefined, d = 4) => (x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(d)));
  console.log(
    JSON.stringify({
      bench: 'scenarios',
      quick,
      steps: settings.steps,
      scenarios: scenarioIds.length,
      seeds: seeds.length,
      cells: cells.length,
      completeCells,
      runs: records.filter((r) => r.wallSeconds > 0).length,
      trainSeconds: Math.round(records.reduce((s, r) => s + r.wallSeconds, 0)),
      methods: Object.fromEntries(summary.map((s) => [s.method, { medianReduction: round(s.medianReduction), feasibleRate: round(s.feasibleRate, 3), medianCost: round(s.medianCost, 2), medianWallCost: round(s.medianWallCost, 2), beatsBest10: round(s.beatsBest10, 3), beatsOwnAverage: round(s.beatsOwnAverage, 3), cells: s.cells }])),
      goal:
        def && b10
          ? {
              defaultAtLeastBest10: def.medianReduction >= b10.medianReduction,
              defaultAboveEvalSelected: byName['eval-selected best@10'] ? def.medianReduction > byName['eval-selected best@10'].medianReduction : null,
              feasibleAtLeast85: def.feasibleRate >= 0.85,
              feasibleAboveBest1: byName['best@1'] ? def.feasibleRate > byName['best@1'].feasibleRate : null,
              costAtMost3: def.medianCost <= 3,
              aboveOwnAverageInMostCells: def.beatsOwnAverage > 0.5,
            }
          : null,
    }),
  );
}

async function runCell(scenarioId: string, seed: number, env: EngineEnvironment, solver: Awaited<ReturnType<typeof createMixtureSolver>>): Promise<void> {
  const spec = SCENARIOS.find((s) => s.id === scenarioId)!;
  const base = scenarioConfig(spec, settings, seed, auxDir);
  const prepared = new Map<string, PreparedRun>();
  const preparedFor = async (config: RunConfig): Promise<PreparedRun> => {
    const key = JSON.stringify(config.evaluation);
    let p = prepared.get(key);
    if (!p) prepared.set(key, (p = await PreparedRun.open(config, env)));
    return p;
  };
  try {
    const first = await preparedFor(base);
    const sizes = first.sources.map((s) => s.tokens);
    const run = async (m: MethodRun): Promise<RunRecord> => {
      const configHash = runIdentity(m.config, sizes);
      const key = `${scenarioId}|${seed}|${m.method}|${configHash}`;
      const done = results.get(key);
      if (done) return done;
      const same = results.all().find((r) => r.scenario === scenarioId && r.seed === seed && r.configHash === configHash);
      if (same) {
        const copy: RunRecord = { ...same, key, method: m.method, family: m.family, wallSeconds: 0, finishedAt: new Date().toISOString() };
        results.add(copy);
        log(`[${scenarioId} seed ${seed}] ${m.method}: the same run as ${same.method}`);
        return copy;
      }
      const config = { ...m.config, name: `bench ${scenarioId} ${m.method}` };
      const p = await preparedFor(config);
      const ckptDir = mkdtempSync(path.join(os.tmpdir(), 'dynamics-bench-ckpt-'));
      const t0 = performance.now();
      try {
        const engineTrainer = await p.createTrainer(config, new FolderCheckpointStorage(ckptDir));
        const noise = m.measureNoise ? new NoiseProbe(engineTrainer) : null;
        let r: RunReport;
        try {
          r = await runExperiment(config, noise ?? engineTrainer, solver, { progressChunkSteps: 64 });
        } finally {
          await engineTrainer.close();
        }
        const decisions = r.history.decisions.filter((d) => d.slopes !== null);
        const record: RunRecord = {
          v: 1,
          key,
          scenario: scenarioId,
          seed,
          method: m.method,
          family: m.family,
          configHash,
          feasible: r.feasible,
          targetPplReduction: r.test.targetPplReduction,
          maxViolation: r.test.maxViolation,
          costMultiple: r.cost.multiple,
          wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
          selectedStep: r.test.selectedStep,
          weights: r.timeAveragedWeights.map((w) => Number(w.toPrecision(6))),
          decisions: decisions.length,
          infeasibleDecisions: decisions.filter((d) => d.status === 'infeasible').length,
          backtracks: r.history.backtracks.length,
          finishedAt: new Date().toISOString(),
          evalReduction: evalReduction(config, r),
          ...(noise ? { noise: noise.report(config, r.references) } : {}),
          ...(m.family === 'dynamics' && (r.history.outcomes?.length ?? 0) > 0
            ? {
                calibration: {
                  domains: config.domains.map((d) => d.id),
                  slopes: config.domains.map((_, i) => round6(calibrationSlope(r.history.outcomes ?? [], i).slope)),
                  points: r.history.outcomes?.length ?? 0,
                },
              }
            : {}),
        };
        results.add(record);
        const wall = Object.entries(r.cost.wallSeconds).filter(([, v]) => v >= 0.5).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
        log(`[${scenarioId} seed ${seed}] ${m.method}: ${pct(record.targetPplReduction)} ${record.feasible ? 'feasible' : 'infeasible'}, violation ${record.maxViolation.toFixed(4)}, cost ${record.costMultiple.toFixed(2)}×, ${record.wallSeconds} s (${wall})`);
        return record;
      } finally {
        rmSync(ckptDir, { recursive: true, force: true });
      }
    };

    const grid = gridRuns(base);
    // The first grid run also measures the noise of the evaluation sets.
    await run({ ...grid[0]!, measureNoise: true });
    const dyn: RunRecord[] = [];
    for (const m of dynamicsRuns(base, plan)) dyn.push(await run(m));
    for (const m of grid.slice(1)) await run(m);
    for (const d of dyn) if (AVERAGED.includes(d.method)) await run(averageRun(base, d.method, d.weights));
  } finally {
    for (const p of prepared.values()) p.close();
  }
}

const round6 = (x: number | null) => (x === null ? null : Number(x.toPrecision(6)));

/** The target perplexity reduction on the eval split at the selected checkpoint (0 when none is feasible). */
function evalReduction(config: RunConfig, r: RunReport): number {
  const step = r.test.selectedStep;
  const e = step === null ? undefined : r.history.evals.find((x) => x.step === step && !x.abandoned);
  if (!e) return 0;
  const targets = config.domains.flatMap((d, i) => (d.role === 'target' ? [i] : []));
  const mean = targets.reduce((s, i) => s + (e.losses[i] as number) - (r.references.baseLosses[i] as number), 0) / targets.length;
  return 1 - Math.exp(mean);
}

/** --jobs: the scenarios dealt round-robin to child processes of this script, one thread each. */
async function runJobs(): Promise<void> {
  const forwarded = [
    ...(quick ? ['--quick'] : []),
    ...(args.steps ? ['--steps', args.steps] : []),
    ...(args.seeds ? ['--seeds', args.seeds] : []),
    ...(args.options !== undefined ? ['--options', args.options] : []),
    ...(args.combo ?? []).flatMap((c) => ['--combo', c]),
  ];
  const script = fileURLToPath(import.meta.url);
  const children = Array.from({ length: Math.min(jobs, scenarioIds.length) }, (_, k) => {
    const mine = scenarioIds.filter((_, i) => i % jobs === k);
    const argv = [...process.execArgv, script, ...forwarded, '--scenarios', mine.join(','), '--out', outDir, '--job', String(k), '--threads', String(threads ?? 1)];
    return new Promise<number>((resolve) => {
      spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'inherit'] }).on('exit', (code) => resolve(code ?? 1));
    });
  });
  const codes = await Promise.all(children);
  if (codes.some((c) => c !== 0)) throw new Error(`a benchmark process failed (exit codes ${codes.join(', ')}); run the same command again to continue`);
}

async function main(): Promise<void> {
  if (args.summary) {
    report(results);
    return;
  }
  if (jobs > 1 && job === undefined) {
    log(`scenario benchmark: ${scenarioIds.length} scenarios × ${seeds.length} seeds, ${settings.steps} steps, in ${jobs} processes; results in ${outDir}`);
    await runJobs();
    report(new ResultsFile(path.join(outDir, 'results.jsonl'), outDir));
    return;
  }
  ensureAux(resourcesDir, auxDir);
  const env: EngineEnvironment = {
    runtime: new OrtRuntime(),
    graphCacheDir: path.join(repoRoot, '.cache', 'bench-graphs'),
    tokenCacheDir: path.join(repoRoot, '.cache', 'bench-tokens'),
    resourcesDir,
    baseDir: repoRoot,
    ...(threads !== undefined ? { threads } : {}),
  };
  const solver = await createMixtureSolver();
  log(`scenario benchmark: ${scenarioIds.length} scenarios × ${seeds.length} seeds, ${settings.steps} steps; results in ${results.file} (${results.all().length} recorded)`);
  // seeds outermost: a partial benchmark covers every scenario once before repeating any
  for (const seed of seeds) for (const id of scenarioIds) await runCell(id, seed, env, solver);
  report(results);
}

main().catch((err: unknown) => {
  log(`bench:scenarios: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
