// The experiment noun: the run configuration being edited in the setup form, its validation (every
// problem on its field, from experiments.validate), the schedule and cost it implies, saving and
// loading it as a JSON/YAML file, and starting it (one run, or the baseline suite).
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { RunConfig } from '../../../shared/run-config';
import type { ConfigFormat, ConfigPlan, FieldProblem } from '../../../shared/services/experiments';
import { useApi } from '../api';
import { errorMessage } from '../format';

export type ReferenceMode = 'base' | 'absolute' | 'relative';
export type DomainDraft = RunConfig['domains'][number];
export type SourceDraft = RunConfig['sources'][number];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `base` with `over` laid on top (arrays and scalars of `over` win): a broken file still fills a form. */
export function overlay<T>(base: T, over: unknown): T {
  if (!isObject(base) || !isObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? overlay((base as Record<string, unknown>)[k], v) : v;
  return out as T;
}

/** Problems whose field is `field` exactly (e.g. "training.steps", "domains[1].reference"). */
export function problemsAt(problems: readonly FieldProblem[], field: string, severity: FieldProblem['severity'] = 'error'): string[] {
  return problems.filter((p) => p.field === field && p.severity === severity).map((p) => p.message);
}

/** Problems at `prefix` or below it ("domains[1]" covers "domains[1].reference.loss"). */
export function problemsUnder(problems: readonly FieldProblem[], prefix: string): FieldProblem[] {
  return problems.filter((p) => p.field === prefix || p.field.startsWith(`${prefix}.`) || p.field.startsWith(`${prefix}[`));
}

/** A plain deep copy of (possibly reactive) JSON data: what crosses to the core anyway. */
function plainCopy<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** A fresh id like "source-3" not used yet. */
function freshId(used: readonly string[], stem: string): string {
  const clean = stem.replace(/^bundled:/, '').replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 56) || 'item';
  if (!used.includes(clean)) return clean;
  for (let k = 2; ; k++) if (!used.includes(`${clean}-${k}`)) return `${clean}-${k}`;
}

