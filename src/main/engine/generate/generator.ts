// Text generation with a key/value cache: the prompt is run in chunks of N tokens (the last chunk
// padded), then one token per step; each step's new keys and values are copied into per-layer
// cache buffers of fixed capacity, so a graph serves every position (one graph per shape, compiled
// once through the graph cache, sessions kept while the generator lives). Greedy or sampled
// (temperature, top-k, top-p, seeded), stopping at EOS, at the token budget, at the model's
// context, or when aborted; tokens are streamed as an async iterator (the Try view and the CLI
// print them as they come). An adapter's LoRA tensors are fed at every step, so a generator over a
// training session's live views always uses the current values.
import { InvalidInputError } from '../../../shared/errors';
import type { FloatArray } from '../ir/types';
import { modelShape, type ModelConfig, type ModelShape } from '../models/causal-lm';
import type { AdapterConfig } from '../models/lora';
import { cachedChunkMask } from '../models/masks';
import { GraphCache } from '../onnx/graph-cache';
import type { Device, DeviceChoice, DevicePreference, Runtime, RuntimeSession, Tensor } from '../runtime-api';
import { Rng } from '../train/rng';
import type { WeightSource } from '../weights';
import { chooseToken, logProbOf, validateSampling, type SamplingOptions } from './sampling';
import { buildStepGraph } from './step-graph';

export interface GeneratorOptions {
  runtime: Runtime;
  cacheDir: string;
  model: { config: ModelConfig; weights: WeightSource; weightsKey?: string };
  /** A LoRA adapter applied on the fly; `tensors` are read at every step (live views are fine). */
  adapter?: { adapter: Extract<AdapterConfig, { kind: 'lora' }>; tensors: ReadonlyMap<string, ArrayLike<number>> };
  device?: DevicePreference;
  threads?: number;
  /** Prompt tokens per prefill step (default 32). */
  chunk?: number;
  /** Keep half-precision weights as stored; default: generationPrecision. */
  halfWeights?: boolean;
}

/**
 * How generation holds the weights: on CUDA in the checkpoint's half precision and computed in it;
 * on the CPU converted to float32 unless `halfWeights` asks otherwise. A decode step reads every
 * weight once, and casting each from half precision at every token measured 5x slower on the CPU,
 * without a lower peak (npm run bench:models' generate mode with BENCH_HALF=on at Qwen2.5-0.5B's
 * shapes: 2.0 against 10 tokens/s, 6.2 against 5.0 GB). Weights stored in float32 stay float32.
 */
export function generationPrecision(device: Device, halfWeights?: boolean): { halfWeights: boolean; halfCompute: boolean } {
  const half = halfWeights ?? device === 'cuda';
  return { halfWeights: half, halfCompute: half && device === 'cuda' };
}

export interface GenerateOptions extends Partial<SamplingOptions> {
  maxNewTokens: number;
  /** Token ids that end generation (the EOS ids of the model's generation config). */
  stopTokens?: readonly number[];
  seed?: number;
  signal?: AbortSignal;
}

export interface GeneratedToken {
  id: number;
  /** 0-based index among the generated tokens. */
  index: number;
  /** log p(token) under the model's unfiltered distribution. */
  logprob: number;
}

export type StopReason = 'eos' | 'length' | 'context' | 'aborted';

export interface GenerationResult {
  tokens: number[];
  stopReason: StopReason;
  promptTokens: number;
  /** Time to the first generated token (prefill included), and overall. */
  firstTokenSeconds: number;
  seconds: number;
  /** Generated tokens per second after the first one (decode speed). */
  decodeTokensPerSecond: number;
}

/** Cache capacities are rounded up to this, so nearby lengths share a graph. */
const CAPACITY_STEP = 128;
const PRODUCER_VERSION = 'generate-1';

interface Step {
  session: RuntimeSession;
  inputs: Set<string>;
  /** The adapter's tensors the graph takes, with their shapes. */
  lora: { name: string; shape: number[] }[];
}

export class Generator {
  private readonly steps = new Map<string, Step>();
  private readonly cache: GraphCache;
  private released = false;

  /** Half-precision weights kept as stored, and products computed in them (generationPrecision). */
  readonly precision: { halfWeights: boolean; halfCompute: boolean };

  private constructor(
    private readonly opts: GeneratorOptions,
    readonly shape: ModelShape,
    readonly device: DeviceChoice,
  ) {
    this.cache = new GraphCache(opts.cacheDir);
    this.precision = generationPrecision(device.device, opts.halfWeights);
  }

