// One mixture decision's input and output (METHOD §3), the linear predictor, and the checks every
// solver runs first. Pure: indices, not names, so the CLI's PROBLEM.json maps onto it directly.
import { InvalidInputError } from '../../shared/errors';
import type { DecisionStatus, MixtureDecision, MixtureProblem, SolverKind } from '../../shared/mixture';

// The problem and decision types are defined once in src/shared/mixture.ts (the what-if panel
// sends and receives them) and re-exported here.
export type { DecisionStatus, DomainRole, MixtureDecision, MixtureProblem, PredictionUncertainty, SolverKind } from '../../shared/mixture';

/** Problem size caps: a PROBLEM.json is user input. */
export const PROBLEM_LIMITS = { domains: 1024, sources: 1024 } as const;

/** Absolute slack (loss units) under which a constraint counts as binding. */
export const BINDING_TOLERANCE = 1e-7;

export interface CheckedProblem {
  m: number;
  n: number;
  targets: number[];
  constraints: number[];
  /** The rows minimized: targets, or the constraints when there is no target (see objectiveRows). */
  objectiveRows: number[];
  margin: number;
}

function finite(value: unknown, field: string, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidInputError(`${field} must be a finite number (${what}), not ${value === null ? 'null' : typeof value === 'number' ? String(value) : typeof value}`);
  }
  return value;
}

/**
 * Validates shapes and values and derives the index sets. With no target, the constraints become
 * the objective (minimize their total predicted loss while keeping them) [ours]: a decision then
 * still means something, and a caller that wants "keep the current mixture" can skip the solve.
 * A problem with neither targets nor constraints has nothing to decide and is refused.
 */
export function checkProblem(p: MixtureProblem): CheckedProblem {
  const m = p.roles.length;
  if (m === 0) throw new InvalidInputError('roles must list at least one domain');
  if (m > PROBLEM_LIMITS.domains) throw new InvalidInputError(`roles lists ${m} domains; at most ${PROBLEM_LIMITS.domains} are allowed`);
  if (p.slopes.length !== m) throw new InvalidInputError(`slopes has ${p.slopes.length} rows but roles lists ${m} domains (one row per domain)`);
  if (p.losses.length !== m) throw new InvalidInputError(`losses has ${p.losses.length} entries but roles lists ${m} domains`);
  if (p.references.length !== m) throw new InvalidInputError(`references has ${p.references.length} entries but roles lists ${m} domains`);
  const n = p.slopes[0]?.length ?? 0;
  if (n === 0) throw new InvalidInputError('slopes must have at least one column (one per source)');
  if (n > PROBLEM_LIMITS.sources) throw new InvalidInputError(`slopes has ${n} columns; at most ${PROBLEM_LIMITS.sources} sources are allowed`);
  finite(p.horizon, 'horizon', 'steps until the next update');
  if (p.horizon <= 0) throw new InvalidInputError(`horizon must be positive, not ${p.horizon}`);
  const margin = p.margin === undefined ? 0 : finite(p.margin, 'margin', 'loss units');
  if (margin < 0) throw new InvalidInputError(`margin must be at least 0, not ${margin}`);

  const targets: number[] = [];
  const constraints: number[] = [];
  for (let i = 0; i < m; i++) {
    const row = p.slopes[i] as readonly number[];
    if (row.length !== n) throw new InvalidInputError(`slopes[${i}] has ${row.length} entries but slopes[0] has ${n} (every row has one per source)`);
    for (let j = 0; j < n; j++) finite(row[j], `slopes[${i}][${j}]`, `domain ${i}, source ${j}`);
    finite(p.losses[i], `losses[${i}]`, `domain ${i}`);
    const role = p.roles[i];
    const ref = p.references[i];
    if (role === 'constraint') {
      if (ref === null || ref === undefined) throw new InvalidInputError(`references[${i}] must be a number because domain ${i} is a constraint`);
      finite(ref, `references[${i}]`, `domain ${i}'s reference loss`);
      constraints.push(i);
    } else if (role === 'target' || role === 'monitor') {
      if (ref !== null && ref !== undefined) throw new InvalidInputError(`references[${i}] must be null because domain ${i} is a ${role}, not a constraint`);
      if (role === 'target') targets.push(i);
    } else {
      throw new InvalidInputError(`roles[${i}] must be "target", "constraint" or "monitor", not ${JSON.stringify(role)}`);
    }
  }
  if (targets.length === 0 && constraints.length === 0) {
    throw new InvalidInputError('roles has no target and no constraint, so there is nothing to decide');
  }
  if (p.extraMargins) {
    if (p.extraMargins.length !== m) throw new InvalidInputError(`extraMargins has ${p.extraMargins.length} entries but roles lists ${m} domains`);
    p.extraMargins.forEach((v, i) => finite(v, `extraMargins[${i}]`, 'loss units'));
  }
  if (p.uncertainty) {
    const u = p.uncertainty;
    finite(u.k, 'uncertainty.k', 'standard errors');
    if (u.changeStdErrors.length !== m || u.slopeStdErrors.length !== m) throw new InvalidInputError(`uncertainty must have one entry per domain (${m})`);
    for (let i = 0; i < m; i++) {
      finite(u.changeStdErrors[i], `uncertainty.changeStdErrors[${i}]`, 'a standard error');
      const row = u.slopeStdErrors[i] as readonly number[];
      if (row.length !== n) throw new InvalidInputError(`uncertainty.slopeStdErrors[${i}] must have ${n} entries`);
      for (let j = 0; j < n; j++) finite(row[j], `uncertainty.slopeStdErrors[${i}][${j}]`, 'a standard error');
    }
  }
  if (p.trustRegion) {
    const { center, radius } = p.trustRegion;
    if (center.length !== n) throw new InvalidInputError(`trustRegion.center must have ${n} entries (one per source)`);
    center.forEach((v, j) => finite(v, `trustRegion.center[${j}]`, 'a weight'));
    finite(radius, 'trustRegion.radius', 'an L1 distance');
    if (radius <= 0) throw new InvalidInputError(`trustRegion.radius must be positive, not ${radius}`);
  }
  if (p.fallbackSlack !== undefined) {
    finite(p.fallbackSlack, 'fallbackSlack', 'loss units');
    if (p.fallbackSlack < 0) throw new InvalidInputError(`fallbackSlack must be at least 0, not ${p.fallbackSlack}`);
  }
  return { m, n, targets, constraints, objectiveRows: targets.length > 0 ? targets : constraints, margin };
}

