// The calibration figure of a run [ours]: per domain, how the change each decision predicted over
// its horizon compares with the change the evaluation at the end of the horizon measured. Pure, so
// the run view, `dynamics runs show` and the benchmark compute it the same way; the online fit the
// controller applies (with shrinkage) is src/main/mixture/calibration.ts.

/** One decision's prediction and what the evaluation at the end of its horizon measured. */
export interface CalibrationPoint {
  /** M: the uncalibrated model's predicted change of each domain's loss over the horizon. */
  predicted: readonly number[];
  /** M: the measured change (loss at step + horizon minus loss at step, on the same batches). */
  actual: readonly number[];
}

export interface CalibrationSlope {
  /** Least-squares slope of measured against predicted change through the origin; null below two points. */
  slope: number | null;
  /** Pearson correlation of the two; null below two points or without spread. */
  correlation: number | null;
  /** Finite pairs behind the figures. */
  points: number;
}

/**
 * The calibration figure of domain i: the least-squares slope of measured against predicted change
 * through the origin (1 = the predictions' size was right, 0.5 = they were twice too large), without
 * shrinkage, and the correlation of the two; null below two points.
 */
export function calibrationSlope(points: readonly CalibrationPoint[], i: number): CalibrationSlope {
  const pairs = points.map((p) => [p.predicted[i] as number, p.actual[i] as number] as [number, number]).filter(([p, a]) => Number.isFinite(p) && Number.isFinite(a));
  if (pairs.length < 2) return { slope: null, correlation: null, points: pairs.length };
  let pa = 0;
  let pp = 0;
  for (const [p, a] of pairs) {
    pa += p * a;
    pp += p * p;
  }
  const n = pairs.length;
  const mp = pairs.reduce((s, [p]) => s + p, 0) / n;
  const ma = pairs.reduce((s, [, a]) => s + a, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const [p, a] of pairs) {
    sxy += (p - mp) * (a - ma);
    sxx += (p - mp) ** 2;
    syy += (a - ma) ** 2;
  }
  return { slope: pp > 0 ? pa / pp : null, correlation: sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null, points: n };
}
