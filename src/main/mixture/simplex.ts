// Small numerical helpers on the probability simplex, shared by the penalty-grid solver and the
// smoothing options.

/** Euclidean projection onto {w ≥ 0, Σw = 1} (sort-based, exact; Held, Wolfe and Crowder 1974). */
export function projectToSimplex(v: readonly number[]): number[] {
  const n = v.length;
  const u = [...v].sort((a, b) => b - a);
  let cumulative = 0;
  let theta = 0;
  for (let k = 0; k < n; k++) {
    cumulative += u[k] as number;
    const t = (cumulative - 1) / (k + 1);
    if ((u[k] as number) - t > 0) theta = t;
  }
  return v.map((x) => Math.max(x - theta, 0));
}

export function uniformWeights(n: number): number[] {
  return new Array<number>(n).fill(1 / n);
}

/** e_j: all weight on source j. */
export function oneHot(n: number, j: number): number[] {
  const w = new Array<number>(n).fill(0);
  w[j] = 1;
  return w;
}

export function l1Distance(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += Math.abs((a[j] as number) - (b[j] as number));
  return s;
}
