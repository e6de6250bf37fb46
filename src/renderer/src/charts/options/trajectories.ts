// Mixture trajectories overlaid across runs (the compare view): one chart per source, one line per
// run in the run's colour — the source's share of batches over steps (or tokens, or wall time),
// held between decisions, with a marker at each decision. Smoothing is the curves' control applied
// to the held mixture as a continuous exponential average (what the run actually trained on
// lately), so a jumpy controller reads as a trend. Pure.
import type { EChartsCoreOption } from 'echarts/core';
import { markRaw } from 'vue';
import type { ThemeName } from '../../stores/preferences';
import { categoricalColor } from '../palette';
import { gridWithin } from '../theme';
import { AXIS_NAME, formatSeconds, formatTokens, LEGEND_ROW, legendRows, shortLabel, type XAxisMode } from './compare';

export interface RunTimeline {
  steps: readonly number[];
  tokens: readonly (number | null)[];
  wallMs: readonly (number | null)[];
}

export interface RunTrajectory {
  runId: number;
  label: string;
  colorIndex: number;
  sources: readonly string[];
  decisions: readonly { step: number; weights: readonly number[] }[];
  /** Where the last mixture ends: the run's length, or the step reached so far. */
  endStep: number;
  /** The run's planned length (the x axis spans it while the run trains); default endStep. */
  totalSteps?: number | null;
  /** Tokens and wall time by step (the training-loss curve's), for those x axes; null when unknown. */
  timeline: RunTimeline | null;
}

/** Samples per smoothed line (about a chart's width in points, well under its pixels). */
export const TRAJECTORY_SAMPLES = 200;

/** Every run's sources, in the order they first appear. */
export function overlaySources(runs: readonly RunTrajectory[]): string[] {
  const out: string[] = [];
  for (const r of runs) for (const s of r.sources) if (!out.includes(s)) out.push(s);
  return out;
}

/** The source's share from each decision on, sorted by step (a later decision at the same step wins). */
export function heldShares(run: RunTrajectory, source: string): { step: number; share: number }[] {
  const j = run.sources.indexOf(source);
  if (j < 0) return [];
  const sorted = [...run.decisions].sort((a, b) => a.step - b.step);
  const out: { step: number; share: number }[] = [];
  for (const d of sorted) {
    const share = d.weights[j] ?? 0;
    if (out.length && out[out.length - 1]!.step === d.step) out[out.length - 1]!.share = share;
    else out.push({ step: d.step, share });
  }
  return out;
}

/**
 * The held shares as [step, value] points from the first decision to `endStep`, with a flag on
 * the decisions. Unsmoothed: the decisions and the end (drawn as steps). Smoothed with weight k:
 * the exponential average of the held mixture, decaying by k every `unit` steps, sampled at the
 * decisions and on a regular grid (exact for a piecewise-constant input).
 */
export function trajectoryPoints(shares: readonly { step: number; share: number }[], endStep: number, smoothing: number, unit: number): { step: number; value: number; decision: boolean }[] {
  if (shares.length === 0) return [];
  const first = shares[0]!;
  const end = Math.max(endStep, shares[shares.length - 1]!.step);
  if (smoothing <= 0 || unit <= 0) {
    const pts = shares.map((s) => ({ step: s.step, value: s.share, decision: true }));
    if (end > shares[shares.length - 1]!.step) pts.push({ step: end, value: shares[shares.length - 1]!.share, decision: false });
    return pts;
  }
  const k = Math.min(smoothing, 0.999);
  // Sample times: the decisions, a regular grid, the end; merged in order.
  const times = new Set<number>(shares.map((s) => s.step));
  const span = end - first.step;
  for (let i = 1; i <= TRAJECTORY_SAMPLES; i++) times.add(first.step + (span * i) / TRAJECTORY_SAMPLES);
  const sorted = [...times].sort((a, b) => a - b);
  const decisionSteps = new Set(shares.map((s) => s.step));
  const out: { step: number; value: number; decision: boolean }[] = [];
  let s = first.share;
  let t = first.step;
  let seg = 0; // shares[seg] holds at t
  for (const time of sorted) {
    // Advance across decisions between t and time, decaying toward each held value in turn.
    while (seg + 1 < shares.length && shares[seg + 1]!.step <= time) {
      const next = shares[seg + 1]!;
      s = shares[seg]!.share + (s - shares[seg]!.share) * k ** ((next.step - t) / unit);
      t = next.step;
      seg++;
    }
    s = shares[seg]!.share + (s - shares[seg]!.share) * k ** ((time - t) / unit);
    t = time;
    out.push({ step: time, value: s, decision: decisionSteps.has(time) });
  }
  return out;
}

