// Registry entries of the layout ops: reshape, transpose, expand, slice, concat, and `after` (an
// ordering edge that leaves its input as it is). Their gradients are layout ops too (expand's is
// the identity: the driver's broadcast reduction does the sum).
import type { Value } from './graph';
import { ONNX_DTYPE } from '../onnx/model-proto';
import type { OpRules } from './rule';
import { broadcastShapes, formatShape, normAxis, numel } from './types';

function one(inputs: readonly Value[]): Value {
  const [x] = inputs;
  if (!x || inputs.length !== 1) throw new Error('needs one input');
  return x;
}

export const layoutOps: OpRules<'reshape' | 'transpose' | 'expand' | 'slice' | 'concat' | 'after'> = {
  reshape: {
    infer: (inputs, { shape }) => {
      const x = one(inputs);
      if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`target shape ${formatShape(shape)} must be positive integers`);
      if (numel(shape) !== numel(x.shape)) throw new Error(`cannot reshape ${formatShape(x.shape)} to ${formatShape(shape)}`);
      return { shape, dtype: x.dtype };
    },
    emit: (ctx, n) => ctx.node('Reshape', [ctx.inputs[0]!, ctx.constI64(n.attrs.shape)], [ctx.output]),
    grad: (b, n, g) => [b.reshape(g, n.inputs[0]!.shape)],
  },
  transpose: {
    infer: (inputs, { perm }) => {
      const x = one(inputs);
      const sorted = [...perm].sort((p, q) => p - q);
      if (perm.length !== x.rank || sorted.some((p, i) => p !== i)) throw new Error(`perm [${perm.join(', ')}] is not a permutation of rank ${x.rank}`);
      return { shape: perm.map((p) => x.shape[p]!), dtype: x.dtype };
    },
    emit: (ctx, n) => ctx.node('Transpose', [ctx.inputs[0]!], [ctx.output], { perm: { kind: 'ints', value: n.attrs.perm } }),
    grad: (b, n, g) => {
      const inverse: number[] = [];
      n.attrs.perm.forEach((p, i) => (inverse[p] = i));
      return [b.transpose(g, inverse)];
    },
  },
  expand: {
    infer: (inputs, { shape }) => {
      const x = one(inputs);
      const out = broadcastShapes(x.shape, shape);
      if (!out || formatShape(out) !== formatShape(shape)) throw new Error(`cannot expand ${formatShape(x.shape)} to ${formatShape(shape)}`);
      return { shape, dtype: x.dtype };
    },
    emit: (ctx, n) => ctx.node('Expand', [ctx.inputs[0]!, ctx.constI64(n.attrs.shape)], [ctx.output]),
    grad: (_b, _n, g) => [g],
  },
  slice: {
    infer: (inputs, { axis, start, end }) => {
      const x = one(inputs);
      const a = normAxis(axis, x.rank);
      const d = x.shape[a]!;
      if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= d)) {
        throw new Error(`slice ${start}:${end} is out of range for dim ${d}`);
      }
      return { shape: x.shape.map((s, i) => (i === a ? end - start : s)), dtype: x.dtype };
    },
    emit: (ctx, n) =>
      ctx.node('Slice', [ctx.inputs[0]!, ctx.constI64([n.attrs.start]), ctx.constI64([n.attrs.end]), ctx.constI64([n.attrs.axis])], [ctx.output]),
    // zeros around the gradient along the sliced axis
    grad: (b, n, g) => {
      const x = n.inputs[0]!;
      const a = normAxis(n.attrs.axis, x.rank);
      const parts: Value[] = [];
      const zeros = (len: number) => b.expand(b.scalar(0, g.dtype), x.shape.map((s, i) => (i === a ? len : s)));
      if (n.attrs.start > 0) parts.push(zeros(n.attrs.start));
      parts.push(g);
      if (n.attrs.end < x.shape[a]!) parts.push(zeros(x.shape[a]! - n.attrs.end));
      return [parts.length === 1 ? g : b.concat(parts, a)];
    },
  },
  concat: {
    infer: (inputs, { axis }) => {
      const [x] = inputs;
      if (!x) throw new Error('needs at least one input');
      const a = normAxis(axis, x.rank);
      let total = 0;
      for (const v of inputs) {
        if (v.dtype !== x.dtype || v.rank !== x.rank || v.shape.some((d, i) => i !== a && d !== x.shape[i])) {
          throw new Error(`inputs disagree outside axis ${a}`);
        }
        total += v.shape[a]!;
      }
      return { shape: x.shape.map((d, i) => (i === a ? total : d)), dtype: x.dtype };
    },
    emit: (ctx, n) => ctx.node('Concat', ctx.inputs, [ctx.output], { axis: { kind: 'int', value: n.attrs.axis } }),
    grad: (b, n, g, needs) => {
      const a = normAxis(n.attrs.axis, g.rank);
      let offset = 0;
      return n.inputs.map((v, i) => {
        const start = offset;
        offset += v.shape[a]!;
        return needs[i] ? b.slice(g, a, start, offset) : undefined;
      });
    },
  },
  after: {
    infer: ([x, token]) => {
      if (!x || !token || x.rank < 1 || token.rank !== 0) throw new Error('needs a tensor and a scalar token');
      return { shape: x.shape, dtype: x.dtype };
    },
    // Reshape to its own shape plus an integer zero made from the token (Less(t, t) is false for
    // every float, NaN and infinities included: a zero token can be NaN when a gradient is): ONNX
    // Runtime aliases a Reshape's output to its input, so the edge costs a few scalar nodes, no copy
    emit: (ctx, n) => {
      const never = ctx.temp('never');
      ctx.node('Less', [ctx.inputs[1]!, ctx.inputs[1]!], [never]);
      const offset = ctx.temp('zero');
      ctx.node('Cast', [never], [offset], { to: { kind: 'int', value: ONNX_DTYPE.int64 } });
      const shape = ctx.temp('shape');
      ctx.node('Add', [ctx.constI64(n.inputs[0]!.shape), offset], [shape]);
      ctx.node('Reshape', [ctx.inputs[0]!, shape], [ctx.output]);
    },
    grad: 'none',
  },
};