/** L̂_i(w) = L_i + H · S_i · w for every domain. */
export function predictLosses(p: MixtureProblem, w: readonly number[]): number[] {
  return p.slopes.map((row, i) => (p.losses[i] as number) + p.horizon * dot(row, w));
}

export function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] as number) * (b[j] as number);
  return s;
}

/** The total margin of constraint i: ε plus its extra margin. */
export function marginOf(p: MixtureProblem, checked: CheckedProblem, i: number): number {
  return checked.margin + (p.extraMargins?.[i] ?? 0);
}

/**
 * Constraint i as an affine function of w, tightened by the noise terms when present:
 * g_i(w) = offset + Σ_j coef_j w_j, and the constraint is g_i(w) ≤ 0.
 */
export function constraintRow(p: MixtureProblem, checked: CheckedProblem, i: number): { coefs: number[]; offset: number } {
  const row = p.slopes[i] as readonly number[];
  const u = p.uncertainty;
  const coefs = row.map((s, j) => p.horizon * (s + (u ? u.k * ((u.slopeStdErrors[i] as readonly number[])[j] as number) : 0)));
  const offset = (p.losses[i] as number) + (u ? u.k * (u.changeStdErrors[i] as number) : 0) - (p.references[i] as number) + marginOf(p, checked, i);
  return { coefs, offset };
}

/** Assembles a decision from weights: predictions, violation, objective and binding constraints. */
export function describeDecision(
  p: MixtureProblem,
  checked: CheckedProblem,
  rawWeights: readonly number[],
  status: DecisionStatus,
  solver: SolverKind,
): MixtureDecision {
  const weights = cleanWeights(rawWeights);
  const predicted = predictLosses(p, weights);
  let maxViolation = 0;
  let marginGap = -Infinity;
  const gaps: number[] = [];
  for (const i of checked.constraints) {
    maxViolation = Math.max(maxViolation, (predicted[i] as number) - (p.references[i] as number));
    const { coefs, offset } = constraintRow(p, checked, i);
    const gap = offset + dot(coefs, weights);
    gaps.push(gap);
    marginGap = Math.max(marginGap, gap);
  }
  if (checked.constraints.length === 0) marginGap = 0;
  // Binding: at the bound when feasible; at the least violation when not.
  const level = status === 'feasible' ? 0 : marginGap;
  const binding = checked.constraints.filter((i, k) => Math.abs((gaps[k] as number) - level) <= BINDING_TOLERANCE * Math.max(1, Math.abs(p.references[i] as number)));
  let objective = 0;
  for (const i of checked.objectiveRows) objective += dot(p.slopes[i] as readonly number[], weights);
  return { weights, status, predicted, maxViolation, objective, binding, marginGap, solver };
}

/** Clamps round-off negatives to 0 and renormalizes to sum 1. */
export function cleanWeights(w: readonly number[]): number[] {
  const clamped = w.map((x) => (x > 0 ? x : 0));
  const sum = clamped.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new Error('solver returned weights that sum to zero');
  return clamped.map((x) => x / sum);
}
