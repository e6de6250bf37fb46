// Fixed-length training sequences over a list of tokenized examples, without materializing them:
// - packed: the examples' tokens (each already ending in EOS) are concatenated in order and cut
//   into windows of seqLen; loss masks travel with their tokens; the last window is padded.
//   Documents attend across their boundary inside a window (no attention reset), the usual
//   trade-off of packing.
// - padded: one example per row, truncated to seqLen, padded with the pad id (labels -100).
import { IGNORE_LABEL } from '../engine/batch';
import { NO_LOSS, TOKEN_ID_MASK } from './encode';
import type { TokenStore } from './token-cache';

export type PackingMode = 'packed' | 'padded';

/** A fixed list of sequences of one length; sequence i is always the same tokens. */
export interface SequenceSource {
  readonly count: number;
  readonly seqLen: number;
  /** Writes sequence i into row `row` of B×T arrays (ids, labels in the Hugging Face convention). */
  readInto(i: number, inputIds: Int32Array, labels: Int32Array, row: number): void;
}

/** Fills a row from raw cache tokens: the id, and the id as label unless the token has no loss. */
function decodeInto(raw: Uint32Array, n: number, inputIds: Int32Array, labels: Int32Array, at: number): void {
  for (let k = 0; k < n; k++) {
    const v = raw[k]!;
    const id = v & TOKEN_ID_MASK;
    inputIds[at + k] = id;
    labels[at + k] = (v & NO_LOSS) !== 0 ? IGNORE_LABEL : id;
  }
}

function padRow(inputIds: Int32Array, labels: Int32Array, from: number, to: number, padId: number): void {
  inputIds.fill(padId, from, to);
  labels.fill(IGNORE_LABEL, from, to);
}

export class PackedSequences implements SequenceSource {
  readonly count: number;
  readonly totalTokens: number;
  /** starts[k] = tokens before examples[k] in the packed stream; starts[n] = total. */
  private readonly starts: Float64Array;
  private readonly scratch: Uint32Array;

  constructor(
    private readonly store: TokenStore,
    private readonly examples: Uint32Array,
    readonly seqLen: number,
    private readonly padId: number,
  ) {
    if (!Number.isInteger(seqLen) || seqLen < 2) throw new Error(`sequence length must be an integer ≥ 2, got ${seqLen}`);
    this.starts = new Float64Array(examples.length + 1);
    for (let k = 0; k < examples.length; k++) this.starts[k + 1] = this.starts[k]! + store.length(examples[k]!);
    this.totalTokens = this.starts[examples.length]!;
    this.count = Math.ceil(this.totalTokens / seqLen);
    this.scratch = new Uint32Array(seqLen);
  }

  /** Index k of the example holding stream position `pos` (starts[k] ≤ pos < starts[k+1]). */
  private locate(pos: number): number {
    let lo = 0;
    let hi = this.examples.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  readInto(i: number, inputIds: Int32Array, labels: Int32Array, row: number): void {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`sequence ${i} is outside 0..${this.count - 1}`);
    const T = this.seqLen;
    const base = row * T;
    let pos = i * T;
    const end = Math.min(pos + T, this.totalTokens);
    let k = this.locate(pos);
    let filled = 0;
    while (pos < end) {
      // Skip zero-length examples (none are written, but the index allows them).
      while (this.starts[k + 1]! <= pos) k++;
      const ex = this.examples[k]!;
      const from = pos - this.starts[k]!;
      const n = Math.min(this.starts[k + 1]! - pos, end - pos);
      this.store.read(ex, from, n, this.scratch, filled);
      filled += n;
      pos += n;
      k++;
    }
    decodeInto(this.scratch, filled, inputIds, labels, base);
    padRow(inputIds, labels, base + filled, base + T, this.padId);
  }
}

export class PaddedSequences implements SequenceSource {
  readonly count: number;
  /** Examples longer than seqLen (cut at the end). */
  readonly truncated: number;
  private readonly scratch: Uint32Array;

  constructor(
    private readonly store: TokenStore,
    private readonly examples: Uint32Array,
    readonly seqLen: number,
    private readonly padId: number,
  ) {
    if (!Number.isInteger(seqLen) || seqLen < 2) throw new Error(`sequence length must be an integer ≥ 2, got ${seqLen}`);
    this.count = examples.length;
    let truncated = 0;
    for (let k = 0; k < examples.length; k++) if (store.length(examples[k]!) > seqLen) truncated++;
    this.truncated = truncated;
    this.scratch = new Uint32Array(seqLen);
  }

  readInto(i: number, inputIds: Int32Array, labels: Int32Array, row: number): void {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`sequence ${i} is outside 0..${this.count - 1}`);
    const T = this.seqLen;
    const ex = this.examples[i]!;
    const n = Math.min(this.store.length(ex), T);
    this.store.read(ex, 0, n, this.scratch, 0);
    decodeInto(this.scratch, n, inputIds, labels, row * T);
    padRow(inputIds, labels, row * T + n, row * T + T, this.padId);
  }
}
