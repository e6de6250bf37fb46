// The run noun: one run as the live view shows it — details and controls, progress (phase, ETA,
// tokens/s, device), per-domain eval curves, decisions (slopes, mixture, explanation) and their
// measured outcomes (the calibration chart) — kept up to date from the core's run.* events while the view is open. Curves live in shallowRefs: they
// are replaced, never deeply observed.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { DatasetUse } from '../../../shared/datasets';
import type { RunProgressEvent } from '../../../shared/events';
import type { Decision, DecisionOutcome } from '../../../shared/runs';
import type { RunDecisions, RunDetails } from '../../../shared/services/runs';
import { useApi } from '../api';
import { errorMessage } from '../format';
import { explainDecision, type EvalPoint, type Explanation } from '../lib/explain';
import { EVAL_LOSS, TRAIN_LOSS } from '../lib/metrics';

export interface Curve {
  steps: number[];
  values: number[];
}

/** Inserts (step, value) keeping steps sorted and unique (a resume may resend a step). */
export function upsertPoint(c: Curve, step: number, value: number): Curve {
  const steps = c.steps.slice();
  const values = c.values.slice();
  let i = steps.length;
  while (i > 0 && steps[i - 1]! > step) i--;
  if (i > 0 && steps[i - 1] === step) values[i - 1] = value;
  else {
    steps.splice(i, 0, step);
    values.splice(i, 0, value);
  }
  return { steps, values };
}

