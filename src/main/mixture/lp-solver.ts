// The default mixture solver (METHOD §3): the primary LP; when it is infeasible, the least
// largest violation v*, then the best target objective with v held at v* (within a round-off
// tolerance, or within the problem's fallback slack [ours]).
import {
  buildLeastViolatingLp,
  buildMinViolationLp,
  buildMixtureLp,
  VIOLATION,
  weightsOf,
  type LinearProgram,
  type LpBackend,
  type LpSolution,
} from './lp-model';
import { checkProblem, describeDecision, type MixtureDecision, type MixtureProblem } from './problem';

export interface LpSolverOptions {
  /**
   * How far above v* the second stage may let the largest violation go, in loss units: an absolute
   * part plus a part relative to |v*|. Far below any loss difference worth acting on, well above
   * GLPK's feasibility tolerance (1e-7 relative).
   */
  violationTolerance?: { absolute: number; relative: number };
}

const DEFAULT_VIOLATION_TOLERANCE = { absolute: 1e-7, relative: 1e-6 };

function solveOrThrow(backend: LpBackend, lp: LinearProgram, allowInfeasible: boolean): LpSolution {
  const s = backend.solve(lp);
  if (s.status === 'optimal' || (allowInfeasible && s.status === 'infeasible')) return s;
  // The weight simplex is bounded and the violation LP always has a solution: anything else is a
  // numerical failure of the solver, not the user's mistake.
  throw new Error(`the ${lp.name} linear program ended with status ${s.status}${s.detail ? ` (${s.detail})` : ''}`);
}

export function solveMixtureLp(problem: MixtureProblem, backend: LpBackend, options: LpSolverOptions = {}): MixtureDecision {
  const checked = checkProblem(problem);
  const primary = solveOrThrow(backend, buildMixtureLp(problem), true);
  if (primary.status === 'optimal') {
    return describeDecision(problem, checked, weightsOf(primary, checked.n), 'feasible', 'lp');
  }
  const minViolation = solveOrThrow(backend, buildMinViolationLp(problem), false);
  const vStar = minViolation.values[VIOLATION] as number;
  const tol = options.violationTolerance ?? DEFAULT_VIOLATION_TOLERANCE;
  const roundOff = tol.absolute + tol.relative * Math.abs(vStar);
  const second = backend.solve(buildLeastViolatingLp(problem, vStar, Math.max(roundOff, problem.fallbackSlack ?? 0)));
  // Should the second stage fail numerically, the first stage's mixture is still least-violating.
  const weights = weightsOf(second.status === 'optimal' ? second : minViolation, checked.n);
  return { ...describeDecision(problem, checked, weights, 'infeasible', 'lp'), minMaxViolation: vStar };
}
