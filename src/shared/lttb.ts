// Largest-triangle-three-buckets downsampling (Steinarsson 2013): keeps the shape a person sees in
// a curve (peaks, dips, the overall trend) with a fixed number of points, so a 100,000-step run
// plots as fast as a short one. Returns indices, so every column of a series (steps, values,
// tokens, wall time) stays aligned. Shared by the core (curves it serves) and the renderer
// (curves it draws). Pure.

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
