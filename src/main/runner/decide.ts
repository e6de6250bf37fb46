// One mixture update (METHOD §2–3): the anchor evaluation (recycled from a regular evaluation at
// the same step), probing with snapshot/restore, the slope matrix, the solver, and smoothing. Fixed
// strategies decide once, at step 0, without probing.
import { fixedStrategyWeights } from '../mixture/baselines';
import { predictLosses, type MixtureProblem } from '../mixture/problem';
import { nextUpdateAfter, probeLength } from '../mixture/schedule';
import {
  emaWeights,
  gradientAlignmentSlopes,
  localProbeMixtures,
  probePrefix,
  slopesFromLocalProbes,
  weightedMeanAndStdError,
  slopesFromProbes,
  type DomainLosses,
  type SlopeEstimate,
} from '../mixture/slopes';
import { oneHot } from '../mixture/simplex';
import { LoopContext } from './context';
import type { DecisionRecord } from './events';

/** Checks what a trainer returned, so a diverged probe is named instead of poisoning the solver. */
export function checkEval(ctx: LoopContext, losses: DomainLosses[], what: string): DomainLosses[] {
  if (losses.length !== ctx.m) throw new Error(`${what}: the trainer returned ${losses.length} domain losses for ${ctx.m} domains`);
  losses.forEach((d, i) => {
    if (!Number.isFinite(d.loss)) throw new Error(`${what}: domain ${JSON.stringify(ctx.config.domains[i]?.id)} has a non-finite loss (${d.loss})`);
  });
  return losses;
}

interface Anchor {
  /** On the probe set: what the probes' evaluations are differenced against. */
  probe: DomainLosses[];
  /** L_i(θ_t) on the regular set's scale, where references live: the predictor's anchor. */
  losses: number[];
  lossStdErrors: number[];
  recycled: boolean;
}

/**
 * The anchor L_i(θ_t) [ours, on where the sets meet]. Slopes are differences on the probe set, but
 * references are regular-set losses, and the two sets differ by a fixed amount (the probe set is
 * the regular set's first batches). So the predictor is anchored on the regular set: exactly when a
 * regular evaluation ran at this step (recycled), else the probe-set loss plus the regular − probe
 * offset measured at the latest regular evaluation.
 */
async function anchorLosses(ctx: LoopContext, step: number): Promise<Anchor> {
  const last = ctx.state.lastRegularEval;
  if (last && last.step === step) {
    return {
      probe: last.losses.map((d) => probePrefix(d, ctx.probeBatches)),
      losses: last.losses.map((d) => d.loss),
      lossStdErrors: last.losses.map((d) => weightedMeanAndStdError(d.batchLosses, d.batchTokens).stdError),
      recycled: true,
    };
  }
  ctx.progress('evaluating', step);
  const probe = checkEval(ctx, await ctx.timed('anchorEval', () => ctx.trainer.evaluate('probe')), `the probe evaluation at step ${step}`);
  ctx.count({ anchorEvalBatches: LoopContext.batchesIn(probe) });
  return onRegularScale(ctx, probe, false);
}

function onRegularScale(ctx: LoopContext, probe: DomainLosses[], recycled: boolean): Anchor {
  return {
    probe,
    losses: probe.map((d, i) => d.loss + (ctx.state.probeOffsets[i] ?? 0)),
    lossStdErrors: probe.map((d) => weightedMeanAndStdError(d.batchLosses, d.batchTokens).stdError),
    recycled,
  };
}

/**
 * Probing: snapshot; for each source j, restore and train c steps on its probe stream (or on the
 * mixture-local probe (1 − ε)·w + ε·e_j), evaluate on the probe set; restore the parameters and
 * optimizer state. One-hot probes restore only the model between sources (each uses its own
 * stream); local probes share streams and restore those too, so every probe sees the same batches.
 */
export async function probeSlopes(ctx: LoopContext, step: number, anchor: DomainLosses[], c: number): Promise<SlopeEstimate> {
  const { trainer, n } = ctx;
  const local = ctx.config.beyondPaper.localSlopes;
  const center = ctx.state.weights;
  const mixtures = local.enabled ? localProbeMixtures(center, local.epsilon) : Array.from({ length: n }, (_, j) => oneHot(n, j));
  const snapshot = await trainer.snapshot();
  const after: DomainLosses[][] = [];
  try {
    for (let j = 0; j < n; j++) {
      ctx.checkCancelled();
      if (j > 0) await trainer.restore(snapshot, local.enabled ? 'all' : 'model');
      ctx.progress('probing', step);
      await ctx.timed('probeTraining', () => trainer.train({ steps: c, mixture: mixtures[j] as number[], stream: 'probe' }));
      ctx.count({ probeTrainingSteps: c });
      const losses = await ctx.timed('probeEval', () => trainer.evaluate('probe'));
      ctx.count({ probeEvalBatches: LoopContext.batchesIn(losses) });
      after.push(checkEval(ctx, losses, `the probe on source ${JSON.stringify(ctx.config.sources[j]?.id)} at step ${step}`));
    }
  } finally {
    await trainer.restore(snapshot, 'model');
    await trainer.release(snapshot);
  }
  const estimate = slopesFromProbes(anchor, after, c);
  return local.enabled ? slopesFromLocalProbes(estimate, center, local.epsilon) : estimate;
}