  static async create(opts: GeneratorOptions): Promise<Generator> {
    const chunk = opts.chunk ?? 32;
    if (!Number.isInteger(chunk) || chunk < 1 || chunk > 4096) throw new InvalidInputError(`the prefill chunk must be an integer from 1 to 4096, got ${chunk}`);
    const device = await opts.runtime.chooseDevice(opts.device ?? 'auto');
    return new Generator({ ...opts, chunk }, modelShape(opts.model.config), device);
  }

  private get chunk(): number {
    return this.opts.chunk!;
  }

  private async step(capacity: number, tokens: number): Promise<Step> {
    if (this.released) throw new Error('the generator was released');
    const key = `${capacity}x${tokens}`;
    const known = this.steps.get(key);
    if (known) return known;
    const built = buildStepGraph({ model: this.opts.model.config, adapter: this.opts.adapter?.adapter, capacity, tokens, ...this.precision }, this.opts.model.weights);
    const graph = built.graph;
    const compiled = this.cache.compile(graph, { name: `step-${key}`, producerVersion: PRODUCER_VERSION, weightsKey: this.opts.model.weightsKey, device: this.device.device });
    const session = await this.opts.runtime.createSession(compiled.modelPath, {
      device: this.device.device,
      threads: this.opts.threads,
      optimization: 'all',
      keepWeightCasts: compiled.halfWeights,
    });
    const lora = built.parameters().filter((p) => p.trainable).map((p) => ({ name: p.name, shape: [...p.shape] }));
    const step = { session, inputs: new Set(session.inputNames), lora };
    this.steps.set(key, step);
    return step;
  }

  /** Compiles and opens the graphs a request of this size needs (so timing excludes it). */
  async prepare(promptTokens: number, maxNewTokens: number): Promise<void> {
    const capacity = this.capacityFor(promptTokens, maxNewTokens);
    await this.step(capacity, this.chunk);
    await this.step(capacity, 1);
  }

  private capacityFor(promptTokens: number, maxNewTokens: number): number {
    const need = promptTokens + maxNewTokens;
    const limit = this.shape.maxPositions ?? Infinity;
    return Math.max(1, Math.min(Math.ceil(need / CAPACITY_STEP) * CAPACITY_STEP, limit));
  }

