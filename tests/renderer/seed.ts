// Seeds a real core's store with runs for renderer tests: each run is created by the run store and
// filled by the real StoreSink from a synthetic sequence of the experiment loop's events (plan,
// references, decisions, training chunks, evaluations, the final report) — the same rows a trained
// run leaves, without training. The numbers are made up but shaped like a run's: targets fall,
// constraints drift around their references.
import type { Core } from '../../src/main/bootstrap';
import { StoreSink } from '../../src/main/runner/store-sink';
import { CheckpointFiles } from '../../src/main/store/checkpoints';
import { parseRunConfig, type RunConfig, type StrategyKind } from '../../src/shared/run-config';
import type { DecisionRecord, OutcomeRecord, RunReport, RunSuiteMembership } from '../../src/shared/runs';
import { COST_CATEGORIES } from '../../src/shared/mixture';

export interface SeedRun {
  name: string;
  strategy?: StrategyKind;
  steps?: number;
  evalEvery?: number;
  decisionSteps?: number[];
  /** How fast the target improves (per step); also shapes the score. */
  gain?: number;
  /** A constraint drifts above its reference from this step on (never when undefined). */
  violateFrom?: number;
  /** Leave the run running (no report, status running). */
  live?: boolean;
  tags?: string[];
  learningRate?: number;
  /** Train-loss points are written every this many steps (1 = every step). */
  trainEvery?: number;
  /** Metric batches are committed every this many (fake) milliseconds; a step is 250 ms. */
  flushIntervalMs?: number;
  /**
   * Online calibration (dynamics only): decisions carry their predicted change and the calibration
   * in force (CALIBRATION_SCALE from the second decision on), and each horizon's end measures
   * OUTCOME_FACTORS × the uncalibrated predicted change.
   */
  calibration?: boolean;
  /** Stored as a member of this baseline suite (its launch details), as a suite's runs are. */
  suite?: RunSuiteMembership;
}

export const SOURCES = ['code', 'email', 'licenses'];
export const DOMAINS = [
  { id: 'code', role: 'target' as const },
  { id: 'email', role: 'constraint' as const },
  { id: 'licenses', role: 'constraint' as const },
  { id: 'dictionary', role: 'monitor' as const },
];
const BASE = [2.5, 2.0, 1.8, 3.0];
export const REFERENCES = [null, 2.0, 1.8 * 1.01, null];
/** What a seeded outcome measures, per domain, as a multiple of the uncalibrated prediction. */
export const OUTCOME_FACTORS = [0.5, 1.5, 1, 0.8];
/** The calibration factors the seeded decisions after the first one apply. */
export const CALIBRATION_SCALE = [0.7, 1.3, 1, 0.9];

function configFor(s: SeedRun): RunConfig {
  const strategy =
    s.strategy === 'fixed-uniform' ? { kind: 'fixed-uniform' as const, targetMass: 0.5 } : s.strategy === 'fixed-proportional' ? { kind: 'fixed-proportional' as const, targetMass: 0.5 } : { kind: (s.strategy ?? 'dynamics') as 'dynamics' };
  return parseRunConfig({
    name: s.name,
    seed: 3,
    model: { path: 'bundled:tiny' },
    sources: SOURCES.map((id) => ({ id, dataset: `bundled:${id}` })),
    domains: DOMAINS.map((d, i) => ({ ...d, dataset: `bundled:${d.id}`, ...(i === 2 ? { reference: { kind: 'relative', tolerance: 0.01 } } : {}) })),
    training: { steps: s.steps ?? 64, batchSize: 4, seqLength: 32, learningRate: s.learningRate ?? 0.003 },
    evaluation: { interval: s.evalEvery ?? 16, regularBatches: 4, probeBatches: 2, testBatches: 2 },
    strategy,
    dynamics: { schedule: { kind: 'list', steps: s.decisionSteps ?? [0, 16, 32] }, probeCap: 4 },
  });
}

