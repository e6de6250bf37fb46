// A per-source sampler: an endless stream of sequence indices that visits every sequence once per
// epoch in a seeded order reshuffled each epoch. Its whole state is {epoch, position}; the order
// of an epoch is recomputed from (seed, epoch), so a restored sampler continues identically.
import { Rng, deriveSeed, permutation } from './prng';
import type { SequenceSource } from './sequences';

export interface SamplerState {
  epoch: number;
  position: number;
}

export class SourceSampler {
  private epoch = 0;
  private position = 0;
  private order: Uint32Array | null = null;
  private orderEpoch = -1;

  constructor(
    readonly source: SequenceSource,
    readonly seed: string,
    state?: SamplerState,
  ) {
    if (source.count === 0) throw new Error('a sampler needs at least one sequence');
    if (state) this.restore(state);
  }

  private orderOf(epoch: number): Uint32Array {
    if (this.orderEpoch !== epoch || !this.order) {
      this.order = permutation(this.source.count, Rng.fromSeed(deriveSeed(this.seed, 'epoch', epoch)));
      this.orderEpoch = epoch;
    }
    return this.order;
  }

  /** The next sequence index; crosses into a freshly shuffled epoch when one ends. */
  next(): number {
    if (this.position >= this.source.count) {
      this.epoch++;
      this.position = 0;
    }
    return this.orderOf(this.epoch)[this.position++]!;
  }

  /** Writes the next sequence into row `row` of B×T arrays. */
  nextInto(inputIds: Int32Array, labels: Int32Array, row: number): number {
    const i = this.next();
    this.source.readInto(i, inputIds, labels, row);
    return i;
  }

  state(): SamplerState {
    return { epoch: this.epoch, position: this.position };
  }

  restore(state: SamplerState): void {
    const { epoch, position } = state;
    if (!Number.isInteger(epoch) || epoch < 0 || !Number.isInteger(position) || position < 0 || position > this.source.count) {
      throw new Error(`invalid sampler state ${JSON.stringify(state)} for a source of ${this.source.count} sequences`);
    }
    this.epoch = epoch;
    this.position = position;
  }

  /** Sequences drawn since the start (epochs × count + position). */
  get drawn(): number {
    return this.epoch * this.source.count + this.position;
  }
}