async function alignmentSlopes(ctx: LoopContext, step: number): Promise<{ anchor: Anchor; estimate: SlopeEstimate }> {
  const { trainer } = ctx;
  if (!trainer.evalGradients || !trainer.updateDirections) throw new Error('this trainer cannot compute eval gradients and update directions, which gradient alignment needs');
  ctx.progress('probing', step);
  const { losses, gradients } = await ctx.timed('gradients', () => trainer.evalGradients!());
  const directions = await ctx.timed('gradients', () => trainer.updateDirections!());
  ctx.count({ gradientPasses: LoopContext.batchesIn(losses) + directions.length });
  const anchor = onRegularScale(ctx, checkEval(ctx, losses, `the eval gradients at step ${step}`), false);
  const lr = directions[0]?.learningRate ?? 0;
  const slopes = gradientAlignmentSlopes(
    gradients,
    directions.map((d) => d.direction),
    lr,
  );
  const zeros = slopes.map((row) => row.map(() => 0));
  return { anchor, estimate: { slopes, slopeStdErrors: zeros, lossStdErrors: anchor.lossStdErrors } };
}

function fixedDecision(ctx: LoopContext, step: number): DecisionRecord {
  const weights = fixedStrategyWeights(ctx.config, ctx.trainer.info.sourceSizes);
  if (!weights) throw new Error('fixedDecision called for an adaptive strategy');
  return {
    step,
    horizon: ctx.config.training.steps - step,
    probeSteps: 0,
    strategy: ctx.config.strategy.kind,
    solver: null,
    anchorRecycled: true,
    losses: ctx.state.lastRegularEval?.losses.map((d) => d.loss) ?? [],
    slopes: null,
    slopeStdErrors: null,
    extraMargins: [...ctx.state.extraMargins],
    decidedWeights: weights,
    weights,
    predicted: null,
    status: null,
    binding: [],
    maxViolation: null,
    objective: null,
    abandoned: false,
  };
}

/** Decides the mixture at `step` and returns the record (the caller applies and emits it). */
export async function decide(ctx: LoopContext, step: number): Promise<DecisionRecord> {
  const { config, state } = ctx;
  if (!ctx.adaptive) return fixedDecision(ctx, step);
  const T = config.training.steps;
  const horizon = nextUpdateAfter(ctx.updates, step, T) - step;
  const alignment = config.strategy.kind === 'gradient-alignment';
  const c = alignment ? 0 : probeLength(horizon, config.dynamics.probeCap);

  let anchor: Anchor;
  let estimate: SlopeEstimate;
  if (alignment) {
    ({ anchor, estimate } = await alignmentSlopes(ctx, step));
  } else {
    anchor = await anchorLosses(ctx, step);
    estimate = { ...(await probeSlopes(ctx, step, anchor.probe, c)), lossStdErrors: anchor.lossStdErrors };
  }
  state.lastSlopes = estimate;

  const references = state.references?.references ?? [];
  const noise = config.beyondPaper.noiseAwareMargin;
  const smoothing = config.beyondPaper.smoothing;
  const hasPrevious = state.history.decisions.some((d) => !d.abandoned);
  const problem: MixtureProblem = {
    slopes: estimate.slopes,
    losses: anchor.losses,
    references: ctx.roles.map((r, i) => (r === 'constraint' ? (references[i] as number) : null)),
    roles: ctx.roles,
    horizon,
    margin: config.dynamics.margin,
    extraMargins: state.extraMargins,
    ...(noise.enabled ? { uncertainty: { k: noise.k, lossStdErrors: estimate.lossStdErrors, slopeStdErrors: estimate.slopeStdErrors } } : {}),
    ...(smoothing.kind === 'trust-region' && hasPrevious ? { trustRegion: { center: state.weights, radius: smoothing.radius } } : {}),
  };
  const decision = await ctx.timed('solving', async () => ctx.solver.solve(problem, config.dynamics.solver));
  const weights = smoothing.kind === 'ema' && hasPrevious ? emaWeights(state.weights, decision.weights, smoothing.decay) : decision.weights;
  const applied = weights === decision.weights ? decision : null;
  return {
    step,
    horizon,
    probeSteps: c,
    strategy: config.strategy.kind,
    solver: config.dynamics.solver,
    anchorRecycled: anchor.recycled,
    losses: problem.losses as number[],
    slopes: estimate.slopes,
    slopeStdErrors: estimate.slopeStdErrors,
    extraMargins: [...state.extraMargins],
    decidedWeights: decision.weights,
    weights,
    predicted: applied ? decision.predicted : predictLosses(problem, weights),
    status: decision.status,
    binding: decision.binding,
    maxViolation: decision.maxViolation,
    objective: decision.objective,
    abandoned: false,
  };
}
