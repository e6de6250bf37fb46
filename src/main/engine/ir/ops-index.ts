// Registry entries of indexing ops (embedding gather, cross-entropy's pick) with their adjoints,
// and of the type/mask ops through which no gradient flows to integers or booleans.
import type { Value } from './graph';
import { ONNX_DTYPE } from '../onnx/model-proto';
import type { EmitContext, OpRules } from './rule';
import { broadcastShapes, dtypeBytes, formatShape, isFloat, isHalf, type DType, type Shape } from './types';

function isIndex(v: Value): boolean {
  return v.dtype === 'int32' || v.dtype === 'int64';
}

/** ConstantOfShape(shape) filled with a zero of `dtype`. */
function zeros(ctx: EmitContext, shape: Shape, dtype: DType): string {
  const out = ctx.temp('zeros');
  const bytes = dtypeBytes(dtype);
  ctx.node('ConstantOfShape', [ctx.constI64(shape)], [out], {
    value: { kind: 'tensor', value: { name: 'value', dtype, dims: [1], raw: new Uint8Array(bytes) } },
  });
  return out;
}

export const indexOps: OpRules<'gather' | 'scatterRows' | 'gatherLast' | 'scatterLast' | 'cast' | 'equal' | 'where'> = {
  gather: {
    infer: ([table, ids]) => {
      // a half-precision table (a frozen embedding) is gathered as stored and cast after
      if (!table || !ids || !(isFloat(table.dtype) || isHalf(table.dtype)) || !isIndex(ids)) throw new Error('needs a float table and integer ids');
      return { shape: [...ids.shape, ...table.shape.slice(1)], dtype: table.dtype };
    },
    emit: (ctx) => ctx.node('Gather', ctx.inputs, [ctx.output], { axis: { kind: 'int', value: 0 } }),
    grad: (b, n, g) => [b.scatterRows(n.inputs[1]!, g, n.inputs[0]!.shape[0]!), undefined],
  },
  scatterRows: {
    infer: ([ids, updates], { rows }) => {
      if (!ids || !updates || !isIndex(ids) || !isFloat(updates.dtype)) throw new Error('needs integer ids and float updates');
      if (formatShape(updates.shape.slice(0, ids.rank)) !== formatShape(ids.shape)) throw new Error('updates must start with the ids shape');
      return { shape: [rows, ...updates.shape.slice(ids.rank)], dtype: updates.dtype };
    },
    emit: (ctx, n) => {
      const [ids, updates] = ctx.inputs as [string, string];
      const ids64 = ctx.temp('ids64');
      ctx.node('Cast', [ids], [ids64], { to: { kind: 'int', value: ONNX_DTYPE.int64 } });
      const idx = ctx.temp('idx');
      ctx.node('Unsqueeze', [ids64, ctx.constI64([-1])], [idx]);
      ctx.node('ScatterND', [zeros(ctx, n.output.shape, n.output.dtype), idx, updates], [ctx.output], { reduction: { kind: 'string', value: 'add' } });
    },
    grad: (b, n, g) => [undefined, b.gather(g, n.inputs[0]!)],
  },
  gatherLast: {
    infer: ([x, idx]) => {
      if (!x || !idx || !isFloat(x.dtype) || !isIndex(idx)) throw new Error('needs float values and integer indices');
      if (idx.rank !== x.rank || idx.shape[idx.rank - 1] !== 1 || formatShape(idx.shape.slice(0, -1)) !== formatShape(x.shape.slice(0, -1))) {
        throw new Error('indices must be shaped like the values with a last dim of 1');
      }
      return { shape: idx.shape, dtype: x.dtype };
    },
    emit: (ctx) => ctx.node('GatherElements', ctx.inputs, [ctx.output], { axis: { kind: 'int', value: -1 } }),
    grad: (b, n, g) => [b.scatterLast(n.inputs[1]!, g, n.inputs[0]!.shape.at(-1)!), undefined],
  },
  scatterLast: {
    infer: ([idx, values], { size }) => {
      if (!idx || !values || !isIndex(idx) || !isFloat(values.dtype)) throw new Error('needs integer indices and float values');
      if (formatShape(idx.shape) !== formatShape(values.shape) || idx.shape.at(-1) !== 1) throw new Error('indices and values must share a shape ending in 1');
      return { shape: [...values.shape.slice(0, -1), size], dtype: values.dtype };
    },
    emit: (ctx, n) => {
      const [idx, values] = ctx.inputs as [string, string];
      ctx.node('ScatterElements', [zeros(ctx, n.output.shape, n.output.dtype), idx, values], [ctx.output], {
        axis: { kind: 'int', value: -1 },
        reduction: { kind: 'string', value: 'add' },
      });
    },
    grad: (b, n, g) => [undefined, b.gatherLast(g, n.inputs[0]!)],
  },
  cast: {
    infer: ([x], { to }) => {
      if (!x) throw new Error('needs one input');
      return { shape: x.shape, dtype: to };
    },
    emit: (ctx, n) => ctx.node('Cast', ctx.inputs, [ctx.output], { to: { kind: 'int', value: ONNX_DTYPE[n.attrs.to] } }),
    // only float-to-float casts carry a gradient; the driver never asks for integer inputs
    grad: (b, n, g) => [b.cast(g, n.inputs[0]!.dtype)],
  },
  equal: {
    infer: ([a, b]) => {
      if (!a || !b || a.dtype !== b.dtype) throw new Error('needs two inputs of one dtype');
      const shape = broadcastShapes(a.shape, b.shape);
      if (!shape) throw new Error('shapes do not broadcast');
      return { shape, dtype: 'bool' };
    },
    emit: (ctx) => ctx.node('Equal', ctx.inputs, [ctx.output]),
    grad: 'none',
  },
  where: {
    infer: ([cond, a, b]) => {
      if (!cond || !a || !b || cond.dtype !== 'bool' || a.dtype !== b.dtype) throw new Error('needs a boolean condition and two values of one dtype');
      const ab = broadcastShapes(a.shape, b.shape);
      const shape = ab && broadcastShapes(cond.shape, ab);
      if (!shape) throw new Error('shapes do not broadcast');
      return { shape, dtype: a.dtype };
    },
    emit: (ctx) => ctx.node('Where', ctx.inputs, [ctx.output]),
    grad: (b, n, g, needs) => {
      const zero = b.scalar(0, g.dtype);
      const cond = n.inputs[0]!;
      return [undefined, needs[1] ? b.where(cond, g, zero) : undefined, needs[2] ? b.where(cond, zero, g) : undefined];
    },
  },
};
