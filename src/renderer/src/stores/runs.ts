// The runs noun: the list of every run with its filters and sort order (applied by the core, so
// thousands of runs stay quick), the selection to compare, the controls that apply to a row, and
// CSV export. Status events refresh the list while it is shown.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { RunStatus, RunSummary } from '../../../shared/runs';
import type { RunSortKey } from '../../../shared/services/runs';
import { useApi } from '../api';
import { errorMessage } from '../format';

export type SortDirection = 'asc' | 'desc';

export interface RunFilter {
  search: string;
  statuses: RunStatus[];
  strategy: string;
  tag: string;
  /** feasible / infeasible / unscored; '' for all. Applied here: the core has no such filter. */
  feasibility: '' | 'feasible' | 'infeasible' | 'unscored';
}

export function emptyFilter(): RunFilter {
  return { search: '', statuses: [], strategy: '', tag: '', feasibility: '' };
}

export function matchesFeasibility(run: RunSummary, f: RunFilter['feasibility']): boolean {
  if (f === '') return true;
  if (f === 'unscored') return run.feasible === null;
  return run.feasible === (f === 'feasible');
}

export const useRunsStore = defineStore('runs', () => {
  const api = useApi();
  const rows = ref<RunSummary[]>([]);
  const total = ref(0);
  const tags = ref<string[]>([]);
  const strategies = ref<string[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);

  const filter = ref<RunFilter>(emptyFilter());
  const sortKey = ref<RunSortKey>('createdAt');
  const sortDirection = ref<SortDirection>('desc');
  const selected = ref<number[]>([]);
  const busy = ref<Record<number, boolean>>({});

  const visible = computed(() => rows.value.filter((r) => matchesFeasibility(r, filter.value.feasibility)));
  const selectedRuns = computed(() => selected.value.map((id) => rows.value.find((r) => r.id === id)).filter((r): r is RunSummary => !!r));
  const anyFilter = computed(() => {
    const f = filter.value;
    return f.search !== '' || f.statuses.length > 0 || f.strategy !== '' || f.tag !== '' || f.feasibility !== '';
  });

  let request = 0;
  async function load(): Promise<void> {
    const mine = ++request;
    loading.value = true;
    error.value = null;
    const f = filter.value;
    try {
      const page = await api.runs.list({
        sort: sortKey.value,
        direction: sortDirection.value,
        ...(f.search.trim() ? { search: f.search.trim() } : {}),
        ...(f.statuses.length ? { status: [...f.statuses] } : {}),
        ...(f.strategy ? { strategy: f.strategy } : {}),
        ...(f.tag ? { tag: f.tag } : {}),
      });
      if (mine !== request) return;
      rows.value = page.runs;
      total.value = page.total;
      tags.value = page.tags;
      strategies.value = page.strategies;
      loaded.value = true;
    } catch (err) {
      if (mine === request) error.value = errorMessage(err);
    } finally {
      if (mine === request) loading.value = false;
    }
  }

  /** Clicking a column: sort by it; clicking it again flips the direction. */
  async function sortBy(key: RunSortKey): Promise<void> {
    if (sortKey.value === key) sortDirection.value = sortDirection.value === 'asc' ? 'desc' : 'asc';
    else {
      sortKey.value = key;
      // Names and strategies read naturally A→Z; numbers and dates best-first / newest-first.
      sortDirection.value = key === 'name' || key === 'strategy' || key === 'status' || key === 'maxViolation' || key === 'costMultiple' || key === 'durationMs' ? 'asc' : 'desc';
    }
    await load();
  }

  async function setFilter(patch: Partial<RunFilter>): Promise<void> {
    filter.value = { ...filter.value, ...patch };
    await load();
  }
  async function clearFilter(): Promise<void> {
    filter.value = emptyFilter();
    await load();
  }

  function toggleSelected(id: number): void {
    const i = selected.value.indexOf(id);
    if (i >= 0) selected.value.splice(i, 1);
    else selected.value.push(id);
  }
  function clearSelection(): void {
    selected.value = [];
  }

  async function control(id: number, action: 'pause' | 'resume' | 'cancel' | 'delete'): Promise<void> {
    busy.value = { ...busy.value, [id]: true };
    error.value = null;
    try {
      if (action === 'delete') {
        await api.runs.delete({ id });
        selected.value = selected.value.filter((s) => s !== id);
      } else await api.runs[action]({ id });
      await load();
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      const { [id]: _, ...rest } = busy.value;
      busy.value = rest;
    }
  }

  async function setTags(id: number, tagList: string[]): Promise<void> {
    try {
      const updated = await api.runs.setTags({ id, tags: tagList });
      rows.value = rows.value.map((r) => (r.id === id ? updated : r));
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  /** Every stored point of the runs' curves as CSV; the view saves it as a file. */
  async function exportCsv(ids: readonly number[]): Promise<{ fileName: string; text: string } | null> {
    error.value = null;
    if (ids.length === 0) return null;
    try {
      return await api.runs.exportCsv({ ids: [...ids] });
    } catch (err) {
      error.value = errorMessage(err);
      return null;
    }
  }

  /** Refreshes the list when a run changes state (started, finished, deleted…); returns the unsubscribe. */
  function watchStatus(): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = api.on('run.status', () => {
      clearTimeout(timer);
      timer = setTimeout(() => void load(), 200);
    });
    return () => {
      clearTimeout(timer);
      off();
    };
  }

  return {
    rows, visible, total, tags, strategies, loaded, loading, error, filter, anyFilter, sortKey, sortDirection, selected, selectedRuns, busy,
    load, sortBy, setFilter, clearFilter, toggleSelected, clearSelection, control, setTags, exportCsv, watchStatus,
  };
});
