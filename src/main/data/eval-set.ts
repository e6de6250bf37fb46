// Fixed evaluation sets: for one domain and split, the first rows·batches sequences of that split
// (the split's own fixed pseudo-random order), cut into batches that are identical every time they
// are built. The probe evaluation set is a prefix of the regular one (`prefix`), so a regular
// evaluation's per-sequence losses can stand in for a probe anchor. A short split is not cycled:
// the last batch is filled with padding rows whose labels are all -100.
import { createHash } from 'node:crypto';
import { IGNORE_LABEL, type TokenBatch } from '../engine/batch';
import type { SequenceSource } from './sequences';

export interface EvalSetOptions {
  batchSize: number;
  /** Batches wanted; fewer when the split is short. */
  maxBatches: number;
  /** Token id of padding rows. */
  padId: number;
}

export class EvalSet {
  /** Real (non-padding) sequences. */
  readonly rows: number;
  readonly batchCount: number;
  readonly batchSize: number;
  readonly seqLen: number;

  constructor(
    readonly id: string,
    private readonly sequences: SequenceSource,
    private readonly options: EvalSetOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new Error(`batch size must be a positive integer, got ${options.batchSize}`);
    if (!Number.isInteger(options.maxBatches) || options.maxBatches < 1) throw new Error(`batch count must be a positive integer, got ${options.maxBatches}`);
    this.batchSize = options.batchSize;
    this.seqLen = sequences.seqLen;
    this.rows = Math.min(sequences.count, options.batchSize * options.maxBatches);
    this.batchCount = Math.ceil(this.rows / options.batchSize);
  }

  /** Real rows in batch k (the last batch may be partly padding). */
  rowsIn(k: number): number {
    return Math.max(0, Math.min(this.batchSize, this.rows - k * this.batchSize));
  }

  batch(k: number): TokenBatch {
    if (!(k >= 0 && k < this.batchCount)) throw new RangeError(`eval batch ${k} is outside 0..${this.batchCount - 1}`);
    const B = this.batchSize;
    const T = this.seqLen;
    const inputIds = new Int32Array(B * T);
    const labels = new Int32Array(B * T);
    const real = this.rowsIn(k);
    for (let r = 0; r < real; r++) this.sequences.readInto(k * B + r, inputIds, labels, r);
    inputIds.fill(this.options.padId, real * T);
    labels.fill(IGNORE_LABEL, real * T);
    return { batchSize: B, seqLen: T, inputIds, labels };
  }

  *batches(): Generator<TokenBatch> {
    for (let k = 0; k < this.batchCount; k++) yield this.batch(k);
  }

  /** The first `batches` batches as their own set (the probe evaluation set). */
  prefix(batches: number): EvalSet {
    return new EvalSet(this.id, this.sequences, { ...this.options, maxBatches: Math.min(batches, this.options.maxBatches) });
  }

  /** sha256 over every batch: equal fingerprints mean identical evaluation data. */
  fingerprint(): string {
    const h = createHash('sha256');
    for (const b of this.batches()) {
      h.update(new Uint8Array(b.inputIds.buffer));
      h.update(new Uint8Array(b.labels.buffer));
    }
    return h.digest('hex');
  }
}
