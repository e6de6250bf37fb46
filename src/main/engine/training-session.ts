// The engine's face to the experiment runner: a model with an adapter, compiled for one batch
// shape, on one device. It owns the flat trainable buffer, the optimizer and one ONNX Runtime
// session (the train graph also yields eval sums and logits, so the base weights are mapped once;
// its gradients are gated, so eval and logits run the forward pass only), and offers train steps
// (with gradient accumulation, clipping, schedules and skipping of non-finite steps), eval steps
// (summed loss and kept-label count per sequence) and logits.
import { InvalidInputError } from '../../shared/errors';
import { checkBatch, keptLabels, type TokenBatch } from './batch';
import os from 'node:os';
import { buildGraph, GRAD_PREFIX, GRADIENTS_FLAG, parameterShapes, type BuiltGraph, type GraphKind } from './graphs';
import { isHalf, type FloatArray, type FloatDType, type Shape } from './ir/types';
import { modelVocab, type ModelConfig } from './models/causal-lm';
import { memoryBudget, recomputeByDefault, trainingMemoryInput } from './memory';
import { initLoraParam } from './models/init';
import { validateAdapter, type AdapterConfig } from './models/lora';
import { GraphCache } from './onnx/graph-cache';
import { gpuMemoryBytes } from './runtime/gpu';
import type { Device, DeviceChoice, DevicePreference, OptimizationLevel, Runtime, RuntimeSession, Tensor } from './runtime-api';
import { AdamW, DEFAULT_ADAMW, type AdamWConfig, type AdamWState } from './train/adamw';
import { clipToNorm, globalNorm } from './train/clip';
import { FlatLayout } from './train/flat-params';
import { Rng } from './train/rng';
import { learningRate, validateSchedule, type LrSchedule } from './train/schedule';
import { asWeightSource, type WeightSource } from './weights';

export interface TrainingOptions {
  runtime: Runtime;
  /** Folder for compiled graphs (the app's `cache/graphs`). */
  cacheDir: string;
  model: ModelConfig;
  /** Base weights by Hugging Face name, [out, in] for linear layers (a map, or a lazy source). */
  baseWeights: WeightSource | ReadonlyMap<string, Float32Array>;
  /** Stands for the base weights' content (e.g. a model folder hash); saves hashing them. */
  weightsKey?: string;
  adapter: AdapterConfig;
  batchSize: number;
  seqLen: number;
  device?: DevicePreference;
  /** float32 for use; float64 for reference tests. */
  dtype?: FloatDType;
  threads?: number;
  /** Defaults to 'all' (float32) or 'basic' (float64, exact reference results). */
  optimization?: OptimizationLevel;
  optimizer?: Partial<AdamWConfig>;
  /** Default: constant 1e-3. */
  schedule?: LrSchedule;
  /** Global-norm clipping threshold; null turns clipping off. Default 1.0. */
  maxGradNorm?: number | null;
  /** Prepacked weight copies in the CPU kernels; default: prepackByDefault of the base weights' bytes. */
  prepack?: boolean;
  /** ONNX Runtime's CPU memory arena (default true). */
  memoryArena?: boolean;
  /** ONNX Runtime's memory pattern (default false: see SessionOptions.memoryPattern). */
  memoryPattern?: boolean;
  /**
   * Keep frozen weights in the checkpoint's half precision (bf16 or f16), cast where they are used,
   * instead of converting them to float32 (float32 graphs; default true).
   */
  halfWeights?: boolean;
  /**
   * Products with half-precision frozen weights run in half precision (GraphBuilder.storedMatmul;
   * on CUDA cuBLAS accumulates in float32) instead of casting each weight to float32 first; the
   * cross-entropy's head, LoRA, gradients of trainable tensors and AdamW stay float32. Default: on
   * CUDA. The CPU provider has float16 products but no bfloat16 ones.
   */
  halfCompute?: boolean;
  /** Recompute each decoder layer in the backward (less memory, more time); default: recomputeByDefault. */
  recompute?: boolean;
  /** The cross-entropy's slice budget in bytes (default: graphs.ts LOSS_SLICE_BYTES). */
  lossSliceBudget?: number;
  /** Seeds the LoRA initialization. */
  seed?: number;
  /** LoRA B drawn small instead of zero (gradient checks need a non-degenerate point). */
  nonZeroLoraB?: boolean;
}

