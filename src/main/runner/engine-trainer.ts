// EngineTrainer: the Trainer the product runs, on the ONNX engine's TrainingSession and the data
// layer's streams. Sources are per-source token streams (a main and a probe stream each); the main
// MixtureBatcher draws the run's batches, a second batcher over the probe streams (with its own
// generator) draws probe batches, so probing never moves the main run's data. Domains are fixed
// EvalSets (regular, its probe prefix, test). Snapshots copy the flat trainable buffer, the AdamW
// state and the probe streams' positions; checkpoints hold those and every stream's position.
import { UserError } from '../../shared/errors';
import { IGNORE_LABEL, keptLabels, type TokenBatch } from '../engine/batch';
import type { DeviceChoice } from '../engine/runtime-api';
import { decays, type AdamWConfig } from '../engine/train/adamw';
import { clipToNorm, globalNorm } from '../engine/train/clip';
import { learningRate, type LrSchedule } from '../engine/train/schedule';
import type { GraphInfo, NamedTensor, OptimizerSnapshot, TrainingSession } from '../engine/training-session';
import type { EvalSet } from '../data/eval-set';
import { MixtureBatcher, sourceStreams, type MixtureSource, type MixtureState } from '../data/mixture';
import { deriveSeed } from '../data/prng';
import { SourceSampler } from '../data/sampler';
import type { SequenceSource } from '../data/sequences';
import type { CheckpointStorage } from './checkpoint-storage';
import type {
  CheckpointRef,
  DomainLosses,
  EvalSplit,
  RestoreScope,
  Trainer,
  TrainerInfo,
  TrainerSnapshot,
  TrainRequest,
  TrainStats,
  UpdateDirection,
} from './trainer';

export interface TrainerSource {
  id: string;
  /** The source's train split as fixed-length sequences. */
  sequences: SequenceSource;
  /** Tokens in that split (for the fixed-proportional baseline). */
  tokens: number;
}

export interface TrainerDomain {
  id: string;
  /** `evaluation.regularBatches` batches of the eval split; the probe set is its prefix. */
  regular: EvalSet;
  /** `evaluation.testBatches` batches of the test split. */
  test: EvalSet;
}

export interface EngineTrainerSetup {
  session: TrainingSession;
  sources: readonly TrainerSource[];
  domains: readonly TrainerDomain[];
  probeBatches: number;
  /** Seeds the data streams (the run's seed). */
  seed: number;
  checkpoints: CheckpointStorage;
  /** The optimizer, schedule and clipping the session was created with (for update directions). */
  optimizer: AdamWConfig;
  schedule: LrSchedule;
  maxGradNorm: number | null;
  /** Stands for the model, adapter and trainable layout: a checkpoint written for another is refused. */
  identity: string;
}

interface EngineSnapshot {
  params: Float32Array | Float64Array;
  optimizer: OptimizerSnapshot;
  probe: MixtureState;
  released: boolean;
}

interface CheckpointMeta {
  format: 'engine-trainer-1';
  identity: string;
  dtype: 'float32' | 'float64';
  size: number;
  adamStep: number;
  stepsTaken: number;
  stepsSkipped: number;
  main: MixtureState;
  probe: MixtureState;
}

/** Mixture weights may carry round-off from the solver (−1e-17, sums of 1 ± 1e-15). */
const WEIGHT_SLACK = 1e-9;

