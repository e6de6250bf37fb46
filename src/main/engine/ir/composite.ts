// Composite ops, built from the primitives (so their gradients come from the primitives' rules):
// RMSNorm, LayerNorm, SiLU, GELU (exact and tanh), rotary position
// embeddings from a precomputed table, causal attention with grouped KV heads, and the causal-LM
// cross-entropy (Hugging Face convention: position t predicts label t+1, -100 ignored, mean over
// kept labels).
import type { GraphBuilder } from './builder';
import type { Value } from './graph';

export const IGNORE_INDEX = -100;

/** log-softmax over the last axis. */
export function logSoftmax(b: GraphBuilder, x: Value): Value {
  const z = b.sub(x, b.detach(b.reduceMax(x, [-1])));
  return b.sub(z, b.log(b.reduceSum(b.exp(z), [-1])));
}

/** x / sqrt(mean(x^2) + eps) * w, over the last axis (Llama's RMSNorm). */
export function rmsNorm(b: GraphBuilder, x: Value, w: Value, eps: number): Value {
  const ms = b.reduceMean(b.mul(x, x), [-1]);
  return b.mul(b.div(x, b.sqrt(b.addScalar(ms, eps))), w);
}

/** (x - mean) / sqrt(var + eps) * w + bias, over the last axis (biased variance, like PyTorch). */
export function layerNorm(b: GraphBuilder, x: Value, w: Value, bias: Value | undefined, eps: number): Value {
  const xc = b.sub(x, b.reduceMean(x, [-1]));
  const v = b.reduceMean(b.mul(xc, xc), [-1]);
  const y = b.mul(b.div(xc, b.sqrt(b.addScalar(v, eps))), w);
  return bias ? b.add(y, bias) : y;
}

export function silu(b: GraphBuilder, x: Value): Value {
  return b.mul(x, b.sigmoid(x));
}

/** Exact GELU: 0.5·x·(1 + erf(x/√2)). */
export function gelu(b: GraphBuilder, x: Value): Value {
  const inner = b.addScalar(b.erf(b.mulScalar(x, Math.SQRT1_2)), 1);
  return b.mul(b.mulScalar(x, 0.5), inner);
}

