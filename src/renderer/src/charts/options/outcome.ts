// The outcome map: where each run ended up — target gain (test-perplexity reduction, the run's
// score) against its worst constraint violation at the selected checkpoint. Left of zero is
// feasible and shaded; higher is better, so the runs worth having sit in the upper left. DynaMiCS,
// other adaptive and fixed runs have their own marker; the runs of one suite are joined by a thin
// line (ordered by violation: the suite's trade-off read left to right). Also the same points as
// CSV, for the export beside the PNG.
import type { EChartsCoreOption } from 'echarts/core';
import type { RunSummary } from '../../../../shared/runs';
import { formatLoss, formatPercent } from '../../format';
import { runKind, type RunKind } from '../../lib/suites';
import type { ThemeName } from '../../stores/preferences';
import { chartColors } from '../palette';
import { gridWithin } from '../theme';

export interface OutcomePoint {
  runId: number;
  name: string;
  strategy: string;
  kind: RunKind;
  feasible: boolean | null;
  targetGain: number;
  maxViolation: number;
  suiteKey: string | null;
  /** The run's label in its suite ("uniform m=0.5"), or its strategy. */
  label: string;
  color: string;
}

export const KIND_NAMES: Record<RunKind, string> = { dynamics: 'DynaMiCS', adaptive: 'other adaptive', fixed: 'fixed mixture' };
const KIND_SYMBOL: Record<RunKind, { symbol: string; size: number }> = {
  dynamics: { symbol: 'diamond', size: 15 },
  adaptive: { symbol: 'triangle', size: 12 },
  fixed: { symbol: 'circle', size: 9 },
};

/** The scored runs as points (a run without a target gain or a violation yet is left out and counted). */
export function outcomePoints(runs: readonly RunSummary[], color: (run: RunSummary) => string): { points: OutcomePoint[]; unscored: number } {
  const points: OutcomePoint[] = [];
  let unscored = 0;
  for (const r of runs) {
    if (r.targetGain === null || r.maxViolation === null || !Number.isFinite(r.targetGain) || !Number.isFinite(r.maxViolation)) {
      unscored++;
      continue;
    }
    points.push({
      runId: r.id, name: r.name, strategy: r.strategy, kind: runKind(r.strategy), feasible: r.feasible,
      targetGain: r.targetGain, maxViolation: r.maxViolation, suiteKey: r.suite?.key ?? null, label: r.suite?.label ?? r.strategy, color: color(r),
    });
  }
  return { points, unscored };
}

/** Axis bounds with a margin, always including 0 (the feasibility border and "no gain"). */
export function paddedExtent(values: readonly number[]): [number, number] {
  let lo = 0;
  let hi = 0;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const pad = (hi - lo || Math.max(Math.abs(hi), 1e-3)) * 0.12;
  return [lo - pad, hi + pad];
}

/** The suite links: per suite of two points or more, its points by violation. */
export function suiteLinks(points: readonly OutcomePoint[]): { key: string; path: [number, number][] }[] {
  const bySuite = new Map<string, OutcomePoint[]>();
  for (const p of points) {
    if (!p.suiteKey) continue;
    const list = bySuite.get(p.suiteKey);
    if (list) list.push(p);
    else bySuite.set(p.suiteKey, [p]);
  }
  return [...bySuite]
    .filter(([, ps]) => ps.length >= 2)
    .map(([key, ps]) => ({ key, path: [...ps].sort((a, b) => a.maxViolation - b.maxViolation || a.targetGain - b.targetGain).map((p): [number, number] => [p.maxViolation, p.targetGain]) }));
}

/**
 * The label beside each dot: its run id, or for runs on the same spot (a suite's baselines that
 * share a mixture, trained once) every id on the first of them and nothing on the others.
 */
export function pointLabels(points: readonly OutcomePoint[]): Map<number, string> {
  const spots = new Map<string, number[]>();
  for (const p of points) {
    const spot = `${p.maxViolation.toPrecision(6)}|${p.targetGain.toPrecision(6)}`;
    const ids = spots.get(spot);
    if (ids) ids.push(p.runId);
    else spots.set(spot, [p.runId]);
  }
  const out = new Map<number, string>();
  for (const ids of spots.values()) ids.forEach((id, i) => out.set(id, i === 0 ? ids.map((x) => `#${x}`).join(' ') : ''));
  return out;
}

export function outcomeTooltip(p: OutcomePoint): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const feasible = p.feasible === null ? 'not scored' : p.feasible ? 'feasible' : 'infeasible';
  return `<b>#${p.runId} ${esc(p.name)}</b><br/>${esc(p.label)} · ${KIND_NAMES[p.kind]}<br/>target gain ${formatPercent(p.targetGain)}<br/>worst violation ${formatLoss(p.maxViolation)} (${feasible})<br/><span style="opacity:.7">click to open the run</span>`;
}

