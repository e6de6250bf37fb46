// The slope matrix from probe evaluations (METHOD §2): S_ij = (L_i(after probe on j) − L_i(θ_t)) / c_t,
// with standard errors from per-batch losses for the noise-aware margin, the recovery of per-source
// slopes from directional (mixture-local) probes, and gradient-alignment slopes. Pure.

/** One domain's evaluation: the token-weighted mean loss and the per-batch losses behind it. */
export interface DomainLosses {
  loss: number;
  batchLosses: readonly number[];
  batchTokens: readonly number[];
}

/** Token-weighted mean and its standard error over batches (0 with fewer than two batches). */
export function weightedMeanAndStdError(values: readonly number[], tokens: readonly number[]): { mean: number; stdError: number } {
  const total = tokens.reduce((a, b) => a + b, 0);
  if (values.length === 0 || !(total > 0)) return { mean: NaN, stdError: NaN };
  let mean = 0;
  for (let b = 0; b < values.length; b++) mean += ((tokens[b] as number) / total) * (values[b] as number);
  const n = values.length;
  if (n < 2) return { mean, stdError: 0 };
  // Variance of a weighted mean of independent batch means: Σ p_b² σ², with σ² estimated from the
  // weighted residuals (corrected for n/(n−1)).
  let v = 0;
  for (let b = 0; b < n; b++) {
    const p = (tokens[b] as number) / total;
    v += p * p * ((values[b] as number) - mean) ** 2;
  }
  return { mean, stdError: Math.sqrt((v * n) / (n - 1)) };
}

/**
 * The first `batches` batches of a (regular) evaluation: the probe set is defined as that prefix, so
 * a regular evaluation at an update step stands in for the probe anchor ("recycled").
 */
export function probePrefix(d: DomainLosses, batches: number): DomainLosses {
  const batchLosses = d.batchLosses.slice(0, batches);
  const batchTokens = d.batchTokens.slice(0, batches);
  return { loss: weightedMeanAndStdError(batchLosses, batchTokens).mean, batchLosses, batchTokens };
}

export interface SlopeEstimate {
  /** M×N. */
  slopes: number[][];
  /** M×N: standard error of each slope, from paired per-batch differences. */
  slopeStdErrors: number[][];
}

/**
 * S_ij from the anchor evaluation (M domains) and one evaluation after each probe (N × M), all on
 * the same fixed probe batches; c is the probe length. The per-batch differences are paired, so
 * their spread measures the noise of ΔL without the spread of the batches themselves.
 */
export function slopesFromProbes(anchor: readonly DomainLosses[], afterProbe: readonly (readonly DomainLosses[])[], c: number): SlopeEstimate {
  const m = anchor.length;
  const n = afterProbe.length;
  const slopes = Array.from({ length: m }, () => new Array<number>(n).fill(0));
  const slopeStdErrors = Array.from({ length: m }, () => new Array<number>(n).fill(0));
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) {
      const before = anchor[i] as DomainLosses;
      const after = (afterProbe[j] as readonly DomainLosses[])[i] as DomainLosses;
      (slopes[i] as number[])[j] = (after.loss - before.loss) / c;
      const k = Math.min(before.batchLosses.length, after.batchLosses.length);
      const diffs = Array.from({ length: k }, (_, b) => (after.batchLosses[b] as number) - (before.batchLosses[b] as number));
      (slopeStdErrors[i] as number[])[j] = weightedMeanAndStdError(diffs, before.batchTokens.slice(0, k)).stdError / c;
    }
  }
  return { slopes, slopeStdErrors };
}

/**
 * Mixture-local probes [ours]: probe j trained on (1 − ε)·w + ε·e_j and measured g_j = ΔL/c. Under
 * the linear model g_j = (1 − ε)·S·w + ε·S_j, and Σ_j w_j g_j = S·w, so
 *   S_j = (g_j − (1 − ε)·Σ_k w_k g_k) / ε,
 * per-source slopes measured where the run is. Standard errors combine as if the probes were
 * independent.
 */
export function slopesFromLocalProbes(local: SlopeEstimate, w: readonly number[], epsilon: number): SlopeEstimate {
  const m = local.slopes.length;
  const n = w.length;
  const slopes = Array.from({ length: m }, () => new Array<number>(n).fill(0));
  const slopeStdErrors = Array.from({ length: m }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < m; i++) {
    const g = local.slopes[i] as number[];
    const se = local.slopeStdErrors[i] as number[];
    const at = g.reduce((s, gj, k) => s + (w[k] as number) * gj, 0);
    for (let j = 0; j < n; j++) {
      (slopes[i] as number[])[j] = ((g[j] as number) - (1 - epsilon) * at) / epsilon;
      let v = 0;
      for (let k = 0; k < n; k++) {
        const coef = ((k === j ? 1 : 0) - (1 - epsilon) * (w[k] as number)) / epsilon;
        v += (coef * (se[k] as number)) ** 2;
      }
      (slopeStdErrors[i] as number[])[j] = Math.sqrt(v);
    }
  }
  return { slopes, slopeStdErrors };
}

/** Gradient alignment (METHOD §6): S_ij = −η ⟨g_i, d_j⟩. */
export function gradientAlignmentSlopes(evalGradients: readonly Float32Array[], directions: readonly Float32Array[], learningRate: number): number[][] {
  return evalGradients.map((g) =>
    directions.map((d) => {
      if (d.length !== g.length) throw new Error(`gradient alignment: an eval gradient has ${g.length} entries but a direction has ${d.length}`);
      let s = 0;
      for (let k = 0; k < g.length; k++) s += (g[k] as number) * (d[k] as number);
      return -learningRate * s;
    }),
  );
}

/** Smoothing by exponential average [ours]: decay·previous + (1 − decay)·decided. */
export function emaWeights(previous: readonly number[], decided: readonly number[], decay: number): number[] {
  const w = decided.map((x, j) => decay * (previous[j] as number) + (1 - decay) * x);
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / sum);
}
