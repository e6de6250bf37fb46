// mixture.*: the what-if panel. A recorded decision's problem is rebuilt from what the run stored
// (slopes, anchor losses, horizon, extra margins, the config's roles and margin, the references
// measured at step 0, and for decisions of the current controller its calibration, chance
// constraints, trust region and fallback slack) and re-solved with the same solver the experiment
// loop uses.
import { InvalidInputError, NotFoundError, UserError } from '../../shared/errors';
import type { MixtureDecision, MixtureProblem, SolverKind } from '../../shared/mixture';
import type { RunConfig } from '../../shared/run-config';
import type { Decision, DecisionCalibration } from '../../shared/runs';
import type { WhatIfModel, WhatIfProblem } from '../../shared/services/mixture';
import type { RunDecisions } from '../../shared/services/runs';
import { controllerTerms } from '../mixture/controller-terms';
import type { MixtureSolver } from '../mixture/solver';

export interface MixtureServiceDeps {
  /** The solver, created on first use (GLPK's WebAssembly loads asynchronously). */
  solver: () => Promise<MixtureSolver>;
  decisions: (runId: number) => RunDecisions;
  config: (runId: number) => unknown;
}

/** The stored config as far as an older run has it: every option may be missing. */
type StoredBeyondPaper = { [K in keyof RunConfig['beyondPaper']]?: Partial<RunConfig['beyondPaper'][K]> };

const isNumbers = (x: unknown, length: number): x is number[] => Array.isArray(x) && x.length === length && x.every((v) => typeof v === 'number');
const isMatrix = (x: unknown, m: number, n: number): x is number[][] => Array.isArray(x) && x.length === m && x.every((row) => isNumbers(row, n));

/** The calibration a decision recorded, when it has the run's shape. */
function storedCalibration(d: Decision, m: number): DecisionCalibration | null {
  const c = (d.solver as { calibration?: Partial<DecisionCalibration> | null }).calibration;
  if (!c || !isNumbers(c.scale, m) || !Array.isArray(c.stdErrors) || c.stdErrors.length !== m) return null;
  const stdErrors = c.stdErrors.map((x) => (typeof x === 'number' && Number.isFinite(x) ? x : null));
  return { scale: c.scale, stdErrors, points: isNumbers(c.points, m) ? c.points : c.scale.map(() => 0) };
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
    const paper: MixtureProblem = {
      slopes: d.slopes,
      losses: d.losses,
      references: recorded.references.map((r, i) => (roles[i] === 'constraint' ? r : null)),
      roles,
      horizon: d.horizon,
      margin: config?.dynamics?.margin ?? 0,
      ...(extraMargins && extraMargins.some((x) => x !== 0) ? { extraMargins } : {}),
    };
    const model: WhatIfModel = { calibration: null, chanceK: null, trustRadius: null, fallbackStandardErrors: null };
    const base = { runId, step, sources: recorded.sources, domains: recorded.domains, baseLosses: recorded.baseLosses ?? [], solver, recorded: d };
    // Decisions recorded before the controller stored its predicted change had none of its terms.
    if (!('predictedChange' in d.solver)) return { ...base, problem: paper, uncalibrated: null, model };

    const slopes = d.slopes;
    const calibration = storedCalibration(d, roles.length);
    const previous = recorded.decisions.filter((x) => x.step < step).at(-1);
    const n = recorded.sources.length;
    const context = {
      roles,
      center: previous && previous.weights.length === n ? previous.weights : new Array<number>(n).fill(1 / n),
      hasPrevious: previous !== undefined,
      solver,
      alignment: config?.strategy?.kind === 'gradient-alignment',
    };
    const bp: StoredBeyondPaper = config?.beyondPaper ?? {};
    const stored = (d.solver as { slopeStdErrors?: unknown }).slopeStdErrors;
    const slopeStdErrors = isMatrix(stored, roles.length, n) ? stored : slopes.map((row) => row.map(() => 0));
    const terms = (c: DecisionCalibration | null) => controllerTerms(slopes, slopeStdErrors, c, bp, { ...context, horizon: d.horizon });
    const calibrated = terms(calibration);
    model.calibration = calibration;
    model.chanceK = calibrated.uncertainty?.k ?? null;
    model.trustRadius = calibrated.trustRegion?.radius ?? null;
    model.fallbackStandardErrors = calibrated.fallbackSlack !== undefined ? (bp.progressFallback?.standardErrors ?? null) : null;
    return {
      ...base,
      problem: { ...paper, ...calibrated },
      uncalibrated: calibration ? { ...paper, ...terms(null) } : null,
      model,
    };
  }
}
