// Dataset statistics kept in manifests and shown by the CLI and UI: a length histogram with
// power-of-two buckets (constant size whatever the dataset) plus count, total, min, max.
import type { HistogramJson, OverLongRow } from '../../shared/datasets';

export type { HistogramJson, OverLongRow } from '../../shared/datasets';

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

/** The row lengths the over-long counts are kept for (a run's training.seqLength is usually one of them). */
export const OVER_LONG_SEQ_LENS = [128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768] as const;

/** Counts, per row length, the examples longer than it and the tokens they would lose. */
export class OverLongCounter {
  private readonly rows: OverLongRow[] = OVER_LONG_SEQ_LENS.map((seqLen) => ({ seqLen, examples: 0, tokensCut: 0, tokensDropped: 0 }));

  add(length: number): void {
    for (const r of this.rows) {
      if (length <= r.seqLen) break;
      r.examples++;
      r.tokensCut += length - r.seqLen;
      r.tokensDropped += length;
    }
  }

  toJSON(): OverLongRow[] {
    return this.rows.map((r) => ({ ...r }));
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
