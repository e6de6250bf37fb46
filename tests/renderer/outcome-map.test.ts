// The outcome map (charts/options/outcome.ts, OutcomeMapChart) and a suite's runs together
// (lib/suites.ts, the runs table) against a real core whose store holds a baseline suite — runs
// stored with their suite's launch details, as `dynamics run --suite` stores them — and a run on
// its own: grouping, marks, the map's points, shading, markers, links, CSV, and a dot opening its run.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { outcomeCsv, outcomeOption, outcomePoints, OUTCOME_CSV_HEADER, paddedExtent, pointLabels, suiteLinks } from '../../src/renderer/src/charts/options/outcome';
import { groupBySuite, runKind } from '../../src/renderer/src/lib/suites';
import { useCompareStore } from '../../src/renderer/src/stores/compare';
import { useRunsStore } from '../../src/renderer/src/stores/runs';
import RunsView from '../../src/renderer/src/views/RunsView.vue';
import type { RunSummary } from '../../src/shared/runs';
import { EverythingInView } from './in-view';
import { seedRun } from './seed';
import { mountView, settle, storeContext, testCore, until } from './setup';

const { core, api } = testCore();
const ids = { lonely: 0, dyn: 0, m0: 0, m5: 0, m8: 0, live: 0 };
const KEY = 'suite-7f3a';

