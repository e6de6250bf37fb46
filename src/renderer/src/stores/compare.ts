// The comparison noun: two or more runs side by side — their eval-loss curves per domain and their
// training loss (x = step, tokens or time; smoothing, the raw series behind only on request), their
// mixture trajectories (overlaid per source, or one stacked chart per run), the config fields that
// differ, and a summary table. A run's colour is its position here, in every chart.
// Curves are held in shallowRefs with markRaw'd arrays (never made reactive) and fetched
// downsampled by the core (COMPARE_POINTS).
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef } from 'vue';
import type { RunSummary } from '../../../shared/runs';
import type { ConfigDiffRow, CurveSeries, RunDecisions } from '../../../shared/services/runs';
import { useApi } from '../api';
import type { RunCurve, XAxisMode } from '../charts/options/compare';
import { overlaySources, type RunTrajectory } from '../charts/options/trajectories';
import { errorMessage } from '../format';
import { EVAL_LOSS, TRAIN_LOSS } from '../lib/metrics';

export const MAX_COMPARED = 20;

/**
 * Points per curve asked of the core, which downsamples with LTTB (shape-preserving). 20 runs ×
 * 10,000 points at full resolution is ~25 MB of JSON and seconds of work before anything is
 * drawn; 500 points is fewer than a chart card has pixels across (so nothing visible is lost),
 * and half the bytes of 1,000 (the largest share of the view's time, measured by bench:ui).
 * Smoothing then runs on these points, as TensorBoard smooths its sampled points; the CSV export
 * has every point.
 */
export const COMPARE_POINTS = 500;

