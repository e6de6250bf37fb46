// Fixed-length training sequences over a list of tokenized examples, without materializing them:
// - packed: the examples' tokens (each already ending in EOS) are concatenated in order and cut
//   into windows of seqLen; loss masks travel with their tokens; the last window is padded.
//   Documents attend across their boundary inside a window (no attention reset), the usual
//   trade-off of packing.
// - padded: one example per row, padded with the pad id (labels -100). An example longer than
//   seqLen is cut from the left (keeping its end: a chat's final answer, a completion), cut from
//   the right, or dropped; how many were, and the tokens lost, are counted.
import { IGNORE_LABEL } from '../engine/batch';
import { NO_LOSS, TOKEN_ID_MASK } from './encode';
import type { TokenStore } from './token-cache';

export type PackingMode = 'packed' | 'padded';

/** What a padded row does with an example longer than seqLen. */
export type Truncation = 'left' | 'right' | 'drop';

/** Examples longer than seqLen in a padded split, and what they lost. */
export interface TruncationStats {
  /** Examples cut (left/right) or dropped. */
  examples: number;
  tokensLost: number;
  /** Of the tokens lost, those that carried loss. */
  lossTokensLost: number;
}

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
  /** Examples longer than seqLen (cut, or dropped with `drop`). */
  readonly truncated: number;
  readonly truncation: TruncationStats;
  private readonly rows: Uint32Array;
  private readonly scratch: Uint32Array;

  constructor(
    private readonly store: TokenStore,
    examples: Uint32Array,
    readonly seqLen: number,
    private readonly padId: number,
    readonly mode: Truncation = 'left',
  ) {
    if (!Number.isInteger(seqLen) || seqLen < 2) throw new Error(`sequence length must be an integer ≥ 2, got ${seqLen}`);
    this.scratch = new Uint32Array(seqLen);
    const stats: TruncationStats = { examples: 0, tokensLost: 0, lossTokensLost: 0 };
    const kept: number[] = [];
    for (let k = 0; k < examples.length; k++) {
      const ex = examples[k]!;
      const len = store.length(ex);
      if (len <= seqLen) {
        kept.push(ex);
        continue;
      }
      stats.examples++;
      // The part that is not trained on: everything with `drop`, else the cut end.
      const [from, n] = mode === 'drop' ? [0, len] : mode === 'left' ? [0, len - seqLen] : [seqLen, len - seqLen];
      stats.tokensLost += n;
      stats.lossTokensLost += this.lossTokens(ex, from, n);
      if (mode !== 'drop') kept.push(ex);
    }
    this.rows = Uint32Array.from(kept);
    this.count = this.rows.length;
    this.truncated = stats.examples;
    this.truncation = stats;
  }

  private lossTokens(ex: number, from: number, n: number): number {
    let count = 0;
    for (let at = 0; at < n; at += this.seqLen) {
      const m = Math.min(this.seqLen, n - at);
      this.store.read(ex, from + at, m, this.scratch, 0);
      for (let k = 0; k < m; k++) if ((this.scratch[k]! & NO_LOSS) === 0) count++;
    }
    return count;
  }

  readInto(i: number, inputIds: Int32Array, labels: Int32Array, row: number): void {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`sequence ${i} is outside 0..${this.count - 1}`);
    const T = this.seqLen;
    const ex = this.rows[i]!;
    const len = this.store.length(ex);
    const n = Math.min(len, T);
    this.store.read(ex, this.mode === 'left' ? len - n : 0, n, this.scratch, 0);
    decodeInto(this.scratch, n, inputIds, labels, row * T);
    padRow(inputIds, labels, row * T + n, row * T + T, this.padId);
  }
}