function lossAt(i: number, step: number, s: SeedRun): number {
  const gain = s.gain ?? 0.002;
  if (i === 0) return BASE[0]! - gain * step + 0.01 * Math.sin(step);
  if (i === 1) return BASE[1]! - 0.0005 * step + (s.violateFrom !== undefined && step >= s.violateFrom ? 0.05 : 0);
  if (i === 2) return BASE[2]! + 0.0001 * step;
  return BASE[3]! - 0.0002 * step;
}

function weightsAt(k: number, strategy: StrategyKind): number[] {
  if (strategy !== 'dynamics') return [0.5, 0.25, 0.25];
  return k === 0 ? [1, 0, 0] : k === 1 ? [0.6, 0.4, 0] : [0.3, 0.5, 0.2];
}

/** Creates and fills one run; returns its id. */
export function seedRun(core: Core, s: SeedRun): number {
  const config = configFor(s);
  const strategy = config.strategy.kind;
  const steps = config.training.steps;
  const runs = core.store.runs;
  const runId = runs.create({ name: s.name, config, strategy, seed: config.seed, sources: SOURCES, domains: DOMAINS, tags: s.tags ?? [], totalSteps: steps,
    ...(s.suite ? { launch: { baseDir: '.', configFile: null, suite: s.suite } } : {}),
  });
  runs.start(runId, { device: 'cpu', reason: 'chosen in the config' });
  let now = 0;
  const sink = new StoreSink({ store: core.store, files: new CheckpointFiles(core.layout.runs), runId, config, resumed: false, clock: () => now, flushIntervalMs: s.flushIntervalMs ?? 0 });
  const decisionSteps = config.dynamics.schedule.kind === 'list' ? config.dynamics.schedule.steps : [0];
  const evalSteps: number[] = [];
  for (let e = 0; e <= steps; e += config.evaluation.interval) evalSteps.push(e);
  const updates = decisionSteps.map((step, k) => ({ step, horizon: (decisionSteps[k + 1] ?? steps) - step, probeSteps: strategy === 'dynamics' ? 4 : 0 }));
  sink.event(s.name, { type: 'started', plan: { totalSteps: steps, sourceIds: SOURCES, domainIds: DOMAINS.map((d) => d.id), roles: DOMAINS.map((d) => d.role), strategy, updates, evalSteps, plannedCostMultiple: 1.5 } });
  sink.event(s.name, { type: 'references', references: { baseLosses: BASE, references: REFERENCES, baseTestLosses: BASE.map((b) => b + 0.01) } });
  const decisions: DecisionRecord[] = [];
  const trainEvery = s.trainEvery ?? 4;
  const outcomes: OutcomeRecord[] = [];
  for (let step = 0; step <= steps; step++) {
    now = step * 250;
    // The pending decision's outcome is measured before the next decision is made (as in the loop).
    const pending = decisions.find((d) => d.step + d.horizon === step);
    if (pending?.predictedChange && pending.calibration) {
      const scale = pending.calibration.scale;
      const o: OutcomeRecord = {
        step: pending.step, measuredAt: step, predicted: pending.predictedChange,
        calibrated: pending.predictedChange.map((p, i) => p * scale[i]!), actual: pending.predictedChange.map((p, i) => p * OUTCOME_FACTORS[i]!),
      };
      outcomes.push(o);
      sink.event(s.name, { type: 'outcome', record: o });
    }
    const k = decisionSteps.indexOf(step);
    if (k >= 0 && step < steps) {
      const u = updates[k]!;
      const w = weightsAt(k, strategy);
      const slopes = strategy === 'dynamics' ? [[-0.004, 0.001, 0.0005], [0.0008, -0.002, 0.0001], [0.0002, 0.0003, -0.001], [-0.0001, -0.0002, -0.0003]] : null;
      const losses = DOMAINS.map((_, i) => lossAt(i, step, s));
      const change = slopes ? slopes.map((row) => u.horizon * row.reduce((a, sij, j) => a + sij * w[j]!, 0)) : null;
      const scale = k === 0 ? DOMAINS.map(() => 1) : CALIBRATION_SCALE;
      const calibration = s.calibration && change ? { scale, stdErrors: DOMAINS.map(() => (k > 1 ? 0.001 : null)), points: DOMAINS.map(() => k) } : null;
      const predicted = change ? losses.map((l, i) => l + change[i]! * (calibration ? scale[i]! : 1)) : null;
      const d: DecisionRecord = {
        step, horizon: u.horizon, probeSteps: u.probeSteps, strategy, solver: slopes ? 'lp' : null, anchorRecycled: evalSteps.includes(step), losses, slopes, slopeStdErrors: null,
        extraMargins: [0, 0, 0, 0], decidedWeights: w, weights: w, predicted, status: slopes ? (k === 2 ? 'infeasible' : 'feasible') : null, binding: slopes ? [1] : [], maxViolation: slopes ? 0 : null, objective: slopes ? -0.002 : null, abandoned: false,
        ...(calibration ? { predictedChange: change, calibration } : {}),
      };
      decisions.push(d);
      sink.event(s.name, { type: 'decision', decision: d });
    }
    if (step > 0 && step % trainEvery === 0) sink.event(s.name, { type: 'train', record: { step, steps: trainEvery, meanLoss: 2.6 - 0.003 * step + 0.05 * Math.sin(step / 3), skippedSteps: 0, tokens: trainEvery * 4 * 32 } });
    if (evalSteps.includes(step)) {
      const losses = DOMAINS.map((_, i) => lossAt(i, step, s));
      const worstExcess = Math.max(losses[1]! - REFERENCES[1]!, losses[2]! - REFERENCES[2]!);
      sink.event(s.name, { type: 'eval', record: { step, losses, worstExcess, feasible: step > 0 && worstExcess <= 0, checkpoint: null, abandoned: false } });
    }
    if (s.live && step >= steps / 2) break;
  }
  if (s.live) {
    sink.flush();
    return runId;
  }
  const gain = (s.gain ?? 0.002) * 20;
  const feasible = s.violateFrom === undefined;
  const zero = Object.fromEntries(COST_CATEGORIES.map((c) => [c, 0])) as Record<(typeof COST_CATEGORIES)[number], number>;
  const report: RunReport = {
    name: s.name, seed: config.seed, strategy, label: strategy, feasible,
    test: {
      feasible, selectedStep: feasible ? steps : null, targetPplReduction: feasible ? gain : 0,
      targets: [{ domain: 'code', baseTestLoss: 2.51, testLoss: 2.51 - gain, pplReduction: feasible ? gain : null }],
      constraints: [{ domain: 'email', reference: 2.0, evalLoss: lossAt(1, steps, s), baseTestLoss: 2.01, testLoss: 2.0 }, { domain: 'licenses', reference: REFERENCES[2]!, evalLoss: lossAt(2, steps, s), baseTestLoss: 1.81, testLoss: 1.8 }],
      maxViolation: feasible ? -0.01 : 0.05, feasibleCheckpoints: feasible ? 2 : 0,
    },
    cost: { forwardEquivalents: zero, fixedRun: 100, total: strategy === 'dynamics' ? 150 : 100, multiple: strategy === 'dynamics' ? 1.5 : 1, wallSeconds: zero, weights: { trainStep: 3, evalBatch: 1 } },
    references: { baseLosses: BASE, references: REFERENCES, baseTestLosses: BASE },
    timeAveragedWeights: [0.5, 0.35, 0.15],
    history: { decisions, evals: [], train: [], backtracks: [], outcomes },
  };
  sink.event(s.name, { type: 'finished', report });
  sink.flush();
  runs.setStatus(runId, 'completed', feasible ? 'feasible' : 'no feasible checkpoint');
  return runId;
}
