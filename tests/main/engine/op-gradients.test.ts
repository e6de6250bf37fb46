// Every primitive op's gradient rule against float64 central finite differences. CASES is keyed
// by the op union, and a test walks the registry, so an op added without a case fails.
import { describe, expect, it } from 'vitest';
import type { GraphBuilder } from '../../../src/main/engine/ir/builder';
import type { Value } from '../../../src/main/engine/ir/graph';
import { OP_NAMES, type OpName } from '../../../src/main/engine/ir/ops';
import { OPS } from '../../../src/main/engine/ir/registry';
import { tempDir } from '../../helpers/temp';
import { gradCheck, type InputSpec } from './gradcheck';

interface DiffCase {
  inputs: InputSpec[];
  build: (b: GraphBuilder, xs: Value[]) => Value;
  eps?: number;
  /** Relative tolerance on max |analytic - numeric| / (1e-6 + |numeric|). */
  tol?: number;
}
/** Ops whose output carries no gradient: the case says why, and the test checks the rule is 'none'. */
interface NoGradCase {
  noGradient: string;
}

const ids = (b: GraphBuilder, values: number[], shape: number[]) => b.constant(values, shape, 'int32');

const CASES: { [K in OpName]: DiffCase | NoGradCase } = {
  add: { inputs: [{ shape: [2, 3] }, { shape: [3] }], build: (b, [x, y]) => b.add(x!, y!) },
  sub: { inputs: [{ shape: [2, 1] }, { shape: [2, 3] }], build: (b, [x, y]) => b.sub(x!, y!) },
  mul: { inputs: [{ shape: [2, 3] }, { shape: [1, 3] }], build: (b, [x, y]) => b.mul(x!, y!) },
  div: { inputs: [{ shape: [2, 3] }, { shape: [2, 1], kind: 'positive' }], build: (b, [x, y]) => b.div(x!, y!) },
  neg: { inputs: [{ shape: [4] }], build: (b, [x]) => b.neg(x!) },
  exp: { inputs: [{ shape: [2, 2] }], build: (b, [x]) => b.exp(x!) },
  log: { inputs: [{ shape: [5], kind: 'positive' }], build: (b, [x]) => b.log(x!) },
  sqrt: { inputs: [{ shape: [5], kind: 'positive' }], build: (b, [x]) => b.sqrt(x!) },
  tanh: { inputs: [{ shape: [5] }], build: (b, [x]) => b.tanh(x!) },
  sigmoid: { inputs: [{ shape: [5] }], build: (b, [x]) => b.sigmoid(x!) },
  // float64 graphs compute erf in float32 (ONNX Runtime has no float64 Erf kernel)
  erf: { inputs: [{ shape: [5] }], build: (b, [x]) => b.erf(x!), eps: 1e-3, tol: 1e-3 },
  // the detached branch acts as a constant: d/dx [x · detach(x)] = detach(x) only (checked below)
  detach: { noGradient: 'detach is the identity with a zero gradient by definition' },
  softmax: { inputs: [{ shape: [2, 3, 5] }], build: (b, [x]) => b.softmax(x!) },
  matmul: { inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4, 5] }], build: (b, [x, y]) => b.matmul(x!, y!) },
  reduceSum: { inputs: [{ shape: [2, 3, 4] }], build: (b, [x]) => b.reduceSum(x!, [0, 2], false) },
  reduceMax: { inputs: [{ shape: [3, 4], kind: 'distinct' }], build: (b, [x]) => b.reduceMax(x!, [-1], true) },
  reshape: { inputs: [{ shape: [2, 6] }], build: (b, [x]) => b.reshape(x!, [3, 4]) },
  transpose: { inputs: [{ shape: [2, 3, 4] }], build: (b, [x]) => b.transpose(x!, [2, 0, 1]) },
  expand: { inputs: [{ shape: [3, 1] }], build: (b, [x]) => b.expand(x!, [2, 3, 4]) },
  slice: { inputs: [{ shape: [3, 5] }], build: (b, [x]) => b.slice(x!, 1, 1, 4) },
  concat: { inputs: [{ shape: [2, 2] }, { shape: [2, 3] }], build: (b, [x, y]) => b.concat([x!, y!], -1) },
  after: { noGradient: 'after only orders the schedule, and the recomputation pass adds it once the gradients are built' },
  gather: { inputs: [{ shape: [4, 3] }], build: (b, [t]) => b.gather(t!, ids(b, [1, 3, 1, 0, 3, 3], [2, 3])) },
  scatterRows: { inputs: [{ shape: [2, 3, 2] }], build: (b, [u]) => b.scatterRows(ids(b, [1, 3, 1, 0, 3, 3], [2, 3]), u!, 5) },
  gatherLast: { inputs: [{ shape: [2, 3, 4] }], build: (b, [x]) => b.gatherLast(x!, ids(b, [0, 3, 3, 1, 2, 0], [2, 3, 1])) },
  scatterLast: { inputs: [{ shape: [2, 3, 1] }], build: (b, [v]) => b.scatterLast(ids(b, [0, 3, 3, 1, 2, 0], [2, 3, 1]), v!, 4) },
  // float64 -> float32 -> float64 loses precision, hence the larger step and tolerance
  cast: { inputs: [{ shape: [4] }], build: (b, [x]) => b.cast(b.mul(b.cast(x!, 'float32'), b.scalar(2, 'float32')), 'float64'), eps: 1e-3, tol: 1e-3 },
  equal: { noGradient: 'equal returns booleans' },
  where: {
    inputs: [{ shape: [2, 3] }, { shape: [3] }],
    build: (b, [x, y]) => b.where(b.constant([1, 0, 1, 0, 0, 1], [2, 3], 'bool'), x!, y!),
  },
};

const cacheDir = tempDir('engine-ops-');

describe('op registry', () => {
  it('has a gradient test case for every registered op', () => {
    expect(Object.keys(OPS).sort()).toEqual([...OP_NAMES].sort());
    for (const op of Object.keys(OPS)) expect(CASES, `no gradient case for op "${op}"`).toHaveProperty(op);
  });

  it.each(Object.entries(CASES).filter(([, c]) => 'noGradient' in c))('%s declares no gradient rule', (op) => {
    expect(OPS[op as OpName].grad).toBe('none');
  });

  it.each(Object.entries(CASES).filter(([, c]) => 'inputs' in c) as [string, DiffCase][])(
    '%s: gradient matches float64 central differences',
    async (_op, c) => {
      const r = await gradCheck(cacheDir, c.inputs, c.build, { eps: c.eps ?? 1e-6 });
      expect(r.worst).toBeLessThan(c.tol ?? 1e-6);
      // and the check is not vacuous
      expect(r.analytic.some((g) => g.some((x) => Math.abs(x) > 1e-3))).toBe(true);
    },
  );

  it('detach stops the gradient: d/dx sum(R · x · detach(x)) = R · x', async () => {
    const r = await gradCheck(cacheDir, [{ shape: [4] }], (b, [x]) => b.mul(x!, b.detach(x!)));
    // the finite difference sees both factors (2·R·x), the analytic gradient only one (R·x)
    r.analytic[0]!.forEach((g, i) => expect(g).toBeCloseTo(r.numeric[0]![i]! / 2, 6));
  });
});
