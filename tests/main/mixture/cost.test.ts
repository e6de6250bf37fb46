// Planned cost for the paper's setting (METHOD §7–8): the figure the UI shows before a run.
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../../src/shared/run-config';
import { costReport, plannedCounters } from '../../../src/main/mixture/cost';

function paperConfig(preset: 'none' | 'light' | 'dense', domains: number, sources: number) {
  return parseRunConfig({
    model: { path: 'm' },
    sources: Array.from({ length: sources }, (_, j) => ({ id: `s${j}`, dataset: `d${j}` })),
    domains: Array.from({ length: domains }, (_, i) => ({ id: `e${i}`, dataset: `d${i}`, role: i === 0 ? 'target' : 'constraint' })),
    dynamics: { schedule: { kind: 'preset', preset } },
  });
}

describe('cost accounting', () => {
  it('counts a training step as 3 and an evaluation batch as 1 forward-equivalent', () => {
    const config = paperConfig('none', 6, 6);
    const r = costReport(config, 6, plannedCounters(config, 6, 6), {});
    // Fixed run: 2048 steps × 3 + 33 evaluations × 6 domains × 200 batches.
    expect(r.fixedRun).toBe(2048 * 3 + 33 * 6 * 200);
    // none: c = 64, 64, 128, 128, 128, 128 on 6 sources; 6 updates × 6 × 6 × 50 probe batches; every
    // update falls on a regular evaluation, so no anchor is evaluated.
    expect(r.forwardEquivalents.probeTraining).toBe(6 * 640 * 3);
    expect(r.forwardEquivalents.probeEval).toBe(6 * 6 * 6 * 50);
    expect(r.forwardEquivalents.anchorEval).toBe(0);
    expect(r.multiple).toBeCloseTo(1 + (11520 + 10800) / 45744, 12);
  });

  it('orders the presets by cost, as the paper reports (none < light < dense)', () => {
    const m = (p: 'none' | 'light' | 'dense') => {
      const c = paperConfig(p, 6, 6);
      return costReport(c, 6, plannedCounters(c, 6, 6), {}).multiple;
    };
    expect(m('none')).toBeLessThan(m('light'));
    expect(m('light')).toBeLessThan(m('dense'));
  });
});
