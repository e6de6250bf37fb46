// The online calibration's fit: a line through the origin per domain, shrunk toward the pooled
// factor and the pooled factor toward 1; residual spreads; the report's unshrunk slope.
import { describe, expect, it } from 'vitest';
import { calibrationSlope, fitCalibration, type CalibrationPoint } from '../../../src/main/mixture/calibration';

const pt = (predicted: number[], actual: number[]): CalibrationPoint => ({ predicted, actual });

describe('online calibration', () => {
  it('is the identity without measurements', () => {
    const fit = fitCalibration([], 3);
    expect(fit).toEqual({ scale: [1, 1, 1], stdErrors: [null, null, null], points: [0, 0, 0], pooled: 1 });
  });

  it('recovers a known factor per domain, shrunk by the prior exactly as stated', () => {
    // Domain 0 changes half as much as predicted, domain 1 exactly as predicted.
    const predicted = [
      [0.02, -0.04],
      [0.04, -0.02],
      [-0.01, -0.03],
      [0.03, 0.01],
    ];
    const points = predicted.map(([a, b]) => pt([a!, b!], [0.5 * a!, b!]));
    const unshrunk = fitCalibration(points, 2, { prior: 0, min: 0, max: 2 });
    expect(unshrunk.scale[0]).toBeCloseTo(0.5, 12);
    expect(unshrunk.scale[1]).toBeCloseTo(1, 12);
    expect(unshrunk.stdErrors[0]).toBeCloseTo(0, 12);

    // With one pseudo-observation: pooled β0 = (Σpa + λ0)/(Σp² + λ0), λ0 = mean p² over all pairs;
    // per domain β_i = (Σpa + λ_i β0)/(Σp² + λ_i), λ_i = mean p² of the domain.
    const fit = fitCalibration(points, 2, { prior: 1, min: 0, max: 2 });
    const p0 = predicted.map((r) => r[0]!);
    const p1 = predicted.map((r) => r[1]!);
    const ss = (xs: number[]) => xs.reduce((s, x) => s + x * x, 0);
    const pa = 0.5 * ss(p0) + ss(p1);
    const pp = ss(p0) + ss(p1);
    const beta0 = (pa + pp / 8) / (pp + pp / 8);
    expect(fit.pooled).toBeCloseTo(beta0, 12);
    expect(fit.scale[0]).toBeCloseTo((0.5 * ss(p0) + (ss(p0) / 4) * beta0) / (ss(p0) + ss(p0) / 4), 12);
    expect(fit.scale[1]).toBeCloseTo((ss(p1) + (ss(p1) / 4) * beta0) / (ss(p1) + ss(p1) / 4), 12);
    expect(fit.scale[0]).toBeGreaterThan(0.5);
    expect(fit.scale[1]).toBeLessThan(1);
    expect(fit.points).toEqual([4, 4]);
  });

  it('measures the residual spread, clamps the factor and skips non-finite pairs', () => {
    const points = [pt([0.01], [-0.05]), pt([0.02], [-0.1]), pt([NaN], [0.3]), pt([0.03], [-0.12])];
    const fit = fitCalibration(points, 1, { prior: 0, min: 0, max: 2 });
    expect(fit.points).toEqual([3]);
    expect(fit.scale).toEqual([0]); // anti-correlated: clamped at 0, never flipped
    const residuals = [-0.05, -0.1, -0.12];
    expect(fit.stdErrors[0]).toBeCloseTo(Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / 2), 12);
    expect(fitCalibration([pt([0.01], [1])], 1, { prior: 0, min: 0, max: 2 }).scale).toEqual([2]);
    expect(() => fitCalibration([pt([0.01, 0.02], [0.01])], 2)).toThrow('a calibration point has 2 predictions and 1 measurements for 2 domains');
  });

  it('reports the unshrunk slope and the correlation of measured against predicted', () => {
    const points = [pt([0.01], [0.02]), pt([0.02], [0.04]), pt([-0.01], [-0.02])];
    expect(calibrationSlope(points, 0)).toEqual({ slope: 2, correlation: expect.closeTo(1, 12), points: 3 });
    expect(calibrationSlope(points.slice(0, 1), 0)).toEqual({ slope: null, correlation: null, points: 1 });
  });
});
