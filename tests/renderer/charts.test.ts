// The chart option builders and series arithmetic: what reaches ECharts for slopes, mixtures,
// loss curves, comparisons and the calibration scatter.
import { describe, expect, it } from 'vitest';
import { isReactive, reactive } from 'vue';
import { calibrationByDomain, calibrationExtent, calibrationOption, formatChange } from '../../src/renderer/src/charts/options/calibration';
import { compareCurveOption, DRAWN_POINTS, xValues, type RunCurve } from '../../src/renderer/src/charts/options/compare';
import { domainCurveOption, violationIndices, violationRanges, type DomainCurve } from '../../src/renderer/src/charts/options/curves';
import { formatSlope, heatmapCells, heatmapOption, scaledSlope, scaleLabel } from '../../src/renderer/src/charts/options/heatmap';
import { bucketLabels, histogramOption, trimLeading } from '../../src/renderer/src/charts/options/histogram';
import { mixtureOption, mixtureSeriesData } from '../../src/renderer/src/charts/options/mixture';
import { categoricalColor, chartColors, sourceColor } from '../../src/renderer/src/charts/palette';
import { smoothEma, toFlat, toPairs } from '../../src/renderer/src/charts/series-math';
import { lttbIndices } from '../../src/shared/lttb';

type Series = { id?: string; name?: string; color?: string; data?: unknown; lineStyle?: { opacity?: number }; silent?: boolean; markLine?: { data: { yAxis: number }[] }; markArea?: { data: [{ xAxis: number }, { xAxis: number }][] } };

describe('slope heatmap', () => {
  const matrix = {
    slopes: [
      [-0.02, 0.01, 0],
      [0.004, -0.001, 0.03],
    ],
    domains: [
      { id: 'code', role: 'target' as const },
      { id: 'safety', role: 'constraint' as const },
    ],
    sources: ['code-src', 'chat-src', 'web'],
    binding: ['safety'],
  };

  it('maps S_ij to [source, domain, slope] cells with a symmetric extent', () => {
    const h = heatmapCells(matrix);
    expect(h.cells).toHaveLength(6);
    expect(h.cells).toContainEqual([0, 0, -0.02]);
    expect(h.cells).toContainEqual([2, 1, 0.03]);
    expect(h.cells).toContainEqual([1, 1, -0.001]);
    expect(h.extent).toBeCloseTo(0.03);
    expect(h.xLabels).toEqual(['code-src', 'chat-src', 'web']);
    expect(h.yLabels).toEqual(['code (T)', 'safety (C) ●']);
    // Every cell label is in one unit, so the eye compares digits, not exponents.
    expect(h.scaleExponent).toBe(-2);
    expect(scaleLabel(h.scaleExponent)).toBe('×10⁻²');
    expect([-0.02, 0.004, -0.001, 0].map((v) => scaledSlope(v, h.scaleExponent))).toEqual(['-2.0', '0.4', '-0.1', '0']);
  });

  it('puts negative slopes (helps) at the low, blue end of a scale centred on zero', () => {
    const opt = heatmapOption(matrix, 'light') as { visualMap: { min: number; max: number; inRange: { color: string[] } } };
    expect(opt.visualMap.min).toBeCloseTo(-0.03);
    expect(opt.visualMap.max).toBeCloseTo(0.03);
    expect(opt.visualMap.inRange.color[0]).toBe(chartColors('light').diverging[0]);
    expect(opt.visualMap.inRange.color).toHaveLength(5);
    // The dark theme's neutral middle is dark, not white.
    const dark = heatmapOption(matrix, 'dark') as { visualMap: { inRange: { color: string[] } } };
    expect(dark.visualMap.inRange.color[2]).toBe(chartColors('dark').diverging[2]);
    expect(dark.visualMap.inRange.color[2]).not.toBe(chartColors('light').diverging[2]);
  });

  it('keeps an all-zero matrix drawable and formats slopes compactly', () => {
    const zero = heatmapOption({ ...matrix, slopes: [[0, 0, 0], [0, 0, 0]] }, 'light') as { visualMap: { min: number; max: number } };
    expect(zero.visualMap.max).toBe(1);
    expect(formatSlope(0)).toBe('0');
    expect(formatSlope(-0.0123)).toBe('-0.012');
    expect(formatSlope(0.00002)).toBe('2.0e-5');
  });
});

