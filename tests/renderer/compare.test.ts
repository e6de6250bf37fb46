// The compare store and view against a real core: overlaid curves per domain with one colour per
// run, the config diff showing only what differs, mixture trajectories, the summary, exports.
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { categoricalColor } from '../../src/renderer/src/charts/palette';
import { useCompareStore } from '../../src/renderer/src/stores/compare';
import CompareView from '../../src/renderer/src/views/CompareView.vue';
import { EverythingInView } from './in-view';
import { seedRun } from './seed';
import { mountView, settle, storeContext, testCore, until } from './setup';

const { core, api } = testCore();
let a = 0;
let b = 0;
let c = 0;

beforeAll(() => {
  a = seedRun(core, { name: 'dynamics', gain: 0.003 });
  b = seedRun(core, { name: 'uniform', strategy: 'fixed-uniform', learningRate: 0.001 });
  c = seedRun(core, { name: 'dynamics-lr', gain: 0.002, learningRate: 0.001 });
});
afterEach(() => vi.restoreAllMocks());

describe('compare store', () => {
  it('loads each domain of each run, colours runs by their place in the comparison', async () => {
    const ctx = storeContext(api);
    const cmp = ctx.run(() => useCompareStore());
    await cmp.load([b, a]);
    expect(cmp.error).toBeNull();
    expect(cmp.runs.map((r) => r.id)).toEqual([b, a]);
    expect(cmp.domains).toEqual(['code', 'email', 'licenses', 'dictionary']);
    const curves = cmp.curvesFor('email');
    expect(curves.map((x) => x.runId)).toEqual([b, a]);
    expect(curves.map((x) => x.colorIndex)).toEqual([0, 1]);
    expect(curves[1]!.steps).toEqual([0, 16, 32, 48, 64]);
    expect(curves[1]!.reference).toBe(2.0);
    expect(cmp.referenceOf(a, 'code')).toBeNull();
    expect(cmp.trainCurves).toHaveLength(2);
    expect(cmp.trainCurves[0]!.tokens.every((t) => t !== null)).toBe(true);
    expect(Object.keys(cmp.decisions).map(Number).sort()).toEqual([a, b].sort());
  });

  it('keeps only the configuration fields that differ', async () => {
    const ctx = storeContext(api);
    const cmp = ctx.run(() => useCompareStore());
    await cmp.load([a, c]);
    const paths = cmp.diff.map((r) => r.path);
    expect(paths).toContain('training.learningRate');
    expect(paths).toContain('name');
    expect(paths).not.toContain('training.steps');
    expect(paths).not.toContain('strategy.kind');
    expect(cmp.diff.find((r) => r.path === 'training.learningRate')!.values).toEqual([0.003, 0.001]);
    await cmp.load([a, b]);
    expect(cmp.diff.map((r) => r.path)).toContain('strategy.kind');
  });

  it('hides and shows domains, and caps the comparison at 20 runs', async () => {
    const ctx = storeContext(api);
    const cmp = ctx.run(() => useCompareStore());
    await cmp.load([a, b]);
    cmp.toggleDomain('dictionary');
    expect(cmp.visibleDomains).toEqual(['code', 'email', 'licenses']);
    cmp.toggleDomain('dictionary');
    expect(cmp.shownDomains).toEqual([]);
    await cmp.load(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(cmp.ids).toHaveLength(20);
  });
});

describe('compare view', () => {
  beforeEach(() => vi.stubGlobal('IntersectionObserver', EverythingInView));
  afterEach(() => vi.unstubAllGlobals());
  it('draws one chart per domain, the summary, trajectories and a diff of only the differences, and exports', async () => {
    const { wrapper } = await mountView(CompareView, api, { path: `/compare?ids=${a},${c}` });
    await until(() => wrapper.find('[data-testid="compare-chart"][data-ready="true"]').exists() && wrapper.find('[data-testid="config-diff"]').exists());
    for (const d of ['code', 'email', 'licenses', 'dictionary']) expect(wrapper.find(`[data-testid="compare-chart-${d}"] svg`).exists()).toBe(true);
    expect(wrapper.get('[data-testid="compare-chart"]').attributes('data-ready')).toBe('true');
    // The run's colour is the same in its chip, the summary and the mixture title.
    const chipColor = wrapper.get(`[data-testid="compare-run-${c}"] .swatch`).attributes('style');
    expect(chipColor).toContain(categoricalColor(1));
    expect(wrapper.get(`[data-testid="summary-row-${c}"] .swatch`).attributes('style')).toBe(chipColor);
    // Mixtures overlaid per source by default: one chart per source, one line per run in its colour.
    for (const src of ['code', 'email', 'licenses']) expect(wrapper.find(`[data-testid="compare-overlay-${src}"] svg`).exists()).toBe(true);
    const overlay = wrapper.get('[data-testid="compare-overlay-code"] svg').html();
    expect(overlay).toContain(categoricalColor(0));
    expect(overlay).toContain(categoricalColor(1));
    // The stacked chart per run, on request.
    expect(wrapper.find(`[data-testid="compare-mixture-${c}"]`).exists()).toBe(false);
    await wrapper.get('[data-testid="compare-mixture-view"] input[value="runs"]').setValue(true);
    await settle();
    expect(wrapper.get(`[data-testid="compare-mixture-${c}"] .swatch`).attributes('style')).toBe(chipColor);
    expect(wrapper.find(`[data-testid="compare-mixture-${c}"] svg`).exists()).toBe(true);
    // The outcome map places both runs, each in its colour, and a dot opens its run.
    await until(() => wrapper.find('[data-testid="compare-outcome-map"][data-ready="true"]').exists());
    expect(wrapper.find(`[data-testid="compare-outcome-map-dot-${a}"]`).exists()).toBe(true);
    expect(wrapper.get(`[data-testid="compare-outcome-map-dot-${c}"]`).text()).toContain('dynamics-lr');
    expect(wrapper.get('[data-testid="compare-outcome-map"] svg').html()).toContain(categoricalColor(1));
    expect(wrapper.get(`[data-testid="summary-row-${a}"]`).text()).toContain('+6.0%');
    // Only differences: the learning rate and the name, nothing that is equal.
    const rows = wrapper.findAll('[data-testid^="diff-row-"]').map((r) => r.attributes('data-testid'));
    expect(rows).toContain('diff-row-training.learningRate');
    expect(rows).not.toContain('diff-row-training.steps');
    expect(wrapper.get('[data-testid="diff-row-training.learningRate"]').text()).toContain('0.001');
    expect(wrapper.get('[data-testid="diff-row-training.learningRate"] .diff-changed').text()).toBe('0.001');

    const saved: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push(this.download);
    });
    await wrapper.get('[data-testid="compare-export-csv"]').trigger('click');
    await settle();
    await wrapper.get('[data-testid="compare-png-email"]').trigger('click');
    await wrapper.get('[data-testid="compare-outcome-map-png"]').trigger('click');
    await wrapper.get('[data-testid="compare-outcome-map-csv"]').trigger('click');
    await wrapper.get('[data-testid="compare-mixture-view"] input[value="overlay"]').setValue(true);
    await settle();
    await wrapper.get('[data-testid="compare-overlay-png-email"]').trigger('click');
    expect(saved[0]).toMatch(/\.csv$/);
    expect(saved[1]).toBe('compare-email.svg');
    expect(saved[2]).toBe(`outcome-map-${a}-${c}.svg`);
    expect(saved[3]).toBe(`outcome-map-${a}-${c}.csv`);
    expect(saved[4]).toBe('mixture-email.svg');

    // Switching the x axis to tokens redraws every chart.
    await wrapper.get('[data-testid="compare-x-axis"] input[value="tokens"]').setValue(true);
    await settle();
    expect(wrapper.get('[data-testid="compare-chart-code"]').text()).toContain('tokens');
    wrapper.unmount();
  });

  it('says how to start a comparison when no run is chosen', async () => {
    const ctx = storeContext(api);
    const { wrapper } = await mountView(CompareView, api, { pinia: ctx.pinia, path: '/compare' });
    expect(wrapper.get('[data-testid="compare-empty"]').text()).toContain('Select two or more runs');
    wrapper.unmount();
  });
});