export const useRunStore = defineStore('run', () => {
  const api = useApi();
  const runId = ref<number | null>(null);
  const details = shallowRef<RunDetails | null>(null);
  const decisionsInfo = shallowRef<RunDecisions | null>(null);
  const evalCurves = shallowRef<Record<string, Curve>>({});
  const trainLoss = shallowRef<Curve>({ steps: [], values: [] });
  const progress = shallowRef<RunProgressEvent | null>(null);
  /** What the run does with each dataset split (its log's data events at step 0): rows, examples truncated, tokens lost. */
  const data = shallowRef<DatasetUse[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const controlBusy = ref(false);
  const selectedDecisionStep = ref<number | null>(null);

  const run = computed(() => details.value?.run ?? null);
  const decisions = computed<Decision[]>(() => decisionsInfo.value?.decisions ?? []);
  const outcomes = computed<DecisionOutcome[]>(() => decisionsInfo.value?.outcomes ?? []);
  const sources = computed(() => decisionsInfo.value?.sources ?? run.value?.sources ?? []);
  const domains = computed(() => decisionsInfo.value?.domains ?? run.value?.domains ?? []);
  const references = computed<(number | null)[] | null>(() => decisionsInfo.value?.references ?? details.value?.references?.references ?? null);
  const baseLosses = computed(() => details.value?.references?.baseLosses ?? null);
  const selectedDecision = computed(() => {
    const list = decisions.value;
    if (list.length === 0) return null;
    return list.find((d) => d.step === selectedDecisionStep.value) ?? list[list.length - 1]!;
  });
  const evalPoints = computed<EvalPoint[]>(() => {
    const byStep = new Map<number, Record<string, number>>();
    for (const [domain, c] of Object.entries(evalCurves.value)) {
      c.steps.forEach((s, k) => {
        const row = byStep.get(s) ?? {};
        row[domain] = c.values[k]!;
        byStep.set(s, row);
      });
    }
    return [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([step, losses]) => ({ step, losses }));
  });
  const explanation = computed<Explanation | null>(() => {
    const d = selectedDecision.value;
    if (!d) return null;
    return explainDecision(d, domains.value, references.value, evalPoints.value, sources.value);
  });
  const isLive = computed(() => run.value?.status === 'running' || run.value?.status === 'created');
  /** Where the curves end: the step reached so far, else the run's last step. */
  const currentStep = computed(() => progress.value?.step ?? run.value?.lastStep ?? 0);

  let loadRequest = 0;
  async function load(id: number): Promise<void> {
    const mine = ++loadRequest;
    runId.value = id;
    loading.value = true;
    error.value = null;
    if (details.value?.run.id !== id) {
      details.value = null;
      decisionsInfo.value = null;
      evalCurves.value = {};
      trainLoss.value = { steps: [], values: [] };
      progress.value = null;
      data.value = [];
      selectedDecisionStep.value = null;
    }
    try {
      const [d, dec, curves, events] = await Promise.all([
        api.runs.get({ id }),
        api.runs.decisions({ id }),
        api.runs.curves({ id, maxPoints: 0 }),
        // The data events are among the first a run writes.
        api.runs.events({ id, limit: 1000 }),
      ]);
      if (mine !== loadRequest) return;
      details.value = d;
      decisionsInfo.value = dec;
      data.value = events.flatMap((e) => {
        const x = e.data as (DatasetUse & { kind?: unknown }) | null;
        if (x?.kind !== 'data') return [];
        const { kind: _kind, ...use } = x;
        return [use];
      });
      const next: Record<string, Curve> = {};
      for (const s of curves.series) {
        if (s.kind === EVAL_LOSS) next[s.domain] = { steps: s.steps, values: s.values };
        else if (s.kind === TRAIN_LOSS) trainLoss.value = { steps: s.steps, values: s.values };
      }
      evalCurves.value = next;
    } catch (err) {
      if (mine === loadRequest) error.value = errorMessage(err);
    } finally {
      if (mine === loadRequest) loading.value = false;
    }
  }

  async function refreshDetails(): Promise<void> {
    if (runId.value === null) return;
    try {
      details.value = await api.runs.get({ id: runId.value });
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  /** Follows the run's events; call the returned function when the view closes. */
  function follow(): () => void {
    const mine = (id: number) => id === runId.value;
    const offs = [
      api.on('run.progress', (p) => {
        if (mine(p.runId)) progress.value = p;
      }),
      api.on('run.status', (p) => {
        // A finished run has measured its last horizons: read the outcomes with the details.
        if (mine(p.runId)) void (p.status === 'running' ? refreshDetails() : Promise.all([refreshDetails(), refreshOutcomes()]));
      }),
      api.on('run.decision', (p) => {
        if (!mine(p.runId) || !decisionsInfo.value) return;
        const rest = decisionsInfo.value.decisions.filter((d) => d.step !== p.decision.step);
        decisionsInfo.value = { ...decisionsInfo.value, decisions: [...rest, p.decision].sort((a, b) => a.step - b.step) };
        // The previous decision's outcome was measured (and stored) before this decision was made.
        void refreshOutcomes();
      }),
      api.on('run.eval', (p) => {
        if (!mine(p.runId)) return;
        const next = { ...evalCurves.value };
        for (const [domain, loss] of Object.entries(p.losses)) next[domain] = upsertPoint(next[domain] ?? { steps: [], values: [] }, p.step, loss);
        evalCurves.value = next;
        // References are measured at step 0: fetch them once they exist.
        if (p.step === 0 || !details.value?.references) void refreshAll();
      }),
      api.on('run.metrics', (p) => {
        if (!mine(p.runId)) return;
        let train = trainLoss.value;
        for (const pt of p.points) if (pt.kind === TRAIN_LOSS && pt.domain === '') train = upsertPoint(train, pt.step, pt.value);
        if (train !== trainLoss.value) trainLoss.value = train;
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  async function refreshAll(): Promise<void> {
    if (runId.value === null) return;
    try {
      const [d, dec] = await Promise.all([api.runs.get({ id: runId.value }), api.runs.decisions({ id: runId.value })]);
      details.value = d;
      decisionsInfo.value = dec;
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  /** Re-reads the measured outcomes only (the decisions themselves arrive as events). */
  async function refreshOutcomes(): Promise<void> {
    const id = runId.value;
    if (id === null) return;
    try {
      const fresh = await api.runs.decisions({ id });
      if (id === runId.value && decisionsInfo.value) decisionsInfo.value = { ...decisionsInfo.value, outcomes: fresh.outcomes };
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  async function control(action: 'pause' | 'resume' | 'cancel'): Promise<void> {
    if (runId.value === null) return;
    controlBusy.value = true;
    error.value = null;
    try {
      await api.runs[action]({ id: runId.value });
      await refreshDetails();
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      controlBusy.value = false;
    }
  }

  function selectDecision(step: number): void {
    selectedDecisionStep.value = step;
  }

  return {
    runId, details, decisionsInfo, evalCurves, trainLoss, progress, data, loading, error, controlBusy, selectedDecisionStep,
    run, decisions, outcomes, sources, domains, references, baseLosses, selectedDecision, evalPoints, explanation, isLive, currentStep,
    load, follow, refreshDetails, refreshOutcomes, refreshAll, control, selectDecision,
  };
});