describe('calibration scatter', () => {
  const domains = [
    { id: 'code', role: 'target' as const },
    { id: 'email', role: 'constraint' as const },
    { id: 'quiet', role: 'monitor' as const },
  ];
  const row = (step: number, domain: string, predicted: number, calibrated: number, actual: number) => ({ step, domain, measuredAt: step + 16, predicted, calibrated, actual });
  // code: measured half of the raw prediction, exactly what the calibrated one said; email: NaN dropped.
  const outcomes = [
    row(16, 'code', -0.04, -0.02, -0.02), row(0, 'code', -0.08, -0.04, -0.04),
    row(0, 'email', 0.01, 0.01, 0.03), row(16, 'email', 0.02, 0.02, Number.NaN),
  ];

  it('groups outcomes by domain in the run\'s order, by step, and fits measured against the chosen prediction', () => {
    const raw = calibrationByDomain(domains, outcomes, 'predicted');
    expect(raw.map((s) => s.domain)).toEqual(['code', 'email', 'quiet']);
    expect(raw[0]!.points.map((p) => [p.step, p.measuredAt, p.predicted, p.actual])).toEqual([[0, 16, -0.08, -0.04], [16, 32, -0.04, -0.02]]);
    expect(raw[0]!.fit.slope).toBeCloseTo(0.5, 12);
    expect(raw[0]!.fit.correlation).toBeCloseTo(1, 12);
    expect(raw[1]!.points).toHaveLength(1);
    expect(raw[1]!.fit).toEqual({ slope: null, correlation: null, points: 1 });
    expect(raw[2]!.points).toEqual([]);
    const calibrated = calibrationByDomain(domains, outcomes, 'calibrated');
    expect(calibrated[0]!.fit.slope).toBeCloseTo(1, 12);
    // 0.08 at most, padded, ends on a round tick.
    expect(calibrationExtent(raw)).toBeCloseTo(0.1, 12);
    expect(calibrationExtent([{ ...raw[0]!, points: [{ step: 0, measuredAt: 8, predicted: 0.3, actual: -1.7 }] }])).toBeCloseTo(2, 12);
    expect(calibrationExtent([{ ...raw[0]!, points: [{ step: 0, measuredAt: 8, predicted: 0.0021, actual: 0 }] }])).toBeCloseTo(0.0025, 12);
    expect(calibrationExtent([])).toBe(1);
  });

  it('draws one scatter per domain with points in its run colour, and the y = x line across a square', () => {
    const opt = calibrationOption(calibrationByDomain(domains, outcomes, 'predicted'), 'light', 'predicted') as {
      series: (Series & { type: string })[];
      xAxis: { min: number; max: number; name: string };
      yAxis: { min: number; max: number };
      legend: { data: string[] };
    };
    // Domains without points get no series and no legend entry.
    expect(opt.series.map((s) => s.id)).toEqual(['identity', 'domain-code', 'domain-email']);
    expect(opt.legend.data).toEqual(['code', 'email']);
    const [identity, code, email] = opt.series;
    expect(identity!.data).toEqual([[-0.1, -0.1], [0.1, 0.1]].map((p) => p.map((v) => expect.closeTo(v, 12))));
    expect(identity!.silent).toBe(true);
    expect(code!.type).toBe('scatter');
    expect(code!.data).toEqual([[-0.08, -0.04, 0, 16], [-0.04, -0.02, 16, 32]]);
    expect(code!.color).toBe(categoricalColor(0));
    expect(email!.color).toBe(categoricalColor(1));
    expect(opt.xAxis.min).toBe(-opt.xAxis.max);
    expect(opt.yAxis.max).toBe(opt.xAxis.max);
    expect(opt.xAxis.name).toContain('uncalibrated');
    expect((calibrationOption([], 'dark', 'calibrated') as { series: unknown[] }).series).toHaveLength(1);
  });

  it('formats changes with their sign', () => {
    expect([0, 0.0123, -0.5, 2, -0.0004].map(formatChange)).toEqual(['0', '+0.012', '-0.500', '+2.00', '-4.0e-4']);
  });
});

describe('mixture trajectory', () => {
  it('holds each mixture until the next decision and to the end of the run', () => {
    const t = { sources: ['a', 'b'], decisions: [{ step: 64, weights: [0.2, 0.8] }, { step: 0, weights: [1, 0] }], endStep: 256 };
    const data = mixtureSeriesData(t);
    expect(data[0]).toEqual([[0, 1], [64, 0.2], [256, 0.2]]);
    expect(data[1]).toEqual([[0, 0], [64, 0.8], [256, 0.8]]);
    const opt = mixtureOption(t) as { series: (Series & { step: string; stack: string })[] };
    expect(opt.series.map((s) => s.step)).toEqual(['end', 'end']);
    expect(opt.series.every((s) => s.stack === 'mixture')).toBe(true);
    // Sources have their own colours, never a run's.
    expect(opt.series.map((s) => s.color)).toEqual([sourceColor(0), sourceColor(1)]);
    expect(sourceColor(0)).not.toBe(categoricalColor(0));
  });
});

