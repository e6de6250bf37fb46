// One domain's eval-loss curve for a run: the curve, its reference line (constraints), the base
// loss, each decision's prediction as a dashed segment (what the solver expected over its horizon),
// and violations in the bad colour: points above the reference and a shaded band over them.
import type { EChartsCoreOption } from 'echarts/core';
import { markRaw } from 'vue';
import type { DomainRole } from '../../../../shared/run-config';
import type { ThemeName } from '../../stores/preferences';
import { categoricalColor, chartColors } from '../palette';
import { gridWithin } from '../theme';

export interface DomainCurve {
  id: string;
  role: DomainRole;
  steps: readonly number[];
  values: readonly number[];
  /** The constraint's reference level; null for targets and monitors (or before step 0 is measured). */
  reference: number | null;
  /** The base model's loss (step 0), drawn faintly for targets. */
  base?: number | null;
  /** The x axis spans the whole run while it trains (the curve fills it as evaluations come). */
  totalSteps?: number | null;
  /** Per decision: from the anchor loss at `step` to the predicted loss at `step + horizon`. */
  predictions?: readonly { step: number; horizon: number; from: number; to: number }[];
}

/** Indices of points above the reference (never for non-constraints). */
export function violationIndices(c: DomainCurve): number[] {
  if (c.role !== 'constraint' || c.reference === null) return [];
  const out: number[] = [];
  c.values.forEach((v, i) => {
    if (v > c.reference! && c.steps[i]! > 0) out.push(i);
  });
  return out;
}

/** Step ranges to shade: each maximal run of violating points, widened halfway to its neighbours. */
export function violationRanges(c: DomainCurve): [number, number][] {
  const idx = violationIndices(c);
  const ranges: [number, number][] = [];
  let k = 0;
  while (k < idx.length) {
    let end = k;
    while (end + 1 < idx.length && idx[end + 1] === idx[end]! + 1) end++;
    const first = idx[k]!;
    const last = idx[end]!;
    const prev = c.steps[first - 1];
    const next = c.steps[last + 1];
    const lo = prev === undefined ? c.steps[first]! : (prev + c.steps[first]!) / 2;
    const hi = next === undefined ? c.steps[last]! : (c.steps[last]! + next) / 2;
    ranges.push([lo, hi]);
    k = end + 1;
  }
  return ranges;
}

/** Axis labels: as many decimals as the tick needs, at most 4 (2.5, 2.45, 1.818). */
export function trimZeros(v: number): string {
  return String(Number(v.toFixed(4)));
}

const ROLE_WORD: Record<DomainRole, string> = { target: 'target', constraint: 'constraint', monitor: 'monitor' };

export function domainCurveOption(c: DomainCurve, theme: ThemeName, colorIndex = 0): EChartsCoreOption {
  const colors = chartColors(theme);
  const violating = new Set(violationIndices(c));
  const points = c.steps.map((s, i) =>
    violating.has(i)
      ? { value: [s, c.values[i]!], symbol: 'circle', symbolSize: 8, itemStyle: { color: colors.bad, borderColor: colors.bad } }
      : { value: [s, c.values[i]!] },
  );
  const markLines: Record<string, unknown>[] = [];
  if (c.reference !== null && c.role === 'constraint') {
    markLines.push({ yAxisIndex: 0, yAxis: c.reference, name: 'reference', lineStyle: { color: colors.reference, type: [6, 4], width: 1.5 }, label: { formatter: `ref ${c.reference.toFixed(3)}`, color: colors.reference, position: 'insideEndTop' } });
  }
  if (c.base !== null && c.base !== undefined && c.role !== 'constraint') {
    markLines.push({ yAxis: c.base, name: 'base', lineStyle: { color: colors.muted, type: 'dotted', width: 1 }, label: { formatter: `base ${c.base.toFixed(3)}`, color: colors.muted, position: 'insideEndTop' } });
  }
  const series: Record<string, unknown>[] = [
    {
      name: c.id,
      type: 'line',
      data: markRaw(points),
      showSymbol: true,
      symbolSize: 4,
      color: categoricalColor(colorIndex),
      lineStyle: { width: 2 },
      markLine: markLines.length ? { silent: true, symbol: 'none', data: markLines } : undefined,
      markArea: violating.size
        ? { silent: true, itemStyle: { color: colors.bad, opacity: 0.12 }, data: violationRanges(c).map(([a, b]) => [{ xAxis: a }, { xAxis: b }]) }
        : undefined,
    },
  ];
  (c.predictions ?? []).forEach((p, k) => {
    series.push({
      name: k === 0 ? 'predicted' : `predicted ${k}`,
      type: 'line',
      data: [[p.step, p.from], [p.step + p.horizon, p.to]],
      showSymbol: true,
      symbol: 'emptyCircle',
      symbolSize: 5,
      silent: true,
      color: colors.muted,
      lineStyle: { type: 'dashed', width: 1 },
      tooltip: { show: false },
    });
  });
  // Reference and base lines are mark lines, which ECharts leaves out of the axis range: an
  // invisible series carries their values so the nice automatic range always includes them.
  const extents = [c.reference, c.base].filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (extents.length && c.steps.length) {
    series.push({ name: 'range', type: 'line', data: extents.map((v) => [c.steps[0]!, v]), symbol: 'none', lineStyle: { opacity: 0 }, silent: true, tooltip: { show: false }, legendHoverLink: false });
  }
  return {
    animation: false,
    title: { text: `${c.id}`, subtext: ROLE_WORD[c.role], left: 0, top: 0, itemGap: 2 },
    tooltip: { trigger: 'axis', valueFormatter: (v: number) => (typeof v === 'number' ? v.toFixed(4) : String(v)) },
    grid: gridWithin({ left: 8, right: 20, top: 48, bottom: 8 }),
    xAxis: { type: 'value', name: 'step', nameLocation: 'end', min: 0, ...(c.totalSteps ? { max: c.totalSteps } : {}), axisLine: { onZero: false } },
    yAxis: { type: 'value', scale: true, axisLabel: { formatter: (v: number) => trimZeros(v) } },
    series,
  };
}
