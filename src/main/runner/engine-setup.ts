// Builds EngineTrainers from a RunConfig: loads the model folder and its tokenizer, resolves every
// dataset reference, cuts the sources' train splits into sequences and the domains' eval and test
// splits into fixed evaluation sets — once per run (PreparedRun) — then creates one trainer per
// experiment on top (a suite creates several, each with a fresh copy of the base model).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { UserError } from '../../shared/errors';
import type { AdapterConfig as ConfigAdapter, RunConfig } from '../../shared/run-config';
import { DatasetRegistry } from '../data/registry';
import { JsonDatasetCatalog } from '../data/catalog';
import { EvalSet } from '../data/eval-set';
import { TokenCache } from '../data/token-cache';
import { loadTokenizer, type TextTokenizer } from '../data/tokenizer';
import { loadModelFolder, type ModelFolder } from '../engine/hf/folder';
import { loraParameterShapes } from '../engine/hf/peft';
import { modelShape } from '../engine/models/causal-lm';
import { LORA_TARGETS, type AdapterConfig, type LoraTarget } from '../engine/models/lora';
import type { Runtime } from '../engine/runtime-api';
import type { AdamWConfig } from '../engine/train/adamw';
import type { LrSchedule } from '../engine/train/schedule';
import { TrainingSession } from '../engine/training-session';
import type { CheckpointStorage } from './checkpoint-storage';
import { datasetUse, type DatasetUse } from './data-report';
import { resolveDatasetRef, type ResolvedDataset } from './dataset-refs';
import { EngineTrainer, type TrainerDomain, type TrainerSource } from './engine-trainer';

export const BUNDLED_MODEL_PREFIX = 'bundled:';

export interface EngineEnvironment {
  runtime: Runtime;
  /** Compiled graphs (the data directory's cache/graphs). */
  graphCacheDir: string;
  /** Token shards (cache/tokens). */
  tokenCacheDir: string;
  /** Imported datasets (datasets/); omitted when there are none to look up. */
  datasetsDir?: string;
  /** Bundled resources (corpora/, models/). */
  resourcesDir: string;
  /** Relative model and dataset paths are resolved here: the config file's folder. */
  baseDir: string;
  /** ONNX Runtime intra-op threads (default: physical cores). */
  threads?: number;
  /** Progress in words while preparing (loading, tokenizing), and warnings. */
  onStatus?: (message: string) => void;
}

/** The run's adapter in the engine's terms; refuses what the engine cannot do. */
export function engineAdapter(adapter: ConfigAdapter): AdapterConfig {
  if (adapter.kind === 'full') return adapter;
  if (adapter.dropout !== 0) throw new UserError(`model.adapter.dropout must be 0: LoRA dropout is not implemented by the engine (got ${adapter.dropout})`);
  adapter.targets.forEach((t, k) => {
    if (!(LORA_TARGETS as readonly string[]).includes(t)) throw new UserError(`model.adapter.targets[${k}] ${JSON.stringify(t)} is not one of ${LORA_TARGETS.join(', ')}`);
  });
  return { kind: 'lora', r: adapter.rank, alpha: adapter.alpha, targetModules: adapter.targets as LoraTarget[] };
}

export function engineOptimizer(config: RunConfig): AdamWConfig {
  const o = config.training.optimizer;
  return { beta1: o.beta1, beta2: o.beta2, eps: o.epsilon, weightDecay: o.weightDecay };
}

export function engineSchedule(config: RunConfig): LrSchedule {
  const t = config.training;
  if (t.lrSchedule === 'constant') return { kind: 'constant', lr: t.learningRate, warmupSteps: t.warmupSteps };
  return { kind: t.lrSchedule, lr: t.learningRate, warmupSteps: t.warmupSteps, totalSteps: t.steps };
}

/** The parts of a config the prepared data and model depend on (a suite varies only the strategy). */
function preparedShape(config: RunConfig): string {
  const { model, sources, domains, training, evaluation, seed } = config;
  return JSON.stringify({ model, sources, domains, training, evaluation, seed });
}

export class PreparedRun {
  private constructor(
    readonly config: RunConfig,
    private readonly env: EngineEnvironment,
    readonly model: ModelFolder,
    readonly tokenizer: TextTokenizer,
    readonly adapter: AdapterConfig,
    readonly sources: readonly TrainerSource[],
    readonly domains: readonly TrainerDomain[],
    private readonly datasets: readonly ResolvedDataset[],
    /** Each source's and domain's rows, with the examples truncated and the tokens lost. */
    readonly data: readonly DatasetUse[],
  ) {}

  /** Where a config's model path points: `bundled:NAME` or a folder relative to the config's. */
  static modelDir(ref: string, env: Pick<EngineEnvironment, 'resourcesDir' | 'baseDir'>): string {
    if (ref.startsWith(BUNDLED_MODEL_PREFIX)) return path.join(env.resourcesDir, 'models', ref.slice(BUNDLED_MODEL_PREFIX.length));
    return path.resolve(env.baseDir, ref);
  }

