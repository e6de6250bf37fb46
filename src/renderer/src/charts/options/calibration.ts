// The calibration chart [ours]: per domain and decision, the change of the probe-set loss over the
// decision's horizon as the model predicted it (x) against the change the evaluation at the end of
// the horizon measured (y), one scatter series per domain, with the y = x line a perfect predictor
// would sit on. The prediction is either the calibrated one the solver used or the raw linear
// model's; the slope of measured against predicted (through the origin) says how far off its size was.
import type { EChartsCoreOption } from 'echarts/core';
import { markRaw } from 'vue';
import { calibrationSlope, type CalibrationSlope } from '../../../../shared/calibration';
import type { DecisionOutcome, RunDomain } from '../../../../shared/runs';
import type { ThemeName } from '../../stores/preferences';
import { categoricalColor, chartColors } from '../palette';
import { gridWithin } from '../theme';

/** Which prediction the measured change is set against. */
export type CalibrationBasis = 'calibrated' | 'predicted';

export interface CalibrationPointOf {
  /** The decision's step, and the step its outcome was measured at. */
  step: number;
  measuredAt: number;
  /** Predicted change (the basis chosen) and measured change, in loss units. */
  predicted: number;
  actual: number;
}

export interface DomainCalibration {
  domain: string;
  role: RunDomain['role'];
  /** The domain's index in the run (its colour in every chart of the run view). */
  index: number;
  points: CalibrationPointOf[];
  fit: CalibrationSlope;
}

/** Per domain, in the run's order: its outcomes' points (finite ones, by step) and the slope fitted to them. */
export function calibrationByDomain(domains: readonly RunDomain[], outcomes: readonly DecisionOutcome[], basis: CalibrationBasis): DomainCalibration[] {
  return domains.map((d, index) => {
    const points = outcomes
      .filter((o) => o.domain === d.id && Number.isFinite(o[basis]) && Number.isFinite(o.actual))
      .map((o) => ({ step: o.step, measuredAt: o.measuredAt, predicted: o[basis], actual: o.actual }))
      .sort((a, b) => a.step - b.step);
    const fit = calibrationSlope(points.map((p) => ({ predicted: [p.predicted], actual: [p.actual] })), 0);
    return { domain: d.id, role: d.role, index, points, fit };
  });
}

/**
 * Half the side of the square both axes span: the largest |change|, padded and rounded up to 1, 2,
 * 2.5 or 5 times a power of ten (so the axes end on round ticks); 1 without points.
 */
export function calibrationExtent(series: readonly DomainCalibration[]): number {
  let m = 0;
  for (const s of series) for (const p of s.points) m = Math.max(m, Math.abs(p.predicted), Math.abs(p.actual));
  if (!(m > 0)) return 1;
  const padded = m * 1.05;
  const unit = 10 ** Math.floor(Math.log10(padded));
  const step = [1, 2, 2.5, 5, 10].find((f) => f * unit >= padded * (1 - 1e-12)) ?? 10;
  return step * unit;
}

/** A loss change compactly, with its sign (the axes span both sides of zero). */
export function formatChange(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  const s = a >= 0.01 && a < 1000 ? v.toFixed(a >= 1 ? 2 : 3) : v.toExponential(1);
  return v > 0 ? `+${s}` : s;
}

export function calibrationOption(series: readonly DomainCalibration[], theme: ThemeName, basis: CalibrationBasis): EChartsCoreOption {
  const c = chartColors(theme);
  const r = calibrationExtent(series);
  const shown = series.filter((s) => s.points.length > 0);
  const xName = basis === 'calibrated' ? 'predicted change (calibrated)' : 'predicted change (uncalibrated)';
  return {
    animation: false,
    tooltip: {
      trigger: 'item',
      formatter: (p: { seriesName: string; data: [number, number, number, number] | [number, number] }) => {
        const d = p.data;
        if (d.length < 4) return 'y = x: measured as predicted';
        return `${p.seriesName} · decision at step ${d[2]}<br>predicted ${formatChange(d[0])}<br>measured ${formatChange(d[1])} (at step ${d[3]})`;
      },
    },
    legend: { type: 'scroll', bottom: 0, data: shown.map((s) => s.domain) },
    grid: gridWithin({ left: 12, right: 20, top: 16, bottom: 52 }),
    xAxis: { type: 'value', name: xName, nameLocation: 'middle', nameGap: 24, min: -r, max: r, axisLabel: { formatter: formatChange } },
    yAxis: { type: 'value', name: 'measured change', nameLocation: 'middle', nameGap: 44, min: -r, max: r, axisLabel: { formatter: formatChange } },
    series: [
      {
        id: 'identity',
        name: 'y = x',
        type: 'line',
        data: [[-r, -r], [r, r]],
        showSymbol: false,
        silent: true,
        color: c.reference,
        lineStyle: { type: 'dashed', width: 1, opacity: 0.7 },
        z: 1,
      },
      ...shown.map((s) => ({
        id: `domain-${s.domain}`,
        name: s.domain,
        type: 'scatter',
        symbolSize: 9,
        color: categoricalColor(s.index),
        data: markRaw(s.points.map((p) => [p.predicted, p.actual, p.step, p.measuredAt])),
        z: 2,
      })),
    ],
  };
}
