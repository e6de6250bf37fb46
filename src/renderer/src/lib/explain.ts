// Explaining one mixture decision in numbers a person can check: for each domain, the loss when
// the decision was taken, what the linear predictor expected at the next evaluation, what that
// evaluation measured, and the reference it had to stay under. Pure: the run view renders it.
import type { Decision, RunDomain } from '../../../shared/runs';

export interface EvalPoint {
  step: number;
  /** Loss per domain id. */
  losses: Record<string, number>;
}

export interface ExplanationRow {
  domain: string;
  role: RunDomain['role'];
  anchor: number | null;
  /** The prediction at `evalStep` (the linear predictor is linear in time, so it is interpolated). */
  predicted: number | null;
  actual: number | null;
  /** actual − predicted. */
  error: number | null;
  reference: number | null;
  /** The constraint held its bound in the solution. */
  binding: boolean;
  /** A constraint whose measured loss is above its reference. */
  violated: boolean;
  /** A constraint whose prediction was above its reference (an infeasible decision's overshoot). */
  predictedViolation: boolean;
}

export interface Explanation {
  step: number;
  horizon: number;
  /** The evaluation the prediction is compared with: the first one after the decision, within its horizon. */
  evalStep: number | null;
  rows: ExplanationRow[];
  /** One sentence: what the solver did and why. */
  summary: string;
}

/** The first evaluation after `step` and at most `step + horizon` (null when none has happened yet). */
export function nextEval(evals: readonly EvalPoint[], step: number, horizon: number): EvalPoint | null {
  let best: EvalPoint | null = null;
  for (const e of evals) {
    if (e.step > step && e.step <= step + horizon && (best === null || e.step < best.step)) best = e;
  }
  return best;
}

export function explainDecision(
  decision: Decision,
  domains: readonly RunDomain[],
  references: readonly (number | null)[] | null,
  evals: readonly EvalPoint[],
  sources: readonly string[],
): Explanation {
  const e = nextEval(evals, decision.step, decision.horizon);
  const binding = new Set(decision.binding);
  const rows: ExplanationRow[] = domains.map((d, i) => {
    const anchor = decision.losses?.[i] ?? null;
    const atHorizon = decision.predicted?.[i] ?? null;
    let predicted: number | null = null;
    if (anchor !== null && atHorizon !== null && e) {
      predicted = anchor + ((e.step - decision.step) / decision.horizon) * (atHorizon - anchor);
    } else if (!e) predicted = atHorizon;
    const actual = e ? (e.losses[d.id] ?? null) : null;
    const reference = d.role === 'constraint' ? (references?.[i] ?? null) : null;
    return {
      domain: d.id,
      role: d.role,
      anchor,
      predicted,
      actual,
      error: actual !== null && predicted !== null ? actual - predicted : null,
      reference,
      binding: binding.has(d.id),
      violated: reference !== null && actual !== null && actual > reference,
      predictedViolation: reference !== null && atHorizon !== null && atHorizon > reference + 1e-12,
    };
  });
  return { step: decision.step, horizon: decision.horizon, evalStep: e?.step ?? null, rows, summary: summarize(decision, sources) };
}

function share(w: number): string {
  return `${Math.round(w * 100)}%`;
}

export function summarize(decision: Decision, sources: readonly string[]): string {
  const mix = decision.weights
    .map((w, j) => ({ w, s: sources[j] ?? `source ${j + 1}` }))
    .filter((x) => x.w >= 0.005)
    .sort((a, b) => b.w - a.w)
    .map((x) => `${x.s} ${share(x.w)}`)
    .join(', ');
  const until = `steps ${decision.step}–${decision.step + decision.horizon}`;
  if (decision.status === 'fixed') return `A fixed mixture for ${until}: ${mix}.`;
  const held = decision.binding.length
    ? ` held back by ${decision.binding.join(', ')} (at ${decision.binding.length === 1 ? 'its' : 'their'} reference)`
    : ' with no constraint at its bound';
  if (decision.status === 'infeasible') {
    return `No mixture was predicted to keep every constraint under its reference, so the solver chose the least-violating one for ${until}: ${mix}${decision.binding.length ? `; the worst are ${decision.binding.join(', ')}` : ''}.`;
  }
  return `The solver put ${mix} for ${until},${held}.`;
}
