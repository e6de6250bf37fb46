// Turns mixture weights w into training batches, reproducibly.
//
// The mixture rule: every sequence (row) of a batch draws its source independently from the
// categorical distribution w, using the batcher's own seeded generator, then takes the next
// sequence of that source's main stream. So w is exactly the expected share of sequences per
// source, a source with weight 0 is never touched (its stream does not advance), and the
// realized mixture of a batch varies around w as a multinomial draw (the paper's sampling model).
//
// Probe batches (METHOD.md §2) come from a second, separately seeded stream per source: probing
// never advances a main stream, so a run's data order is the same with or without probing, and
// the probe streams' positions are part of the state that probing snapshots and restores.
//
// The state (generator, weights, every stream's position) is plain JSON and restores to the
// identical continuation.
import type { TokenBatch } from '../engine/batch';
import { Rng, deriveSeed, type RngState } from './prng';
import { SourceSampler, type SamplerState } from './sampler';
import type { SequenceSource } from './sequences';

export interface MixtureSource {
  id: string;
  main: SourceSampler;
  probe: SourceSampler;
}

/** Main and probe streams of one source, seeded from the run seed and the source id (not its position). */
export function sourceStreams(id: string, sequences: SequenceSource, runSeed: string | number): MixtureSource {
  return {
    id,
    main: new SourceSampler(sequences, deriveSeed(String(runSeed), 'source', id, 'main')),
    probe: new SourceSampler(sequences, deriveSeed(String(runSeed), 'source', id, 'probe')),
  };
}

export interface MixtureState {
  version: 1;
  rng: RngState;
  weights: Record<string, number>;
  batches: number;
  streams: Record<string, { main: SamplerState; probe: SamplerState }>;
}

export interface MixtureOptions {
  seed: string | number;
  batchSize: number;
  /** Initial weights by source id (missing sources get 0). */
  weights: Record<string, number>;
}

const WEIGHT_TOLERANCE = 1e-6;

export class MixtureBatcher {
  private rng: Rng;
  private w: Float64Array;
  private batches = 0;
  readonly seqLen: number;
  readonly batchSize: number;
  /** Source index of each row of the last main batch. */
  lastSources: Uint16Array;

  constructor(
    private readonly sources: readonly MixtureSource[],
    options: MixtureOptions,
  ) {
    if (sources.length === 0) throw new Error('a mixture needs at least one source');
    if (sources.length > 65535) throw new Error('too many sources');
    const ids = new Set(sources.map((s) => s.id));
    if (ids.size !== sources.length) throw new Error('source ids must be distinct');
    const lengths = new Set(sources.flatMap((s) => [s.main.source.seqLen, s.probe.source.seqLen]));
    if (lengths.size !== 1) throw new Error(`all sources must have the same sequence length, found ${[...lengths].join(', ')}`);
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new Error(`batch size must be a positive integer, got ${options.batchSize}`);
    this.seqLen = [...lengths][0]!;
    this.batchSize = options.batchSize;
    this.rng = Rng.fromSeed(deriveSeed(String(options.seed), 'mixture'));
    this.w = this.checkWeights(options.weights);
    this.lastSources = new Uint16Array(options.batchSize);
  }

  private checkWeights(weights: Record<string, number>): Float64Array {
    const w = new Float64Array(this.sources.length);
    for (const key of Object.keys(weights)) {
      if (!this.sources.some((s) => s.id === key)) throw new Error(`weight for unknown source ${JSON.stringify(key)}`);
    }
    let sum = 0;
    this.sources.forEach((s, j) => {
      const v = weights[s.id] ?? 0;
      if (!Number.isFinite(v) || v < 0) throw new Error(`weight of ${s.id} must be a finite number ≥ 0, got ${v}`);
      w[j] = v;
      sum += v;
    });
    if (Math.abs(sum - 1) > WEIGHT_TOLERANCE) throw new Error(`mixture weights must sum to 1, they sum to ${sum}`);
    for (let j = 0; j < w.length; j++) w[j] = w[j]! / sum;
    return w;
  }

  /** Changes w from the next batch on (a mixture update). */
  setWeights(weights: Record<string, number>): void {
    this.w = this.checkWeights(weights);
  }

  get weights(): Record<string, number> {
    return Object.fromEntries(this.sources.map((s, j) => [s.id, this.w[j]!]));
  }