  /** Streams generated tokens; the iterator's return value is the summary. */
  async *stream(prompt: readonly number[], o: GenerateOptions): AsyncGenerator<GeneratedToken, GenerationResult> {
    const sampling = validateSampling({ temperature: o.temperature ?? 0, topP: o.topP ?? 1, topK: o.topK ?? 0 });
    const { vocab, layers: L, kvHeads: K, headDim: D } = this.shape;
    if (prompt.length === 0) throw new InvalidInputError('the prompt has no tokens');
    if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0 || o.maxNewTokens > 1 << 20) throw new InvalidInputError(`maxNewTokens must be an integer from 0 to ${1 << 20}, got ${o.maxNewTokens}`);
    prompt.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new InvalidInputError(`prompt token ${i} (${id}) is outside the vocabulary (0..${vocab - 1})`);
    });
    const S = this.capacityFor(prompt.length, o.maxNewTokens);
    if (prompt.length > S) throw new InvalidInputError(`the prompt has ${prompt.length} tokens, more than the model's ${S} positions`);
    const budget = Math.min(o.maxNewTokens, S - prompt.length + 1);
    const stop = new Set(o.stopTokens ?? []);
    const rng = new Rng(o.seed ?? 0);
    const t0 = performance.now();
    const caches = Array.from({ length: L }, () => ({ key: new Float32Array(K * S * D), value: new Float32Array(K * S * D) }));

    /** Runs `ids` (at most N of them) at positions past.., writes their keys/values, returns the last one's logits. */
    const run = async (ids: readonly number[], past: number, N: number): Promise<Float32Array> => {
      const step = await this.step(S, N);
      const valid = ids.length;
      const feeds: Record<string, Tensor> = {
        input_ids: { dtype: 'int32', shape: [1, N], data: Int32Array.from({ length: N }, (_, i) => ids[i] ?? 0) },
        attn_mask: { dtype: 'float32', shape: [N, S + N], data: cachedChunkMask(S, N, past, valid, this.shape.slidingWindow) },
        pick: { dtype: 'int32', shape: [1], data: Int32Array.of(valid - 1) },
      };
      if (step.inputs.has('position_ids')) {
        const maxPos = (this.shape.maxPositions ?? Infinity) - 1;
        feeds.position_ids = { dtype: 'int32', shape: [1, N], data: Int32Array.from({ length: N }, (_, i) => Math.min(past + i, maxPos)) };
      }
      if (this.shape.invFreq) {
        const { cos, sin } = ropeRows(this.shape.invFreq, past, N);
        feeds.rope_cos = { dtype: 'float32', shape: [N, D], data: cos };
        feeds.rope_sin = { dtype: 'float32', shape: [N, D], data: sin };
      }
      caches.forEach((c, i) => {
        feeds[`past_key.${i}`] = { dtype: 'float32', shape: [1, K, S, D], data: c.key };
        feeds[`past_value.${i}`] = { dtype: 'float32', shape: [1, K, S, D], data: c.value };
      });
      for (const p of step.lora) {
        const v = this.opts.adapter?.tensors.get(p.name);
        if (!v || v.length !== p.shape[0]! * p.shape[1]!) throw new InvalidInputError(`the adapter has no values of shape [${p.shape.join(', ')}] for ${p.name}`);
        feeds[p.name] = { dtype: 'float32', shape: p.shape, data: v instanceof Float32Array ? v : Float32Array.from(v) };
      }
      const out = await step.session.run(feeds);
      caches.forEach((c, i) => {
        copyRows(out[`present_key.${i}`] as FloatArray, c.key, K, N, S, D, past, valid);
        copyRows(out[`present_value.${i}`] as FloatArray, c.value, K, N, S, D, past, valid);
      });
      return out.logits as Float32Array;
    };

    let logits!: Float32Array;
    for (let at = 0; at < prompt.length; at += this.chunk) {
      logits = await run(prompt.slice(at, at + this.chunk), at, this.chunk);
    }
    const tokens: number[] = [];
    let stopReason: StopReason = 'length';
    let firstAt = 0;
    let pos = prompt.length;
    for (;;) {
      if (o.signal?.aborted) {
        stopReason = 'aborted';
        break;
      }
      if (tokens.length >= budget) {
        stopReason = budget < o.maxNewTokens ? 'context' : 'length';
        break;
      }
      const id = chooseToken(logits, sampling, rng);
      tokens.push(id);
      if (tokens.length === 1) firstAt = performance.now();
      yield { id, index: tokens.length - 1, logprob: logProbOf(logits, id) };
      if (stop.has(id)) {
        stopReason = 'eos';
        break;
      }
      if (tokens.length >= budget || pos >= S) continue; // the loop head reports why
      logits = await run([id], pos, 1);
      pos++;
    }
    const end = performance.now();
    const decoded = Math.max(0, tokens.length - 1);
    return {
      tokens,
      stopReason,
      promptTokens: prompt.length,
      firstTokenSeconds: tokens.length > 0 ? (firstAt - t0) / 1000 : 0,
      seconds: (end - t0) / 1000,
      decodeTokensPerSecond: decoded > 0 ? decoded / ((end - firstAt) / 1000) : 0,
    };
  }

  /** Generates to the end; `onToken` sees each token as it comes. */
  async generate(prompt: readonly number[], o: GenerateOptions & { onToken?: (t: GeneratedToken) => void }): Promise<GenerationResult> {
    const it = this.stream(prompt, o);
    for (;;) {
      const r = await it.next();
      if (r.done) return r.value;
      o.onToken?.(r.value);
    }
  }

  async release(): Promise<void> {
    this.released = true;
    const all = [...this.steps.values()];
    this.steps.clear();
    for (const s of all) await s.session.release();
  }
}

/** cos/sin rows [N, D] for positions past .. past + N - 1 (halves repeated, as ropeTables). */
function ropeRows(invFreq: readonly number[], past: number, N: number): { cos: Float32Array; sin: Float32Array } {
  const half = invFreq.length;
  const D = 2 * half;
  const cos = new Float32Array(N * D);
  const sin = new Float32Array(N * D);
  for (let t = 0; t < N; t++) {
    for (let i = 0; i < half; i++) {
      const a = (past + t) * invFreq[i]!;
      cos[t * D + i] = cos[t * D + i + half] = Math.cos(a);
      sin[t * D + i] = sin[t * D + i + half] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/** Copies the first `valid` of N new rows [K, N, D] into cache slots past.. of [K, S, D]. */
function copyRows(src: FloatArray, dst: Float32Array, K: number, N: number, S: number, D: number, past: number, valid: number): void {
  for (let h = 0; h < K; h++) {
    const from = h * N * D;
    dst.set(src.subarray(from, from + valid * D), (h * S + past) * D);
  }
}