function bytesOf(a: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Copies `count` values of the payload starting at byte `offset` (the payload need not be aligned). */
function floatsFrom(payload: Uint8Array, offset: number, count: number, dtype: 'float32' | 'float64'): Float32Array | Float64Array {
  const out = dtype === 'float64' ? new Float64Array(count) : new Float32Array(count);
  new Uint8Array(out.buffer).set(payload.subarray(offset, offset + out.byteLength));
  return out;
}

export class EngineTrainer implements Trainer {
  readonly info: TrainerInfo;
  private readonly session: TrainingSession;
  private readonly main: MixtureBatcher;
  private readonly probe: MixtureBatcher;
  private readonly sourceIds: string[];
  private readonly probeSets: EvalSet[];
  private readonly snapshots = new Set<EngineSnapshot>();
  private closed = false;

  constructor(private readonly setup: EngineTrainerSetup) {
    this.session = setup.session;
    const { batchSize } = this.session.batchShape;
    this.sourceIds = setup.sources.map((s) => s.id);
    const streams: MixtureSource[] = setup.sources.map((s) => sourceStreams(s.id, s.sequences, setup.seed));
    const uniform = Object.fromEntries(this.sourceIds.map((id) => [id, 1 / this.sourceIds.length]));
    this.main = new MixtureBatcher(streams, { seed: setup.seed, batchSize, weights: uniform });
    // The probe batcher draws from the probe streams only (they stand in as its "main" streams);
    // its side streams feed the direction rows of directional probes.
    this.probe = new MixtureBatcher(
      streams.map((s, j) => ({ id: s.id, main: s.probe, probe: new SourceSampler(setup.sources[j]!.sequences, deriveSeed(String(setup.seed), 'source', s.id, 'direction')) })),
      { seed: `${setup.seed}/probe`, batchSize, weights: uniform },
    );
    this.probeSets = setup.domains.map((d) => d.regular.prefix(setup.probeBatches));
    this.info = { sourceSizes: setup.sources.map((s) => s.tokens) };
  }

  /** The device the session runs on and why it was chosen. */
  get device(): DeviceChoice {
    return this.session.device;
  }

  /** The session's compiled graph: node count, half-precision weights, recomputation. */
  get graph(): GraphInfo {
    return this.session.graph();
  }

  get trainableParameters(): number {
    return this.session.trainable.length;
  }

  /** The trainable tensors by name, as views of the live buffer (adapter export, tests). */
  parameters(): NamedTensor[] {
    return this.session.trainableTensors();
  }

  // ------------------------------------------------------------------ evaluation

  private evalSet(split: EvalSplit, i: number): EvalSet {
    const d = this.setup.domains[i]!;
    return split === 'test' ? d.test : split === 'probe' ? this.probeSets[i]! : d.regular;
  }

  /**
   * The session's batches for rows [0, rows) of an evaluation batch: itself when the sizes agree,
   * else session-sized slices, the last one filled with rows that carry no label.
   */
  private *sessionBatches(batch: TokenBatch, rows: number): Generator<TokenBatch> {
    const { batchSize: B, seqLen: T } = this.session.batchShape;
    if (batch.batchSize === B) {
      yield batch;
      return;
    }
    for (let r0 = 0; r0 < rows; r0 += B) {
      const n = Math.min(B, rows - r0);
      const inputIds = new Int32Array(B * T);
      const labels = new Int32Array(B * T).fill(IGNORE_LABEL);
      inputIds.set(batch.inputIds.subarray(r0 * T, (r0 + n) * T));
      labels.set(batch.labels.subarray(r0 * T, (r0 + n) * T));
      yield { batchSize: B, seqLen: T, inputIds, labels };
    }
  }

  private async evaluateSet(set: EvalSet): Promise<DomainLosses> {
    const batchLosses: number[] = [];
    const batchTokens: number[] = [];
    let sum = 0;
    let tokens = 0;
    for (let k = 0; k < set.batchCount; k++) {
      let s = 0;
      let n = 0;
      for (const b of this.sessionBatches(set.batch(k), set.rowsIn(k))) {
        const r = await this.session.evalStep(b);
        for (let i = 0; i < r.lossSum.length; i++) {
          s += r.lossSum[i]!;
          n += r.tokenCount[i]!;
        }
      }
      // A batch with no scored token weighs nothing (its loss is reported as 0).
      batchLosses.push(n > 0 ? s / n : 0);
      batchTokens.push(n);
      sum += s;
      tokens += n;
    }
    return { loss: tokens > 0 ? sum / tokens : NaN, batchLosses, batchTokens };
  }

  async evaluate(split: EvalSplit): Promise<DomainLosses[]> {
    this.checkOpen();
    const out: DomainLosses[] = [];
    for (let i = 0; i < this.setup.domains.length; i++) out.push(await this.evaluateSet(this.evalSet(split, i)));
    return out;
  }

  // ------------------------------------------------------------------ training

  private weightRecord(mixture: readonly number[]): Record<string, number> {
    if (mixture.length !== this.sourceIds.length) throw new Error(`a mixture of ${mixture.length} weights for ${this.sourceIds.length} sources`);
    const w = mixture.map((x) => {
      if (!Number.isFinite(x) || x < -WEIGHT_SLACK) throw new Error(`mixture weight ${x} is not a share`);
      return Math.max(0, x);
    });
    const sum = w.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-6) throw new Error(`mixture weights sum to ${sum}, not 1`);
    return Object.fromEntries(this.sourceIds.map((id, j) => [id, w[j]! / sum]));
  }

  async train(request: TrainRequest): Promise<TrainStats> {
    this.checkOpen();
    const batcher = request.stream === 'main' ? this.main : this.probe;
    batcher.setWeights(this.weightRecord(request.mixture));
    let steps = 0;
    let tokens = 0;
    let lossSum = 0;
    let skippedSteps = 0;
    const { direction } = request;
    if (direction && request.stream !== 'probe') throw new Error('directional training draws from the probe streams only');
    for (let s = 0; s < request.steps; s++) {
      const r = await this.session.trainStep(direction ? batcher.nextDirectional(direction.toward, direction.epsilon) : batcher.next());
      if (r.skipped) {
        skippedSteps++;
        continue;
      }
      steps++;
      tokens += r.tokens;
      lossSum += r.loss;
    }
    return { steps, tokens, meanLoss: steps > 0 ? lossSum / steps : NaN, skippedSteps };
  }

  // ------------------------------------------------------------------ snapshots

  async snapshot(): Promise<TrainerSnapshot> {
    this.checkOpen();
    const snap: EngineSnapshot = {
      params: this.session.trainable.slice(),
      optimizer: this.session.getOptimizerState(),
      probe: structuredClone(this.probe.state()),
      released: false,
    };
    this.snapshots.add(snap);
    return snap as unknown as TrainerSnapshot;
  }

  private snapshotOf(s: TrainerSnapshot): EngineSnapshot {
    const snap = s as unknown as EngineSnapshot;
    if (!this.snapshots.has(snap) || snap.released) throw new Error('this snapshot was released or belongs to another trainer');
    return snap;
  }

  async restore(snapshot: TrainerSnapshot, scope: RestoreScope): Promise<void> {
    this.checkOpen();
    const snap = this.snapshotOf(snapshot);
    this.session.setTrainable(snap.params);
    this.session.setOptimizerState(snap.optimizer);
    if (scope === 'all') this.probe.restore(structuredClone(snap.probe));
  }

  async release(snapshot: TrainerSnapshot): Promise<void> {
    const snap = this.snapshotOf(snapshot);
    snap.released = true;
    this.snapshots.delete(snap);
  }

  // ------------------------------------------------------------------ checkpoints

  async saveCheckpoint(step: number): Promise<CheckpointRef> {
    this.checkOpen();
    const opt = this.session.getOptimizerState();
    const params = this.session.trainable;
    const meta: CheckpointMeta = {
      format: 'engine-trainer-1',
      identity: this.setup.identity,
      dtype: this.session.dtype,
      size: params.length,
      adamStep: opt.adam.step,
      stepsTaken: opt.stepsTaken,
      stepsSkipped: opt.stepsSkipped,
      main: this.main.state(),
      probe: this.probe.state(),
    };
    return this.setup.checkpoints.save(step, { meta, payload: [bytesOf(params), bytesOf(opt.adam.m), bytesOf(opt.adam.v)] });
  }

  async loadCheckpoint(ref: CheckpointRef): Promise<void> {
    this.checkOpen();
    const { meta: raw, payload } = await this.setup.checkpoints.load(ref);
    const meta = raw as Partial<CheckpointMeta> | null;
    const where = `the checkpoint of step ${ref.step}`;
    if (!meta || meta.format !== 'engine-trainer-1') throw new UserError(`${where} was not written by this trainer (format ${JSON.stringify(meta?.format)})`);
    if (meta.identity !== this.setup.identity) throw new UserError(`${where} was written for another model, adapter or data layout`);
    const size = this.session.trainable.length;
    const dtype = this.session.dtype;
    const width = dtype === 'float64' ? 8 : 4;
    if (meta.size !== size || meta.dtype !== dtype || payload.byteLength !== 3 * size * width) {
      throw new UserError(`${where} holds ${String(meta.size)} ${String(meta.dtype)} values, this trainer trains ${size} ${dtype} values`);
    }
    const params = floatsFrom(payload, 0, size, dtype);
    const m = floatsFrom(payload, size * width, size, dtype);
    const v = floatsFrom(payload, 2 * size * width, size, dtype);
    this.session.setTrainable(params);
    this.session.setOptimizerState({ adam: { step: meta.adamStep!, m, v }, stepsTaken: meta.stepsTaken!, stepsSkipped: meta.stepsSkipped! });
    this.main.restore(meta.main!);
    this.probe.restore(meta.probe!);
  }

  // ------------------------------------------------------------------ gradient alignment

  /** Copies of the loss gradient of each session slice of a batch, weighted by their scored tokens. */
  private async accumulateGradient(batch: TokenBatch, rows: number, into: Float64Array): Promise<{ sum: number; tokens: number }> {
    let sum = 0;
    let tokens = 0;
    for (const b of this.sessionBatches(batch, rows)) {
      const n = keptLabels(b);
      if (n === 0) continue;
      const { loss, grads } = await this.session.gradients(b);
      for (let i = 0; i < grads.length; i++) into[i] = into[i]! + n * grads[i]!;
      sum += n * loss;
      tokens += n;
    }
    return { sum, tokens };
  }

  async evalGradients(): Promise<{ losses: DomainLosses[]; gradients: Float32Array[] }> {
    this.checkOpen();
    const losses: DomainLosses[] = [];
    const gradients: Float32Array[] = [];
    const size = this.session.trainable.length;
    for (const set of this.probeSets) {
      const acc = new Float64Array(size);
      const batchLosses: number[] = [];
      const batchTokens: number[] = [];
      let sum = 0;
      let tokens = 0;
      for (let k = 0; k < set.batchCount; k++) {
        const r = await this.accumulateGradient(set.batch(k), set.rowsIn(k), acc);
        batchLosses.push(r.tokens > 0 ? r.sum / r.tokens : 0);
        batchTokens.push(r.tokens);
        sum += r.sum;
        tokens += r.tokens;
      }
      const g = new Float32Array(size);
      if (tokens > 0) for (let i = 0; i < size; i++) g[i] = acc[i]! / tokens;
      losses.push({ loss: tokens > 0 ? sum / tokens : NaN, batchLosses, batchTokens });
      gradients.push(g);
    }
    return { losses, gradients };
  }

  /**
   * AdamW's next update per unit learning rate on one probe batch of each source, computed from
   * the optimizer state without applying it: d = wd·θ (where θ decays) + m̂ / (√v̂ + ε), with the
   * gradient clipped as a training step clips it.
   */
  async updateDirections(): Promise<UpdateDirection[]> {
    this.checkOpen();
    const { beta1: b1, beta2: b2, eps, weightDecay } = this.setup.optimizer;
    const opt = this.session.getOptimizerState();
    const t = opt.adam.step + 1;
    const bc1 = 1 - b1 ** t;
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const lr = learningRate(this.setup.schedule, opt.stepsTaken);
    const theta = this.session.trainable;
    const decayMask = new Uint8Array(theta.length);
    for (const e of this.session.layout.entries) if (decays(e.name)) decayMask.fill(1, e.offset, e.offset + e.size);
    const out: UpdateDirection[] = [];
    for (let j = 0; j < this.sourceIds.length; j++) {
      this.probe.setWeights(Object.fromEntries(this.sourceIds.map((id, k) => [id, k === j ? 1 : 0])));
      const { grads } = await this.session.gradients(this.probe.next());
      const g = Float64Array.from(grads);
      const norm = globalNorm(g);
      const direction = new Float32Array(theta.length);
      if (Number.isFinite(norm)) {
        if (this.setup.maxGradNorm !== null) clipToNorm(g, norm, this.setup.maxGradNorm);
        for (let i = 0; i < g.length; i++) {
          const m = b1 * opt.adam.m[i]! + (1 - b1) * g[i]!;
          const v = b2 * opt.adam.v[i]! + (1 - b2) * g[i]! * g[i]!;
          direction[i] = (decayMask[i] === 1 ? weightDecay * theta[i]! : 0) + m / bc1 / (Math.sqrt(v) / bc2Sqrt + eps);
        }
      }
      out.push({ direction, learningRate: lr });
    }
    return out;
  }

  // ------------------------------------------------------------------ lifecycle

  private checkOpen(): void {
    if (this.closed) throw new Error('the trainer was closed');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.snapshots.clear();
    await this.session.release();
  }
}
