// Checkpoint selection and the test report (METHOD §5): a checkpoint is feasible when every
// constraint's eval loss is at or below its reference and the targets' summed loss is below its
// step-0 value; the feasible one with the lowest target loss is reported on the test split as a
// perplexity reduction (geometric mean over targets, relative to the base model). Pure.
import type { ConstraintResult, TargetResult, TestReport } from '../../shared/mixture';
import type { DomainRole } from './problem';

export type { ConstraintResult, TargetResult, TestReport } from '../../shared/mixture';

export interface SelectionContext {
  domainIds: readonly string[];
  roles: readonly DomainRole[];
  /** Constraint references (null elsewhere). */
  references: readonly (number | null)[];
  /** Regular-eval losses of the base model at step 0. */
  baseLosses: readonly number[];
}

export interface EvalPoint {
  step: number;
  /** Regular-eval mean loss per domain. */
  losses: readonly number[];
}

export interface Feasibility {
  feasible: boolean;
  /** max over constraints of (loss − reference): ≤ 0 when every constraint holds; 0 with none. */
  worstExcess: number;
  targetLoss: number;
  /** The targets' summed loss is below its step-0 value. */
  targetsImproved: boolean;
}

const targetIndices = (ctx: SelectionContext) => ctx.roles.flatMap((r, i) => (r === 'target' ? [i] : []));
const constraintIndices = (ctx: SelectionContext) => ctx.roles.flatMap((r, i) => (r === 'constraint' ? [i] : []));

export function feasibility(point: EvalPoint, ctx: SelectionContext): Feasibility {
  const targets = targetIndices(ctx);
  const constraints = constraintIndices(ctx);
  const targetLoss = targets.reduce((s, i) => s + (point.losses[i] as number), 0);
  const baseTarget = targets.reduce((s, i) => s + (ctx.baseLosses[i] as number), 0);
  const worstExcess = constraints.length === 0 ? 0 : Math.max(...constraints.map((i) => (point.losses[i] as number) - (ctx.references[i] as number)));
  const targetsImproved = targetLoss < baseTarget;
  return { feasible: point.step > 0 && worstExcess <= 0 && targetsImproved, worstExcess, targetLoss, targetsImproved };
}

export interface Selection {
  /** The chosen checkpoint's step, or null when no checkpoint is feasible. */
  step: number | null;
  feasible: boolean;
  /** At the chosen checkpoint; for an infeasible run, the smallest over checkpoints after step 0. */
  worstExcess: number;
  feasibleCount: number;
}

/** The feasible checkpoint with the lowest summed target loss (the earliest on ties). */
export function selectCheckpoint(points: readonly EvalPoint[], ctx: SelectionContext): Selection {
  let best: { step: number; f: Feasibility } | null = null;
  let count = 0;
  let leastExcess = Infinity;
  for (const p of points) {
    if (p.step === 0) continue;
    const f = feasibility(p, ctx);
    leastExcess = Math.min(leastExcess, f.worstExcess);
    if (!f.feasible) continue;
    count++;
    if (!best || f.targetLoss < best.f.targetLoss) best = { step: p.step, f };
  }
  if (best) return { step: best.step, feasible: true, worstExcess: best.f.worstExcess, feasibleCount: count };
  return { step: null, feasible: false, worstExcess: Number.isFinite(leastExcess) ? leastExcess : 0, feasibleCount: 0 };
}

export function testReport(
  ctx: SelectionContext,
  selection: Selection,
  points: readonly EvalPoint[],
  baseTestLosses: readonly number[],
  selectedTestLosses: readonly number[] | null,
): TestReport {
  const selected = selection.step === null ? null : (points.find((p) => p.step === selection.step) ?? null);
  const targets = targetIndices(ctx).map((i): TargetResult => {
    const base = baseTestLosses[i] as number;
    const loss = selectedTestLosses ? (selectedTestLosses[i] as number) : null;
    return { domain: ctx.domainIds[i] as string, baseTestLoss: base, testLoss: loss, pplReduction: loss === null ? null : 1 - Math.exp(loss - base) };
  });
  const constraints = constraintIndices(ctx).map((i): ConstraintResult => ({
    domain: ctx.domainIds[i] as string,
    reference: ctx.references[i] as number,
    evalLoss: selected ? (selected.losses[i] as number) : null,
    baseTestLoss: baseTestLosses[i] as number,
    testLoss: selectedTestLosses ? (selectedTestLosses[i] as number) : null,
  }));
  let reduction = 0;
  if (selection.feasible && selectedTestLosses && targets.length > 0) {
    const meanDelta = targets.reduce((s, t) => s + ((t.testLoss as number) - t.baseTestLoss), 0) / targets.length;
    reduction = 1 - Math.exp(meanDelta);
  }
  return {
    feasible: selection.feasible,
    selectedStep: selection.step,
    targetPplReduction: reduction,
    targets,
    constraints,
    maxViolation: selection.worstExcess,
    feasibleCheckpoints: selection.feasibleCount,
  };
}
