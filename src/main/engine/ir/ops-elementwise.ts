// Registry entries of the elementwise ops (binary with numpy broadcasting, unary, detach, and
// softmax over the last axis, which ONNX Runtime runs as one kernel). The
// gradient rules return gradients in the output's broadcast shape; the autodiff driver reduces
// them to each input's shape.
import { ONNX_DTYPE } from '../onnx/model-proto';
import type { Value } from './graph';
import type { EmitContext, InferredType, OpRules } from './rule';
import { broadcastShapes, formatShape, isFloat } from './types';

function emitAs(opType: string) {
  return (ctx: EmitContext): void => ctx.node(opType, ctx.inputs, [ctx.output]);
}

function binaryType(inputs: readonly Value[]): InferredType {
  const [a, b] = inputs;
  if (!a || !b || inputs.length !== 2) throw new Error('needs two inputs');
  if (a.dtype !== b.dtype) throw new Error(`dtypes differ (${a.dtype} vs ${b.dtype})`);
  if (!isFloat(a.dtype)) throw new Error(`needs float inputs, got ${a.dtype}`);
  const shape = broadcastShapes(a.shape, b.shape);
  if (!shape) throw new Error(`shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not broadcast`);
  return { shape, dtype: a.dtype };
}

function unaryType(inputs: readonly Value[]): InferredType {
  const [x] = inputs;
  if (!x || inputs.length !== 1) throw new Error('needs one input');
  if (!isFloat(x.dtype)) throw new Error(`needs a float input, got ${x.dtype}`);
  return { shape: x.shape, dtype: x.dtype };
}

type Elementwise = 'add' | 'sub' | 'mul' | 'div' | 'neg' | 'exp' | 'log' | 'sqrt' | 'tanh' | 'sigmoid' | 'erf' | 'detach' | 'softmax';

export const elementwiseOps: OpRules<Elementwise> = {
  add: {
    infer: binaryType,
    emit: emitAs('Add'),
    grad: (_b, _n, g) => [g, g],
  },
  sub: {
    infer: binaryType,
    emit: emitAs('Sub'),
    grad: (b, _n, g, needs) => [g, needs[1] ? b.neg(g) : undefined],
  },
  mul: {
    infer: binaryType,
    emit: emitAs('Mul'),
    grad: (b, n, g, needs) => {
      const [x, y] = n.inputs as [Value, Value];
      return [needs[0] ? b.mul(g, y) : undefined, needs[1] ? b.mul(g, x) : undefined];
    },
  },
  div: {
    infer: binaryType,
    emit: emitAs('Div'),
    // d(x/y)/dx = 1/y; d(x/y)/dy = -x/y^2 = -(g/y)·out
    grad: (b, n, g, needs) => {
      const y = n.inputs[1]!;
      const gx = b.div(g, y);
      return [needs[0] ? gx : undefined, needs[1] ? b.neg(b.mul(gx, n.output)) : undefined];
    },
  },
  neg: { infer: unaryType, emit: emitAs('Neg'), grad: (b, _n, g) => [b.neg(g)] },
  exp: { infer: unaryType, emit: emitAs('Exp'), grad: (b, n, g) => [b.mul(g, n.output)] },
  log: { infer: unaryType, emit: emitAs('Log'), grad: (b, n, g) => [b.div(g, n.inputs[0]!)] },
  sqrt: {
    infer: unaryType,
    emit: emitAs('Sqrt'),
    grad: (b, n, g) => [b.div(b.mulScalar(g, 0.5), n.output)],
  },
  tanh: {
    infer: unaryType,
    emit: emitAs('Tanh'),
    // 1 - tanh^2
    grad: (b, n, g) => [b.mul(g, b.sub(b.scalar(1, g.dtype), b.mul(n.output, n.output)))],
  },
  sigmoid: {
    infer: unaryType,
    emit: emitAs('Sigmoid'),
    grad: (b, n, g) => [b.mul(b.mul(g, n.output), b.sub(b.scalar(1, g.dtype), n.output))],
  },
  erf: {
    infer: unaryType,
    // ONNX Runtime has no float64 Erf kernel: float64 graphs (tests only) compute it in float32
    emit: (ctx, n) => {
      if (n.output.dtype !== 'float64') return ctx.node('Erf', ctx.inputs, [ctx.output]);
      const lo = ctx.temp('f32');
      const e = ctx.temp('erf');
      ctx.node('Cast', ctx.inputs, [lo], { to: { kind: 'int', value: ONNX_DTYPE.float32 } });
      ctx.node('Erf', [lo], [e]);
      ctx.node('Cast', [e], [ctx.output], { to: { kind: 'int', value: ONNX_DTYPE.float64 } });
    },
    // 2/sqrt(pi) · exp(-x^2)
    grad: (b, n, g) => {
      const x = n.inputs[0]!;
      return [b.mul(b.mulScalar(g, 2 / Math.sqrt(Math.PI)), b.exp(b.neg(b.mul(x, x))))];
    },
  },
  detach: { infer: unaryType, emit: emitAs('Identity'), grad: 'none' },
  softmax: {
    infer: (inputs) => {
      const t = unaryType(inputs);
      if (t.shape.length === 0) throw new Error('needs at least one axis');
      return t;
    },
    emit: (ctx) => ctx.node('Softmax', ctx.inputs, [ctx.output], { axis: { kind: 'int', value: -1 } }),
    // y = softmax(x): dx = y · (g - sum(g · y)) over the last axis; the backward reads y alone
    grad: (b, n, g) => {
      const y = n.output;
      return [b.mul(y, b.sub(g, b.reduceSum(b.mul(g, y), [-1], true)))];
    },
  },
};
