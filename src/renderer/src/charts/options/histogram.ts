// A dataset's length histogram (power-of-two buckets, as the data layer counts them) as bars.
import type { EChartsCoreOption } from 'echarts/core';
import type { HistogramJson } from '../../../../shared/datasets';
import { categoricalColor } from '../palette';
import { gridWithin } from '../theme';

/** "1–1", "2–3", "4–7"…: the range each bucket counts ([2^(k-1), 2^k)); bucket 0 counts zeros. */
export function bucketLabels(h: HistogramJson): string[] {
  return h.buckets.map((b) => {
    const high = b.below - 1;
    if (high <= 0) return '0';
    const low = Math.max(1, Math.floor(b.below / 2));
    return low === high ? String(low) : `${compact(low)}–${compact(high)}`;
  });
}

function compact(n: number): string {
  if (n >= 1_000_000) return `${Math.floor(n / 100_000) / 10}M`;
  if (n >= 10_000) return `${Math.floor(n / 1000)}k`;
  return String(n);
}

/** The histogram from its first non-empty bucket (lengths below the shortest example say nothing). */
export function trimLeading(h: HistogramJson): HistogramJson {
  const first = h.buckets.findIndex((b) => b.count > 0);
  return first <= 0 ? h : { ...h, buckets: h.buckets.slice(first) };
}

export function histogramOption(full: HistogramJson, unit: string): EChartsCoreOption {
  const h = trimLeading(full);
  const labels = bucketLabels(h);
  return {
    animation: false,
    tooltip: { trigger: 'axis', formatter: (ps: { dataIndex: number; value: number }[]) => `${labels[ps[0]!.dataIndex]} ${unit}: ${ps[0]!.value} examples` },
    grid: gridWithin({ left: 8, right: 8, top: 12, bottom: 8 }),
    xAxis: { type: 'category', data: labels, name: unit, nameLocation: 'end', axisLabel: { interval: 0, rotate: labels.length > 8 ? 35 : 0 } },
    yAxis: { type: 'value', name: 'examples', minInterval: 1 },
    series: [{ type: 'bar', data: h.buckets.map((b) => b.count), color: categoricalColor(0), barCategoryGap: '15%' }],
  };
}
