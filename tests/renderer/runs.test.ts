// The runs store and table against a real core whose store holds seeded runs: sorting and
// filtering by the core, feasibility filtering, selection, controls and CSV export.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { useRunsStore } from '../../src/renderer/src/stores/runs';
import RunsView from '../../src/renderer/src/views/RunsView.vue';
import { seedRun } from './seed';
import { mountView, settle, storeContext, testCore } from './setup';

const { core, api } = testCore();
const ids: Record<string, number> = {};

beforeAll(() => {
  ids.a = seedRun(core, { name: 'dynamics-a', gain: 0.003, tags: ['sweep'] });
  ids.b = seedRun(core, { name: 'uniform-b', strategy: 'fixed-uniform', gain: 0.001, violateFrom: 32 });
  ids.c = seedRun(core, { name: 'dynamics-c', gain: 0.002, learningRate: 0.001 });
  ids.live = seedRun(core, { name: 'live-d', live: true });
});
afterEach(() => vi.restoreAllMocks());

describe('runs store', () => {
  it('lists every run and sorts by a column through the core, flipping on a second click', async () => {
    const ctx = storeContext(api);
    const runs = ctx.run(() => useRunsStore());
    await runs.load();
    expect(runs.error).toBeNull();
    expect(runs.total).toBe(4);
    await runs.sortBy('targetGain');
    expect(runs.sortDirection).toBe('desc');
    expect(runs.rows.slice(0, 3).map((r) => r.name)).toEqual(['dynamics-a', 'dynamics-c', 'uniform-b']);
    const gains = runs.rows.map((r) => r.targetGain).filter((g): g is number => g !== null);
    expect(gains).toEqual([...gains].sort((x, y) => y - x));
    await runs.sortBy('targetGain');
    expect(runs.sortDirection).toBe('asc');
    const asc = runs.rows.map((r) => r.targetGain).filter((g): g is number => g !== null);
    expect(asc).toEqual([...asc].sort((x, y) => x - y));
    await runs.sortBy('name');
    expect(runs.rows.map((r) => r.name)).toEqual(['dynamics-a', 'dynamics-c', 'live-d', 'uniform-b']);
  });

  it('filters by name, status, strategy and tag in the core, and by feasibility here', async () => {
    const ctx = storeContext(api);
    const runs = ctx.run(() => useRunsStore());
    await runs.setFilter({ search: 'DYNAMICS' });
    expect(runs.visible.map((r) => r.name).sort()).toEqual(['dynamics-a', 'dynamics-c']);
    await runs.setFilter({ search: '', statuses: ['running'] });
    expect(runs.visible.map((r) => r.name)).toEqual(['live-d']);
    await runs.setFilter({ statuses: [], strategy: 'fixed-uniform' });
    expect(runs.visible.map((r) => r.name)).toEqual(['uniform-b']);
    expect(runs.strategies).toEqual(expect.arrayContaining(['dynamics', 'fixed-uniform']));
    await runs.setFilter({ strategy: '', tag: 'sweep' });
    expect(runs.visible.map((r) => r.name)).toEqual(['dynamics-a']);
    await runs.setFilter({ tag: '', feasibility: 'infeasible' });
    expect(runs.visible.map((r) => r.name)).toEqual(['uniform-b']);
    await runs.setFilter({ feasibility: 'unscored' });
    expect(runs.visible.map((r) => r.name)).toEqual(['live-d']);
    expect(runs.anyFilter).toBe(true);
    await runs.clearFilter();
    expect(runs.visible).toHaveLength(4);
  });

  it('exports every stored point of the chosen runs as CSV', async () => {
    const ctx = storeContext(api);
    const runs = ctx.run(() => useRunsStore());
    const file = await runs.exportCsv([ids.a!, ids.b!]);
    expect(file?.fileName).toMatch(/\.csv$/);
    const lines = file!.text.trim().split('\n');
    expect(lines[0]).toBe('run_id,run_name,strategy,step,tokens,wall_ms,kind,domain,value');
    expect(lines.some((l) => l.startsWith(`${ids.a},dynamics-a,dynamics,16,`) && l.includes(',eval_loss,code,'))).toBe(true);
    expect(lines.some((l) => l.startsWith(`${ids.b},`))).toBe(true);
    expect(lines.some((l) => l.startsWith(`${ids.c},`))).toBe(false);
  });
});

describe('runs view', () => {
  it('shows the table, sorts when a header is clicked, filters, selects and exports CSV', async () => {
    const { wrapper } = await mountView(RunsView, api);
    const names = () => wrapper.findAll('[data-testid^="run-row-"]').map((r) => r.get('[data-testid^="run-open-"]').text());
    expect(names()).toHaveLength(4);
    await wrapper.get('[data-testid="runs-sort-name"]').trigger('click');
    await settle();
    expect(names()).toEqual([`#${ids.a} dynamics-a`, `#${ids.c} dynamics-c`, `#${ids.live} live-d`, `#${ids.b} uniform-b`]);
    expect(wrapper.get('[data-testid="runs-sort-name"]').element.closest('th')!.getAttribute('aria-sort')).toBe('ascending');
    await wrapper.get('[data-testid="runs-sort-name"]').trigger('click');
    await settle();
    expect(names()[0]).toBe(`#${ids.b} uniform-b`);

    const row = wrapper.get(`[data-testid="run-row-${ids.b}"]`);
    expect(row.text()).toContain('infeasible');
    expect(row.text()).toContain('fixed-uniform');

    await wrapper.get('[data-testid="runs-search"]').setValue('uniform');
    await settle();
    expect(names()).toEqual([`#${ids.b} uniform-b`]);
    await wrapper.get('[data-testid="runs-clear-filters"]').trigger('click');
    await settle();
    await wrapper.get('[data-testid="runs-filter-feasibility"]').setValue('feasible');
    await settle();
    expect(names().sort()).toEqual([`#${ids.a} dynamics-a`, `#${ids.c} dynamics-c`]);

    // Space on a row selects it; two selected runs enable Compare.
    await wrapper.get(`[data-testid="run-row-${ids.a}"]`).trigger('keydown', { key: ' ' });
    await wrapper.get(`[data-testid="run-select-${ids.c}"]`).setValue(true);
    expect(wrapper.get('[data-testid="runs-selection-count"]').text()).toBe('2 selected');
    expect(wrapper.get('[data-testid="runs-compare"]').attributes('disabled')).toBeUndefined();

    const saved: { download: string; href: string }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push({ download: this.download, href: this.href });
    });
    await wrapper.get('[data-testid="export-csv"]').trigger('click');
    await settle();
    expect(saved).toHaveLength(1);
    expect(saved[0]!.download).toMatch(/\.csv$/);
    expect(saved[0]!.href).toMatch(/^blob:/);
    wrapper.unmount();
  });

  it('says what to do when there are no runs at all', async () => {
    const empty = testCore();
    const { wrapper } = await mountView(RunsView, empty.api);
    expect(wrapper.get('[data-testid="runs-empty"]').text()).toContain('No runs yet');
    expect(wrapper.find('[data-testid="runs-table"]').exists()).toBe(false);
    expect(wrapper.text()).toContain('Set up an experiment');
    wrapper.unmount();
  });
});
