// mixture.*: the what-if panel. A recorded decision's problem is rebuilt from what the run stored
// (slopes, anchor losses, horizon, extra margins, the config's roles and margin, the references
// measured at step 0) and re-solved with the same solver the experiment loop uses.
import { InvalidInputError, NotFoundError, UserError } from '../../shared/errors';
import type { MixtureDecision, MixtureProblem, SolverKind } from '../../shared/mixture';
import type { RunConfig } from '../../shared/run-config';
import type { WhatIfProblem } from '../../shared/services/mixture';
import type { MixtureSolver } from '../mixture/solver';
import type { RunDecisions } from '../../shared/services/runs';

export interface MixtureServiceDeps {
  /** The solver, created on first use (GLPK's WebAssembly loads asynchronously). */
  solver: () => Promise<MixtureSolver>;
  decisions: (runId: number) => RunDecisions;
  config: (runId: number) => unknown;
}

export class MixtureService {
  constructor(private readonly deps: MixtureServiceDeps) {}

  async solve(problem: MixtureProblem, solver: SolverKind): Promise<MixtureDecision> {
    return (await this.deps.solver()).solve(problem, solver);
  }

  problemOf(runId: number, step: number): WhatIfProblem {
    const recorded = this.deps.decisions(runId);
    const d = recorded.decisions.find((x) => x.step === step);
    if (!d) {
      const steps = recorded.decisions.map((x) => x.step);
      throw new NotFoundError(`run ${runId} has no decision at step ${step}${steps.length ? ` (its decisions are at steps ${steps.join(', ')})` : ''}`);
    }
    if (!d.slopes || !d.losses) throw new UserError(`the decision of run ${runId} at step ${step} is a fixed mixture: it has no slope matrix to re-solve`);
    if (!recorded.references || !recorded.baseLosses) throw new UserError(`run ${runId} has no recorded reference losses, so its decisions cannot be re-solved`);
    const config = this.deps.config(runId) as Partial<RunConfig> | null;
    const extra = (d.solver as { extraMargins?: unknown }).extraMargins;
    const extraMargins = Array.isArray(extra) && extra.length === d.losses.length && extra.every((x) => typeof x === 'number') ? (extra as number[]) : undefined;
    const solverName = (d.solver as { solver?: unknown }).solver;
    const solver: SolverKind = solverName === 'penalty-grid' ? 'penalty-grid' : 'lp';
    const roles = recorded.domains.map((x) => x.role);
    if (roles.length !== d.losses.length || d.slopes.length !== roles.length) {
      throw new InvalidInputError(`the decision of run ${runId} at step ${step} has ${d.losses.length} losses for ${roles.length} domains`);
    }
    const problem: MixtureProblem = {
      slopes: d.slopes,
      losses: d.losses,
      references: recorded.references.map((r, i) => (roles[i] === 'constraint' ? r : null)),
      roles,
      horizon: d.horizon,
      margin: config?.dynamics?.margin ?? 0,
      ...(extraMargins && extraMargins.some((x) => x !== 0) ? { extraMargins } : {}),
    };
    return { runId, step, sources: recorded.sources, domains: recorded.domains, problem, baseLosses: recorded.baseLosses ?? [], solver, recorded: d };
  }
}
