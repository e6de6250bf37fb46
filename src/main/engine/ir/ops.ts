// The closed set of primitive ops and their attributes. Everything a model needs (softmax, norms,
// attention, cross-entropy) is composed from these in ir/composite.ts; each op has exactly one
// entry in ir/registry.ts with its shape rule, ONNX emission and gradient rule.
import type { DType } from './types';

type NoAttrs = Record<string, never>;

export interface OpAttrs {
  // elementwise, numpy broadcasting
  add: NoAttrs;
  sub: NoAttrs;
  mul: NoAttrs;
  div: NoAttrs;
  // elementwise unary
  neg: NoAttrs;
  exp: NoAttrs;
  log: NoAttrs;
  sqrt: NoAttrs;
  tanh: NoAttrs;
  sigmoid: NoAttrs;
  erf: NoAttrs;
  /** Identity whose gradient is zero (a max subtracted for stability, anything treated as a constant). */
  detach: NoAttrs;
  /** Softmax over the last axis, one kernel: only its output is kept for the backward. */
  softmax: NoAttrs;
  // linear algebra: rank >= 2, equal batch dims, optional transposes of the last two dims
  matmul: { transA: boolean; transB: boolean };
  // reductions
  reduceSum: { axes: readonly number[]; keepDims: boolean };
  reduceMax: { axes: readonly number[]; keepDims: boolean };
  // layout
  reshape: { shape: readonly number[] };
  transpose: { perm: readonly number[] };
  expand: { shape: readonly number[] };
  slice: { axis: number; start: number; end: number };
  concat: { axis: number };
  /**
   * x, unchanged, once `token` (a scalar) is computed: an ordering edge for ONNX Runtime's
   * scheduler (passes/recompute.ts makes a weight's cast wait for the backward to need it). No
   * gradient: the pass adds it after the gradients are built.
   */
  after: NoAttrs;
  // indexing
  /** Rows of a table [V, ...] picked by integer ids [...]: out [...ids, ...]. */
  gather: NoAttrs;
  /** The adjoint of gather: updates [...ids, ...] summed into `rows` zero rows by id. */
  scatterRows: { rows: number };
  /** Picks x[..., idx[..., 0]] along the last axis: x [..., V], idx [..., 1] -> [..., 1]. */
  gatherLast: NoAttrs;
  /** The adjoint of gatherLast: values [..., 1] summed into zeros [..., size] at idx. */
  scatterLast: { size: number };
  // types and masks (no gradient flows through the integer or boolean side)
  cast: { to: DType };
  equal: NoAttrs;
  where: NoAttrs;
}

export type OpName = keyof OpAttrs;

export const OP_NAMES: readonly OpName[] = [
  'add', 'sub', 'mul', 'div', 'neg', 'exp', 'log', 'sqrt', 'tanh', 'sigmoid', 'erf', 'detach', 'softmax',
  'matmul', 'reduceSum', 'reduceMax', 'reshape', 'transpose', 'expand', 'slice', 'concat', 'after',
  'gather', 'scatterRows', 'gatherLast', 'scatterLast', 'cast', 'equal', 'where',
];