  private drawSource(): number {
    const u = this.rng.nextFloat();
    let acc = 0;
    let last = -1;
    for (let j = 0; j < this.w.length; j++) {
      const wj = this.w[j]!;
      if (wj <= 0) continue;
      acc += wj;
      last = j;
      if (u < acc) return j;
    }
    return last; // u fell in the rounding gap above the last cumulative sum
  }

  private emptyBatch(): TokenBatch {
    const n = this.batchSize * this.seqLen;
    return { batchSize: this.batchSize, seqLen: this.seqLen, inputIds: new Int32Array(n), labels: new Int32Array(n) };
  }

  /** The next training batch: each row from a source drawn from w. */
  next(): TokenBatch {
    const batch = this.emptyBatch();
    for (let row = 0; row < this.batchSize; row++) {
      const j = this.drawSource();
      this.lastSources[row] = j;
      this.sources[j]!.main.nextInto(batch.inputIds, batch.labels, row);
    }
    this.batches++;
    return batch;
  }

  /**
   * A directional probe batch [ours]: the mixture (1 − ε)·w + ε·e_toward drawn with common random
   * numbers. Every row draws two uniforms whatever the direction: the first sends it, with
   * probability ε, to source `toward`, which then reads its side stream (`probe`); otherwise the
   * second picks a source from w, which reads its main stream. So two directional probes from the
   * same state share every row that neither sends to its own direction — the same sources and the
   * same sequences — and their difference measures the directions, not the sampling.
   */
  nextDirectional(toward: number, epsilon: number): TokenBatch {
    if (!Number.isInteger(toward) || toward < 0 || toward >= this.sources.length) throw new Error(`no source at index ${toward}`);
    if (!(epsilon > 0 && epsilon <= 1)) throw new Error(`a directional probe needs 0 < ε ≤ 1, got ${epsilon}`);
    const batch = this.emptyBatch();
    for (let row = 0; row < this.batchSize; row++) {
      const side = this.rng.nextFloat() < epsilon;
      const j = this.drawSource();
      const source = this.sources[side ? toward : j]!;
      (side ? source.probe : source.main).nextInto(batch.inputIds, batch.labels, row);
      this.lastSources[row] = side ? toward : j;
    }
    this.batches++;
    return batch;
  }

  /** A probe batch: every row from source `id`'s probe stream. The main streams and the generator are untouched. */
  probeBatch(id: string): TokenBatch {
    const source = this.sources.find((s) => s.id === id);
    if (!source) throw new Error(`no source ${JSON.stringify(id)}`);
    const batch = this.emptyBatch();
    for (let row = 0; row < this.batchSize; row++) source.probe.nextInto(batch.inputIds, batch.labels, row);
    return batch;
  }

  /** Source ids in order, matching `lastSources`. */
  get sourceIds(): string[] {
    return this.sources.map((s) => s.id);
  }

  get batchCount(): number {
    return this.batches;
  }

  state(): MixtureState {
    return {
      version: 1,
      rng: this.rng.state(),
      weights: this.weights,
      batches: this.batches,
      streams: Object.fromEntries(this.sources.map((s) => [s.id, { main: s.main.state(), probe: s.probe.state() }])),
    };
  }

  /** Restores a state from `state()` (possibly after a JSON round trip). */
  restore(state: MixtureState): void {
    if (state.version !== 1) throw new Error(`unknown mixture state version ${String(state.version)}`);
    for (const s of this.sources) {
      if (!state.streams[s.id]) throw new Error(`the saved mixture state has no stream for source ${JSON.stringify(s.id)}`);
    }
    const rng = Rng.fromState(state.rng);
    const w = this.checkWeights(state.weights);
    for (const s of this.sources) {
      const saved = state.streams[s.id]!;
      s.main.restore(saved.main);
      s.probe.restore(saved.probe);
    }
    this.rng = rng;
    this.w = w;
    this.batches = state.batches;
  }

  /** Positions of the probe streams only, for snapshotting around a probe (METHOD.md §2). */
  probeState(): Record<string, SamplerState> {
    return Object.fromEntries(this.sources.map((s) => [s.id, s.probe.state()]));
  }

  restoreProbeState(state: Record<string, SamplerState>): void {
    for (const s of this.sources) {
      const saved = state[s.id];
      if (!saved) throw new Error(`the probe snapshot has no stream for source ${JSON.stringify(s.id)}`);
      s.probe.restore(saved);
    }
  }
}
