// A run's mixture over training steps as a stacked area. The mixture is held fixed between
// decisions, so the areas are steps ('end': a value holds until the next decision), not slopes.
import type { EChartsCoreOption } from 'echarts/core';
import { markRaw } from 'vue';
import { sourceColor } from '../palette';
import { gridWithin } from '../theme';

export interface MixtureTrajectory {
  sources: readonly string[];
  decisions: readonly { step: number; weights: readonly number[] }[];
  /** Where the last mixture ends: the run's length, or the step reached so far. */
  endStep: number;
  /** The x axis spans the whole run while it trains (default: endStep). */
  totalSteps?: number | null;
}

/** Per source, [step, weight] points: one per decision plus the last one held to endStep. */
export function mixtureSeriesData(t: MixtureTrajectory): [number, number][][] {
  const sorted = [...t.decisions].sort((a, b) => a.step - b.step);
  return t.sources.map((_, j) => {
    const pts: [number, number][] = sorted.map((d) => [d.step, d.weights[j] ?? 0]);
    const last = sorted[sorted.length - 1];
    if (last && t.endStep > last.step) pts.push([t.endStep, last.weights[j] ?? 0]);
    return pts;
  });
}

export function mixtureOption(t: MixtureTrajectory, opts: { title?: string; showLegend?: boolean } = {}): EChartsCoreOption {
  const data = mixtureSeriesData(t);
  const showLegend = opts.showLegend ?? true;
  return {
    animation: false,
    title: opts.title ? { text: opts.title, left: 0, top: 0 } : undefined,
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: number) => `${(v * 100).toFixed(1)}%`,
    },
    legend: showLegend ? { type: 'scroll', bottom: 0, icon: 'rect', itemWidth: 12, itemHeight: 10 } : undefined,
    grid: gridWithin({ left: 8, right: 16, top: opts.title ? 32 : 12, bottom: showLegend ? 36 : 8 }),
    xAxis: { type: 'value', name: 'step', nameLocation: 'end', min: 0, max: Math.max(t.totalSteps ?? t.endStep, t.endStep, 1) },
    yAxis: { type: 'value', min: 0, max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` } },
    series: t.sources.map((s, j) => ({
      name: s,
      type: 'line',
      stack: 'mixture',
      step: 'end',
      showSymbol: false,
      lineStyle: { width: 0 },
      areaStyle: { opacity: 0.85 },
      color: sourceColor(j),
      data: markRaw(data[j]!),
    })),
  };
}
