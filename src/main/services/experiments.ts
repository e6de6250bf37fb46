// experiments.*: the experiment form's backend. Validation reports every problem on its field:
// the schema's and the cross-field checks (shared with the CLI), then what only the core can see
// (does the model exist, does each dataset reference resolve). Configurations are saved and loaded
// as JSON or YAML text; relative paths in a configuration started from the UI resolve against
// the data directory.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { UserError } from '../../shared/errors';
import { checkRunConfig, describeIssue, fieldPath, parseRunConfig, type RunConfig, type RunConfigInput } from '../../shared/run-config';
import type { ConfigDefaults, ConfigFormat, ConfigPlan, ConfigValidation, FieldProblem, ParsedConfig } from '../../shared/services/experiments';
import type { DatasetSummary } from '../../shared/services/datasets';
import type { ModelSummary } from '../../shared/services/models';
import { locateJsonError } from '../engine/hf/json';
import { MAX_YAML_ALIASES } from '../runner/config-file';
import { baselineStrategies, strategyLabel } from '../mixture/baselines';
import { costReport, plannedCounters } from '../mixture/cost';
import { planUpdates, regularEvalSteps, updateSteps } from '../mixture/schedule';

export interface ExperimentsServiceDeps {
  models: { list(): ModelSummary[] };
  datasets: { list(): Promise<DatasetSummary[]> };
  /** Relative model and dataset paths resolve here. */
  baseDir: string;
}

/** Bundled corpora the default experiment uses, in order of preference: one target, two constraints, one monitor. */
const DEFAULT_DOMAINS: { corpus: string; role: 'target' | 'constraint' | 'monitor'; source: boolean }[] = [
  { corpus: 'code', role: 'target', source: true },
  { corpus: 'email', role: 'constraint', source: true },
  { corpus: 'licenses', role: 'constraint', source: true },
  { corpus: 'dictionary', role: 'monitor', source: false },
];

/** Models below this many parameters get the small-model defaults (short run, higher learning rate). */
const SMALL_MODEL = 100e6;

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset);
  return `${before.split('\n').length}:${before.length - before.lastIndexOf('\n')}`;
}

function problem(pathParts: (string | number)[], message: string, severity: FieldProblem['severity'] = 'error'): FieldProblem {
  return { path: pathParts, field: fieldPath(pathParts, ''), message, severity };
}

export class ExperimentsService {
  constructor(private readonly deps: ExperimentsServiceDeps) {}

