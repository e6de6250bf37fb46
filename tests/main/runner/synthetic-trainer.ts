// SyntheticTrainer: a test double of the Trainer interface, with known quadratic loss dynamics, so
// the experiment loop can be tested where the right answer is known and every run takes
// milliseconds. It is not a model: parameters are a short vector θ.
//
// - Source j's training loss is f_j(θ) = ½ Σ_k h_jk (θ_k − p_jk)²; one training example from j
//   contributes ∇f_j(θ) plus Gaussian noise (σ·√h_jk on coordinate k) drawn from j's stream. A step draws `batchSize` examples
//   from the mixture (the stream's mixture sampler picks each example's source).
// - The optimizer is SGD with momentum: its state (velocity, step count) stands in for Adam's.
// - Domain i's loss on evaluation batch b is base_i + ½ Σ_k q_ik (θ_k − r_ik − ρ_ibk)², where the
//   per-batch offsets ρ are fixed (the batch's data), so evaluation sets are fixed and per-batch losses
//   differ in how they respond to θ, as real batches do.
// - Streams: per source a main and a probe noise stream, plus a main and a probe mixture sampler,
//   each a seeded generator whose state is one integer (so snapshots and checkpoints capture them).
import type { RunConfig } from '../../../src/shared/run-config';
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
} from '../../../src/main/runner/trainer';

export interface SyntheticSource {
  id: string;
  /** p_j: where this source pulls each coordinate. */
  optimum: number[];
  /** h_j: how hard (0 = not at all). */
  curvature: number[];
}

export interface SyntheticDomain {
  id: string;
  base: number;
  optimum: number[];
  curvature: number[];
}

export interface SyntheticScenario {
  theta0: number[];
  sources: SyntheticSource[];
  domains: SyntheticDomain[];
  /** Standard deviation of each example's gradient noise, per coordinate. */
  gradientNoise: number;
  /** Standard deviation of the per-batch offsets ρ of evaluation batches. */
  batchSpread: number;
}

export interface SyntheticOptions {
  learningRate: number;
  momentum: number;
  batchSize: number;
  regularBatches: number;
  probeBatches: number;
  testBatches: number;
  seed: number;
  tokensPerExample?: number;
}

/** The options a run config implies. */
export function syntheticOptionsFrom(config: RunConfig, momentum = 0.5): SyntheticOptions {
  return {
    learningRate: config.training.learningRate,
    momentum,
    batchSize: config.training.batchSize,
    regularBatches: config.evaluation.regularBatches,
    probeBatches: config.evaluation.probeBatches,
    testBatches: config.evaluation.testBatches,
    seed: config.seed,
  };
}

