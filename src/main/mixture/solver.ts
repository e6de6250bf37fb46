// The mixture solver as a service: one interface over the LP (default) and the paper's penalty
// grid, so the experiment loop, the CLI and the UI's what-if panel take it as a dependency.
import { GlpkBackend } from './glpk-backend';
import type { LpBackend } from './lp-model';
import { solveMixtureLp, type LpSolverOptions } from './lp-solver';
import { solvePenaltyGrid, type PenaltyGridOptions } from './penalty-grid';
import type { MixtureDecision, MixtureProblem, SolverKind } from './problem';

export interface MixtureSolver {
  solve(problem: MixtureProblem, solver: SolverKind): MixtureDecision;
}

export class DefaultMixtureSolver implements MixtureSolver {
  constructor(
    private readonly lp: LpBackend,
    private readonly options: { lp?: LpSolverOptions; penaltyGrid?: PenaltyGridOptions } = {},
  ) {}

  solve(problem: MixtureProblem, solver: SolverKind): MixtureDecision {
    return solver === 'penalty-grid' ? solvePenaltyGrid(problem, this.options.penaltyGrid) : solveMixtureLp(problem, this.lp, this.options.lp);
  }
}

/** The product's solver: GLPK (glpk.js) for the LP. */
export async function createMixtureSolver(): Promise<DefaultMixtureSolver> {
  return new DefaultMixtureSolver(await GlpkBackend.create());
}
