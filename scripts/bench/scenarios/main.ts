// `npm run bench:scenarios`: the scenario benchmark (issue 9, METHOD §8–9). Mini-scenarios on the
// bundled base model and corpora (scenarios.ts) × seeds; in each (scenario, seed) cell, the
// paper-exact DynaMiCS at each schedule preset, each "beyond the paper" option, their combinations
// and the product's default, against the paper's fixed grid (best@1, best@10), the fixed mixtures
// that leave auxiliary sources out, and a static run on each DynaMiCS run's time-averaged mixture.
// Every finished run is appended to results.jsonl; a rerun skips what is there (and a run whose
// mixture and settings equal a finished one's is not trained again). Prints the per-cell table and
// the summary (median target test-perplexity reduction, feasible share, median cost multiple), and
// ends with one JSON line {"bench":"scenarios",…}. Runs in this process (one model load and one
// tokenization per cell), one run at a time.
//   --quick             two scenarios, one seed, 256 steps, the paper-exact method, the default and
//                       the combination only (about 30 minutes on two idle cores)
//   --out DIR           results folder (default .cache/bench-scenarios[-quick])
//   --seeds N           seeds 0..N-1 (default 3)        --scenarios a,b   scenario ids (default all)
//   --steps N           run length (default 1024)       --threads N       ONNX Runtime threads
//   --combo a+b         the combination to run (default: COMBO below); repeatable
//   --summary           print the summary of what is recorded and exit
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
import { ResultsFile, type RunRecord } from './results';
import { benchSettings, ensureAux, SCENARIOS, scenarioConfig, type BenchSettings } from './scenarios';
import { cellTable, methodValue, cellsOf, summarize, summaryTable } from './summary';
import { averageRun, dynamicsRuns, gridRuns, leaveOutRuns, OPTIONS, runIdentity, type MethodRun, type OptionName, type VariantPlan } from './variants';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The combination of options tried by default (chosen from the options' single results; see the README). */
const COMBO: OptionName[] = ['noise-margin', 'local-slopes'];
const QUICK_SCENARIOS = ['code', 'api-docs-6c'];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    seeds: { type: 'string' },
    scenarios: { type: 'string' },
    steps: { type: 'string' },
    threads: { type: 'string' },
    combo: { type: 'string', multiple: true },
    summary: { type: 'boolean', default: false },
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
const settings: BenchSettings = benchSettings(positive('steps', args.steps, quick ? 256 : 1024));
const seeds = [...Array(positive('seeds', args.seeds, quick ? 1 : 3)).keys()];
const scenarioIds = args.scenarios ? args.scenarios.split(',') : quick ? QUICK_SCENARIOS : SCENARIOS.map((s) => s.id);
for (const id of scenarioIds) if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`unknown scenario ${id} (known: ${SCENARIOS.map((s) => s.id).join(', ')})`);
const combos = (args.combo ?? [COMBO.join('+')]).map(parseCombo);
const plan: VariantPlan = quick ? { presets: false, options: [], combos, default: true } : { presets: true, options: OPTIONS, combos, default: true };
const outDir = path.resolve(args.out ?? path.join(repoRoot, '.cache', quick ? 'bench-scenarios-quick' : 'bench-scenarios'));
const threads = args.threads ? positive('threads', args.threads, 1) : undefined;

mkdirSync(outDir, { recursive: true });
const results = new ResultsFile(path.join(outDir, 'results.jsonl'));
const resourcesDir = path.join(repoRoot, 'resources');
const auxDir = path.join(outDir, 'aux');

function report(): void {
  const records = results.all().filter((r) => scenarioIds.includes(r.scenario) && seeds.includes(r.seed));
  const summary = summarize(records);
  const lines = [
    `# Scenario benchmark${quick ? ' (quick)' : ''}: ${settings.steps} steps, batch ${settings.batchSize} × ${settings.seqLength}, ${scenarioIds.length} scenarios × ${seeds.length} seeds`,
    '',
    '## Target test-perplexity reduction per cell (✗: infeasible; best@1 shows the feasible share of the grid)',
    '',
    ...cellTable(records),
    '',
    '## Summary over cells',
    '',
    ...summaryTable(summary),
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
      methods: Object.fromEntries(summary.map((s) => [s.method, { medianReduction: round(s.medianReduction), feasibleRate: round(s.feasibleRate, 3), medianCost: round(s.medianCost, 2), beatsBest10: round(s.beatsBest10, 3), cells: s.cells }])),
      goal: def && b10 ? { defaultBeatsBest10: def.medianReduction > b10.medianReduction, higherFeasibility: def.feasibleRate > b10.feasibleRate, costAtMost3: def.medianCost <= 3 } : null,
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
        const trainer = await p.createTrainer(config, new FolderCheckpointStorage(ckptDir));
        let r;
        try {
          r = await runExperiment(config, trainer, solver, { progressChunkSteps: 64 });
        } finally {
          await trainer.close();
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
        };
        results.add(record);
        log(`[${scenarioId} seed ${seed}] ${m.method}: ${pct(record.targetPplReduction)} ${record.feasible ? 'feasible' : 'infeasible'}, violation ${record.maxViolation.toFixed(4)}, cost ${record.costMultiple.toFixed(2)}×, ${record.wallSeconds} s`);
        return record;
      } finally {
        rmSync(ckptDir, { recursive: true, force: true });
      }
    };

    const dyn: RunRecord[] = [];
    for (const m of dynamicsRuns(base, plan)) dyn.push(await run(m));
    for (const m of [...gridRuns(base), ...leaveOutRuns(base)]) await run(m);
    for (const d of dyn) await run(averageRun(base, d.method, d.weights));
  } finally {
    for (const p of prepared.values()) p.close();
  }
}

async function main(): Promise<void> {
  if (args.summary) {
    report();
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
  report();
}

main().catch((err: unknown) => {
  log(`bench:scenarios: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