  async defaults(): Promise<ConfigDefaults> {
    const notes: string[] = [];
    const models = this.deps.models.list().filter((m) => m.problem === null);
    const model = models.find((m) => m.origin === 'bundled') ?? models[0];
    if (!model) notes.push('No model is available yet: import a Hugging Face folder in Models, then pick it here.');
    const datasets = await this.deps.datasets.list();
    const byId = new Map(datasets.map((d) => [d.id, d]));
    let chosen = DEFAULT_DOMAINS.filter((d) => byId.has(`bundled:${d.corpus}`)).map((d) => ({ ...d, id: d.corpus, ref: `bundled:${d.corpus}` }));
    if (chosen.length < 2) {
      // No bundled corpora: start from the imported datasets (the first one is the target).
      chosen = datasets.slice(0, 4).map((d, i) => ({ corpus: d.name, id: d.name.replace(/[^A-Za-z0-9_.-]/g, '-'), ref: d.id, role: i === 0 ? 'target' : 'constraint', source: true }));
    }
    if (chosen.length === 0) notes.push('No dataset is available yet: import one in Datasets.');
    const small = model?.parameters !== null && model?.parameters !== undefined && model.parameters < SMALL_MODEL;
    const input: RunConfigInput = {
      name: 'new experiment',
      model: { path: model?.configPath ?? 'choose-a-model', adapter: { kind: 'lora', rank: 8, alpha: 16, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] } },
      sources: chosen.filter((d) => d.source).map((d) => ({ id: d.id, dataset: d.ref })),
      domains: chosen.map((d) => ({ id: d.id, dataset: d.ref, role: d.role })),
      ...(small
        ? {
            training: { steps: 256, batchSize: 8, seqLength: 128, learningRate: 1e-3 },
            evaluation: { interval: 32, regularBatches: 8, probeBatches: 4, testBatches: 8 },
            dynamics: { schedule: { kind: 'preset', preset: 'none' }, probeCap: 16 },
          }
        : {}),
    };
    if (small) notes.push(`The defaults are sized for ${model.name} (${(model.parameters! / 1e6).toFixed(1)}M parameters): a short run of 256 steps of 8 × 128 tokens at learning rate 1e-3.`);
    else if (model) notes.push(`The defaults are the paper's setting for ${model.name}: 2,048 steps of 8 × 512 tokens at learning rate 1e-4, LoRA rank 8.`);
    if (input.sources.length === 0) input.sources = [{ id: 'source', dataset: 'choose-a-dataset' }];
    if (input.domains.length === 0) input.domains = [{ id: 'target', dataset: 'choose-a-dataset', role: 'target' }];
    const checked = checkRunConfig(input);
    if (!checked.ok) throw new Error(`the default configuration is invalid: ${checked.problems.join('; ')}`);
    return { config: checked.config, notes };
  }

  async validate(config: unknown): Promise<ConfigValidation> {
    const checked = checkRunConfig(config);
    if (!checked.ok) {
      const problems = checked.issues.map((i) => problem(i.path.filter((p): p is string | number => typeof p !== 'symbol'), describeIssue(i, 'the config')));
      return { ok: false, config: null, problems };
    }
    const problems = await this.coreProblems(checked.config);
    return { ok: !problems.some((p) => p.severity === 'error'), config: checked.config, problems };
  }

  /** What the schema cannot know: whether the model and every dataset reference exist here. */
  private async coreProblems(config: RunConfig): Promise<FieldProblem[]> {
    const out: FieldProblem[] = [];
    const models = this.deps.models.list();
    const modelPath = config.model.path;
    const known = models.find((m) => m.configPath === modelPath);
    if (known?.problem) out.push(problem(['model', 'path'], `model.path: ${known.problem}`));
    else if (!known) {
      if (modelPath.startsWith('bundled:')) {
        const names = models.filter((m) => m.origin === 'bundled').map((m) => m.configPath);
        out.push(problem(['model', 'path'], `model.path ${JSON.stringify(modelPath)} is not a bundled model${names.length ? ` (bundled: ${names.join(', ')})` : ''}`));
      } else if (!existsSync(path.join(path.resolve(this.deps.baseDir, modelPath), 'config.json'))) {
        out.push(problem(['model', 'path'], `model.path ${JSON.stringify(modelPath)} is neither a known model nor a folder with config.json`));
      }
    }
    const ids = new Set((await this.deps.datasets.list()).map((d) => d.id));
    const checkRef = (where: (string | number)[], ref: string) => {
      if (ids.has(ref)) return;
      if (ref.startsWith('bundled:')) out.push(problem(where, `${fieldPath(where)} ${JSON.stringify(ref)} is not a bundled corpus`));
      else if (!existsSync(path.resolve(this.deps.baseDir, ref))) out.push(problem(where, `${fieldPath(where)} ${JSON.stringify(ref)} is neither an imported dataset nor a file or folder`));
    };
    config.sources.forEach((s, i) => checkRef(['sources', i, 'dataset'], s.dataset));
    config.domains.forEach((d, i) => checkRef(['domains', i, 'dataset'], d.dataset));
    if (config.model.adapter.kind === 'lora' && config.model.adapter.dropout !== 0) {
      out.push(problem(['model', 'adapter', 'dropout'], 'model.adapter.dropout must be 0: LoRA dropout is not implemented by the engine'));
    }
    return out;
  }

  plan(config: unknown): ConfigPlan {
    const c = parseRunConfig(config, 'configuration');
    const T = c.training.steps;
    const adaptive = c.strategy.kind === 'dynamics' || c.strategy.kind === 'gradient-alignment';
    const m = c.domains.length;
    const planned = costReport(c, m, plannedCounters(c, m, c.sources.length), {});
    const adaptiveStrategy = adaptive ? c.strategy : ({ kind: 'dynamics' } as const);
    return {
      totalSteps: T,
      updates: adaptive ? planUpdates(updateSteps(c.dynamics.schedule, T), T, c.dynamics.probeCap) : [{ step: 0, horizon: T, probeSteps: 0 }],
      evalSteps: regularEvalSteps(c.evaluation.interval, T),
      plannedCostMultiple: planned.multiple,
      suiteLabels: [strategyLabel(adaptiveStrategy), ...baselineStrategies().map(strategyLabel)],
    };
  }

  async parse(text: string, format: ConfigFormat): Promise<ParsedConfig> {
    let raw: unknown;
    if (format === 'yaml') {
      const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
      const first = doc.errors[0];
      if (first) {
        const at = first.pos ? lineCol(text, first.pos[0]) : '1:1';
        const reason = first.message.split('\n')[0]?.replace(/ at line \d+, column \d+.*$/, '');
        return { ok: false, raw: null, config: null, problems: [problem([], `line ${at}: not valid YAML (${reason})`)] };
      }
      try {
        raw = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
      } catch (err) {
        const msg = (err as Error).message;
        const why = /alias count/i.test(msg)
          ? `it expands its aliases (*name) more than ${MAX_YAML_ALIASES} times, as an "alias bomb" does; write the values out instead`
          : msg.split('\n')[0];
        return { ok: false, raw: null, config: null, problems: [problem([], `not usable YAML (${why})`)] };
      }
    } else {
      try {
        raw = JSON.parse(text);
      } catch {
        // Node 20's JSON.parse names no position: the engine's scanner finds it.
        const { pos, reason } = locateJsonError(text);
        return { ok: false, raw: null, config: null, problems: [problem([], `line ${lineCol(text, pos)}: not valid JSON (${reason})`)] };
      }
    }
    return { ...(await this.validate(raw)), raw };
  }

  serialize(config: unknown, format: ConfigFormat): { text: string; fileName: string } {
    const checked = checkRunConfig(config);
    if (!checked.ok) throw new UserError(`the configuration cannot be saved until it is valid: ${checked.problems[0]}`);
    const c = checked.config;
    const base = c.name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'experiment';
    const text = format === 'yaml' ? stringify(c, { lineWidth: 0 }) : `${JSON.stringify(c, null, 2)}\n`;
    return { text, fileName: `${base}.${format === 'yaml' ? 'yaml' : 'json'}` };
  }
}
