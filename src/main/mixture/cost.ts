// Cost accounting (METHOD §7): forward-equivalent FLOPs per category, the multiple of one
// fixed-mixture run of the same length, and measured wall time per category.
//
// Units: one forward pass over one training-sized batch = 1. A training step counts 3 (forward, and
// a backward pass of about twice the forward's work). With LoRA the backward skips the frozen
// weights' gradients, so a step is nearer 2; we keep 3, the usual convention, so multiples compare
// with the paper's, and expose the weight for anyone who prefers to measure. An evaluation batch
// counts 1, scaled by its size relative to a training batch.
import type { RunConfig } from '../../shared/run-config';
import { COST_CATEGORIES, type CostCategory, type CostReport, type CostWeights } from '../../shared/mixture';
import { planUpdates, regularEvalSteps, updateSteps } from './schedule';

export { COST_CATEGORIES } from '../../shared/mixture';
export type { CostCategory, CostReport, CostWeights } from '../../shared/mixture';

/** Work done, in batches or steps, per category (solving and checkpointing have wall time only). */
export interface CostCounters {
  trainingSteps: number;
  probeTrainingSteps: number;
  probeEvalBatches: number;
  anchorEvalBatches: number;
  regularEvalBatches: number;
  testEvalBatches: number;
  /**
   * Gradient alignment: forward+backward passes over one batch (eval gradients and per-source
   * directions), each counted as a training step.
   */
  gradientPasses: number;
}

export const DEFAULT_COST_WEIGHTS: CostWeights = { trainStep: 3, evalBatch: 1 };

export function emptyCounters(): CostCounters {
  return { trainingSteps: 0, probeTrainingSteps: 0, probeEvalBatches: 0, anchorEvalBatches: 0, regularEvalBatches: 0, testEvalBatches: 0, gradientPasses: 0 };
}

export function addCounters(a: CostCounters, b: Partial<CostCounters>): CostCounters {
  const out = { ...a };
  for (const [k, v] of Object.entries(b) as [keyof CostCounters, number][]) out[k] += v;
  return out;
}

function zeroRecord(): Record<CostCategory, number> {
  return Object.fromEntries(COST_CATEGORIES.map((c) => [c, 0])) as Record<CostCategory, number>;
}

/** An evaluation batch's size relative to a training batch's. */
export function evalBatchScale(config: RunConfig): number {
  return (config.evaluation.batchSize ?? config.training.batchSize) / config.training.batchSize;
}

export function fixedRunCost(config: RunConfig, domains: number, weights: CostWeights = DEFAULT_COST_WEIGHTS): number {
  const evals = regularEvalSteps(config.evaluation.interval, config.training.steps).length + 1;
  return config.training.steps * weights.trainStep + evals * domains * config.evaluation.regularBatches * weights.evalBatch * evalBatchScale(config);
}

export function costReport(
  config: RunConfig,
  domains: number,
  counters: CostCounters,
  wallSeconds: Partial<Record<CostCategory, number>>,
  weights: CostWeights = DEFAULT_COST_WEIGHTS,
): CostReport {
  const e = weights.evalBatch * evalBatchScale(config);
  const fe = zeroRecord();
  fe.training = counters.trainingSteps * weights.trainStep;
  fe.probeTraining = counters.probeTrainingSteps * weights.trainStep;
  fe.probeEval = counters.probeEvalBatches * e;
  fe.anchorEval = counters.anchorEvalBatches * e;
  fe.regularEval = counters.regularEvalBatches * e;
  fe.testEval = counters.testEvalBatches * e;
  fe.gradients = counters.gradientPasses * weights.trainStep;
  const total = COST_CATEGORIES.filter((c) => c !== 'testEval').reduce((s, c) => s + fe[c], 0);
  const fixedRun = fixedRunCost(config, domains, weights);
  return { forwardEquivalents: fe, fixedRun, total, multiple: total / fixedRun, wallSeconds: { ...zeroRecord(), ...wallSeconds }, weights };
}

/**
 * The work a run of this config will do if nothing goes wrong (no backtracking), for the UI's
 * estimate before starting. Anchors are recycled at step 0 and wherever an update meets a regular
 * evaluation.
 */
export function plannedCounters(config: RunConfig, domains: number, sources: number): CostCounters {
  const T = config.training.steps;
  const evalSteps = new Set([0, ...regularEvalSteps(config.evaluation.interval, T)]);
  const c = emptyCounters();
  c.trainingSteps = T;
  c.regularEvalBatches = evalSteps.size * domains * config.evaluation.regularBatches;
  c.testEvalBatches = 2 * domains * config.evaluation.testBatches;
  const kind = config.strategy.kind;
  if (kind !== 'dynamics' && kind !== 'gradient-alignment') return c;
  const P = config.evaluation.probeBatches;
  for (const u of planUpdates(updateSteps(config.dynamics.schedule, T), T, config.dynamics.probeCap)) {
    if (kind === 'gradient-alignment') {
      c.gradientPasses += domains * P + sources;
      continue;
    }
    if (!evalSteps.has(u.step)) c.anchorEvalBatches += domains * P;
    c.probeTrainingSteps += sources * u.probeSteps;
    c.probeEvalBatches += sources * domains * P;
  }
  return c;
}