/** A step → x function for the axis (linear between the timeline's known points; null without one). */
export function stepToX(timeline: RunTimeline | null, mode: XAxisMode): ((step: number) => number | null) | null {
  if (mode === 'step') return (step) => step;
  if (!timeline) return null;
  const xs: number[] = [0];
  const ys: number[] = [0];
  for (let i = 0; i < timeline.steps.length; i++) {
    const v = mode === 'tokens' ? timeline.tokens[i] : timeline.wallMs[i];
    const step = timeline.steps[i]!;
    if (v === null || v === undefined || step <= xs[xs.length - 1]!) continue;
    xs.push(step);
    ys.push(mode === 'time' ? v / 1000 : v);
  }
  if (xs.length < 2) return null;
  return (step) => {
    // The first known step at or past `step` (the last one past the end): a binary search, as
    // this runs for every point of every run's line.
    let lo = 1;
    let hi = xs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid]! < step) lo = mid + 1;
      else hi = mid;
    }
    const x0 = xs[hi - 1]!;
    const x1 = xs[hi]!;
    // Past the last known step: the last stretch's pace, continued.
    return ys[hi - 1]! + ((ys[hi]! - ys[hi - 1]!) * (step - x0)) / (x1 - x0);
  };
}

export interface TrajectoryOverlayOptions {
  source: string;
  xAxis: XAxisMode;
  smoothing: number;
  theme: ThemeName;
  showLegend?: boolean;
}

export function trajectoryOverlayOption(runs: readonly RunTrajectory[], o: TrajectoryOverlayOptions): EChartsCoreOption {
  const span = Math.max(1, ...runs.map((r) => Math.max(r.endStep, r.totalSteps ?? 0)));
  const unit = span / TRAJECTORY_SAMPLES;
  const smoothed = o.smoothing > 0;
  const series: Record<string, unknown>[] = [];
  for (const r of runs) {
    const toX = stepToX(r.timeline, o.xAxis);
    if (!toX) continue;
    const pts = trajectoryPoints(heldShares(r, o.source), r.endStep, o.smoothing, unit);
    if (pts.length === 0) continue;
    const color = categoricalColor(r.colorIndex);
    const data = pts.flatMap((p) => {
      const x = toX(p.step);
      if (x === null) return [];
      return [p.decision ? { value: [x, p.value], step: p.step } : { value: [x, p.value], step: p.step, symbol: 'none' }];
    });
    series.push({
      id: `mix-${r.runId}`,
      name: r.label,
      type: 'line',
      step: smoothed ? false : 'end',
      data: markRaw(data),
      color,
      showSymbol: true,
      showAllSymbol: true,
      symbol: 'circle',
      symbolSize: 5,
      animation: false,
      lineStyle: { width: 1.6 },
      emphasis: { focus: 'series' },
    });
  }
  const xFormatter = o.xAxis === 'tokens' ? formatTokens : o.xAxis === 'time' ? formatSeconds : undefined;
  const showLegend = o.showLegend !== false;
  return {
    animation: false,
    title: { text: o.source, left: 0, top: 0, subtext: smoothed ? 'share of batches, smoothed' : 'share of batches', subtextStyle: { fontSize: 11 }, itemGap: 2 },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'line', snap: false },
      valueFormatter: (v: number) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : String(v)),
    },
    legend: showLegend
      ? { type: 'plain', bottom: 4, left: 8, right: 8, icon: 'roundRect', itemWidth: 12, itemHeight: 4, itemGap: 10, textStyle: { fontSize: 11 }, formatter: shortLabel }
      : undefined,
    grid: gridWithin({ left: 8, right: 20, top: 44, bottom: showLegend ? 16 + LEGEND_ROW * legendRows(runs.length) : 8 }),
    xAxis: { type: 'value', name: AXIS_NAME[o.xAxis], nameLocation: 'end', min: 0, max: o.xAxis === 'step' ? span : 'dataMax', axisLine: { onZero: false }, axisLabel: xFormatter ? { formatter: xFormatter } : {} },
    yAxis: { type: 'value', min: 0, max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` } },
    series,
  };
}
