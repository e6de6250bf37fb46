// Online calibration of the linear predictor [ours]. Each decision predicts, per domain, the change
// of its loss over the decision's horizon (H·S_i·w); the evaluation at the end of that horizon
// measures the change that happened. Over a run's decisions the two are fitted per domain as
//   actual ≈ β_i · predicted   (a line through the origin: no change predicted, none expected),
// shrunk toward the fit pooled over all domains, which is itself shrunk toward β = 1 (the
// uncalibrated model), each by `prior` pseudo-observations. Later decisions scale domain i's slopes
// by β_i, and the residuals' spread is the standard error of a prediction for the chance
// constraints. Pure.

import type { CalibrationPoint } from '../../shared/calibration';

// The report figure (slope of measured against predicted, unshrunk) is shared with the UI.
export { calibrationSlope, type CalibrationPoint } from '../../shared/calibration';

export interface CalibrationFit {
  /** M: β_i, the factor applied to domain i's predicted changes (1 without data). */
  scale: number[];
  /** M: the residual standard deviation of β_i·predicted as a prediction of the change; null below two points. */
  stdErrors: (number | null)[];
  /** M: points the fit of each domain used. */
  points: number[];
  /** β pooled over domains (1 without data). */
  pooled: number;
}

export interface CalibrationOptions {
  /** Pseudo-observations of the prior (per domain toward the pooled β, and of the pooled β toward 1). */
  prior: number;
  /** β is kept within [min, max]: a negative or huge factor from a few noisy points would flip or blow up decisions. */
  min: number;
  max: number;
}

export const DEFAULT_CALIBRATION: CalibrationOptions = { prior: 1, min: 0, max: 2 };

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** Σ p·a and Σ p² over the finite pairs. */
function moments(pairs: readonly [number, number][]): { pa: number; pp: number } {
  let pa = 0;
  let pp = 0;
  for (const [p, a] of pairs) {
    pa += p * a;
    pp += p * p;
  }
  return { pa, pp };
}

/**
 * Ridge fit of a line through the origin, shrunk toward `toward` with the weight of `prior` points
 * of average size: β = (Σpa + λ·toward) / (Σp² + λ), λ = prior · mean(p²).
 */
function shrunkSlope(pairs: readonly [number, number][], toward: number, prior: number): number {
  if (pairs.length === 0) return toward;
  const { pa, pp } = moments(pairs);
  const lambda = (prior * pp) / pairs.length;
  const denom = pp + lambda;
  return denom > 0 ? (pa + lambda * toward) / denom : toward;
}

export function fitCalibration(points: readonly CalibrationPoint[], m: number, options: CalibrationOptions = DEFAULT_CALIBRATION): CalibrationFit {
  const perDomain: [number, number][][] = Array.from({ length: m }, () => []);
  for (const pt of points) {
    if (pt.predicted.length !== m || pt.actual.length !== m) throw new Error(`a calibration point has ${pt.predicted.length} predictions and ${pt.actual.length} measurements for ${m} domains`);
    for (let i = 0; i < m; i++) {
      const p = pt.predicted[i] as number;
      const a = pt.actual[i] as number;
      if (Number.isFinite(p) && Number.isFinite(a)) (perDomain[i] as [number, number][]).push([p, a]);
    }
  }
  const pooled = clamp(shrunkSlope(perDomain.flat(), 1, options.prior), options.min, options.max);
  const scale = perDomain.map((pairs) => clamp(shrunkSlope(pairs, pooled, options.prior), options.min, options.max));
  const stdErrors = perDomain.map((pairs, i) => {
    if (pairs.length < 2) return null;
    const beta = scale[i] as number;
    const ss = pairs.reduce((s, [p, a]) => s + (a - beta * p) ** 2, 0);
    return Math.sqrt(ss / (pairs.length - 1));
  });
  return { scale, stdErrors, points: perDomain.map((p) => p.length), pooled };
}
