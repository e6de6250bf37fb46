// The paper's own solver, kept for comparison (METHOD §3): for 45 pairs (λ, ε), λ log-spaced over
// [1, 5000] (15 values) and ε ∈ {0, 0.05, 0.1}, minimize over the simplex
//   F(w) = Σ_{i∈T} S_i·w + λ Σ_{i∈C} max(0, L̂_i(w) − L_i^ref + ε)²
// then keep, among candidates whose predictions meet every constraint with no grid margin, the
// lowest target objective; if none does, the smallest largest violation. Pure: no GLPK.
import { InvalidInputError } from '../../shared/errors';
import { checkProblem, constraintRow, describeDecision, dot, type CheckedProblem, type MixtureDecision, type MixtureProblem } from './problem';
import { projectToSimplex, uniformWeights } from './simplex';

export const PENALTY_LAMBDAS: readonly number[] = Array.from({ length: 15 }, (_, k) => 5000 ** (k / 14));
export const PENALTY_EPSILONS: readonly number[] = [0, 0.05, 0.1];

/** A candidate meets a constraint when its gap is at most this (loss units): float round-off only. */
const MEET_TOLERANCE = 1e-9;

export interface PenaltyGridOptions {
  lambdas?: readonly number[];
  epsilons?: readonly number[];
  /** Iteration cap per candidate of the projected-gradient method. */
  maxIterations?: number;
}

interface Candidate {
  lambda: number;
  epsilon: number;
  weights: number[];
  objective: number;
  /** max_i g_i(w): ≤ 0 when every constraint (with the problem's own margins) is met. */
  worstGap: number;
}

/**
 * Spectral projected gradient (Birgin, Martínez and Raydan 2000): Barzilai-Borwein steps with a
 * non-monotone Armijo search. The objective is convex and piecewise quadratic, so this converges to
 * the minimizer; with no active penalty the first long step lands on the best vertex.
 */
function minimizeOnSimplex(f: (w: number[]) => number, grad: (w: number[]) => number[], start: readonly number[], maxIterations: number): number[] {
  const n = start.length;
  let x = projectToSimplex(start);
  let g = grad(x);
  let fx = f(x);
  const recent = [fx];
  let alpha = 1 / Math.max(1e-12, Math.max(...g.map(Math.abs)));
  for (let it = 0; it < maxIterations; it++) {
    const target = projectToSimplex(x.map((xi, j) => xi - alpha * (g[j] as number)));
    const d = target.map((t, j) => t - (x[j] as number));
    const stepSize = Math.max(...d.map(Math.abs));
    if (stepSize < 1e-14) break;
    const slope = dot(g, d);
    const reference = Math.max(...recent);
    let t = 1;
    let xn = target;
    let fn = f(xn);
    while (fn > reference + 1e-4 * t * slope && t > 1e-20) {
      t *= 0.5;
      xn = x.map((xi, j) => xi + t * (d[j] as number));
      fn = f(xn);
    }
    const gn = grad(xn);
    let sy = 0;
    let ss = 0;
    for (let j = 0; j < n; j++) {
      const s = (xn[j] as number) - (x[j] as number);
      sy += s * ((gn[j] as number) - (g[j] as number));
      ss += s * s;
    }
    alpha = sy > 0 ? Math.min(1e12, Math.max(1e-12, ss / sy)) : 1e12;
    x = xn;
    g = gn;
    fx = fn;
    recent.push(fx);
    if (recent.length > 10) recent.shift();
  }
  return x;
}

function candidate(p: MixtureProblem, c: CheckedProblem, lambda: number, epsilon: number, start: readonly number[], maxIterations: number): Candidate {
  const target = new Array<number>(c.n).fill(0);
  for (const i of c.objectiveRows) {
    const row = p.slopes[i] as readonly number[];
    for (let j = 0; j < c.n; j++) target[j] = (target[j] as number) + (row[j] as number);
  }
  const rows = c.constraints.map((i) => constraintRow(p, c, i));
  const f = (w: number[]) => {
    let v = dot(target, w);
    for (const r of rows) {
      const excess = r.offset + epsilon + dot(r.coefs, w);
      if (excess > 0) v += lambda * excess * excess;
    }
    return v;
  };
  const grad = (w: number[]) => {
    const g = [...target];
    for (const r of rows) {
      const excess = r.offset + epsilon + dot(r.coefs, w);
      if (excess > 0) for (let j = 0; j < c.n; j++) g[j] = (g[j] as number) + 2 * lambda * excess * (r.coefs[j] as number);
    }
    return g;
  };
  const weights = minimizeOnSimplex(f, grad, start, maxIterations);
  const worstGap = rows.length === 0 ? 0 : Math.max(...rows.map((r) => r.offset + dot(r.coefs, weights)));
  return { lambda, epsilon, weights, objective: dot(target, weights), worstGap };
}

export function solvePenaltyGrid(problem: MixtureProblem, options: PenaltyGridOptions = {}): MixtureDecision {
  const c = checkProblem(problem);
  if (problem.trustRegion) throw new InvalidInputError('the penalty-grid solver has no trust region; use the lp solver for trust-region smoothing');
  const lambdas = [...(options.lambdas ?? PENALTY_LAMBDAS)].sort((a, b) => a - b);
  const epsilons = options.epsilons ?? PENALTY_EPSILONS;
  const maxIterations = options.maxIterations ?? 5000;
  const candidates: Candidate[] = [];
  for (const epsilon of epsilons) {
    // Continuation: each λ starts from the previous λ's minimizer.
    let start = uniformWeights(c.n);
    for (const lambda of lambdas) {
      const cand = candidate(problem, c, lambda, epsilon, start, maxIterations);
      candidates.push(cand);
      start = cand.weights;
    }
  }
  const meeting = candidates.filter((k) => k.worstGap <= MEET_TOLERANCE);
  let best: Candidate;
  if (meeting.length > 0) best = meeting.reduce((a, b) => (b.objective < a.objective ? b : a));
  else best = candidates.reduce((a, b) => (b.worstGap < a.worstGap ? b : a));
  const decision = describeDecision(problem, c, best.weights, meeting.length > 0 ? 'feasible' : 'infeasible', 'penalty-grid');
  return { ...decision, penalty: { lambda: best.lambda, epsilon: best.epsilon } };
}
