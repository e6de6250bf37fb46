// Seeds a store for the UI benchmark through the store API: runs of `steps` steps, each with a
// train-loss curve and one eval-loss curve per domain holding a point at every step, the
// progress timeline (tokens, wall time), mixture decisions with slope matrices, the references
// and report events a trainer records, and a score — what the compare view reads for real runs.
import { COST_CATEGORIES, type CostReport, type TestReport } from '../../src/shared/mixture';
import type { ReferenceRecord, RunReport } from '../../src/shared/runs';
import type { Store } from '../../src/main/store/index';

export const SEED_DOMAINS = [
  { id: 'code', role: 'target' },
  { id: 'email', role: 'constraint' },
  { id: 'licenses', role: 'constraint' },
  { id: 'dictionary', role: 'monitor' },
] as const;
export const SEED_SOURCES = ['code', 'email', 'licenses'];

/** A deterministic, noisy, decaying loss curve. */
function loss(run: number, domain: number, step: number, steps: number): number {
  const t = step / steps;
  const noise = Math.sin(step * 0.37 + run * 1.3 + domain) * 0.01 + Math.sin(step * 0.011 + domain * 2.1) * 0.02;
  return 3 + domain * 0.2 - (0.4 + 0.05 * run + 0.1 * domain) * (1 - Math.exp(-4 * t)) + noise;
}

function zero(): Record<(typeof COST_CATEGORIES)[number], number> {
  return Object.fromEntries(COST_CATEGORIES.map((c) => [c, 0])) as Record<(typeof COST_CATEGORIES)[number], number>;
}

export function seedRuns(store: Store, runs: number, steps: number): number[] {
  const ids: number[] = [];
  const config = (i: number) => ({
    version: 1, name: `bench run ${i + 1}`, seed: i, device: 'cpu', model: { path: 'bundled:demo', adapter: { kind: 'lora', rank: 8, alpha: 16, dropout: 0, targets: ['q_proj', 'v_proj'] } },
    sources: SEED_SOURCES.map((s) => ({ id: s, dataset: `bundled:${s}` })),
    domains: SEED_DOMAINS.map((d) => ({ id: d.id, dataset: `bundled:${d.id}`, role: d.role })),
    training: { steps, batchSize: 8, seqLength: 512, learningRate: 1e-4 + i * 1e-6 },
    strategy: i % 2 === 0 ? { kind: 'dynamics' } : { kind: 'fixed-uniform', targetMass: 0.5 },
  });
  for (let i = 0; i < runs; i++) {
    const c = config(i);
    const id = store.runs.create({
      name: c.name, config: c, strategy: c.strategy.kind, seed: i, sources: SEED_SOURCES,
      domains: SEED_DOMAINS.map((d) => ({ id: d.id, role: d.role })), totalSteps: steps,
    });
    store.runs.start(id, { device: 'cpu', reason: 'benchmark seed' });
    const writer = store.writerFor(id, { batchSize: 50_000 });
    for (let step = 1; step <= steps; step++) {
      writer.metrics.record(step, { tokens: step * 4096, wallMs: step * 250 }, [
        { kind: 'train_loss', value: loss(i, -1, step, steps) + 0.1 },
        ...SEED_DOMAINS.map((d, k) => ({ kind: 'eval_loss', domain: d.id, value: loss(i, k, step, steps) })),
      ]);
    }
    writer.metrics.flush();
    const base = SEED_DOMAINS.map((_, k) => loss(i, k, 0, steps));
    const references: ReferenceRecord = { baseLosses: base, references: SEED_DOMAINS.map((d, k) => (d.role === 'constraint' ? base[k]! : null)), baseTestLosses: base };
    writer.event('info', 'base losses measured', { step: 0, data: { kind: 'references', references } });
    for (let k = 0; k < 12; k++) {
      const step = k === 0 ? 0 : 2 ** (k + 1);
      if (step >= steps) break;
      const w = [(k % 3) / 3 + 0.1, 0.45 - (k % 3) / 6, 0];
      w[2] = 1 - w[0]! - w[1]!;
      writer.decision({
        step, horizon: 2 ** (k + 1), weights: w, slopes: SEED_DOMAINS.map((_, r) => SEED_SOURCES.map((__, s) => Math.sin(r + s + k) * 1e-3)),
        losses: base, predicted: base, status: 'feasible', solver: { solver: 'lp', sources: SEED_SOURCES }, binding: [],
      });
    }
    const test: TestReport = { feasible: true, selectedStep: steps, targetPplReduction: 0.05 + i * 0.002, targets: [], constraints: [], maxViolation: -0.01, feasibleCheckpoints: 3 };
    const cost: CostReport = { forwardEquivalents: zero(), fixedRun: 1, total: 1.5, multiple: 1.5, wallSeconds: zero(), weights: { trainStep: 3, evalBatch: 1 } };
    const report: RunReport = {
      name: c.name, seed: i, strategy: c.strategy.kind as RunReport['strategy'], label: c.strategy.kind, feasible: true, test, cost, references,
      timeAveragedWeights: [1 / 3, 1 / 3, 1 / 3], history: { decisions: [], evals: [], train: [], backtracks: [] },
    };
    writer.event('info', 'finished', { step: steps + 1, data: { kind: 'report', report } });
    store.runs.setScore(id, { feasible: true, targetGain: test.targetPplReduction, maxViolation: -0.01, costMultiple: 1.5, selectedStep: steps });
    store.runs.setStatus(id, 'completed', 'benchmark seed');
    ids.push(id);
  }
  return ids;
}
