// Registry entries of matmul and the reductions. Rank-2 matmuls with a transposed operand emit
// Gemm (no transposed copy of a weight is materialized); batched ones emit Transpose + MatMul,
// which ONNX Runtime fuses.
import type { Node, Value } from './graph';
import type { EmitContext, InferredType, OpRules } from './rule';
import { isFloat, isHalf, normAxis, sameShape } from './types';

function matmulType(inputs: readonly Value[], attrs: { transA: boolean; transB: boolean }): InferredType {
  const [a, b] = inputs;
  if (!a || !b || inputs.length !== 2) throw new Error('needs two inputs');
  // half precision: products with a frozen base weight under half compute (GraphBuilder.storedMatmul)
  if (a.dtype !== b.dtype || !(isFloat(a.dtype) || isHalf(a.dtype))) throw new Error('needs two float inputs of one dtype');
  if (a.rank < 2 || a.rank !== b.rank) throw new Error('needs inputs of equal rank >= 2');
  if (!sameShape(a.shape.slice(0, -2), b.shape.slice(0, -2))) throw new Error('batch dims differ');
  const [m, k] = attrs.transA ? [a.shape[a.rank - 1]!, a.shape[a.rank - 2]!] : [a.shape[a.rank - 2]!, a.shape[a.rank - 1]!];
  const [k2, n] = attrs.transB ? [b.shape[b.rank - 1]!, b.shape[b.rank - 2]!] : [b.shape[b.rank - 2]!, b.shape[b.rank - 1]!];
  if (k !== k2) throw new Error(`inner dims differ (${k} vs ${k2})`);
  return { shape: [...a.shape.slice(0, -2), m, n], dtype: a.dtype };
}

function swapLast(rank: number): number[] {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  return perm;
}

function emitMatmul(ctx: EmitContext, node: Node<'matmul'>): void {
  const { transA, transB } = node.attrs;
  const rank = node.output.rank;
  const [a, b] = ctx.inputs as [string, string];
  if (rank === 2 && (transA || transB)) {
    ctx.node('Gemm', [a, b], [ctx.output], { transA: { kind: 'int', value: transA ? 1 : 0 }, transB: { kind: 'int', value: transB ? 1 : 0 } });
    return;
  }
  const t = (name: string, flag: boolean): string => {
    if (!flag) return name;
    const out = ctx.temp('T');
    ctx.node('Transpose', [name], [out], { perm: { kind: 'ints', value: swapLast(rank) } });
    return out;
  };
  ctx.node('MatMul', [t(a, transA), t(b, transB)], [ctx.output]);
}

function reduceType(inputs: readonly Value[], attrs: { axes: readonly number[]; keepDims: boolean }): InferredType {
  const [x] = inputs;
  if (!x || inputs.length !== 1 || !isFloat(x.dtype)) throw new Error('needs one float input');
  if (attrs.axes.length === 0) throw new Error('needs at least one axis');
  const axes = new Set(attrs.axes.map((a) => normAxis(a, x.rank)));
  const shape: number[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.has(i)) shape.push(d);
    else if (attrs.keepDims) shape.push(1);
  });
  return { shape, dtype: x.dtype };
}

/** The reduced shape with kept dims (where a reduction's gradient is broadcast from). */
function keptShape(x: Value, axes: readonly number[]): number[] {
  const set = new Set(axes.map((a) => normAxis(a, x.rank)));
  return x.shape.map((d, i) => (set.has(i) ? 1 : d));
}

export const linalgOps: OpRules<'matmul' | 'reduceSum' | 'reduceMax'> = {
  matmul: {
    infer: matmulType,
    emit: emitMatmul,
    grad: (b, n, g, needs) => {
      const [x, y] = n.inputs as [Value, Value];
      const { transA, transB } = n.attrs;
      let gx: Value | undefined;
      let gy: Value | undefined;
      if (!transA && !transB) {
        // C = A B: dA = G B^T, dB = A^T G
        if (needs[0]) gx = b.matmul(g, y, { transB: true });
        if (needs[1]) gy = b.matmul(x, g, { transA: true });
      } else if (!transA && transB) {
        // C = A B^T: dA = G B, dB = G^T A
        if (needs[0]) gx = b.matmul(g, y);
        if (needs[1]) gy = b.matmul(g, x, { transA: true });
      } else if (transA && !transB) {
        // C = A^T B: dA = B G^T, dB = A G
        if (needs[0]) gx = b.matmul(y, g, { transB: true });
        if (needs[1]) gy = b.matmul(x, g);
      } else {
        // C = A^T B^T: dA = B^T G^T, dB = G^T A^T
        if (needs[0]) gx = b.matmul(y, g, { transA: true, transB: true });
        if (needs[1]) gy = b.matmul(g, x, { transA: true, transB: true });
      }
      return [gx, gy];
    },
  },
  reduceSum: {
    infer: reduceType,
    emit: (ctx, n) =>
      ctx.node('ReduceSum', [ctx.inputs[0]!, ctx.constI64(n.attrs.axes)], [ctx.output], { keepdims: { kind: 'int', value: n.attrs.keepDims ? 1 : 0 } }),
    grad: (b, n, g) => {
      const x = n.inputs[0]!;
      const kept = keptShape(x, n.attrs.axes);
      const gk = n.attrs.keepDims ? g : b.reshape(g, kept);
      return [b.expand(gk, x.shape)];
    },
  },
  reduceMax: {
    infer: reduceType,
    // opset 17 ReduceMax still takes its axes as an attribute
    emit: (ctx, n) =>
      ctx.node('ReduceMax', [ctx.inputs[0]!], [ctx.output], {
        axes: { kind: 'ints', value: n.attrs.axes },
        keepdims: { kind: 'int', value: n.attrs.keepDims ? 1 : 0 },
      }),
    // the gradient goes to the maxima, shared equally between ties
    grad: (b, n, g) => {
      const x = n.inputs[0]!;
      const kept = keptShape(x, n.attrs.axes);
      const y = n.attrs.keepDims ? n.output : b.reshape(n.output, kept);
      const gk = n.attrs.keepDims ? g : b.reshape(g, kept);
      const hit = b.cast(b.equal(x, y), x.dtype);
      const count = b.reduceSum(hit, n.attrs.axes, true);
      return [b.mul(hit, b.div(gk, count))];
    },
  },
};