describe('domain loss curve', () => {
  const c: DomainCurve = { id: 'safety', role: 'constraint', steps: [0, 64, 128, 192, 256], values: [2.0, 1.99, 2.05, 2.07, 1.98], reference: 2.0 };

  it('finds violations (above the reference, never at step 0) and shades each run of them', () => {
    expect(violationIndices(c)).toEqual([2, 3]);
    expect(violationRanges(c)).toEqual([[96, 224]]);
    expect(violationIndices({ ...c, role: 'target' })).toEqual([]);
    expect(violationIndices({ ...c, reference: null })).toEqual([]);
    expect(violationRanges({ ...c, values: [2.1, 2.1, 1.9, 1.9, 2.1] })).toEqual([[32, 96], [224, 256]]);
  });

  it('draws the reference line, red violating points and the predictions', () => {
    const opt = domainCurveOption({ ...c, predictions: [{ step: 0, horizon: 64, from: 2.0, to: 1.98 }] }, 'light') as { series: Series[] };
    const main = opt.series[0]!;
    expect(main.markLine!.data[0]!.yAxis).toBe(2.0);
    // References are neutral dashed lines, never a run's or a domain's colour.
    expect((main.markLine!.data[0] as unknown as { lineStyle: { color: string } }).lineStyle.color).toBe(chartColors('light').reference);
    expect(main.markArea!.data).toEqual([[{ xAxis: 96 }, { xAxis: 224 }]]);
    const points = main.data as { value: number[]; itemStyle?: { color: string } }[];
    expect(points[2]!.itemStyle!.color).toBe(chartColors('light').bad);
    expect(points[1]!.itemStyle).toBeUndefined();
    expect(opt.series[1]!.data).toEqual([[0, 2.0], [64, 1.98]]);
  });
});

describe('compare curves', () => {
  const n = 10_000;
  const steps = Array.from({ length: n }, (_, i) => i);
  const curve = (runId: number, colorIndex: number): RunCurve => ({
    runId,
    label: `#${runId}`,
    colorIndex,
    steps,
    values: steps.map((s) => 3 - Math.log1p(s) * 0.1 + Math.sin(s * runId) * 0.05),
    tokens: steps.map((s) => s * 4096),
    wallMs: steps.map((s) => (s % 2 === 0 ? s * 100 : null)),
    reference: 2.5,
  });

  it('draws smoothed series alone unless the raw ones are asked for', () => {
    const curves = [curve(7, 0), curve(3, 1)];
    const opt = compareCurveOption(curves, { domain: 'code', xAxis: 'step', smoothing: 0.8, theme: 'dark' }) as { series: Series[] };
    expect(opt.series.map((s) => s.id)).toEqual(['smooth-7', 'smooth-3']);
    // Fewer points than a chart has pixels across, by default.
    expect((opt.series[0]!.data as Float64Array).length).toBe(2 * DRAWN_POINTS);
    expect(DRAWN_POINTS).toBeLessThan(600);
    // The reference line rides on the first series drawn.
    expect(opt.series[0]!.markLine!.data.map((d) => d.yAxis)).toEqual([2.5]);
  });

  it('gives each run its colour for both its raw (faint, silent) and smoothed series, downsampled', () => {
    const curves = [curve(7, 0), curve(3, 1)];
    const opt = compareCurveOption(curves, { domain: 'code', xAxis: 'step', smoothing: 0.8, theme: 'dark', maxPoints: 500, showRaw: true }) as { series: Series[] };
    expect(opt.series.map((s) => s.id)).toEqual(['raw-7', 'smooth-7', 'raw-3', 'smooth-3']);
    expect(opt.series[0]!.color).toBe(opt.series[1]!.color);
    expect(opt.series[0]!.color).toBe(categoricalColor(0));
    expect(opt.series[2]!.color).toBe(categoricalColor(1));
    expect(opt.series[0]!.lineStyle!.opacity).toBeLessThan(0.5);
    expect(opt.series[0]!.silent).toBe(true);
    for (const s of opt.series) {
      // Flat [x, y, …] typed arrays: ECharts copies them at once instead of cloning one array per point.
      expect(s.data).toBeInstanceOf(Float64Array);
      expect((s.data as Float64Array).length).toBe(2 * 500);
      // markRaw'd: Vue will not walk 10,000-point arrays.
      expect(isReactive(reactive({ d: s.data }).d)).toBe(false);
    }
    expect(opt.series[0]!.markLine!.data.map((d) => d.yAxis)).toEqual([2.5]);
  });

  it('does not smooth a curve of a few evaluations (the average would lag far behind it)', () => {
    const short = { ...curve(2, 0), steps: [0, 64, 128, 192, 256], values: [2, 1.9, 1.85, 1.84, 1.83], tokens: [0, 1, 2, 3, 4], wallMs: [0, 1, 2, 3, 4] };
    const opt = compareCurveOption([short, curve(3, 1)], { domain: 'code', xAxis: 'step', smoothing: 0.6, theme: 'light', maxPoints: 500, showRaw: true }) as { series: Series[] };
    expect(opt.series.map((s) => s.id)).toEqual(['raw-2', 'raw-3', 'smooth-3']);
    expect(opt.series[0]!.lineStyle!.opacity).toBe(1);
  });

  it('draws raw series only without smoothing, and switches x to tokens or time (skipping unknown times)', () => {
    const c = curve(1, 0);
    const opt = compareCurveOption([c], { domain: 'd', xAxis: 'tokens', smoothing: 0, theme: 'light', maxPoints: 0 }) as { series: Series[] };
    expect(opt.series).toHaveLength(1);
    expect([...(opt.series[0]!.data as Float64Array).subarray(6, 8)]).toEqual([3 * 4096, c.values[3]]);
    expect(xValues(c, 'time')[2]).toBe(0.2);
    const timed = compareCurveOption([c], { domain: 'd', xAxis: 'time', smoothing: 0, theme: 'light', maxPoints: 0 }) as { series: Series[] };
    expect((timed.series[0]!.data as Float64Array).length).toBe(n);
  });

  it('ends the x axis at the last point, or where the caller says (a run still training)', () => {
    const axis = (o: unknown) => (o as { xAxis: { max: unknown } }).xAxis.max;
    expect(axis(compareCurveOption([curve(1, 0)], { domain: 'd', xAxis: 'step', smoothing: 0, theme: 'light' }))).toBe('dataMax');
    expect(axis(compareCurveOption([curve(1, 0)], { domain: 'd', xAxis: 'step', smoothing: 0, theme: 'light', xMax: 1000 }))).toBe(1000);
  });
});

