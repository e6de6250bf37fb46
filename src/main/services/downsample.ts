// Curves for a chart, after shared/lttb.ts has chosen their points: the columns picked at those
// indices, and values rounded to what a chart can show. Pure.

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