export const useCompareStore = defineStore('compare', () => {
  const api = useApi();
  const ids = ref<number[]>([]);
  const runs = shallowRef<RunSummary[]>([]);
  const evalSeries = shallowRef<CurveSeries[]>([]);
  const trainSeries = shallowRef<CurveSeries[]>([]);
  const decisions = shallowRef<Record<number, RunDecisions>>({});
  const diff = shallowRef<ConfigDiffRow[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);

  const xAxis = ref<XAxisMode>('step');
  const smoothing = ref(0.6);
  /** The raw series drawn faintly behind the smoothed ones (off: half the lines to draw). */
  const showRaw = ref(false);
  /** Mixture trajectories: one chart per source with every run overlaid, or one stacked chart per run. */
  const mixtureView = ref<'overlay' | 'runs'>('overlay');
  /** Domains shown; empty = all. */
  const shownDomains = ref<string[]>([]);

  /** Domains in the runs' own order (targets first as configured), then any only some runs have. */
  const domains = computed(() => {
    const seen: string[] = [];
    for (const id of ids.value) for (const d of decisions.value[id]?.domains ?? []) if (!seen.includes(d.id)) seen.push(d.id);
    const present = new Set(evalSeries.value.map((s) => s.domain));
    const ordered = seen.filter((d) => present.has(d));
    for (const s of evalSeries.value) if (!ordered.includes(s.domain)) ordered.push(s.domain);
    return ordered;
  });
  const visibleDomains = computed(() => (shownDomains.value.length ? domains.value.filter((d) => shownDomains.value.includes(d)) : domains.value));

  function colorIndex(runId: number): number {
    return Math.max(0, ids.value.indexOf(runId));
  }
  /** Runs of one suite share their name: there they are told apart by their label in the suite. */
  const sameName = computed(() => runs.value.length > 1 && runs.value.every((r) => r.name === runs.value[0]!.name));
  function label(runId: number): string {
    const r = runs.value.find((x) => x.id === runId);
    if (!r) return `#${runId}`;
    if (r.suite && sameName.value) return `#${r.id} ${r.suite.label}`;
    return r.suite ? `#${r.id} ${r.name} (${r.suite.label})` : `#${r.id} ${r.name}`;
  }
  function referenceOf(runId: number, domain: string): number | null {
    const d = decisions.value[runId];
    if (!d?.references) return null;
    const i = d.domains.findIndex((x) => x.id === domain);
    return i >= 0 ? (d.references[i] ?? null) : null;
  }
  function toCurves(series: readonly CurveSeries[], domain: string | null): RunCurve[] {
    return series
      .filter((s) => domain === null || s.domain === domain)
      .map((s) => ({
        runId: s.runId,
        label: label(s.runId),
        colorIndex: colorIndex(s.runId),
        steps: s.steps,
        values: s.values,
        tokens: s.tokens,
        wallMs: s.wallMs,
        reference: domain === null ? null : referenceOf(s.runId, domain),
      }))
      .sort((a, b) => a.colorIndex - b.colorIndex);
  }
  /**
   * One list of curves per domain, built once per load: the charts redraw only when their curves
   * really change, not whenever the view re-renders (a new array each time would redraw all).
   */
  const curvesByDomain = computed(() => {
    const out = new Map<string, RunCurve[]>();
    for (const d of domains.value) out.set(d, toCurves(evalSeries.value, d));
    return out;
  });
  function curvesFor(domain: string): RunCurve[] {
    return curvesByDomain.value.get(domain) ?? [];
  }
  const trainCurves = computed(() => toCurves(trainSeries.value, null));

  /** Each run's mixture decisions with its timeline (from the training-loss curve) for the overlay. */
  const trajectories = computed(() => {
    const out: RunTrajectory[] = [];
    for (const id of ids.value) {
      const d = decisions.value[id];
      if (!d || d.decisions.length === 0) continue;
      const run = runs.value.find((r) => r.id === id);
      const train = trainSeries.value.find((s) => s.runId === id);
      out.push({
        runId: id,
        label: label(id),
        colorIndex: colorIndex(id),
        sources: d.sources,
        decisions: d.decisions.map((x) => ({ step: x.step, weights: x.weights })),
        // A run still training (or stopped early) ends where it is; the axis spans the planned length.
        endStep: run?.lastStep ?? run?.totalSteps ?? Math.max(0, ...d.decisions.map((x) => x.step + x.horizon)),
        totalSteps: run?.totalSteps ?? null,
        timeline: train ? { steps: train.steps, tokens: train.tokens, wallMs: train.wallMs } : null,
      });
    }
    return out;
  });
  const sources = computed(() => overlaySources(trajectories.value));
  const downsampled = computed(() => [...evalSeries.value, ...trainSeries.value].some((s) => s.downsampled));

  function freeze(series: CurveSeries[]): CurveSeries[] {
    return series.map((s) => markRaw(s));
  }

  let request = 0;
  async function load(runIds: readonly number[]): Promise<void> {
    const mine = ++request;
    ids.value = [...new Set(runIds)].slice(0, MAX_COMPARED);
    error.value = null;
    if (ids.value.length === 0) {
      runs.value = [];
      evalSeries.value = [];
      trainSeries.value = [];
      decisions.value = {};
      diff.value = [];
      return;
    }
    loading.value = true;
    try {
      const list = [...ids.value];
      // Curves and decisions together (the decisions carry the references drawn on the curves and
      // the domains' order, so the charts draw once); the config diff, further down, after.
      const [evalCmp, trainCmp, decs] = await Promise.all([
        api.runs.compare({ ids: list, kind: EVAL_LOSS, maxPoints: COMPARE_POINTS }),
        api.runs.compare({ ids: list, kind: TRAIN_LOSS, maxPoints: COMPARE_POINTS }),
        api.runs.decisionsOf({ ids: list }),
      ]);
      if (mine !== request) return;
      const byRun: Record<number, RunDecisions> = {};
      for (const d of decs) byRun[d.runId] = markRaw(d);
      decisions.value = byRun;
      runs.value = list.map((id) => evalCmp.runs.find((r) => r.id === id)).filter((r): r is RunSummary => !!r);
      evalSeries.value = freeze(evalCmp.series);
      trainSeries.value = freeze(trainCmp.series.filter((s) => s.domain === ''));
      loading.value = false;
      const diffRows = list.length >= 2 ? await api.runs.configDiff({ ids: list }) : [];
      if (mine !== request) return;
      diff.value = diffRows;
    } catch (err) {
      if (mine === request) error.value = errorMessage(err);
    } finally {
      if (mine === request) loading.value = false;
    }
  }

  function toggleDomain(domain: string): void {
    const all = shownDomains.value.length ? [...shownDomains.value] : [...domains.value];
    const i = all.indexOf(domain);
    if (i >= 0) all.splice(i, 1);
    else all.push(domain);
    shownDomains.value = all.length === domains.value.length ? [] : all;
  }

  async function exportCsv(): Promise<{ fileName: string; text: string } | null> {
    error.value = null;
    try {
      return await api.runs.exportCsv({ ids: [...ids.value] });
    } catch (err) {
      error.value = errorMessage(err);
      return null;
    }
  }

  return {
    ids, runs, evalSeries, trainSeries, decisions, diff, loading, error, xAxis, smoothing, showRaw, mixtureView, shownDomains, domains, visibleDomains,
    trainCurves, trajectories, sources, downsampled, colorIndex, label, curvesFor, referenceOf, load, toggleDomain, exportCsv,
  };
});
