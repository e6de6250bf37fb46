// The what-if noun: a recorded decision of a past run, re-solved with edited roles, references or
// margin by the same solver the run used (mixture.solve), shown beside what the run recorded. The
// model is the one the decision used (calibrated slopes, chance constraints, trust region, fallback,
// as the run's controller had them), or the same with the slopes as measured.
// Every edit re-solves at once; a newer edit's answer always wins over an older one's.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { DomainRole, MixtureDecision, MixtureProblem, SolverKind } from '../../../shared/mixture';
import type { RunSummary } from '../../../shared/runs';
import type { WhatIfProblem } from '../../../shared/services/mixture';
import type { RunDecisions } from '../../../shared/services/runs';
import { useApi } from '../api';
import { errorMessage } from '../format';

/** Strategies whose decisions have slope matrices (fixed mixtures have nothing to re-solve). */
export const PROBING_STRATEGIES = ['dynamics', 'gradient-alignment'];

/**
 * The reference a domain gets when the user makes it a constraint: the base model's loss (METHOD's
 * default reference), else its loss at the decision.
 */
export function defaultReference(p: WhatIfProblem, i: number): number | null {
  return p.problem.references[i] ?? p.baseLosses?.[i] ?? p.problem.losses[i] ?? null;
}

/** Which slopes a re-solve uses: those the decision solved with (calibrated when it was), or as measured. */
export type WhatIfModelChoice = 'calibrated' | 'uncalibrated';

/** The recorded problem (in the model chosen) with the user's edits applied (references kept only on constraints). */
export function editedProblem(p: WhatIfProblem, roles: readonly DomainRole[], references: readonly (number | null)[], margin: number, model: WhatIfModelChoice = 'calibrated'): MixtureProblem {
  const base = model === 'uncalibrated' && p.uncalibrated ? p.uncalibrated : p.problem;
  return {
    ...base,
    roles: [...roles],
    references: roles.map((r, i) => (r === 'constraint' ? (references[i] ?? defaultReference(p, i)) : null)),
    margin,
  };
}

export const useWhatIfStore = defineStore('whatIf', () => {
  const api = useApi();
  const candidates = shallowRef<RunSummary[]>([]);
  const runId = ref<number | null>(null);
  const runDecisions = shallowRef<RunDecisions | null>(null);
  const step = ref<number | null>(null);
  const recorded = shallowRef<WhatIfProblem | null>(null);

  const roles = ref<DomainRole[]>([]);
  const references = ref<(number | null)[]>([]);
  const margin = ref(0);
  const solver = ref<SolverKind>('lp');
  const model = ref<WhatIfModelChoice>('calibrated');

  const result = shallowRef<MixtureDecision | null>(null);
  const solving = ref(false);
  const error = ref<string | null>(null);
  const loading = ref(false);

  const decisionSteps = computed(() => (runDecisions.value?.decisions ?? []).filter((d) => d.slopes !== null).map((d) => d.step));
  const edited = computed(() => {
    const r = recorded.value;
    if (!r) return false;
    return (
      model.value !== 'calibrated' ||
      margin.value !== (r.problem.margin ?? 0) ||
      solver.value !== r.solver ||
      roles.value.some((x, i) => x !== r.problem.roles[i]) ||
      references.value.some((x, i) => x !== r.problem.references[i])
    );
  });

  async function loadCandidates(): Promise<void> {
    try {
      const page = await api.runs.list({ sort: 'createdAt', direction: 'desc' });
      candidates.value = page.runs.filter((r) => PROBING_STRATEGIES.includes(r.strategy));
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  async function selectRun(id: number, preferredStep?: number): Promise<void> {
    runId.value = id;
    error.value = null;
    loading.value = true;
    recorded.value = null;
    result.value = null;
    try {
      runDecisions.value = await api.runs.decisions({ id });
      const steps = decisionSteps.value;
      const s = preferredStep !== undefined && steps.includes(preferredStep) ? preferredStep : steps[0];
      if (s === undefined) {
        step.value = null;
        error.value = 'this run recorded no decision with a slope matrix (fixed mixtures have nothing to re-solve)';
        return;
      }
      await selectStep(s);
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loading.value = false;
    }
  }

  async function selectStep(s: number): Promise<void> {
    if (runId.value === null) return;
    step.value = s;
    error.value = null;
    try {
      const p = await api.mixture.problemOf({ runId: runId.value, step: s });
      recorded.value = p;
      resetEdits();
      await solve();
    } catch (err) {
      recorded.value = null;
      error.value = errorMessage(err);
    }
  }

  function resetEdits(): void {
    const p = recorded.value;
    if (!p) return;
    roles.value = [...p.problem.roles];
    references.value = [...p.problem.references];
    margin.value = p.problem.margin ?? 0;
    solver.value = p.solver;
    model.value = 'calibrated';
  }

  let request = 0;
  async function solve(): Promise<void> {
    const p = recorded.value;
    if (!p) return;
    const mine = ++request;
    solving.value = true;
    try {
      const problem = editedProblem(p, roles.value, references.value, Number.isFinite(margin.value) ? Math.max(0, margin.value) : 0, model.value);
      const u = problem.uncertainty;
      const answer = await api.mixture.solve({
        problem: {
          slopes: problem.slopes.map((row) => [...row]),
          losses: [...problem.losses],
          references: [...problem.references],
          roles: [...problem.roles],
          horizon: problem.horizon,
          margin: problem.margin ?? 0,
          ...(problem.extraMargins ? { extraMargins: [...problem.extraMargins] } : {}),
          ...(u ? { uncertainty: { k: u.k, changeStdErrors: [...u.changeStdErrors], slopeStdErrors: u.slopeStdErrors.map((row) => [...row]) } } : {}),
          // The trust region is a constraint of the linear program (the loop gives the penalty grid none).
          ...(problem.trustRegion && solver.value === 'lp' ? { trustRegion: { center: [...problem.trustRegion.center], radius: problem.trustRegion.radius } } : {}),
          ...(problem.fallbackSlack !== undefined ? { fallbackSlack: problem.fallbackSlack } : {}),
        },
        solver: solver.value,
      });
      if (mine !== request) return;
      result.value = answer;
      error.value = null;
    } catch (err) {
      if (mine === request) {
        result.value = null;
        error.value = errorMessage(err);
      }
    } finally {
      if (mine === request) solving.value = false;
    }
  }

  async function setRole(i: number, role: DomainRole): Promise<void> {
    roles.value[i] = role;
    if (role === 'constraint' && references.value[i] == null && recorded.value) references.value[i] = defaultReference(recorded.value, i);
    await solve();
  }
  async function setReference(i: number, value: number | null): Promise<void> {
    references.value[i] = value;
    await solve();
  }
  async function setMargin(value: number): Promise<void> {
    margin.value = value;
    await solve();
  }
  async function setSolver(value: SolverKind): Promise<void> {
    solver.value = value;
    await solve();
  }
  async function setModel(value: WhatIfModelChoice): Promise<void> {
    model.value = value;
    await solve();
  }
  async function reset(): Promise<void> {
    resetEdits();
    await solve();
  }

  return {
    candidates, runId, runDecisions, step, recorded, roles, references, margin, solver, model, result, solving, error, loading, decisionSteps, edited,
    loadCandidates, selectRun, selectStep, solve, setRole, setReference, setMargin, setSolver, setModel, reset,
  };
});