beforeAll(() => {
  const member = (index: number, label: string) => ({ key: KEY, index, size: 4, label });
  ids.lonely = seedRun(core, { name: 'lonely', gain: 0.001 });
  ids.dyn = seedRun(core, { name: 'tiny suite', gain: 0.003, suite: member(0, 'dynamics') });
  ids.m0 = seedRun(core, { name: 'tiny suite', strategy: 'fixed-uniform', gain: 0.004, violateFrom: 32, suite: member(1, 'uniform m=0') });
  ids.m5 = seedRun(core, { name: 'tiny suite', strategy: 'fixed-uniform', gain: 0.002, suite: member(2, 'uniform m=0.5') });
  ids.m8 = seedRun(core, { name: 'tiny suite', strategy: 'fixed-uniform', gain: 0.001, suite: member(3, 'uniform m=0.8') });
  ids.live = seedRun(core, { name: 'still training', live: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

async function listed(): Promise<RunSummary[]> {
  const ctx = storeContext(api);
  const runs = ctx.run(() => useRunsStore());
  await runs.load();
  return runs.rows;
}

describe('a suite\'s runs together', () => {
  it('carries each run\'s suite from the store, and groups a suite where its first run is listed', async () => {
    const rows = await listed();
    expect(rows.find((r) => r.id === ids.m5)!.suite).toEqual({ key: KEY, index: 2, size: 4, label: 'uniform m=0.5' });
    expect(rows.find((r) => r.id === ids.lonely)!.suite).toBeNull();
    const entries = groupBySuite(rows);
    // Newest first: the live run, then the suite (its newest member comes before `lonely`), then `lonely`.
    expect(entries.map((e) => (e.kind === 'run' ? e.run.id : e.group.key))).toEqual([ids.live, KEY, ids.lonely]);
    const g = entries[1]!.kind === 'suite' ? entries[1]!.group : null;
    expect(g!.members.map((m) => m.id)).toEqual([ids.dyn, ids.m0, ids.m5, ids.m8]);
    expect(g!.name).toBe('tiny suite');
    expect(g!.dynamicsId).toBe(ids.dyn);
    // uniform m=0 gains most but is infeasible: the best feasible fixed run is m=0.5.
    expect(g!.bestFixedId).toBe(ids.m5);
    // Sorted by a score, the suite's runs follow that order inside the group.
    const byGain = [...rows].sort((x, y) => (y.targetGain ?? -1) - (x.targetGain ?? -1));
    const sorted = groupBySuite(byGain, { listOrder: true }).find((e) => e.kind === 'suite');
    expect(sorted?.kind === 'suite' && sorted.group.members.map((m) => m.id)).toEqual([ids.dyn, ids.m5, ids.m8, ids.m0]);
    expect(runKind('uniform m=0.5')).toBe('fixed');
    expect(runKind('gradient-alignment')).toBe('adaptive');
  });

  it('shows the suite under one heading with its marks, folds it, selects it whole and compares it', async () => {
    vi.stubGlobal('IntersectionObserver', EverythingInView);
    const { wrapper, router } = await mountView(RunsView, api, { path: '/runs' });
    await until(() => wrapper.find(`[data-testid="suite-group-${KEY}"]`).exists());
    const head = wrapper.get(`[data-testid="suite-group-${KEY}"]`);
    expect(head.attributes('data-size')).toBe('4');
    expect(head.text()).toContain('Suite · tiny suite');
    expect(head.text()).toMatch(/best feasible fixed: uniform m=0\.5 \+4\.0%/);
    // Members right under the heading, in the suite's order, named by their label.
    const order = wrapper.findAll('tbody tr').map((tr) => tr.attributes('data-testid'));
    const at = order.indexOf(`suite-group-${KEY}`);
    expect(order.slice(at + 1, at + 5)).toEqual([ids.dyn, ids.m0, ids.m5, ids.m8].map((id) => `run-row-${id}`));
    expect(wrapper.get(`[data-testid="run-open-${ids.m0}"]`).text()).toBe(`#${ids.m0} uniform m=0`);
    expect(wrapper.get(`[data-testid="run-mark-${ids.dyn}"]`).text()).toBe('DynaMiCS');
    expect(wrapper.get(`[data-testid="run-mark-${ids.m5}"]`).text()).toBe('best fixed');
    expect(wrapper.findAll('[data-testid^="run-mark-"]')).toHaveLength(2);
    await wrapper.get(`[data-testid="suite-toggle-${KEY}"]`).trigger('click');
    expect(wrapper.find(`[data-testid="run-row-${ids.m5}"]`).exists()).toBe(false);
    await wrapper.get(`[data-testid="suite-toggle-${KEY}"]`).trigger('click');
    await wrapper.get(`[data-testid="suite-select-${KEY}"]`).setValue(true);
    expect(wrapper.get('[data-testid="runs-selection-count"]').text()).toBe('4 selected');
    expect(wrapper.get('[data-testid="runs-outcome-scope"]').text()).toContain('The 4 selected runs');
    await wrapper.get(`[data-testid="suite-compare-${KEY}"]`).trigger('click');
    await settle();
    expect(router.currentRoute.value.fullPath).toBe(`/compare?ids=${[ids.dyn, ids.m0, ids.m5, ids.m8].join(',')}`);
    wrapper.unmount();
  });

  it('maps every run shown, counts the ones not scored yet, and opens a run from its dot', async () => {
    vi.stubGlobal('IntersectionObserver', EverythingInView);
    const { wrapper, router } = await mountView(RunsView, api, { path: '/runs' });
    await until(() => wrapper.find('[data-testid="runs-outcome-map"][data-ready="true"]').exists());
    expect(wrapper.get('[data-testid="runs-outcome-scope"]').text()).toContain('Every run shown (6)');
    expect(wrapper.get('[data-testid="runs-outcome-map-unscored"]').text()).toContain('1 run not scored yet');
    const dots = wrapper.findAll('[data-testid^="runs-outcome-map-dot-"]');
    expect(dots).toHaveLength(5);
    const dot = wrapper.get(`[data-testid="runs-outcome-map-dot-${ids.m5}"]`);
    // The dot's place on the chart (the e2e test clicks the canvas there).
    expect(Number(dot.attributes('data-x'))).toBeGreaterThan(0);
    expect(Number(dot.attributes('data-y'))).toBeGreaterThan(0);
    expect(dot.text()).toContain('uniform m=0.5');
    await dot.trigger('click');
    await settle();
    expect(router.currentRoute.value.fullPath).toBe(`/runs/${ids.m5}`);
    wrapper.unmount();
  });
});

describe('the outcome map', () => {
  it('places scored runs by worst violation (x) and target gain (y), shades the feasible half and tells kinds apart', async () => {
    const rows = await listed();
    const { points, unscored } = outcomePoints(rows, (r) => (r.id === ids.dyn ? '#123456' : '#abcdef'));
    expect(unscored).toBe(1);
    const p = points.find((x) => x.runId === ids.m0)!;
    expect([p.maxViolation, p.targetGain]).toEqual([0.05, 0]);
    const opt = outcomeOption(points, { theme: 'light' }) as {
      series: { id: string; symbol?: string; data: { value: number[]; runId: number; itemStyle: { color: string } }[]; markArea?: { data: { coord: number[] }[][] } }[];
      xAxis: { min: number; max: number };
      tooltip: { formatter: (p: { data: { runId: number } }) => string };
    };
    const byId = new Map(opt.series.map((s) => [s.id, s]));
    expect(byId.get('runs-dynamics')!.symbol).toBe('diamond');
    expect(byId.get('runs-fixed')!.symbol).toBe('circle');
    expect(byId.get('runs-dynamics')!.data.map((d) => d.runId).sort()).toEqual([ids.lonely, ids.dyn].sort());
    expect(byId.get('runs-dynamics')!.data.find((d) => d.runId === ids.dyn)!.itemStyle.color).toBe('#123456');
    // The shaded region runs from the left edge to zero violation, over the whole height.
    const area = byId.get('feasible-region')!.markArea!.data[0]!;
    expect(area[0]!.coord[0]).toBe(opt.xAxis.min);
    expect(area[1]!.coord[0]).toBe(0);
    expect(opt.xAxis.min).toBeLessThan(-0.01);
    expect(opt.xAxis.max).toBeGreaterThan(0.05);
    // One link for the suite, through its four runs by violation.
    expect(byId.get(`suite-${KEY}`)!.data).toHaveLength(4);
    expect(suiteLinks(points)[0]!.path.map(([x]) => x)).toEqual([-0.01, -0.01, -0.01, 0.05]);
    expect(opt.tooltip.formatter({ data: { runId: ids.m5 } })).toMatch(/#\d+ tiny suite.*uniform m=0\.5 · fixed mixture.*target gain \+4\.0%.*worst violation -0\.0100 \(feasible\)/);
  });

  it('labels each dot with its run, and runs on one spot (a shared mixture trained once) together', async () => {
    const rows = await listed();
    const { points } = outcomePoints(rows, () => '#000');
    const labels = pointLabels(points);
    expect(labels.get(ids.m0)).toBe(`#${ids.m0}`);
    const twin = { ...points.find((p) => p.runId === ids.m0)!, runId: 999 };
    const shared = pointLabels([...points, twin]);
    expect(shared.get(ids.m0)).toBe(`#${ids.m0} #999`);
    expect(shared.get(999)).toBe('');
  });

  it('names a suite\'s runs in a comparison by their label in the suite', async () => {
    const ctx = storeContext(api);
    const cmp = ctx.run(() => useCompareStore());
    await cmp.load([ids.dyn, ids.m0]);
    expect([cmp.label(ids.dyn), cmp.label(ids.m0)]).toEqual([`#${ids.dyn} dynamics`, `#${ids.m0} uniform m=0`]);
    await cmp.load([ids.lonely, ids.dyn]);
    expect([cmp.label(ids.lonely), cmp.label(ids.dyn)]).toEqual([`#${ids.lonely} lonely`, `#${ids.dyn} tiny suite (dynamics)`]);
  });

  it('keeps zero in both axes with a margin', () => {
    const [lo, hi] = paddedExtent([0.2, 0.4]);
    expect(lo).toBeLessThan(0);
    expect(hi).toBeGreaterThan(0.4);
    const [a, b] = paddedExtent([]);
    expect(a).toBeLessThan(0);
    expect(b).toBeGreaterThan(0);
  });

  it('exports every run given as CSV, scored or not, quoting names that need it', async () => {
    const rows = await listed();
    const named = rows.map((r) => (r.id === ids.lonely ? { ...r, name: 'lonely, "quoted"' } : r));
    const lines = outcomeCsv(named).trimEnd().split('\n');
    expect(lines[0]).toBe(OUTCOME_CSV_HEADER);
    expect(lines).toHaveLength(rows.length + 1);
    expect(lines.find((l) => l.startsWith(`${ids.m5},`))).toBe(`${ids.m5},tiny suite,fixed-uniform,fixed,${KEY},uniform m=0.5,true,0.04,-0.01,1,64`);
    expect(lines.find((l) => l.startsWith(`${ids.lonely},`))).toMatch(/^\d+,"lonely, ""quoted""",dynamics,dynamics,,,true,/);
    expect(lines.find((l) => l.startsWith(`${ids.live},`))).toMatch(/,dynamics,dynamics,,,,,,,$/);
  });
});