/** GELU, tanh approximation (GPT-2's gelu_new): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluTanh(b: GraphBuilder, x: Value): Value {
  const x3 = b.mul(b.mul(x, x), x);
  const u = b.mulScalar(b.add(x, b.mulScalar(x3, 0.044715)), Math.sqrt(2 / Math.PI));
  return b.mul(b.mulScalar(x, 0.5), b.addScalar(b.tanh(u), 1));
}

/** Rotary embedding tables cos/sin [T, headDim] (halves repeated, Hugging Face's layout), in float64. */
export function ropeTables(seqLen: number, invFreq: readonly number[]): { cos: Float64Array; sin: Float64Array } {
  const half = invFreq.length;
  const d = 2 * half;
  const cos = new Float64Array(seqLen * d);
  const sin = new Float64Array(seqLen * d);
  for (let t = 0; t < seqLen; t++) {
    for (let i = 0; i < half; i++) {
      const a = t * invFreq[i]!;
      cos[t * d + i] = cos[t * d + i + half] = Math.cos(a);
      sin[t * d + i] = sin[t * d + i + half] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/** Default RoPE inverse frequencies: theta^(-2i/d). */
export function ropeInvFreq(headDim: number, theta: number): number[] {
  return Array.from({ length: headDim / 2 }, (_, i) => 1 / Math.pow(theta, (2 * i) / headDim));
}

/** x·cos + rotate_half(x)·sin, with rotate_half(x) = [-x2, x1]; x [..., T, d], tables [T, d]. */
export function applyRope(b: GraphBuilder, x: Value, cos: Value, sin: Value): Value {
  const d = x.shape.at(-1)!;
  const x1 = b.slice(x, -1, 0, d / 2);
  const x2 = b.slice(x, -1, d / 2, d);
  const rotated = b.concat([b.neg(x2), x1], -1);
  return b.add(b.mul(x, cos), b.mul(rotated, sin));
}

/** Additive causal mask [T, T]: 0 on and below the diagonal, a large negative number above. */
export function causalMask(b: GraphBuilder, seqLen: number): Value {
  const m = new Float64Array(seqLen * seqLen);
  for (let i = 0; i < seqLen; i++) for (let j = i + 1; j < seqLen; j++) m[i * seqLen + j] = -1e9;
  return b.constant(m, [seqLen, seqLen]);
}

/** Repeats KV heads for grouped-query attention: [B, Hkv, T, d] -> [B, Hkv·rep, T, d]. */
export function repeatKv(b: GraphBuilder, x: Value, rep: number): Value {
  if (rep === 1) return x;
  const [B, H, T, d] = x.shape as [number, number, number, number];
  const e = b.expand(b.reshape(x, [B, H, 1, T, d]), [B, H, rep, T, d]);
  return b.reshape(e, [B, H * rep, T, d]);
}

/**
 * softmax(q·kᵀ/√d + causal mask)·v. q [B, H, T, d], k and v [B, Hkv, T, d] with H a multiple of
 * Hkv. Returns [B, H, T, d].
 */
export function causalAttention(b: GraphBuilder, q: Value, k: Value, v: Value, mask: Value): Value {
  const rep = q.shape[1]! / k.shape[1]!;
  const d = q.shape.at(-1)!;
  const kr = repeatKv(b, k, rep);
  const vr = repeatKv(b, v, rep);
  const scores = b.add(b.mulScalar(b.matmul(q, kr, { transB: true }), 1 / Math.sqrt(d)), mask); // [B, H, T, T]
  return b.matmul(b.softmax(scores), vr); // [B, H, T, d]
}

export interface CausalLmLoss {
  /** Mean negative log-likelihood over kept labels (NaN when none is kept). */
  loss: Value;
  /** Summed negative log-likelihood per sequence [B]. */
  lossSum: Value;
  /** Kept labels per sequence [B] (float). */
  tokenCount: Value;
}

/** Position t's target (labels[t+1], 0 where ignored) [B, T, 1] and whether it counts [B, T] (float). */
function shiftedTargets(b: GraphBuilder, labels: Value): { target: Value; keep: Value } {
  const [B, T] = labels.shape as [number, number];
  const ignore = b.constant(new Array<number>(B).fill(IGNORE_INDEX), [B, 1], labels.dtype);
  const shifted = T > 1 ? b.concat([b.slice(labels, 1, 1, T), ignore], 1) : ignore; // [B, T]
  const ignored = b.equal(shifted, b.scalar(IGNORE_INDEX, labels.dtype));
  const keep = b.sub(b.scalar(1), b.cast(ignored, b.dtype)); // [B, T]
  const target = b.reshape(b.where(ignored, b.scalar(0, labels.dtype), shifted), [B, T, 1]);
  return { target, keep };
}

/** -log softmax(logits)[target] = logsumexp(z) - z[target], z = logits - max; logits [..., V], target [..., 1]. */
function tokenNll(b: GraphBuilder, logits: Value, target: Value): Value {
  const z = b.sub(logits, b.detach(b.reduceMax(logits, [-1]))); // [..., V]
  const lse = b.log(b.reduceSum(b.exp(z), [-1])); // [..., 1]
  return b.sub(lse, b.gatherLast(z, target)); // [..., 1]
}

function reduceLoss(b: GraphBuilder, nll: Value, keep: Value): CausalLmLoss {
  const masked = b.mul(nll, keep);
  const lossSum = b.reduceSum(masked, [1], false); // [B]
  const tokenCount = b.reduceSum(keep, [1], false); // [B]
  const loss = b.div(b.reduceSum(lossSum, [0], false), b.reduceSum(tokenCount, [0], false));
  return { loss, lossSum, tokenCount };
}

/**
 * Cross-entropy of causal-LM logits [B, T, V] against labels [B, T] (int32, aligned with the
 * inputs): position t is scored against labels[t+1]; the last position and labels equal to -100
 * are ignored.
 */
export function causalLmLoss(b: GraphBuilder, logits: Value, labels: Value): CausalLmLoss {
  const [B, T] = labels.shape as [number, number];
  const { target, keep } = shiftedTargets(b, labels);
  return reduceLoss(b, b.reshape(tokenNll(b, logits, target), [B, T]), keep);
}

/**
 * The same cross-entropy from the final hidden states [B, T, C] and the head's table [V, C] (as
 * stored: a half-precision table is cast a slice at a time), without a [B·T, V] tensor: the
 * vocabulary is cut into slices of `sliceRows` rows, and each slice's logits for every position
 * [B·T, rows] are made, reduced to their max and sum of exponents, and dropped before the next
 * slice's. Each slice is a recomputation group, so the backward makes them again slice by slice
 * (passes/recompute.ts). log Σ exp combines the slices; the target's logit is the dot product of
 * each position's hidden state with its target's row of the table.
 */
export function slicedCausalLmLoss(b: GraphBuilder, hidden: Value, table: Value, labels: Value, sliceRows: number): CausalLmLoss {
  const [B, T, C] = hidden.shape as [number, number, number];
  const V = table.shape[0]!;
  const N = B * T;
  const asFloat = (x: Value) => (x.dtype === b.dtype ? x : b.cast(x, b.dtype));
  const { keep, rows, targetLogit } = b.scope('loss', () => {
    const { target, keep } = shiftedTargets(b, labels);
    const rows = b.reshape(hidden, [N, C]);
    const targetRows = asFloat(b.gather(table, b.reshape(target, [N]))); // [N, C]
    return { keep, rows, targetLogit: b.reduceSum(b.mul(rows, targetRows), [-1]) }; // [N, 1]
  });
  const maxima: Value[] = [];
  const sums: Value[] = [];
  for (let start = 0, i = 0; start < V; start += sliceRows, i++) {
    const end = Math.min(V, start + sliceRows);
    b.recomputeGroup(`loss:${i}`, () =>
      b.scope(`loss.slice${i}`, () => {
        const logits = b.matmul(rows, asFloat(b.slice(table, 0, start, end)), { transB: true }); // [N, rows]
        const m = b.detach(b.reduceMax(logits, [-1])); // [N, 1]
        maxima.push(m);
        sums.push(b.reduceSum(b.exp(b.sub(logits, m)), [-1])); // [N, 1]
      }),
    );
  }
  return b.scope('loss', () => {
    // log Σ_i s_i·exp(m_i - M) + M, with M the largest of the slices' maxima
    const top = b.detach(maxima.length === 1 ? maxima[0]! : b.reduceMax(b.concat(maxima, -1), [-1])); // [N, 1]
    let total: Value | undefined;
    for (let i = 0; i < sums.length; i++) {
      const part = b.mul(sums[i]!, b.exp(b.sub(maxima[i]!, top)));
      total = total ? b.add(total, part) : part;
    }
    const nll = b.sub(b.add(b.log(total!), top), targetLogit); // [N, 1]
    return reduceLoss(b, b.reshape(nll, [B, T]), keep);
  });
}
