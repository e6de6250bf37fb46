// Attention masks beyond the plain causal one: the sliding window of Mistral (Hugging Face's
// eager/sdpa semantics: query t sees keys t - window + 1 .. t) as a graph constant, and the additive
// masks the generation graphs take as inputs (a KV cache of fixed capacity plus a chunk of new
// tokens), computed here in plain TypeScript.
import type { GraphBuilder } from '../ir/builder';
import type { Value } from '../ir/graph';

/** Added to the scores of masked keys (finite, so a fully masked row cannot produce NaN from inf - inf). */
export const MASKED = -1e9;

/** Additive mask [T, T]: 0 where key j is within the window behind query i (i - window < j <= i). */
export function slidingWindowMask(b: GraphBuilder, seqLen: number, window: number): Value {
  const m = new Float64Array(seqLen * seqLen).fill(MASKED);
  for (let i = 0; i < seqLen; i++) for (let j = Math.max(0, i - window + 1); j <= i; j++) m[i * seqLen + j] = 0;
  return b.constant(m, [seqLen, seqLen]);
}

/**
 * The additive mask [C, S + C] of a chunk of C new tokens at positions `past .. past + C - 1`
 * attending to a cache of capacity S (of which the first `past` slots hold earlier tokens) followed
 * by the chunk itself. `valid` new tokens are real; the rest of the chunk is padding (masked for
 * everyone; its rows are computed but never read). `window` limits how far back a query looks.
 */
export function cachedChunkMask(capacity: number, chunk: number, past: number, valid: number, window: number | null, out?: Float32Array): Float32Array {
  const width = capacity + chunk;
  const m = out ?? new Float32Array(chunk * width);
  m.fill(MASKED);
  for (let i = 0; i < chunk; i++) {
    const q = past + i; // absolute position of the query
    const lo = window === null ? 0 : Math.max(0, q - window + 1);
    const row = i * width;
    for (let j = lo; j < past; j++) m[row + j] = 0; // cached keys
    for (let j = 0; j <= i && j < valid; j++) if (past + j >= lo) m[row + capacity + j] = 0; // the chunk's own keys, causal
  }
  return m;
}