  static async open(config: RunConfig, env: EngineEnvironment): Promise<PreparedRun> {
    const status = env.onStatus ?? (() => {});
    const dir = PreparedRun.modelDir(config.model.path, env);
    status(`loading the model ${dir}`);
    const model = loadModelFolder(dir);
    const datasets: ResolvedDataset[] = [];
    try {
      if (!model.tokenizer) throw new UserError(`the model folder ${dir} has no tokenizer.json, which a run needs to tokenize its data`);
      const shape = modelShape(model.config.model);
      const T = config.training.seqLength;
      if (shape.maxPositions !== null && T > shape.maxPositions) {
        throw new UserError(`training.seqLength ${T} is longer than the model's ${shape.maxPositions} positions`);
      }
      const adapter = engineAdapter(config.model.adapter);
      if (adapter.kind === 'lora') {
        try {
          loraParameterShapes(model.config.model, adapter);
        } catch (err) {
          if (err instanceof UserError) throw new UserError(`model.adapter.targets: ${err.message}`);
          throw err;
        }
      }
      const tokenizer = await loadTokenizer(dir);
      const cache = new TokenCache(env.tokenCacheDir);
      const registry = env.datasetsDir ? new DatasetRegistry(new JsonDatasetCatalog(env.datasetsDir), env.datasetsDir, cache) : undefined;
      const byRef = new Map<string, ResolvedDataset>();
      const open = async (ref: string, field: string): Promise<ResolvedDataset> => {
        const known = byRef.get(ref);
        if (known) return known;
        try {
          const ds = await resolveDatasetRef(ref, {
            tokenizer, cache, baseDir: env.baseDir, resourcesDir: env.resourcesDir, ...(registry ? { registry } : {}),
            onOpen: (what) => status(`reading ${what} (tokenized into the cache on first use)`),
          });
          datasets.push(ds);
          byRef.set(ref, ds);
          return ds;
        } catch (err) {
          if (err instanceof UserError) throw new UserError(`${field}: ${err.message}`);
          throw err;
        }
      };

      const sources: TrainerSource[] = [];
      const data: DatasetUse[] = [];
      for (const [j, s] of config.sources.entries()) {
        const ds = await open(s.dataset, `sources[${j}].dataset`);
        const rows = ds.sequences('train', T, s.truncation);
        sources.push({ id: s.id, sequences: rows, tokens: ds.tokens('train') });
        data.push(datasetUse('source', s.id, s.dataset, 'train', rows));
      }
      const evalBatch = config.evaluation.batchSize ?? config.training.batchSize;
      const domains: TrainerDomain[] = [];
      for (const [i, d] of config.domains.entries()) {
        const ds = await open(d.dataset, `domains[${i}].dataset`);
        const evalRows = ds.sequences('eval', T);
        const testRows = ds.sequences('test', T);
        data.push(datasetUse('domain', d.id, d.dataset, 'eval', evalRows), datasetUse('domain', d.id, d.dataset, 'test', testRows));
        const regular = new EvalSet(d.id, evalRows, { batchSize: evalBatch, maxBatches: config.evaluation.regularBatches, padId: tokenizer.padId });
        const test = new EvalSet(d.id, testRows, { batchSize: evalBatch, maxBatches: config.evaluation.testBatches, padId: tokenizer.padId });
        if (regular.batchCount < config.evaluation.regularBatches) {
          status(`domain ${d.id}: its eval split gives ${regular.batchCount} of the ${config.evaluation.regularBatches} regular evaluation batches`);
        }
        if (regular.batchCount < config.evaluation.probeBatches) {
          status(`domain ${d.id}: its eval split gives ${regular.batchCount} of the ${config.evaluation.probeBatches} probe evaluation batches`);
        }
        if (test.batchCount < config.evaluation.testBatches) {
          status(`domain ${d.id}: its test split gives ${test.batchCount} of the ${config.evaluation.testBatches} test batches`);
        }
        domains.push({ id: d.id, regular, test });
      }
      return new PreparedRun(config, env, model, tokenizer, adapter, sources, domains, datasets, data);
    } catch (err) {
      for (const ds of datasets) ds.close();
      model.close();
      throw err;
    }
  }

  /** Stands for what a checkpoint must match: the base weights, the adapter and the sources. */
  identity(): string {
    return createHash('sha256')
      .update(JSON.stringify({ weights: this.model.weightsKey, adapter: this.adapter, sources: this.config.sources.map((s) => s.id) }))
      .digest('hex');
  }

  /**
   * A trainer with a fresh copy of the base model (LoRA initialized from the seed). `config` may
   * differ from the prepared one only in its strategy, schedule and controller options.
   */
  async createTrainer(config: RunConfig, checkpoints: CheckpointStorage): Promise<EngineTrainer> {
    if (preparedShape(config) !== preparedShape(this.config)) {
      throw new Error('createTrainer: the config differs from the prepared one in its model, data, training or evaluation settings');
    }
    const optimizer = engineOptimizer(config);
    const schedule = engineSchedule(config);
    const maxGradNorm = config.training.gradClip;
    const session = await TrainingSession.create({
      runtime: this.env.runtime,
      cacheDir: this.env.graphCacheDir,
      model: this.model.config.model,
      baseWeights: this.model.weights,
      weightsKey: this.model.weightsKey,
      adapter: this.adapter,
      batchSize: config.training.batchSize,
      seqLen: config.training.seqLength,
      device: config.device,
      ...(config.training.recompute !== 'auto' ? { recompute: config.training.recompute === 'on' } : {}),
      ...(config.training.halfCompute !== 'auto' ? { halfCompute: config.training.halfCompute === 'on' } : {}),
      ...(this.env.threads !== undefined ? { threads: this.env.threads } : {}),
      optimizer,
      schedule,
      maxGradNorm,
      seed: config.seed,
    });
    return new EngineTrainer({
      session,
      sources: this.sources,
      domains: this.domains,
      probeBatches: config.evaluation.probeBatches,
      seed: config.seed,
      checkpoints,
      optimizer,
      schedule,
      maxGradNorm,
      identity: this.identity(),
    });
  }

  close(): void {
    for (const ds of this.datasets) ds.close();
    this.model.close();
  }
}
