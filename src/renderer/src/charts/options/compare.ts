// Overlaid curves of several runs for one domain (the compare view). Each run keeps one colour in
// every chart; with smoothing on, the raw series is drawn faintly behind the smoothed one only when
// asked (it doubles the lines to draw). Built for 20 runs × 10,000 points: smoothing runs on the
// series as fetched, then each series is downsampled (LTTB) to fewer points than the chart has
// pixels across before ECharts sees it, data arrays are markRaw'd, symbols and animation are off,
// and raw series are silent (no hover work).
import type { EChartsCoreOption } from 'echarts/core';
import { markRaw } from 'vue';
import type { ThemeName } from '../../stores/preferences';
import { categoricalColor, chartColors } from '../palette';
import { smoothEma, toFlat } from '../series-math';
import { trimZeros } from './curves';
import { gridWithin } from '../theme';

export type XAxisMode = 'step' | 'tokens' | 'time';

/**
 * Curves with fewer points than this are drawn as they are, never smoothed: an average over a
 * handful of evaluations lags so far behind them that it misreads the run.
 */
export const SMOOTH_MIN_POINTS = 30;

/**
 * Points per drawn series: fewer than a chart card has pixels across (about 600 at the usual
 * window size), so nothing visible is lost and ECharts lays out no more than it can show.
 */
export const DRAWN_POINTS = 500;

export interface RunCurve {
  runId: number;
  label: string;
  /** Position in the comparison: picks the run's colour everywhere. */
  colorIndex: number;
  steps: readonly number[];
  values: readonly number[];
  tokens: readonly (number | null)[];
  wallMs: readonly (number | null)[];
  /** The run's reference for this domain when it is a constraint there. */
  reference?: number | null;
}

export interface CompareCurveOptions {
  domain: string;
  xAxis: XAxisMode;
  /** EMA weight in [0, 1); 0 draws the raw series only. */
  smoothing: number;
  /** Points per series handed to ECharts (default DRAWN_POINTS). */
  maxPoints?: number;
  /** With smoothing on, also draw the raw series faintly behind (default off). */
  showRaw?: boolean;
  theme: ThemeName;
  /** Draw the domain as the chart's title (off where the card already names it). */
  showTitle?: boolean;
  /**
   * A legend naming the runs (default on): saved images must say which colour is which run, and
   * clicking a run there hides it in every chart of the group.
   */
  showLegend?: boolean;
  /** Where the x axis ends (a run's last step while it trains); default: the last point drawn. */
  xMax?: number;
}

export function xValues(c: RunCurve, mode: XAxisMode): readonly (number | null)[] {
  if (mode === 'tokens') return c.tokens;
  if (mode === 'time') return c.wallMs.map((ms) => (ms === null ? null : ms / 1000));
  return c.steps;
}

export function formatTokens(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(n));
}

export function formatSeconds(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  return `${m}:${String(sec).padStart(2, '0')}`;
}

/** Legend rows: two run names fit on a row of a chart card. */
export const LEGEND_ROW = 20;
export function legendRows(runs: number): number {
  return Math.max(1, Math.ceil(runs / 2));
}
/** Run names in a legend, cut so two fit on a row (the summary table has them in full). */
export function shortLabel(name: string): string {
  return name.length > 22 ? `${name.slice(0, 21)}…` : name;
}

export const AXIS_NAME: Record<XAxisMode, string> = { step: 'step', tokens: 'tokens', time: 'wall time' };

export function compareCurveOption(curves: readonly RunCurve[], o: CompareCurveOptions): EChartsCoreOption {
  const colors = chartColors(o.theme);
  const maxPoints = o.maxPoints ?? DRAWN_POINTS;
  const requested = Math.min(Math.max(o.smoothing, 0), 0.999);
  const series: Record<string, unknown>[] = [];
  for (const c of curves) {
    const xs = xValues(c, o.xAxis);
    const color = categoricalColor(c.colorIndex);
    const smoothing = c.values.length >= SMOOTH_MIN_POINTS ? requested : 0;
    if (smoothing === 0 || o.showRaw) series.push({
      id: `raw-${c.runId}`,
      name: c.label,
      type: 'line',
      // Flat [x, y, …]: two dimensions per point.
      dimensions: ['x', 'y'],
      data: markRaw(toFlat(xs, c.values, maxPoints)),
      color,
      showSymbol: false,
      sampling: 'lttb',
      silent: smoothing > 0,
      animation: false,
      lineStyle: { width: smoothing > 0 ? 1 : 1.6, opacity: smoothing > 0 ? 0.22 : 1 },
      emphasis: { disabled: true },
      z: 2,
      tooltip: smoothing > 0 ? { show: false } : undefined,
    });
    if (smoothing > 0) {
      series.push({
        id: `smooth-${c.runId}`,
        name: c.label,
        type: 'line',
        dimensions: ['x', 'y'],
        data: markRaw(toFlat(xs, smoothEma(c.values, smoothing), maxPoints)),
        color,
        showSymbol: false,
        sampling: 'lttb',
        animation: false,
        lineStyle: { width: 1.8 },
        emphasis: { focus: 'series' },
        z: 3,
      });
    }
  }
  // One dashed line per distinct reference (runs of the same base model share it).
  const refs = [...new Set(curves.map((c) => c.reference).filter((r): r is number => typeof r === 'number' && Number.isFinite(r)).map((r) => r.toPrecision(6)))].map(Number);
  if (refs.length && series[0]) {
    series[0].markLine = {
      silent: true,
      symbol: 'none',
      data: refs.map((r) => ({ yAxis: r, lineStyle: { color: colors.reference, type: [6, 4], width: 1.5 }, label: { formatter: `ref ${r.toFixed(3)}`, color: colors.reference, position: 'insideEndTop' } })),
    };
  }
  const xFormatter = o.xAxis === 'tokens' ? formatTokens : o.xAxis === 'time' ? formatSeconds : undefined;
  return {
    animation: false,
    title: o.showTitle === false ? undefined : { text: o.domain, left: 0, top: 0 },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'line', snap: false },
      valueFormatter: (v: number) => (typeof v === 'number' ? v.toFixed(4) : String(v)),
    },
    legend:
      o.showLegend === false
        ? undefined
        : { type: 'plain', bottom: 4, left: 8, right: 8, icon: 'roundRect', itemWidth: 12, itemHeight: 4, itemGap: 10, textStyle: { fontSize: 11 }, formatter: shortLabel },
    grid: gridWithin({ left: 8, right: 20, top: o.showTitle === false ? 12 : 32, bottom: o.showLegend === false ? 8 : 16 + LEGEND_ROW * legendRows(curves.length) }),
    // The x axis stays at the bottom even when losses cross zero (onZero would lift it into the plot).
    xAxis: { type: 'value', name: AXIS_NAME[o.xAxis], nameLocation: 'end', min: 0, max: o.xMax ?? 'dataMax', axisLine: { onZero: false }, axisLabel: xFormatter ? { formatter: xFormatter } : {} },
    yAxis: { type: 'value', scale: true, axisLabel: { formatter: trimZeros } },
    series,
  };
}
