// Slope estimation from probe evaluations, standard errors, mixture-local recovery.
import { describe, expect, it } from 'vitest';
import { probePrefix, slopesFromLocalProbes, slopesFromProbes, weightedMeanAndStdError, type DomainLosses } from '../../../src/main/mixture/slopes';

const evalOf = (batchLosses: number[], tokens = batchLosses.map(() => 100)): DomainLosses => ({
  loss: weightedMeanAndStdError(batchLosses, tokens).mean,
  batchLosses,
  batchTokens: tokens,
});

describe('slopes', () => {
  it('weights batches by tokens and estimates the standard error of the mean', () => {
    const { mean, stdError } = weightedMeanAndStdError([1, 2, 3, 4], [100, 100, 100, 100]);
    expect(mean).toBe(2.5);
    // Equal weights: the classical s/√n.
    expect(stdError).toBeCloseTo(Math.sqrt(5 / 3) / 2, 12);
    expect(weightedMeanAndStdError([1, 3], [300, 100]).mean).toBe(1.5);
    expect(weightedMeanAndStdError([2], [10]).stdError).toBe(0);
  });

  it('takes the probe set as the prefix of the regular set', () => {
    expect(probePrefix(evalOf([1, 2, 3, 4]), 2)).toEqual(evalOf([1, 2]));
  });

  it('computes S = ΔL/c with paired standard errors', () => {
    const anchor = [evalOf([2, 3, 4]), evalOf([1, 1, 1])];
    // Probe 0 lowers domain 0 by exactly 0.3 on every batch (zero spread); probe 1 unevenly.
    const after = [
      [evalOf([1.7, 2.7, 3.7]), evalOf([1, 1, 1])],
      [evalOf([2, 3, 4]), evalOf([1.1, 1.2, 1.3])],
    ];
    const s = slopesFromProbes(anchor, after, 10);
    expect(s.slopes[0]?.[0]).toBeCloseTo(-0.03, 12);
    expect(s.slopes[1]?.[1]).toBeCloseTo(0.02, 12);
    expect(s.slopeStdErrors[0]?.[0]).toBeCloseTo(0, 12);
    expect(s.slopeStdErrors[1]?.[1]).toBeCloseTo(weightedMeanAndStdError([0.1, 0.2, 0.3], [100, 100, 100]).stdError / 10, 12);
  });

  it('recovers per-source slopes exactly from mixture-local probes under the linear model', () => {
    const S = [
      [-0.3, 0.1, 0.05],
      [0.2, -0.1, 0.0],
    ];
    const w = [0.5, 0.3, 0.2];
    const eps = 0.4;
    // The directional probe mixtures (1 − ε)·w + ε·e_j.
    const mixtures = w.map((_, j) => w.map((wk, k) => (1 - eps) * wk + (k === j ? eps : 0)));
    [0.3, 0.58, 0.12].forEach((x, k) => expect(mixtures[1]?.[k]).toBeCloseTo(x, 15));
    const local = {
      slopes: S.map((row) => mixtures.map((m) => row.reduce((acc, s, k) => acc + s * (m[k] as number), 0))),
      slopeStdErrors: S.map((row) => row.map(() => 0.01)),
    };
    const recovered = slopesFromLocalProbes(local, w, eps);
    recovered.slopes.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo((S[i] as number[])[j] as number, 12)));
    // Noise is amplified by about 1/ε.
    expect(recovered.slopeStdErrors[0]?.[0]).toBeGreaterThan(0.01);
  });
});
