// The mixture decision as linear programs, built as plain data (variables, objective, rows with
// bounds) so they can be inspected, tested and written out; one adapter (glpk-backend.ts) hands
// them to GLPK. Three programs (METHOD §3):
//   primary:          min Σ_{i∈T} S_i·w   s.t. L_i + H·S_i·w ≤ ref_i − ε (i ∈ C), Σw = 1, w ≥ 0
//   min violation:    min v               s.t. L_i + H·S_i·w − v ≤ ref_i − ε, Σw = 1, w ≥ 0, v free
//   least violating:  the primary's objective with v ≤ v* + tolerance
// Noise-aware margins and the trust region only change rows (see problem.ts).
import { checkProblem, constraintRow, type CheckedProblem, type MixtureProblem } from './problem';

export interface LpTerm {
  variable: string;
  coef: number;
}

/** A bound of null means unbounded on that side. */
export interface LpVariable {
  name: string;
  lower: number | null;
  upper: number | null;
}

export interface LpRow {
  name: string;
  terms: LpTerm[];
  lower: number | null;
  upper: number | null;
}

export interface LinearProgram {
  name: string;
  /** Always minimized. */
  objective: LpTerm[];
  variables: LpVariable[];
  rows: LpRow[];
}

export type LpStatus = 'optimal' | 'infeasible' | 'unbounded' | 'failed';

export interface LpSolution {
  status: LpStatus;
  /** The objective's value at `values` (meaningful when optimal). */
  objective: number;
  values: Record<string, number>;
  /** The solver's own words when status is 'failed'. */
  detail?: string;
}

/** Anything that solves a LinearProgram: the glpk.js adapter in the product. */
export interface LpBackend {
  solve(lp: LinearProgram): LpSolution;
}

export const weightName = (j: number) => `w${j + 1}`;
export const VIOLATION = 'v';
const moveName = (j: number) => `u${j + 1}`;

/**
 * The primary objective Σ_{i∈objectiveRows} S_i·w, rescaled so its largest coefficient is 1 in
 * magnitude. A positive factor leaves the minimizer unchanged, and keeps reduced costs well above
 * the simplex method's tolerances when slopes are tiny (1e-5 per step is common).
 */
function objectiveTerms(p: MixtureProblem, c: CheckedProblem): LpTerm[] {
  const coefs = new Array<number>(c.n).fill(0);
  for (const i of c.objectiveRows) {
    const row = p.slopes[i] as readonly number[];
    for (let j = 0; j < c.n; j++) coefs[j] = (coefs[j] as number) + (row[j] as number);
  }
  const scale = Math.max(...coefs.map(Math.abs));
  return coefs.map((coef, j) => ({ variable: weightName(j), coef: scale > 0 ? coef / scale : 0 }));
}

function weightVariables(n: number): LpVariable[] {
  return Array.from({ length: n }, (_, j) => ({ name: weightName(j), lower: 0, upper: null }));
}

function simplexRow(n: number): LpRow {
  return { name: 'simplex', terms: Array.from({ length: n }, (_, j) => ({ variable: weightName(j), coef: 1 })), lower: 1, upper: 1 };
}

/** Constraint rows g_i(w) (− v) ≤ 0, written as Σ coef·w (− v) ≤ −offset. */
function constraintRows(p: MixtureProblem, c: CheckedProblem, withViolation: boolean): LpRow[] {
  return c.constraints.map((i) => {
    const { coefs, offset } = constraintRow(p, c, i);
    const terms = coefs.map((coef, j) => ({ variable: weightName(j), coef }));
    if (withViolation) terms.push({ variable: VIOLATION, coef: -1 });
    // `|| 0` keeps −0 out of the data (it would not survive JSON).
    return { name: `c${i + 1}`, terms, lower: null, upper: -offset || 0 };
  });
}

/** ‖w − center‖₁ ≤ radius through u_j ≥ |w_j − center_j|. */
function trustRegion(p: MixtureProblem, c: CheckedProblem): { variables: LpVariable[]; rows: LpRow[] } {
  if (!p.trustRegion) return { variables: [], rows: [] };
  const { center, radius } = p.trustRegion;
  const variables: LpVariable[] = [];
  const rows: LpRow[] = [];
  for (let j = 0; j < c.n; j++) {
    const w = weightName(j);
    const u = moveName(j);
    const cj = center[j] as number;
    variables.push({ name: u, lower: 0, upper: null });
    rows.push({ name: `tr${j + 1}_up`, terms: [{ variable: u, coef: 1 }, { variable: w, coef: -1 }], lower: -cj, upper: null });
    rows.push({ name: `tr${j + 1}_down`, terms: [{ variable: u, coef: 1 }, { variable: w, coef: 1 }], lower: cj, upper: null });
  }
  rows.push({ name: 'trust', terms: Array.from({ length: c.n }, (_, j) => ({ variable: moveName(j), coef: 1 })), lower: null, upper: radius });
  return { variables, rows };
}

/** The primary LP of METHOD §3 (with the options' tightenings). */
export function buildMixtureLp(p: MixtureProblem): LinearProgram {
  const c = checkProblem(p);
  const tr = trustRegion(p, c);
  return {
    name: 'mixture',
    objective: objectiveTerms(p, c),
    variables: [...weightVariables(c.n), ...tr.variables],
    rows: [...constraintRows(p, c, false), simplexRow(c.n), ...tr.rows],
  };
}

/** The fallback's first stage: the least achievable largest violation v*. */
export function buildMinViolationLp(p: MixtureProblem): LinearProgram {
  const c = checkProblem(p);
  const tr = trustRegion(p, c);
  return {
    name: 'min-violation',
    objective: [{ variable: VIOLATION, coef: 1 }],
    variables: [...weightVariables(c.n), { name: VIOLATION, lower: null, upper: null }, ...tr.variables],
    rows: [...constraintRows(p, c, true), simplexRow(c.n), ...tr.rows],
  };
}

/** The fallback's second stage: the best target objective with v held at v* (+ tolerance). */
export function buildLeastViolatingLp(p: MixtureProblem, vStar: number, tolerance: number): LinearProgram {
  const c = checkProblem(p);
  const tr = trustRegion(p, c);
  return {
    name: 'least-violating',
    objective: objectiveTerms(p, c),
    variables: [...weightVariables(c.n), { name: VIOLATION, lower: null, upper: vStar + tolerance }, ...tr.variables],
    rows: [...constraintRows(p, c, true), simplexRow(c.n), ...tr.rows],
  };
}

/** The weights of a solution, in source order. */
export function weightsOf(solution: LpSolution, n: number): number[] {
  return Array.from({ length: n }, (_, j) => solution.values[weightName(j)] ?? 0);
}
