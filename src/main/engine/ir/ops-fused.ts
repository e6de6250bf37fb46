// Registry entries of the fused ops: each replaces a composite (ir/composite.ts builds it from
// primitives as well) where a profile showed the composite's many full-size passes cost real time,
// and is tested against that composite (values and float64 gradients). Their ONNX emissions use
// single ONNX Runtime kernels (Softmax, LogSoftmax) instead of chains of elementwise ops.
//   softmax            over the last axis; its gradient is y·(g - Σ g·y)
//   crossEntropy       per-row -log softmax(logits)[target] = logsumexp(logits) - logits[target]
//                      in three nodes instead of the composite's eight (it pays for small
//                      vocabularies only: see FUSED_CE_MAX_VOCAB in ir/composite.ts)
//   crossEntropyGrad   its gradient g·(softmax(logits) - onehot(target)), in three passes
import type { Value } from './graph';
import type { InferredType, OpRules } from './rule';
import { formatShape, isFloat, sameShape } from './types';

function isIndex(v: Value): boolean {
  return v.dtype === 'int32' || v.dtype === 'int64';
}

/** logits [..., V] and target [..., 1] (integer) with the same leading dims. */
function checkLogitsTarget(logits: Value | undefined, target: Value | undefined): asserts logits is Value {
  if (!logits || !target || !isFloat(logits.dtype) || !isIndex(target)) throw new Error('needs float logits and integer targets');
  if (logits.rank < 1 || target.rank !== logits.rank || target.shape.at(-1) !== 1 || !sameShape(target.shape.slice(0, -1), logits.shape.slice(0, -1))) {
    throw new Error(`targets ${formatShape(target.shape)} must be the logits' shape ${formatShape(logits.shape)} with a last dim of 1`);
  }
}

function rowType(logits: Value): InferredType {
  return { shape: [...logits.shape.slice(0, -1), 1], dtype: logits.dtype };
}

export const fusedOps: OpRules<'softmax' | 'crossEntropy' | 'crossEntropyGrad'> = {
  softmax: {
    infer: ([x, ...rest]) => {
      if (!x || rest.length > 0 || !isFloat(x.dtype) || x.rank < 1) throw new Error('needs one float input of rank >= 1');
      return { shape: x.shape, dtype: x.dtype };
    },
    emit: (ctx) => ctx.node('Softmax', ctx.inputs, [ctx.output], { axis: { kind: 'int', value: -1 } }),
    grad: (b, n, g) => {
      const y = n.output;
      return [b.mul(y, b.sub(g, b.reduceSum(b.mul(g, y), [-1], true)))];
    },
  },
  crossEntropy: {
    infer: ([logits, target, ...rest]) => {
      checkLogitsTarget(logits, target);
      if (rest.length > 0) throw new Error('needs two inputs');
      return rowType(logits);
    },
    emit: (ctx) => {
      const [logits, target] = ctx.inputs as [string, string];
      const logp = ctx.temp('logp');
      const picked = ctx.temp('picked');
      // LogSoftmax is one vectorized kernel; ReduceLogSumExp (no [rows, V] output) measured 7x slower
      ctx.node('LogSoftmax', [logits], [logp], { axis: { kind: 'int', value: -1 } });
      ctx.node('GatherElements', [logp, target], [picked], { axis: { kind: 'int', value: -1 } });
      ctx.node('Neg', [picked], [ctx.output]);
    },
    grad: (b, n, g) => [b.crossEntropyGrad(n.inputs[0]!, n.inputs[1]!, g), undefined],
  },
  crossEntropyGrad: {
    infer: ([logits, target, g, ...rest]) => {
      checkLogitsTarget(logits, target);
      if (!g || rest.length > 0 || g.dtype !== logits.dtype || !sameShape(g.shape, rowType(logits).shape)) {
        throw new Error(`needs a row gradient of shape ${formatShape(rowType(logits).shape)} and the logits' dtype`);
      }
      return { shape: logits.shape, dtype: logits.dtype };
    },
    emit: (ctx) => {
      const [logits, target, g] = ctx.inputs as [string, string, string];
      const p = ctx.temp('softmax');
      const pg = ctx.temp('scaled');
      const ng = ctx.temp('neg');
      ctx.node('Softmax', [logits], [p], { axis: { kind: 'int', value: -1 } });
      ctx.node('Mul', [p, g], [pg]);
      ctx.node('Neg', [g], [ng]);
      ctx.node('ScatterElements', [pg, target, ng], [ctx.output], { axis: { kind: 'int', value: -1 }, reduction: { kind: 'string', value: 'add' } });
    },
    // out = g·(p - onehot), p = softmax(logits). For an upstream gradient U:
    // d/dlogits = g·p·(U - Σ U·p) (softmax's own vector-Jacobian product, scaled by g);
    // d/dg = Σ U·p - U[target]
    grad: (b, n, u, needs) => {
      const [logits, target, g] = n.inputs as [Value, Value, Value];
      const p = b.softmax(logits);
      const up = b.reduceSum(b.mul(u, p), [-1], true);
      return [
        needs[0] ? b.mul(g, b.mul(p, b.sub(u, up))) : undefined,
        undefined,
        needs[2] ? b.sub(up, b.gatherLast(u, target)) : undefined,
      ];
    },
  },
};
