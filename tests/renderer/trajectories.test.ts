// Mixture trajectories overlaid across runs (charts/options/trajectories.ts): the held shares per
// source, the continuous exponential average behind the smoothing control, steps mapped to tokens
// or time through the run's timeline, and the chart's series (one per run, decisions marked).
import { describe, expect, it } from 'vitest';
import { categoricalColor } from '../../src/renderer/src/charts/palette';
import { heldShares, overlaySources, stepToX, trajectoryOverlayOption, trajectoryPoints, type RunTrajectory } from '../../src/renderer/src/charts/options/trajectories';

const run = (runId: number, colorIndex: number, over: Partial<RunTrajectory> = {}): RunTrajectory => ({
  runId,
  label: `#${runId} run`,
  colorIndex,
  sources: ['code', 'email', 'licenses'],
  decisions: [
    { step: 0, weights: [0.5, 0.25, 0.25] },
    { step: 100, weights: [1, 0, 0] },
  ],
  endStep: 200,
  timeline: { steps: [50, 100, 200], tokens: [5000, 10000, 30000], wallMs: [1000, null, 4000] },
  ...over,
});

interface Series {
  id: string;
  color: string;
  step: string | false;
  data: { value: [number, number]; step: number; symbol?: string }[];
}

describe('overlaid mixture trajectories', () => {
  it('lists every run\'s sources once, in the order they first appear', () => {
    expect(overlaySources([run(1, 0), run(2, 1, { sources: ['email', 'web'] })])).toEqual(['code', 'email', 'licenses', 'web']);
  });

  it('holds a source\'s share from each decision on, the later of two decisions at a step winning', () => {
    const r = run(1, 0, { decisions: [{ step: 100, weights: [1, 0, 0] }, { step: 0, weights: [0.5, 0.5, 0] }, { step: 100, weights: [0.2, 0.8, 0] }] });
    expect(heldShares(r, 'email')).toEqual([{ step: 0, share: 0.5 }, { step: 100, share: 0.8 }]);
    expect(heldShares(r, 'web')).toEqual([]);
  });

  it('draws the decisions and the end unsmoothed, with a marker on each decision only', () => {
    const pts = trajectoryPoints(heldShares(run(1, 0), 'code'), 200, 0, 1);
    expect(pts).toEqual([
      { step: 0, value: 0.5, decision: true },
      { step: 100, value: 1, decision: true },
      { step: 200, value: 1, decision: false },
    ]);
  });

  it('smooths as an exact exponential average of the held mixture, decaying by the weight every unit of steps', () => {
    const pts = trajectoryPoints([{ step: 0, share: 0 }, { step: 100, share: 1 }], 200, 0.5, 1);
    const at = (step: number) => pts.find((p) => p.step === step)!.value;
    expect(at(0)).toBe(0);
    expect(at(100)).toBe(0);
    // One unit after the switch, half-way; two units, three quarters.
    expect(at(101)).toBeCloseTo(0.5, 12);
    expect(at(102)).toBeCloseTo(0.75, 12);
    expect(at(200)).toBeCloseTo(1, 12);
    expect(pts.filter((p) => p.decision).map((p) => p.step)).toEqual([0, 100]);
    // Sampled on a regular grid plus the decisions, in order.
    expect(pts.map((p) => p.step)).toEqual([...pts.map((p) => p.step)].sort((a, b) => a - b));
  });

  it('maps steps to tokens or seconds along the timeline, from 0 and past its end at the last pace', () => {
    const t = run(1, 0).timeline;
    expect(stepToX(t, 'step')!(77)).toBe(77);
    const tokens = stepToX(t, 'tokens')!;
    expect(tokens(0)).toBe(0);
    expect(tokens(25)).toBe(2500);
    expect(tokens(150)).toBe(20000);
    expect(tokens(300)).toBe(50000);
    // A step without a wall time is skipped, not read as 0.
    expect(stepToX(t, 'time')!(125)).toBeCloseTo(1 + 3 * (75 / 150), 12);
    expect(stepToX(null, 'tokens')).toBeNull();
    expect(stepToX(null, 'step')!(5)).toBe(5);
  });

  it('gives each run one line in its colour, held as steps unsmoothed, with the decisions marked', () => {
    const opt = trajectoryOverlayOption([run(7, 0), run(3, 1)], { source: 'code', xAxis: 'step', smoothing: 0, theme: 'light' }) as { series: Series[]; xAxis: { max: number }; yAxis: { min: number; max: number } };
    expect(opt.series.map((s) => s.id)).toEqual(['mix-7', 'mix-3']);
    expect(opt.series[0]!.color).toBe(categoricalColor(0));
    expect(opt.series[1]!.color).toBe(categoricalColor(1));
    expect(opt.series[0]!.step).toBe('end');
    expect(opt.series[0]!.data.map((d) => d.symbol ?? 'marker')).toEqual(['marker', 'marker', 'none']);
    expect(opt.series[0]!.data.map((d) => d.value)).toEqual([[0, 0.5], [100, 1], [200, 1]]);
    expect(opt.xAxis.max).toBe(200);
    expect([opt.yAxis.min, opt.yAxis.max]).toEqual([0, 1]);
    const smooth = trajectoryOverlayOption([run(7, 0)], { source: 'code', xAxis: 'tokens', smoothing: 0.6, theme: 'dark' }) as { series: Series[] };
    expect(smooth.series[0]!.step).toBe(false);
    expect(smooth.series[0]!.data.filter((d) => d.symbol === undefined).map((d) => d.step)).toEqual([0, 100]);
    expect(smooth.series[0]!.data.find((d) => d.step === 100)!.value[0]).toBe(10000);
  });

  it('ends a run still training where it is, on an axis as long as the longest planned run', () => {
    const live = run(2, 1, { endStep: 120, totalSteps: 400 });
    const opt = trajectoryOverlayOption([run(1, 0), live], { source: 'code', xAxis: 'step', smoothing: 0, theme: 'light' }) as { series: Series[]; xAxis: { max: number } };
    expect(opt.xAxis.max).toBe(400);
    expect(opt.series[1]!.data.at(-1)!.value).toEqual([120, 1]);
  });

  it('leaves out a run without a timeline when x is tokens or time', () => {
    const opt = trajectoryOverlayOption([run(1, 0, { timeline: null }), run(2, 1)], { source: 'code', xAxis: 'time', smoothing: 0, theme: 'light' }) as { series: Series[] };
    expect(opt.series.map((s) => s.id)).toEqual(['mix-2']);
  });
});
