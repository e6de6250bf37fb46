// The controller's terms of one decision's problem [ours, METHOD §10], built in one place for the
// experiment loop (src/main/runner/decide.ts) and for the what-if panel that re-solves a recorded
// decision: slopes scaled by the calibration; the chance constraints' standard errors; the trust
// region around the mixture in force; the fallback's slack. Pure.
import type { DomainRole, MixtureProblem, SolverKind } from './problem';
import { dot } from './problem';

/** The calibration in force: β per domain, and the residual spread where a domain has one. */
export interface CalibrationInForce {
  scale: readonly number[];
  stdErrors: readonly (number | null)[];
}

/** The options as a run config holds them; an older stored config may lack any of them. */
export interface ControllerSettings {
  noiseAwareMargin?: { enabled?: boolean; k?: number };
  smoothing?: { kind?: string; radius?: number; decay?: number };
  localSlopes?: { enabled?: boolean };
  progressFallback?: { enabled?: boolean; standardErrors?: number };
}

export interface DecisionContext {
  roles: readonly DomainRole[];
  horizon: number;
  /** The mixture in force when the decision is taken. */
  center: readonly number[];
  /** A live decision precedes this one. */
  hasPrevious: boolean;
  solver: SolverKind;
  /** Gradient alignment: no training probes. */
  alignment: boolean;
}

export type ControllerTerms = Pick<MixtureProblem, 'slopes' | 'uncertainty' | 'trustRegion' | 'fallbackSlack'>;

/**
 * The prediction's standard errors: per domain, the calibration residuals' spread once the domain
 * has two measurements (a constant that already holds the probes' noise; the slopes' own errors
 * are then not counted again), else the probes' slope standard errors, scaled as the slopes are.
 */
export function predictionNoise(
  slopeStdErrors: readonly (readonly number[])[],
  calibration: CalibrationInForce | null,
): { changeStdErrors: number[]; slopeStdErrors: number[][] } {
  const residual = (i: number) => calibration?.stdErrors[i] ?? null;
  return {
    changeStdErrors: slopeStdErrors.map((_, i) => residual(i) ?? 0),
    slopeStdErrors: slopeStdErrors.map((row, i) => (residual(i) !== null ? row.map(() => 0) : row.map((s) => s * (calibration?.scale[i] ?? 1)))),
  };
}

export function controllerTerms(
  slopes: readonly (readonly number[])[],
  slopeStdErrors: readonly (readonly number[])[],
  calibration: CalibrationInForce | null,
  settings: ControllerSettings,
  context: DecisionContext,
): ControllerTerms {
  const scaled = calibration ? slopes.map((row, i) => row.map((s) => s * (calibration.scale[i] as number))) : slopes.map((row) => [...row]);
  const noise = predictionNoise(slopeStdErrors, calibration);
  const out: ControllerTerms = { slopes: scaled };
  const chance = settings.noiseAwareMargin;
  if (chance?.enabled && typeof chance.k === 'number') out.uncertainty = { k: chance.k, ...noise };
  // The trust region is a constraint of the linear program (the penalty grid has none). With
  // directional probes the slopes describe the neighbourhood of the mixture in force, so it holds
  // from the first decision on; otherwise from the second (there is no previous mixture).
  const smoothing = settings.smoothing;
  const directional = settings.localSlopes?.enabled === true && !context.alignment;
  if (smoothing?.kind === 'trust-region' && typeof smoothing.radius === 'number' && context.solver === 'lp' && (context.hasPrevious || directional)) {
    out.trustRegion = { center: [...context.center], radius: smoothing.radius };
  }
  const fallback = settings.progressFallback;
  if (fallback?.enabled && typeof fallback.standardErrors === 'number') {
    // In mean standard errors of the constraints' predicted changes at the mixture in force.
    const cs = context.roles.flatMap((r, i) => (r === 'constraint' ? [i] : []));
    const mean = cs.length === 0 ? 0 : cs.reduce((s, i) => s + (noise.changeStdErrors[i] as number) + context.horizon * dot(noise.slopeStdErrors[i] as number[], context.center), 0) / cs.length;
    out.fallbackSlack = fallback.standardErrors * mean;
  }
  return out;
}
