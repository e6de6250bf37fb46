// What a LoRA train step holds in memory, as arithmetic over the engine's graphs (not a
// measurement): the activations the backward reads, per layer and position, and what the
// cross-entropy's chunks and the recomputed layer add at their peak. `dynamics model info` and the
// session's recomputation default use it; tests/bench/models.ts measures it against the real peak.
import { lossChunkRows } from './graphs';
import type { ModelShape } from './models/causal-lm';

/** float32 values the backward reads per position of one layer: norms, q/k/v, attention output, MLP (×5 F), scores per key. */
function layerFloatsPerPosition(s: ModelShape, T: number): number {
  return 8 * s.hidden + 2 * (s.heads + 2 * s.kvHeads) * s.headDim + 5 * s.intermediate + 2 * s.heads * T;
}

/** Bytes of the activations a train step keeps from its forward for its backward, without recomputation. */
export function savedActivationBytes(s: ModelShape, batchSize: number, seqLen: number): number {
  return 4 * batchSize * seqLen * layerFloatsPerPosition(s, seqLen) * s.layers;
}

/** With recomputation: each layer's input for every layer, and one layer's activations at a time. */
export function recomputedActivationBytes(s: ModelShape, batchSize: number, seqLen: number): number {
  return 4 * batchSize * seqLen * (s.hidden * s.layers + layerFloatsPerPosition(s, seqLen));
}

/** Bytes of the cross-entropy's peak: a few [rows × vocab] buffers of one chunk (logits, exponent, gradient). */
export function lossChunkBytes(s: ModelShape, batchSize: number, seqLen: number): number {
  return 4 * 3 * lossChunkRows(batchSize * seqLen, s.vocab) * s.vocab;
}