export interface TrainStepResult {
  /** 0-based index of this step in the schedule. */
  step: number;
  /** Mean loss over the kept labels of all micro-batches. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
  skipped: boolean;
  /** Why the step was skipped, in words. */
  skipReason?: string;
  tokens: number;
}

export interface EvalResult {
  /** Summed loss per sequence. */
  lossSum: Float64Array;
  /** Kept labels per sequence. */
  tokenCount: Int32Array;
}

export interface OptimizerSnapshot {
  adam: AdamWState;
  /** Train steps taken (the schedule position), skipped ones included. */
  stepsTaken: number;
  stepsSkipped: number;
}

export interface GraphInfo {
  kind: GraphKind;
  modelPath: string;
  cached: boolean;
  nodes: number;
  matmulFlops: number;
  /**
   * Frozen weights kept in half precision, products with them computed in it, and decoder layers
   * recomputed in the backward.
   */
  halfWeights: boolean;
  halfCompute: boolean;
  recompute: boolean;
}

export interface NamedTensor {
  name: string;
  shape: Shape;
  /** A view of the flat trainable buffer. */
  data: FloatArray;
}

const PRODUCER_VERSION = 'engine-1';

/**
 * The memory ONNX Runtime's prepacked weight copies cost, measured with distinct random weights
 * (tests/bench/engine-rss.ts: a LoRA session over 256 MiB of float32 base weights, batch 1×128,
 * after a train step, an eval step and another train step): 2.45x the weights' bytes in RSS with
 * prepacking, 1.62x without; prepacking made a train step 1.2x faster on one CPU thread.
 */
export const PREPACKED_RSS_FACTOR = 2.45;

/**
 * Whether to prepack by default: where the prepacked session takes at most a quarter of the
 * machine's memory (small models: the speed), not beyond (real checkpoints: the memory). Weights
 * kept in half precision are cast where used, so nothing of them is prepacked either way.
 */
export function prepackByDefault(weightBytes: number, totalMemory = os.totalmem()): boolean {
  return weightBytes * PREPACKED_RSS_FACTOR <= totalMemory / 4;
}

/** The base model's weights in float32 bytes. */
export function baseWeightBytes(model: ModelConfig): number {
  return 4 * parameterShapes(model).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}

export class TrainingSession {
  private session?: RuntimeSession;
  /** A forward-only session that outputs logits, opened on the first logits() call. */
  private logitsSession?: Promise<RuntimeSession>;
  private info?: GraphInfo;
  private readonly gradBuffer: FloatArray;
  /** Per-micro-batch gradients, allocated on the first accumulated step. */
  private micro?: { grads: FloatArray; views: Record<string, Tensor> };
  private readonly gradViews: Record<string, Tensor>;
  private readonly paramFeeds: Record<string, Tensor>;
  private readonly trainFetch: string[];
  private readonly optimizer: AdamW;
  private stepsTaken = 0;
  private stepsSkipped = 0;
  /** Calls run one at a time: they share the gradient buffers and the optimizer. */
  private queue: Promise<unknown> = Promise.resolve();
  private released = false;

  private constructor(
    private readonly opts: TrainingOptions,
    readonly device: DeviceChoice,
    readonly dtype: FloatDType,
    readonly layout: FlatLayout,
    /** The trainable parameters, flat; sessions read views of it. */
    readonly trainable: FloatArray,
    private readonly cache: GraphCache,
    private readonly vocab: number,
  ) {
    this.gradBuffer = layout.allocate(dtype);
    this.paramFeeds = this.tensors(trainable, '');
    this.gradViews = this.tensors(this.gradBuffer, GRAD_PREFIX);
    this.trainFetch = ['loss', ...Object.keys(this.gradViews)];
    this.optimizer = new AdamW({ ...DEFAULT_ADAMW, ...opts.optimizer }, layout, trainable);
  }

