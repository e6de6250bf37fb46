// Downsampling a curve for a chart: largest-triangle-three-buckets (Steinarsson 2013) keeps the
// shape a person sees — peaks, dips, the overall trend — with a fixed number of points, so a
// 100,000-step run plots as fast as a short one. Picks indices, so every column of a series
// (steps, values, tokens, wall time) stays aligned. Pure.

/** Indices of at most `max` points of (x, y) chosen by LTTB; all indices when there are few enough. */
export function lttbIndices(x: ArrayLike<number>, y: ArrayLike<number>, max: number): number[] {
  const n = x.length;
  if (max <= 0 || n <= max || n <= 2) return Array.from({ length: n }, (_, i) => i);
  if (max < 3) return max === 1 ? [n - 1] : [0, n - 1];
  const out: number[] = [0];
  const bucket = (n - 2) / (max - 2);
  let a = 0;
  for (let b = 0; b < max - 2; b++) {
    // The next bucket's average is the third corner of the triangle.
    const nextStart = Math.floor((b + 1) * bucket) + 1;
    const nextEnd = Math.min(n, Math.floor((b + 2) * bucket) + 1);
    let avgX = 0;
    let avgY = 0;
    let count = 0;
    for (let i = nextStart; i < nextEnd; i++) {
      const yi = y[i]!;
      if (!Number.isFinite(yi)) continue;
      avgX += x[i]!;
      avgY += yi;
      count++;
    }
    if (count > 0) {
      avgX /= count;
      avgY /= count;
    } else {
      avgX = x[Math.min(n - 1, nextStart)]!;
      avgY = y[a]!;
    }
    const start = Math.floor(b * bucket) + 1;
    const end = Math.floor((b + 1) * bucket) + 1;
    const ax = x[a]!;
    const ay = y[a]!;
    let best = start;
    let bestArea = -1;
    for (let i = start; i < end; i++) {
      const yi = y[i]!;
      // A gap (NaN) is kept when it is all a bucket has, so the chart still shows the break.
      const area = Number.isFinite(yi) ? Math.abs((ax - avgX) * (yi - ay) - (ax - x[i]!) * (avgY - ay)) : -0.5;
      if (area > bestArea) {
        bestArea = area;
        best = i;
      }
    }
    out.push(best);
    a = best;
  }
  out.push(n - 1);
  return out;
}

/** The elements of `values` at `indices`. */
export function pick<T>(values: readonly T[], indices: readonly number[]): T[] {
  const out = new Array<T>(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = values[indices[k]!]!;
  return out;
}

/** Significant digits a drawn value keeps: far below a pixel on any loss chart. */
export const DRAWN_DIGITS = 7;

/**
 * Values for a chart, rounded to DRAWN_DIGITS significant digits: a float64 loss prints as 17-18
 * characters of JSON, 7 digits as 8, which halves what 20 compared runs send to the browser. Only
 * downsampled curves are rounded; asking for every point returns the stored values exactly.
 */
export function forDrawing(values: readonly number[]): number[] {
  return values.map((v) => (Number.isFinite(v) && v !== 0 ? Number(v.toPrecision(DRAWN_DIGITS)) : v));
}