describe('series arithmetic', () => {
  it('smooths like TensorBoard (debiased) and passes non-finite values through', () => {
    expect(smoothEma([1, 1, 1], 0.9)).toEqual([1, 1, 1].map((v) => expect.closeTo(v, 12)));
    const s = smoothEma([0, 10, NaN, 10], 0.5);
    expect(s[0]).toBe(0);
    expect(s[1]).toBeCloseTo((0 * 0.25 + 10 * 0.5) / 0.75);
    expect(s[2]).toBeNaN();
    expect(Number.isFinite(s[3])).toBe(true);
    expect(smoothEma([3, 4], 0)).toEqual([3, 4]);
  });

  it('keeps the first, last and extreme points when downsampling', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const ys = xs.map((x) => (x === 500 ? 100 : 0));
    const idx = lttbIndices(xs, ys, 50);
    expect(idx).toHaveLength(50);
    expect(idx[0]).toBe(0);
    expect(idx[49]).toBe(999);
    expect(idx).toContain(500);
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
    expect(lttbIndices([1, 2], [3, 4], 10)).toEqual([0, 1]);
    expect(toPairs([0, null, 2], [5, 6, 7])).toEqual([[0, 5], [2, 7]]);
    expect([...toFlat([0, null, 2], [5, 6, 7])]).toEqual([0, 5, 2, 7]);
    expect([...toFlat([0, 1, 2], [5, 6, 7])]).toEqual([0, 5, 1, 6, 2, 7]);
    expect(toFlat(xs, ys, 50)).toHaveLength(100);
  });
});

describe('length histogram', () => {
  it('labels power-of-two buckets by the range they count', () => {
    const labels = bucketLabels({ count: 10, total: 100, min: 0, max: 20000, buckets: [{ below: 1, count: 1 }, { below: 2, count: 1 }, { below: 4, count: 2 }, { below: 8, count: 3 }, { below: 32768, count: 3 }] });
    expect(labels).toEqual(['0', '1', '2–3', '4–7', '16k–32k']);
    // Leading empty buckets are dropped: the axis starts at the shortest example.
    const h = { count: 3, total: 300, min: 90, max: 120, buckets: [{ below: 1, count: 0 }, { below: 2, count: 0 }, { below: 64, count: 0 }, { below: 128, count: 3 }] };
    expect(trimLeading(h).buckets).toEqual([{ below: 128, count: 3 }]);
    expect((histogramOption(h, 'tokens') as { xAxis: { data: string[] } }).xAxis.data).toEqual(['64–127']);
  });
});