/** mulberry32 with its state exposed. */
function nextUniform(state: { s: number }): number {
  state.s = (state.s + 0x6d2b79f5) >>> 0;
  let t = state.s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function nextNormal(state: { s: number }): number {
  const u = Math.max(nextUniform(state), 1e-12);
  const v = nextUniform(state);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

interface Streams {
  noise: number[];
  mixer: number;
  /** Per source: the noise of directional probes' direction rows (probe streams only). */
  side?: number[];
}

interface FullState {
  theta: number[];
  velocity: number[];
  step: number;
  main: Streams;
  probe: Streams;
}

interface Snapshot {
  theta: number[];
  velocity: number[];
  step: number;
  probe: Streams;
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

export class SyntheticTrainer implements Trainer {
  readonly info: TrainerInfo;
  private readonly tokensPerStep: number;
  private s: FullState;
  private readonly offsets: Record<EvalSplit | 'regular', number[][][]>;
  private readonly checkpoints = new Map<string, FullState>();
  private readonly snapshots = new Set<Snapshot>();
  /** Counters the tests read: calls by kind. */
  readonly calls = { train: { main: 0, probe: 0 }, evaluate: { probe: 0, regular: 0, test: 0 }, snapshot: 0, restore: 0, save: 0, load: 0 };
  /** Every main-stream step's example sources, in order (the main data order). */
  readonly mainOrder: number[] = [];
  /** The mixture of every probe-stream training call, in order. */
  readonly probeMixtures: number[][] = [];

  constructor(
    readonly scenario: SyntheticScenario,
    readonly options: SyntheticOptions,
  ) {
    const d = scenario.theta0.length;
    const n = scenario.sources.length;
    const seed = options.seed >>> 0;
    const stream = (k: number) => (seed * 2654435761 + k * 40503) >>> 0;
    this.s = {
      theta: [...scenario.theta0],
      velocity: new Array<number>(d).fill(0),
      step: 0,
      main: { noise: Array.from({ length: n }, (_, j) => stream(1 + j)), mixer: stream(1000) },
      probe: { noise: Array.from({ length: n }, (_, j) => stream(2000 + j)), mixer: stream(3000), side: Array.from({ length: n }, (_, j) => stream(4000 + j)) },
    };
    const offsetSet = (count: number, salt: number) => {
      const st = { s: stream(salt) };
      return scenario.domains.map(() => Array.from({ length: count }, () => Array.from({ length: d }, () => scenario.batchSpread * nextNormal(st))));
    };
    const regular = offsetSet(options.regularBatches, 5000);
    this.offsets = { regular, probe: regular.map((batches) => batches.slice(0, options.probeBatches)), test: offsetSet(options.testBatches, 6000) };
    this.tokensPerStep = options.batchSize * (options.tokensPerExample ?? 64);
    this.info = { sourceSizes: scenario.sources.map(() => 1_000_000) };
  }

  /** The current parameters, optimizer state and main-stream positions, for assertions. */
  fingerprint(): { theta: number[]; velocity: number[]; step: number; main: Streams } {
    return clone({ theta: this.s.theta, velocity: this.s.velocity, step: this.s.step, main: this.s.main });
  }

  /** The probe streams' positions, for assertions. */
  probeStreams(): Streams {
    return clone(this.s.probe);
  }

  /** Domain i's exact loss at θ (no batch offsets): the noiseless truth. */
  trueLoss(i: number, theta = this.s.theta): number {
    const dom = this.scenario.domains[i] as SyntheticDomain;
    return dom.base + 0.5 * theta.reduce((acc, t, k) => acc + (dom.curvature[k] as number) * (t - (dom.optimum[k] as number)) ** 2, 0);
  }

  private batchLoss(i: number, offsets: number[]): number {
    const dom = this.scenario.domains[i] as SyntheticDomain;
    return dom.base + 0.5 * this.s.theta.reduce((acc, t, k) => acc + (dom.curvature[k] as number) * (t - (dom.optimum[k] as number) - (offsets[k] as number)) ** 2, 0);
  }

  async evaluate(split: EvalSplit): Promise<DomainLosses[]> {
    this.calls.evaluate[split]++;
    const tokens = this.options.batchSize * (this.options.tokensPerExample ?? 64);
    return this.offsets[split].map((batches, i) => {
      const batchLosses = batches.map((o) => this.batchLoss(i, o));
      return { loss: batchLosses.reduce((a, b) => a + b, 0) / batchLosses.length, batchLosses, batchTokens: batchLosses.map(() => tokens) };
    });
  }

  private sourceGradient(j: number, noiseState: { s: number }): number[] {
    const src = this.scenario.sources[j] as SyntheticSource;
    // Noise only along the coordinates this source's data touches (scaled by √h), as real
    // gradient noise lives in the directions the data moves.
    return this.s.theta.map((t, k) => {
      const h = src.curvature[k] as number;
      return h * (t - (src.optimum[k] as number)) + this.scenario.gradientNoise * Math.sqrt(h) * nextNormal(noiseState);
    });
  }

  private pickSource(mixture: readonly number[], mixer: { s: number }): number {
    const u = nextUniform(mixer);
    let acc = 0;
    for (let j = 0; j < mixture.length; j++) {
      acc += mixture[j] as number;
      if (u < acc) return j;
    }
    // Round-off: the last source with positive weight.
    for (let j = mixture.length - 1; j >= 0; j--) if ((mixture[j] as number) > 0) return j;
    return 0;
  }

  private batchGradient(mixture: readonly number[], streams: Streams, record: boolean, direction?: TrainRequest['direction']): number[] {
    const d = this.s.theta.length;
    const g = new Array<number>(d).fill(0);
    const mixer = { s: streams.mixer };
    for (let b = 0; b < this.options.batchSize; b++) {
      // Directional probes draw as the engine's batcher does: two uniforms per example always.
      const side = direction ? nextUniform(mixer) < direction.epsilon : false;
      const drawn = this.pickSource(mixture, mixer);
      const j = side ? direction!.toward : drawn;
      if (record) this.mainOrder.push(j);
      const noiseStreams = side ? streams.side! : streams.noise;
      const noise = { s: noiseStreams[j] as number };
      const gj = this.sourceGradient(j, noise);
      noiseStreams[j] = noise.s;
      for (let k = 0; k < d; k++) g[k] = (g[k] as number) + (gj[k] as number) / this.options.batchSize;
    }
    streams.mixer = mixer.s;
    return g;
  }

  async train(request: TrainRequest): Promise<TrainStats> {
    this.calls.train[request.stream]++;
    const { direction } = request;
    const mixture = direction ? request.mixture.map((w, j) => (1 - direction.epsilon) * w + (j === direction.toward ? direction.epsilon : 0)) : request.mixture;
    if (request.stream === 'probe') this.probeMixtures.push([...mixture]);
    const streams = request.stream === 'main' ? this.s.main : this.s.probe;
    let lossSum = 0;
    for (let step = 0; step < request.steps; step++) {
      const g = this.batchGradient(request.mixture, streams, request.stream === 'main', direction);
      this.s.velocity = this.s.velocity.map((v, k) => this.options.momentum * v + (g[k] as number));
      this.s.theta = this.s.theta.map((t, k) => t - this.options.learningRate * (this.s.velocity[k] as number));
      this.s.step++;
      lossSum += mixture.reduce((acc, w, j) => acc + w * this.sourceLoss(j), 0);
    }
    return { steps: request.steps, tokens: request.steps * this.tokensPerStep, meanLoss: request.steps > 0 ? lossSum / request.steps : NaN, skippedSteps: 0 };
  }

  private sourceLoss(j: number): number {
    const src = this.scenario.sources[j] as SyntheticSource;
    return 0.5 * this.s.theta.reduce((acc, t, k) => acc + (src.curvature[k] as number) * (t - (src.optimum[k] as number)) ** 2, 0);
  }

  async snapshot(): Promise<TrainerSnapshot> {
    this.calls.snapshot++;
    const snap: Snapshot = clone({ theta: this.s.theta, velocity: this.s.velocity, step: this.s.step, probe: this.s.probe });
    this.snapshots.add(snap);
    return snap as unknown as TrainerSnapshot;
  }

  async restore(snapshot: TrainerSnapshot, scope: RestoreScope): Promise<void> {
    this.calls.restore++;
    const snap = snapshot as unknown as Snapshot;
    if (!this.snapshots.has(snap)) throw new Error('restore of a released or foreign snapshot');
    this.s.theta = [...snap.theta];
    this.s.velocity = [...snap.velocity];
    this.s.step = snap.step;
    if (scope === 'all') this.s.probe = clone(snap.probe);
  }

  async release(snapshot: TrainerSnapshot): Promise<void> {
    this.snapshots.delete(snapshot as unknown as Snapshot);
  }

  /** Snapshots not yet released (a leak check). */
  get liveSnapshots(): number {
    return this.snapshots.size;
  }

  async saveCheckpoint(step: number): Promise<CheckpointRef> {
    this.calls.save++;
    const id = `ckpt-${step}-${this.checkpoints.size}`;
    this.checkpoints.set(id, clone(this.s));
    return { step, id };
  }

  async loadCheckpoint(ref: CheckpointRef): Promise<void> {
    this.calls.load++;
    const saved = this.checkpoints.get(ref.id);
    if (!saved) throw new Error(`no checkpoint ${ref.id}`);
    this.s = clone(saved);
  }

  /** Copies another trainer's checkpoints (a resumed process reading the same checkpoint files). */
  adoptCheckpoints(other: SyntheticTrainer): void {
    for (const [id, state] of other.checkpoints) this.checkpoints.set(id, clone(state));
  }

  async evalGradients(): Promise<{ losses: DomainLosses[]; gradients: Float32Array[] }> {
    const losses = await this.evaluate('probe');
    const gradients = this.offsets.probe.map((batches, i) => {
      const dom = this.scenario.domains[i] as SyntheticDomain;
      const g = new Float32Array(this.s.theta.length);
      for (const o of batches) this.s.theta.forEach((t, k) => (g[k] = (g[k] as number) + ((dom.curvature[k] as number) * (t - (dom.optimum[k] as number) - (o[k] as number))) / batches.length));
      return g;
    });
    return { losses, gradients };
  }

  async updateDirections(): Promise<UpdateDirection[]> {
    const d = this.s.theta.length;
    return this.scenario.sources.map((_, j) => {
      const noise = { s: this.s.probe.noise[j] as number };
      const g = new Array<number>(d).fill(0);
      for (let b = 0; b < this.options.batchSize; b++) {
        const gj = this.sourceGradient(j, noise);
        for (let k = 0; k < d; k++) g[k] = (g[k] as number) + (gj[k] as number) / this.options.batchSize;
      }
      this.s.probe.noise[j] = noise.s;
      const direction = Float32Array.from(this.s.velocity.map((v, k) => this.options.momentum * v + (g[k] as number)));
      return { direction, learningRate: this.options.learningRate };
    });
  }
}