export function outcomeOption(points: readonly OutcomePoint[], o: { theme: ThemeName; title?: string }): EChartsCoreOption {
  const colors = chartColors(o.theme);
  const [xMin, xMax] = paddedExtent(points.map((p) => p.maxViolation));
  const [yMin, yMax] = paddedExtent(points.map((p) => p.targetGain));
  const byId = new Map(points.map((p) => [p.runId, p]));
  const labelled = points.length <= 24;
  const labels = pointLabels(points);
  const kinds = (['dynamics', 'adaptive', 'fixed'] as const).filter((k) => points.some((p) => p.kind === k));
  const series: Record<string, unknown>[] = suiteLinks(points).map((l) => ({
    id: `suite-${l.key}`,
    type: 'line',
    data: l.path,
    silent: true,
    symbol: 'none',
    animation: false,
    lineStyle: { color: colors.muted, width: 1, type: [4, 3], opacity: 0.7 },
    tooltip: { show: false },
    z: 1,
  }));
  // The feasible half-plane and the axes' zero lines, on a series of their own (always drawn).
  series.push({
    id: 'feasible-region',
    type: 'line',
    data: [],
    silent: true,
    markArea: {
      silent: true,
      itemStyle: { color: colors.good, opacity: 0.09 },
      label: { show: true, position: 'insideTopLeft', formatter: 'feasible', color: colors.good, fontSize: 11 },
      data: [[{ coord: [xMin, yMin] }, { coord: [0, yMax] }]],
    },
    markLine: {
      silent: true,
      symbol: 'none',
      label: { show: false },
      data: [
        { xAxis: 0, lineStyle: { color: colors.good, type: 'solid', width: 1.2 } },
        { yAxis: 0, lineStyle: { color: colors.axis, type: [6, 4], width: 1 } },
      ],
    },
  });
  for (const kind of kinds) {
    series.push({
      id: `runs-${kind}`,
      name: KIND_NAMES[kind],
      type: 'scatter',
      symbol: KIND_SYMBOL[kind].symbol,
      symbolSize: KIND_SYMBOL[kind].size,
      animation: false,
      cursor: 'pointer',
      itemStyle: { color: colors.muted, borderColor: colors.surface, borderWidth: 1 },
      emphasis: { scale: 1.5 },
      label: labelled ? { show: true, position: 'right', formatter: (p: { data: { text: string } }) => p.data.text, color: colors.muted, fontSize: 10 } : { show: false },
      // Crowded dots keep the labels that fit; hovering still names every run.
      labelLayout: { hideOverlap: true },
      data: points
        .filter((p) => p.kind === kind)
        .map((p) => ({ value: [p.maxViolation, p.targetGain], runId: p.runId, text: labels.get(p.runId) ?? '', itemStyle: { color: p.color } })),
      z: 3,
    });
  }
  return {
    animation: false,
    title: o.title ? { text: o.title, left: 0, top: 0 } : undefined,
    tooltip: {
      trigger: 'item',
      formatter: (p: { data?: { runId?: number } }) => {
        const point = p.data?.runId === undefined ? undefined : byId.get(p.data.runId);
        return point ? outcomeTooltip(point) : '';
      },
    },
    legend: { data: kinds.map((k) => KIND_NAMES[k]), bottom: 0, left: 8, itemWidth: 12, itemHeight: 10, textStyle: { fontSize: 11 }, itemStyle: { color: colors.muted } },
    grid: gridWithin({ left: 8, right: 28, top: o.title ? 36 : 16, bottom: 44 }),
    xAxis: {
      type: 'value', name: 'worst constraint violation (nats; ≤ 0 feasible)', nameLocation: 'middle', nameGap: 26, min: xMin, max: xMax,
      axisLine: { onZero: false }, splitLine: { show: false },
      // The padded ends are not round numbers: only the ticks between them are labelled.
      axisLabel: { showMinLabel: false, showMaxLabel: false, formatter: (v: number) => Number(v.toPrecision(3)).toString() },
    },
    yAxis: {
      type: 'value', name: 'target gain', nameLocation: 'end', min: yMin, max: yMax, axisLine: { onZero: false },
      axisLabel: { showMinLabel: false, showMaxLabel: false, formatter: (v: number) => `${Number((v * 100).toPrecision(3))}%` },
    },
    series,
  };
}

/** A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; empty for null. */
function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const OUTCOME_CSV_HEADER = 'run_id,run_name,strategy,kind,suite_key,suite_label,feasible,target_gain,max_violation,cost_multiple,selected_step';

/** Every run given (scored or not) as one CSV line each, with the header. */
export function outcomeCsv(runs: readonly RunSummary[]): string {
  const lines = [OUTCOME_CSV_HEADER];
  for (const r of runs) {
    const feasible = r.feasible === null ? '' : r.feasible ? 'true' : 'false';
    lines.push([r.id, csvField(r.name), csvField(r.strategy), runKind(r.strategy), csvField(r.suite?.key ?? null), csvField(r.suite?.label ?? null), feasible,
      csvField(r.targetGain), csvField(r.maxViolation), csvField(r.costMultiple), csvField(r.selectedStep)].join(','));
  }
  return `${lines.join('\n')}\n`;
}
