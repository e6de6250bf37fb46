// Test helper: float64 central finite differences against the emitted gradient graph. A case
// builds y = f(x1..xn) from float inputs; the loss is sum(y · R) with a fixed random R, so every
// output element matters; the graph is compiled and run by ONNX Runtime at level 'basic'.
import { gradients } from '../../../src/main/engine/autodiff/gradients';
import { GraphBuilder } from '../../../src/main/engine/ir/builder';
import type { Value } from '../../../src/main/engine/ir/graph';
import { numel, type Shape } from '../../../src/main/engine/ir/types';
import { GraphCache } from '../../../src/main/engine/onnx/graph-cache';
import { optimizeGraph } from '../../../src/main/engine/passes';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { Rng } from '../../../src/main/engine/train/rng';

export type InputKind = 'any' | 'positive' | 'distinct';

export interface InputSpec {
  shape: Shape;
  kind?: InputKind;
}

export interface GradCheckResult {
  analytic: Float64Array[];
  numeric: Float64Array[];
  /** The function's value at the drawn inputs, and the inputs. */
  y: Float64Array;
  x: Float64Array[];
  /** max |analytic - numeric| / (atol + |numeric|) over all inputs and elements */
  worst: number;
}

function draw(rng: Rng, spec: InputSpec): Float64Array {
  const n = numel(spec.shape);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (spec.kind === 'positive') out[i] = 0.5 + rng.next();
    else if (spec.kind === 'distinct') out[i] = (i - n / 2) * 0.37 + 0.05 * rng.normal();
    else out[i] = rng.normal();
  }
  if (spec.kind === 'distinct') for (let i = n - 1; i > 0; i--) { const j = Math.floor(rng.next() * (i + 1)); [out[i], out[j]] = [out[j]!, out[i]!]; }
  return out;
}

export async function gradCheck(
  cacheDir: string,
  inputs: readonly InputSpec[],
  build: (b: GraphBuilder, xs: Value[]) => Value,
  { eps = 1e-6, atol = 1e-6, seed = 7 }: { eps?: number; atol?: number; seed?: number } = {},
): Promise<GradCheckResult> {
  const rng = new Rng(seed);
  const b = new GraphBuilder('float64');
  const xs = inputs.map((s, i) => b.input(`x${i}`, s.shape, 'float64'));
  const y = build(b, xs);
  const r = b.constant(Array.from({ length: numel(y.shape) }, () => rng.normal()), y.shape, 'float64');
  const prod = b.mul(y, r);
  const lossScalar = y.rank === 0 ? prod : b.reduceSum(prod, [...Array(y.rank).keys()], false);
  const grads = gradients(b, lossScalar, xs);
  b.output('loss', lossScalar);
  b.output('y', y.source.kind === 'node' ? y : b.mulScalar(y, 1));
  grads.forEach((g, i) => b.output(`g${i}`, g));
  optimizeGraph(b.graph);
  const compiled = new GraphCache(cacheDir).compile(b.graph, { name: 'gradcheck', producerVersion: 'test' });
  const runtime = new OrtRuntime();
  const session = await runtime.createSession(compiled.modelPath, { device: 'cpu', threads: 1, optimization: 'basic' });
  try {
    const values = inputs.map((s) => draw(rng, s));
    const run = async () => {
      const feeds = Object.fromEntries(values.map((v, i) => [`x${i}`, { dtype: 'float64' as const, shape: inputs[i]!.shape, data: v }]));
      return session.run(feeds);
    };
    const base = await run();
    const analytic = inputs.map((_, i) => Float64Array.from(base[`g${i}`] as Float64Array));
    const numeric = inputs.map((s) => new Float64Array(numel(s.shape)));
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      for (let k = 0; k < v.length; k++) {
        const x0 = v[k]!;
        v[k] = x0 + eps;
        const lp = Number((await run()).loss![0]);
        v[k] = x0 - eps;
        const lm = Number((await run()).loss![0]);
        v[k] = x0;
        const fd = (lp - lm) / (2 * eps);
        numeric[i]![k] = fd;
        worst = Math.max(worst, Math.abs(analytic[i]![k]! - fd) / (atol + Math.abs(fd)));
      }
    }
    return { analytic, numeric, worst, y: Float64Array.from(base.y as Float64Array), x: values };
  } finally {
    await session.release();
  }
}
