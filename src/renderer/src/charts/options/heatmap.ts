// The slope matrix of one decision as a heatmap: domains down, sources across, a diverging scale
// centred on 0 (negative = training on the source lowers the domain's loss = helps; positive =
// interference). The scale is symmetric so equal colours mean equal magnitudes.
import type { EChartsCoreOption } from 'echarts/core';
import type { DomainRole } from '../../../../shared/run-config';
import { chartColors } from '../palette';
import type { ThemeName } from '../../stores/preferences';
import { gridWithin } from '../theme';

export interface SlopeMatrix {
  /** M×N: slopes[i][j] = S_ij. */
  slopes: readonly (readonly number[])[];
  domains: readonly { id: string; role: DomainRole }[];
  sources: readonly string[];
  /** Domain ids of the constraints at their bound (drawn with a marker in their label). */
  binding?: readonly string[];
}

export interface HeatmapCells {
  /** [sourceIndex, domainIndex, slope]; ECharts' heatmap wants x first. */
  cells: [number, number, number][];
  /** max |S_ij| (the scale runs from −extent to +extent); 0 for an all-zero matrix. */
  extent: number;
  xLabels: string[];
  yLabels: string[];
  /** Cell labels are S / 10^scaleExponent, so every cell reads in the same unit (e.g. ×10⁻³). */
  scaleExponent: number;
}

export function roleMark(role: DomainRole): string {
  return role === 'target' ? 'T' : role === 'constraint' ? 'C' : 'M';
}

/** Pure data mapping, tested on its own: rows are domains (first domain at the top), columns sources. */
export function heatmapCells(m: SlopeMatrix): HeatmapCells {
  const cells: [number, number, number][] = [];
  let extent = 0;
  m.slopes.forEach((row, i) => {
    row.forEach((s, j) => {
      cells.push([j, i, s]);
      if (Number.isFinite(s)) extent = Math.max(extent, Math.abs(s));
    });
  });
  const binding = new Set(m.binding ?? []);
  return {
    cells,
    extent,
    scaleExponent: extent > 0 ? Math.floor(Math.log10(extent)) : 0,
    xLabels: [...m.sources],
    yLabels: m.domains.map((d) => `${d.id} (${roleMark(d.role)})${binding.has(d.id) ? ' ●' : ''}`),
  };
}

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };

/** "×10⁻³": the unit of the cell labels; '' when they are plain numbers. */
export function scaleLabel(exponent: number): string {
  return exponent === 0 ? '' : `×10${String(exponent).split('').map((ch) => SUPERSCRIPT[ch] ?? ch).join('')}`;
}

/** A cell's label in the matrix's common unit: one decimal of S / 10^exponent. */
export function scaledSlope(s: number, exponent: number): string {
  const v = s / 10 ** exponent;
  const text = Math.abs(v) < 0.05 ? '0' : v.toFixed(1);
  return text === '-0.0' ? '0' : text;
}

/** A slope in full (tooltips): 3 significant digits, exponent form for tiny or huge values. */
export function formatSlope(s: number): string {
  if (s === 0) return '0';
  const a = Math.abs(s);
  if (a < 1e-3 || a >= 1e4) return s.toExponential(1);
  return s.toPrecision(2);
}

export function heatmapOption(m: SlopeMatrix, theme: ThemeName): EChartsCoreOption {
  const data = heatmapCells(m);
  const c = chartColors(theme);
  const extent = data.extent > 0 ? data.extent : 1;
  const showLabels = data.cells.length <= 120;
  return {
    animation: false,
    tooltip: {
      position: 'top',
      formatter: (p: { value: [number, number, number] }) => {
        const [j, i, s] = p.value;
        const effect = s < 0 ? 'helps' : s > 0 ? 'hurts' : 'no effect';
        return `training on <b>${data.xLabels[j]}</b><br/>${data.yLabels[i]}: ${formatSlope(s)} per step (${effect})`;
      },
    },
    grid: gridWithin({ left: 8, right: 16, top: 24, bottom: 64 }),
    xAxis: { type: 'category', data: data.xLabels, name: 'source', nameLocation: 'middle', nameGap: 28, splitArea: { show: false }, axisLabel: { interval: 0, rotate: data.xLabels.length > 6 ? 30 : 0 } },
    yAxis: { type: 'category', data: data.yLabels, inverse: true, splitArea: { show: false } },
    visualMap: {
      type: 'continuous',
      min: -extent,
      max: extent,
      calculable: false,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemHeight: 160,
      itemWidth: 10,
      text: ['hurts', 'helps'],
      textStyle: { color: c.muted },
      inRange: { color: [...c.diverging] },
    },
    series: [
      {
        type: 'heatmap',
        data: data.cells,
        label: { show: showLabels, formatter: (p: { value: [number, number, number] }) => scaledSlope(p.value[2], data.scaleExponent), color: c.text, fontSize: 11 },
        itemStyle: { borderColor: c.surface, borderWidth: 1 },
        emphasis: { itemStyle: { borderColor: c.text, borderWidth: 1 } },
      },
    ],
  };
}