  private tensors(buf: FloatArray, prefix: string): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, view] of this.layout.views(buf)) out[prefix + name] = { dtype: this.dtype, shape: this.layout.entry(name)!.shape, data: view };
    return out;
  }

  static async create(opts: TrainingOptions): Promise<TrainingSession> {
    validateAdapter(opts.adapter);
    if (opts.schedule) validateSchedule(opts.schedule);
    for (const [k, v] of [['batchSize', opts.batchSize], ['seqLen', opts.seqLen]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 1 << 20) throw new InvalidInputError(`${k} must be a positive integer, got ${v}`);
    }
    const vocab = modelVocab(opts.model);
    const device = await opts.runtime.chooseDevice(opts.device ?? 'auto');
    const dtype = opts.dtype ?? 'float32';
    const train = TrainingSession.build(opts, 'train', dtype, device.device);
    const layout = new FlatLayout(train.trainable);
    const trainable = layout.allocate(dtype);
    const rng = new Rng(opts.seed ?? 0);
    for (const e of layout.entries) {
      const view = trainable.subarray(e.offset, e.offset + e.size);
      if (opts.adapter.kind === 'lora') initLoraParam(e.name, e.shape, view, rng, opts.nonZeroLoraB);
      else view.set(asWeightSource(opts.baseWeights).read(e.name));
    }
    const s = new TrainingSession(opts, device, dtype, layout, trainable, new GraphCache(opts.cacheDir), vocab);
    await s.open(train);
    return s;
  }

  private static build(opts: TrainingOptions, kind: GraphKind, dtype: FloatDType, device: Device): BuiltGraph {
    const weights = asWeightSource(opts.baseWeights);
    const halfWeights = (opts.halfWeights ?? true) && dtype === 'float32';
    const halfCompute = halfWeights && (opts.halfCompute ?? device === 'cuda');
    const budget = () => memoryBudget(device, device === 'cuda' ? gpuMemoryBytes() : undefined);
    const recompute = kind === 'train' && (opts.recompute ?? recomputeByDefault(trainingMemoryInput(opts.model, opts.adapter, weights, halfWeights, opts.batchSize, opts.seqLen), budget(), halfCompute));
    const { model, adapter, batchSize, seqLen, lossSliceBudget } = opts;
    const built = buildGraph({ kind, model, adapter, batchSize, seqLen, dtype, halfWeights, halfCompute, recompute, lossSliceBudget }, weights);
    if (device === 'cpu' && built.builder.graph.nodes.some((n) => n.op === 'matmul' && n.output.dtype === 'bfloat16')) {
      throw new InvalidInputError('half-precision compute with bfloat16 weights needs CUDA: the CPU provider of ONNX Runtime has no bfloat16 matrix product (turn halfCompute off, or use float16 weights)');
    }
    return built;
  }

  private async compileAndOpen(built: BuiltGraph): Promise<{ session: RuntimeSession; modelPath: string; cached: boolean; halfWeights: boolean }> {
    const graph = built.builder.graph;
    const compiled = this.cache.compile(graph, { name: built.spec.kind, producerVersion: PRODUCER_VERSION, weightsKey: this.opts.weightsKey, device: this.device.device });
    const session = await this.opts.runtime.createSession(compiled.modelPath, {
      device: this.device.device,
      threads: this.opts.threads,
      optimization: this.opts.optimization ?? (this.dtype === 'float64' ? 'basic' : 'all'),
      prepack: this.opts.prepack ?? prepackByDefault(baseWeightBytes(this.opts.model)),
      memoryArena: this.opts.memoryArena ?? true,
      memoryPattern: this.opts.memoryPattern ?? false,
      keepWeightCasts: compiled.halfWeights,
    });
    return { session, modelPath: compiled.modelPath, cached: compiled.cached, halfWeights: compiled.halfWeights };
  }

  private async open(built: BuiltGraph): Promise<void> {
    const { session, modelPath, cached, halfWeights } = await this.compileAndOpen(built);
    this.session = session;
    this.info = {
      kind: built.spec.kind, modelPath, cached, nodes: built.builder.graph.nodes.length, matmulFlops: built.matmulFlops, halfWeights,
      halfCompute: built.builder.graph.nodes.some((n) => n.op === 'matmul' && isHalf(n.output.dtype)), recompute: built.spec.recompute ?? false,
    };
  }

  private run(feeds: Record<string, Tensor>, fetch: readonly string[], into?: Record<string, Tensor>) {
    if (this.released || !this.session) throw new Error('the training session was released');
    return this.session.run(feeds, into, fetch);
  }

  /** The compiled graph (path, node count, matmul FLOPs of a train step). */
  graph(): GraphInfo {
    return this.info!;
  }

  get batchShape(): { batchSize: number; seqLen: number } {
    return { batchSize: this.opts.batchSize, seqLen: this.opts.seqLen };
  }

  /** Feeds of one batch; `grads` false runs the forward pass only (the gradients are gated). */
  private batchFeeds(batch: TokenBatch, grads: boolean): Record<string, Tensor> {
    checkBatch(batch, this.batchShape, this.vocab);
    const shape = [batch.batchSize, batch.seqLen];
    return {
      ...this.paramFeeds,
      input_ids: { dtype: 'int32', shape, data: batch.inputIds },
      labels: { dtype: 'int32', shape, data: batch.labels },
      [GRADIENTS_FLAG]: { dtype: 'bool', shape: [], data: Uint8Array.of(grads ? 1 : 0) },
    };
  }

  /** Loss and gradients of one batch, gradients written into `grads` (views given). */
  private async lossAndGrads(batch: TokenBatch, into: Record<string, Tensor>): Promise<number> {
    const out = await this.run(this.batchFeeds(batch, true), this.trainFetch, into);
    return Number(out.loss![0]);
  }

  /**
   * One optimizer step over one batch, or several micro-batches (gradient accumulation, each
   * weighted by its kept labels so the result is the mean over all of them).
   */
  trainStep(batches: TokenBatch | readonly TokenBatch[]): Promise<TrainStepResult> {
    return this.exclusive(() => this.trainStepNow(batches));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async trainStepNow(batches: TokenBatch | readonly TokenBatch[]): Promise<TrainStepResult> {
    const list = Array.isArray(batches) ? (batches as readonly TokenBatch[]) : [batches as TokenBatch];
    if (list.length === 0) throw new InvalidInputError('a train step needs at least one batch');
    const step = this.stepsTaken;
    const lr = this.opts.schedule ? learningRate(this.opts.schedule, step) : 1e-3;
    const counts = list.map(keptLabels);
    const tokens = counts.reduce((a, c) => a + c, 0);
    let loss: number;
    if (list.length === 1) {
      loss = await this.lossAndGrads(list[0]!, this.gradViews);
    } else {
      loss = 0;
      this.gradBuffer.fill(0);
      if (!this.micro) {
        const grads = this.layout.allocate(this.dtype);
        this.micro = { grads, views: this.tensors(grads, GRAD_PREFIX) };
      }
      const micro = this.micro;
      for (let i = 0; i < list.length; i++) {
        const w = tokens > 0 ? counts[i]! / tokens : 0;
        if (w === 0) continue;
        const li = await this.lossAndGrads(list[i]!, micro.views);
        loss += w * li;
        const g = this.gradBuffer;
        const mg = micro.grads;
        for (let j = 0; j < g.length; j++) g[j]! += w * mg[j]!;
      }
      if (tokens === 0) loss = NaN;
    }
    this.stepsTaken++;
    const gradNorm = globalNorm(this.gradBuffer);
    let skipReason: string | undefined;
    if (!Number.isFinite(loss)) skipReason = tokens === 0 ? 'the batch has no labels to score' : `the loss is not finite (${loss})`;
    else if (!Number.isFinite(gradNorm)) skipReason = 'a gradient is not finite';
    if (skipReason) {
      this.stepsSkipped++;
      return { step, loss, gradNorm, lr, skipped: true, skipReason, tokens };
    }
    const maxNorm = this.opts.maxGradNorm === undefined ? 1.0 : this.opts.maxGradNorm;
    if (maxNorm !== null) clipToNorm(this.gradBuffer, gradNorm, maxNorm);
    this.optimizer.update(this.trainable, this.gradBuffer, lr);
    return { step, loss, gradNorm, lr, skipped: false, tokens };
  }

  /** Loss and gradients without an update (gradient checks, probes). Returns views of an internal buffer. */
  gradients(batch: TokenBatch): Promise<{ loss: number; grads: FloatArray }> {
    return this.exclusive(async () => ({ loss: await this.lossAndGrads(batch, this.gradViews), grads: this.gradBuffer }));
  }

  evalStep(batch: TokenBatch): Promise<EvalResult> {
    return this.exclusive(() => this.evalNow(batch));
  }

  private async evalNow(batch: TokenBatch): Promise<EvalResult> {
    const out = await this.run(this.batchFeeds(batch, false), ['loss_sum', 'token_count']);
    return { lossSum: Float64Array.from(out.loss_sum as FloatArray), tokenCount: Int32Array.from(out.token_count as FloatArray, Math.round) };
  }

  /**
   * Logits [B, T, V] of a batch. The train graph never makes them whole (its loss is sliced), so
   * the first call opens a second, forward-only session over the same weights file.
   */
  logits(batch: TokenBatch): Promise<FloatArray> {
    return this.exclusive(async () => {
      if (this.released) throw new Error('the training session was released');
      checkBatch(batch, this.batchShape, this.vocab);
      this.logitsSession ??= this.compileAndOpen(TrainingSession.build(this.opts, 'logits', this.dtype, this.device.device)).then((o) => o.session);
      const session = await this.logitsSession;
      const shape = [batch.batchSize, batch.seqLen];
      const out = await session.run({ ...this.paramFeeds, input_ids: { dtype: 'int32', shape, data: batch.inputIds } }, undefined, ['logits']);
      return out.logits as FloatArray;
    });
  }

  /** The trainable tensors by name, as views of the flat buffer (for adapter export). */
  trainableTensors(): NamedTensor[] {
    const views = this.layout.views(this.trainable);
    return this.layout.entries.map((e) => ({ name: e.name, shape: e.shape, data: views.get(e.name)! }));
  }

  /** Replaces the trainable values (resume, restore a snapshot). */
  setTrainable(values: ArrayLike<number>): void {
    if (values.length !== this.trainable.length) throw new InvalidInputError(`expected ${this.trainable.length} trainable values, got ${values.length}`);
    this.trainable.set(values);
  }

  get counters(): { stepsTaken: number; stepsSkipped: number; optimizerSteps: number } {
    return { stepsTaken: this.stepsTaken, stepsSkipped: this.stepsSkipped, optimizerSteps: this.optimizer.step };
  }

  getOptimizerState(): OptimizerSnapshot {
    return { adam: this.optimizer.getState(), stepsTaken: this.stepsTaken, stepsSkipped: this.stepsSkipped };
  }

  setOptimizerState(s: OptimizerSnapshot): void {
    this.optimizer.setState(s.adam);
    this.stepsTaken = s.stepsTaken;
    this.stepsSkipped = s.stepsSkipped;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.queue;
    await this.session?.release();
    if (this.logitsSession) await (await this.logitsSession).release();
  }
}
