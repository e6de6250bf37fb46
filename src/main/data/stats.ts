// Dataset statistics kept in manifests and shown by the CLI and UI: a length histogram with
// power-of-two buckets (constant size whatever the dataset) plus count, total, min, max.
import type { HistogramJson } from '../../shared/datasets';

export type { HistogramJson } from '../../shared/datasets';

export class LengthHistogram {
  private counts: number[] = [];
  count = 0;
  total = 0;
  min = Infinity;
  max = 0;

  add(length: number): void {
    const k = length <= 0 ? 0 : Math.min(31, 32 - Math.clz32(length));
    while (this.counts.length <= k) this.counts.push(0);
    this.counts[k]!++;
    this.count++;
    this.total += length;
    if (length < this.min) this.min = length;
    if (length > this.max) this.max = length;
  }

  toJSON(): HistogramJson {
    return {
      count: this.count,
      total: this.total,
      min: this.count === 0 ? 0 : this.min,
      max: this.max,
      buckets: this.counts.map((count, k) => ({ below: k === 0 ? 1 : 2 ** k, count })),
    };
  }

  static fromJSON(json: HistogramJson): LengthHistogram {
    const h = new LengthHistogram();
    h.counts = json.buckets.map((b) => b.count);
    h.count = json.count;
    h.total = json.total;
    h.min = json.count === 0 ? Infinity : json.min;
    h.max = json.max;
    return h;
  }
}

/** A short text rendering of a histogram for the CLI, one row per non-empty bucket. */
export function renderHistogram(h: HistogramJson, unit: string, width = 30): string[] {
  const peak = Math.max(1, ...h.buckets.map((b) => b.count));
  const rows: string[] = [];
  h.buckets.forEach((b, k) => {
    if (b.count === 0) return;
    const lo = k === 0 ? 0 : 2 ** (k - 1);
    const range = k === 0 ? '0' : `${lo}–${b.below - 1}`;
    const bar = '#'.repeat(Math.max(1, Math.round((b.count / peak) * width)));
    rows.push(`  ${range.padStart(15)} ${unit}  ${String(b.count).padStart(9)}  ${bar}`);
  });
  return rows;
}