export const useExperimentStore = defineStore('experiment', () => {
  const api = useApi();
  const draft = ref<RunConfig | null>(null);
  const defaults = ref<RunConfig | null>(null);
  const notes = ref<string[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);

  const problems = ref<FieldProblem[]>([]);
  const valid = ref(false);
  const validating = ref(false);
  const validatedOnce = ref(false);
  const plan = ref<ConfigPlan | null>(null);

  const suite = ref(false);
  const starting = ref(false);
  const startError = ref<string | null>(null);
  const fileError = ref<string | null>(null);
  const fileNotice = ref<string | null>(null);

  const errors = computed(() => problems.value.filter((p) => p.severity === 'error'));
  const warnings = computed(() => problems.value.filter((p) => p.severity === 'warning'));

  async function loadDefaults(): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      const d = await api.experiments.defaults();
      defaults.value = plainCopy(d.config);
      notes.value = d.notes;
      if (draft.value === null) draft.value = plainCopy(d.config);
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loading.value = false;
    }
  }

  function resetToDefaults(): void {
    if (defaults.value) draft.value = plainCopy(defaults.value);
  }

  let validateRequest = 0;
  async function validate(): Promise<boolean> {
    if (!draft.value) return false;
    const mine = ++validateRequest;
    validating.value = true;
    // The draft is reactive: send a plain copy (it crosses IPC or HTTP as JSON anyway).
    const config: unknown = plainCopy(draft.value);
    try {
      const v = await api.experiments.validate({ config });
      if (mine !== validateRequest) return v.ok;
      problems.value = v.problems;
      valid.value = v.ok;
      validatedOnce.value = true;
      plan.value = v.ok ? await api.experiments.plan({ config }).catch(() => null) : null;
      return v.ok;
    } catch (err) {
      if (mine === validateRequest) {
        problems.value = [{ path: [], field: '', message: errorMessage(err), severity: 'error' }];
        valid.value = false;
      }
      return false;
    } finally {
      if (mine === validateRequest) validating.value = false;
    }
  }

  function errorsAt(field: string): string[] {
    return problemsAt(problems.value, field, 'error');
  }
  function warningsAt(field: string): string[] {
    return problemsAt(problems.value, field, 'warning');
  }

  // ------------------------------------------------------------ editing helpers

  function addSource(dataset: string): void {
    if (!draft.value) return;
    draft.value.sources.push({ id: freshId(draft.value.sources.map((s) => s.id), dataset), dataset });
  }
  function removeSource(index: number): void {
    draft.value?.sources.splice(index, 1);
  }
  function addDomain(dataset: string, role: DomainDraft['role'] = 'constraint'): void {
    if (!draft.value) return;
    draft.value.domains.push({ id: freshId(draft.value.domains.map((d) => d.id), dataset), dataset, role });
  }
  function removeDomain(index: number): void {
    draft.value?.domains.splice(index, 1);
  }
  /** The common wiring: a dataset's train split as a source and its held-out split as a domain. */
  function addDatasetAsBoth(dataset: string, role: DomainDraft['role']): void {
    addSource(dataset);
    addDomain(dataset, role);
  }

  function referenceMode(d: DomainDraft): ReferenceMode {
    return d.reference?.kind ?? 'base';
  }
  function setReferenceMode(d: DomainDraft, mode: ReferenceMode): void {
    if (mode === 'base') delete d.reference;
    else if (mode === 'absolute') d.reference = { kind: 'absolute', loss: d.reference?.kind === 'absolute' ? d.reference.loss : 2 };
    else d.reference = { kind: 'relative', tolerance: d.reference?.kind === 'relative' ? d.reference.tolerance : 0.02 };
  }
  function setRole(d: DomainDraft, role: DomainDraft['role']): void {
    d.role = role;
    // A reference only means something on a constraint; drop it rather than leave an error behind.
    if (role !== 'constraint') delete d.reference;
  }

  // ------------------------------------------------------------ files

  /** The configuration as a file's text and a suggested name (validated by the core first). */
  async function serialize(format: ConfigFormat): Promise<{ text: string; fileName: string } | null> {
    fileError.value = null;
    if (!draft.value) return null;
    try {
      return await api.experiments.serialize({ config: plainCopy(draft.value), format });
    } catch (err) {
      fileError.value = errorMessage(err);
      return null;
    }
  }

  /** Loads a saved configuration; a broken file still fills the form, with its problems beside the fields. */
  async function loadText(text: string, format: ConfigFormat, fileName = 'the file'): Promise<boolean> {
    fileError.value = null;
    fileNotice.value = null;
    try {
      const parsed = await api.experiments.parse({ text, format });
      if (parsed.config) draft.value = parsed.config;
      else if (parsed.raw !== null && isObject(parsed.raw) && defaults.value) draft.value = overlay(plainCopy(defaults.value), parsed.raw);
      else {
        fileError.value = `${fileName}: ${parsed.problems[0]?.message ?? 'not a configuration'}`;
        return false;
      }
      problems.value = parsed.problems;
      valid.value = parsed.ok;
      validatedOnce.value = true;
      fileNotice.value = parsed.ok ? `Loaded ${fileName}.` : `Loaded ${fileName} with ${parsed.problems.length} problem${parsed.problems.length === 1 ? '' : 's'}: see the fields marked below.`;
      return true;
    } catch (err) {
      fileError.value = `${fileName}: ${errorMessage(err)}`;
      return false;
    }
  }

  // ------------------------------------------------------------ starting

  async function start(): Promise<number[] | null> {
    startError.value = null;
    if (!(await validate())) {
      startError.value = `fix the ${errors.value.length === 1 ? 'problem' : `${errors.value.length} problems`} marked in the form first`;
      return null;
    }
    starting.value = true;
    try {
      const { runIds } = await api.runs.start({ config: plainCopy(draft.value), suite: suite.value });
      return runIds;
    } catch (err) {
      startError.value = errorMessage(err);
      return null;
    } finally {
      starting.value = false;
    }
  }

  return {
    draft, defaults, notes, loading, error, problems, errors, warnings, valid, validating, validatedOnce, plan,
    suite, starting, startError, fileError, fileNotice,
    loadDefaults, resetToDefaults, validate, errorsAt, warningsAt,
    addSource, removeSource, addDomain, removeDomain, addDatasetAsBoth, referenceMode, setReferenceMode, setRole,
    serialize, loadText, start,
  };
});
