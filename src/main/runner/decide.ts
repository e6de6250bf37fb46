// One mixture update (METHOD §2–3): the anchor evaluation (recycled from a regular evaluation at
// the same step), probing with snapshot/restore, the slope matrix, the online calibration, the
// chance constraints, the solver, and smoothing. Fixed strategies decide once, at step 0, without
// probing. Each decision's predicted change is measured at the end of its horizon (recordOutcome).
import { fixedStrategyWeights } from '../mixture/baselines';
import { DEFAULT_CALIBRATION, fitCalibration } from '../mixture/calibration';
import { controllerTerms } from '../mixture/controller-terms';
import { dot, predictLosses, type MixtureProblem } from '../mixture/problem';
import { nextUpdateAfter, probeLength } from '../mixture/schedule';
import {
  emaWeights,
  gradientAlignmentSlopes,
  probePrefix,
  slopesFromLocalProbes,
  slopesFromProbes,
  type DomainLosses,
  type SlopeEstimate,
} from '../mixture/slopes';
import { oneHot } from '../mixture/simplex';
import { LoopContext } from './context';
import type { DecisionRecord, OutcomeRecord } from './events';

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
    return { probe: last.losses.map((d) => probePrefix(d, ctx.probeBatches)), losses: last.losses.map((d) => d.loss), recycled: true };
  }
  ctx.progress('evaluating', step);
  const probe = checkEval(ctx, await ctx.timed('anchorEval', () => ctx.trainer.evaluate('probe')), `the probe evaluation at step ${step}`);
  ctx.count({ anchorEvalBatches: LoopContext.batchesIn(probe) });
  recordOutcome(ctx, step, probe.map((d) => d.loss));
  return onRegularScale(ctx, probe, false);
}

function onRegularScale(ctx: LoopContext, probe: DomainLosses[], recycled: boolean): Anchor {
  return { probe, losses: probe.map((d, i) => d.loss + (ctx.state.probeOffsets[i] ?? 0)), recycled };
}

/**
 * Closes the pending decision's outcome when `step` ends its horizon: the probe-set losses measured
 * now minus those at its step, beside what it predicted. Called with every probe-set measurement the
 * loop makes (an anchor evaluation, or the probe prefix of a regular evaluation).
 */
export function recordOutcome(ctx: LoopContext, step: number, probeLosses: readonly number[]): void {
  const pending = ctx.state.pendingOutcome;
  if (!pending || pending.step + pending.horizon !== step) return;
  const record: OutcomeRecord = {
    step: pending.step,
    measuredAt: step,
    predicted: pending.predicted,
    calibrated: pending.calibrated,
    actual: probeLosses.map((l, i) => l - (pending.probeLosses[i] as number)),
  };
  (ctx.state.history.outcomes ??= []).push(record);
  ctx.state.pendingOutcome = null;
  ctx.emit({ type: 'outcome', record });
}

/**
 * Probing: snapshot; for each source j, restore and train c steps on its probe stream (or, with
 * directional probes, on (1 − ε)·w + ε·e_j), evaluate on the probe set; restore the parameters and
 * optimizer state. One-hot probes restore only the model between sources (each uses its own
 * stream); directional probes restore the streams too and draw with common random numbers, so they
 * share every batch row that does not go to their own direction.
 */
export async function probeSlopes(ctx: LoopContext, step: number, anchor: DomainLosses[], c: number): Promise<SlopeEstimate> {
  const { trainer, n } = ctx;
  const local = ctx.config.beyondPaper.localSlopes;
  const center = ctx.state.weights;
  const snapshot = await trainer.snapshot();
  const after: DomainLosses[][] = [];
  try {
    for (let j = 0; j < n; j++) {
      ctx.checkCancelled();
      if (j > 0) await trainer.restore(snapshot, local.enabled ? 'all' : 'model');
      ctx.progress('probing', step);
      const request = local.enabled
        ? { steps: c, mixture: center, stream: 'probe' as const, direction: { toward: j, epsilon: local.epsilon } }
        : { steps: c, mixture: oneHot(n, j), stream: 'probe' as const };
      await ctx.timed('probeTraining', () => trainer.train(request));
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
  const probe = checkEval(ctx, losses, `the eval gradients at step ${step}`);
  recordOutcome(ctx, step, probe.map((d) => d.loss));
  const anchor = onRegularScale(ctx, probe, false);
  const lr = directions[0]?.learningRate ?? 0;
  const slopes = gradientAlignmentSlopes(
    gradients,
    directions.map((d) => d.direction),
    lr,
  );
  const zeros = slopes.map((row) => row.map(() => 0));
  return { anchor, estimate: { slopes, slopeStdErrors: zeros } };
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
    estimate = await probeSlopes(ctx, step, anchor.probe, c);
  }
  state.lastSlopes = estimate;

  const bp = config.beyondPaper;
  const fit = bp.calibration.enabled ? fitCalibration(state.history.outcomes ?? [], ctx.m, { ...DEFAULT_CALIBRATION, prior: bp.calibration.prior }) : null;
  const hasPrevious = state.history.decisions.some((d) => !d.abandoned);
  const terms = controllerTerms(estimate.slopes, estimate.slopeStdErrors, fit, bp, {
    roles: ctx.roles,
    horizon,
    center: state.weights,
    hasPrevious,
    solver: config.dynamics.solver,
    alignment,
  });
  const references = state.references?.references ?? [];
  const problem: MixtureProblem = {
    losses: anchor.losses,
    references: ctx.roles.map((r, i) => (r === 'constraint' ? (references[i] as number) : null)),
    roles: ctx.roles,
    horizon,
    margin: config.dynamics.margin,
    extraMargins: state.extraMargins,
    ...terms,
  };
  const decision = await ctx.timed('solving', async () => ctx.solver.solve(problem, config.dynamics.solver));
  const smoothing = bp.smoothing;
  const weights = smoothing.kind === 'ema' && hasPrevious ? emaWeights(state.weights, decision.weights, smoothing.decay) : decision.weights;
  const applied = weights === decision.weights ? decision : null;
  const predictedChange = estimate.slopes.map((row) => horizon * dot(row, weights));
  state.pendingOutcome = {
    step,
    horizon,
    probeLosses: anchor.probe.map((d) => d.loss),
    predicted: predictedChange,
    calibrated: terms.slopes.map((row) => horizon * dot(row, weights)),
  };
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
    predictedChange,
    calibration: fit ? { scale: fit.scale, stdErrors: fit.stdErrors, points: fit.points } : null,
  };
}
