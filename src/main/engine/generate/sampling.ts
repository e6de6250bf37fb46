// Choosing the next token from logits, as transformers' generate does: greedy (argmax, first index
// on ties), or sampling after temperature, top-k and top-p (nucleus) filtering, in that order,
// from a seeded generator so a seed reproduces a sample. Pure functions over a Float32Array.
import { InvalidInputError } from '../../../shared/errors';
import type { Rng } from '../train/rng';

export interface SamplingOptions {
  /** 0 = greedy. */
  temperature: number;
  /** Keep the smallest set of most likely tokens whose probability reaches top_p (1 = off). */
  topP: number;
  /** Keep the k most likely tokens (0 = off). */
  topK: number;
}

export const GREEDY: SamplingOptions = { temperature: 0, topP: 1, topK: 0 };

export function validateSampling(o: SamplingOptions): SamplingOptions {
  if (!Number.isFinite(o.temperature) || o.temperature < 0) throw new InvalidInputError(`temperature must be a number >= 0 (0 = greedy), got ${o.temperature}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new InvalidInputError(`top_p must be in (0, 1], got ${o.topP}`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new InvalidInputError(`top_k must be an integer >= 0 (0 = off), got ${o.topK}`);
  return o;
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** log softmax(logits)[id], computed stably. */
export function logProbOf(logits: ArrayLike<number>, id: number): number {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]!);
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i]! - m);
  return logits[id]! - m - Math.log(s);
}

/** Indices of the k largest values (unordered), by a bounded min-heap. */
function topKIndices(x: ArrayLike<number>, k: number): number[] {
  const heap: number[] = [];
  const less = (a: number, b: number) => x[a]! < x[b]! || (x[a] === x[b] && a > b);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let i = 0; i < x.length; i++) {
    if (heap.length < k) {
      heap.push(i);
      for (let j = heap.length - 1; j > 0; ) {
        const p = (j - 1) >> 1;
        if (!less(heap[j]!, heap[p]!)) break;
        [heap[j], heap[p]] = [heap[p]!, heap[j]!];
        j = p;
      }
    } else if (less(heap[0]!, i)) {
      heap[0] = i;
      down(0);
    }
  }
  return heap;
}

/** The next token: argmax when temperature is 0, else a draw from the filtered distribution. */
export function chooseToken(logits: Float32Array, o: SamplingOptions, rng: Rng): number {
  if (o.temperature === 0) return argmax(logits);
  const V = logits.length;
  let ids = o.topK > 0 && o.topK < V ? topKIndices(logits, o.topK) : Array.from({ length: V }, (_, i) => i);
  let m = -Infinity;
  for (const i of ids) m = Math.max(m, logits[i]!);
  let probs = ids.map((i) => Math.exp((logits[i]! - m) / o.temperature));
  let total = probs.reduce((a, b) => a + b, 0);
  if (o.topP < 1) {
    const order = ids.map((_, j) => j).sort((a, b) => probs[b]! - probs[a]! || ids[a]! - ids[b]!);
    const keep: number[] = [];
    let cum = 0;
    for (const j of order) {
      keep.push(j);
      cum += probs[j]! / total;
      if (cum >= o.topP) break;
    }
    ids = keep.map((j) => ids[j]!);
    probs = keep.map((j) => probs[j]!);
    total = probs.reduce((a, b) => a + b, 0);
  }
  let u = rng.next() * total;
  for (let j = 0; j < ids.length; j++) {
    u -= probs[j]!;
    if (u < 0) return ids[j]!;
  }
  return ids[ids.length - 1]!;
}
