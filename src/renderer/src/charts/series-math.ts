// Series arithmetic for charts: TensorBoard-style smoothing and LTTB downsampling. Pure and fast:
// these run on every curve of a comparison (20 runs × 10,000 points and more).
import { lttbIndices } from '../../../shared/lttb';

/**
 * Exponential moving average with TensorBoard's debiasing (the first points are not pulled toward
 * 0). weight 0 returns the values; 0.99 is very smooth. Non-finite values are passed through and
 * do not poison the average.
 */
export function smoothEma(values: ArrayLike<number>, weight: number): number[] {
  const out = new Array<number>(values.length);
  if (weight <= 0) {
    for (let i = 0; i < values.length; i++) out[i] = values[i]!;
    return out;
  }
  let last = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    n++;
    out[i] = last / (1 - weight ** n);
  }
  return out;
}

/** [x, y] pairs for ECharts, downsampled to at most `maxPoints` (0: keep all), skipping nulls in x. */
export function toPairs(xs: ArrayLike<number | null>, ys: ArrayLike<number>, maxPoints = 0): [number, number][] {
  const keptX: number[] = [];
  const keptY: number[] = [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i];
    if (x === null || x === undefined) continue;
    keptX.push(x);
    keptY.push(ys[i]!);
  }
  const idx = maxPoints > 0 ? lttbIndices(keptX, keptY, maxPoints) : null;
  if (!idx) return keptX.map((x, i) => [x, keptY[i]!]);
  return idx.map((i) => [keptX[i]!, keptY[i]!]);
}

/**
 * The same points as toPairs, flat in a Float64Array ([x0, y0, x1, y1, …]): ECharts reads typed
 * arrays directly and copies them in one go when it clones an option, where an array of [x, y]
 * pairs costs one object per point (the difference between milliseconds and seconds for 20 runs).
 */
export function toFlat(xs: ArrayLike<number | null>, ys: ArrayLike<number>, maxPoints = 0): Float64Array {
  const n = Math.min(xs.length, ys.length);
  let known = 0;
  for (let i = 0; i < n; i++) if (xs[i] !== null && xs[i] !== undefined) known++;
  // The common case (every x known, no downsampling needed) copies straight across.
  if (known === n && (maxPoints <= 0 || n <= maxPoints)) {
    const out = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      out[2 * i] = xs[i] as number;
      out[2 * i + 1] = ys[i]!;
    }
    return out;
  }
  const pairs = toPairs(xs, ys, maxPoints);
  const out = new Float64Array(pairs.length * 2);
  pairs.forEach(([x, y], i) => {
    out[2 * i] = x;
    out[2 * i + 1] = y;
  });
  return out;
}
