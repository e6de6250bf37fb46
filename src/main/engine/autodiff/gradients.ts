// The reverse-mode driver. It walks the graph backwards over the nodes that lie on a path from a
// requested parameter to the loss (and no others), sums fan-out, and reduces broadcast gradients
// to each input's shape in one place (sumTo). Rules live in the op registry; errors name the op
// and the scope it was built in.
import type { GraphBuilder } from '../ir/builder';
import { GraphError, type Node, type Value } from '../ir/graph';
import { OPS } from '../ir/registry';
import type { GradRule } from '../ir/rule';
import type { OpName } from '../ir/ops';
import { formatShape, isFloat, isHalf, sameShape, type Shape } from '../ir/types';

/** Sums `g` down to `shape` (undoing numpy broadcasting), or undefined when it cannot. */
export function sumTo(b: GraphBuilder, g: Value, shape: Shape): Value | undefined {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  if (lead < 0) return undefined;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead) axes.push(i);
    else {
      const want = shape[i - lead]!;
      if (want === 1 && g.shape[i] !== 1) axes.push(i);
      else if (want !== g.shape[i]) return undefined;
    }
  }
  const summed = axes.length > 0 ? b.reduceSum(g, axes, true) : g;
  return sameShape(summed.shape, shape) ? summed : b.reshape(summed, shape);
}

function where(node: Node): string {
  return `${node.op} in ${node.scope || '(top level)'}`;
}

/**
 * Appends the gradient computation of scalar `loss` with respect to each of `wrt` to the graph
 * and returns the gradient values, in the order of `wrt`.
 */
export function gradients(b: GraphBuilder, loss: Value, wrt: readonly Value[]): Value[] {
  if (loss.rank !== 0 || !isFloat(loss.dtype)) throw new GraphError(`the loss must be a float scalar, got ${loss.describe()}`);
  const nodes = b.graph.nodes.slice();

  // values that depend on a requested parameter (through float values only; half precision where a
  // product with a half base weight runs in it, GraphBuilder.storedMatmul)
  const differentiable = (v: Value) => isFloat(v.dtype) || isHalf(v.dtype);
  const dependent = new Set<number>(wrt.map((v) => v.id));
  for (const n of nodes) {
    if (differentiable(n.output) && n.inputs.some((i) => dependent.has(i.id))) dependent.add(n.output.id);
  }
  // values the loss depends on
  const reaches = new Set<number>([loss.id]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (reaches.has(n.output.id)) for (const v of n.inputs) reaches.add(v.id);
  }
  const onPath = (v: Value) => dependent.has(v.id) && reaches.has(v.id) && differentiable(v);

  const pending = new Map<number, Value[]>();
  const push = (v: Value, g: Value) => {
    const list = pending.get(v.id);
    if (list) list.push(g);
    else pending.set(v.id, [g]);
  };
  const total = (v: Value): Value | undefined => {
    const list = pending.get(v.id);
    if (!list) return undefined;
    let sum = list[0]!;
    for (let i = 1; i < list.length; i++) sum = b.add(sum, list[i]!);
    pending.set(v.id, [sum]);
    return sum;
  };

  push(loss, b.scalar(1, loss.dtype));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (!onPath(node.output)) continue;
    const g = b.atScope(`grad:${node.scope}`, () => total(node.output));
    if (!g) continue;
    const rule = OPS[node.op].grad as GradRule<OpName> | 'none';
    if (rule === 'none') continue;
    const needs = node.inputs.map(onPath);
    b.atScope(`grad:${node.scope}`, () => {
      let results: readonly (Value | undefined)[];
      try {
        results = rule(b, node, g, needs);
      } catch (err) {
        const what = err instanceof Error ? err.message : String(err);
        throw new GraphError(`gradient of ${where(node)} failed: ${what}`);
      }
      node.inputs.forEach((input, k) => {
        if (!needs[k]) return;
        const r = results[k];
        if (!r) throw new GraphError(`gradient rule of ${where(node)} gives no gradient for input ${k} (${input.describe()})`);
        if (r.dtype !== input.dtype) throw new GraphError(`gradient of ${where(node)} for input ${k} is ${r.dtype}, expected ${input.dtype}`);
        const reduced = sumTo(b, r, input.shape);
        if (!reduced) {
          throw new GraphError(`gradient of ${where(node)} for input ${k} has shape ${formatShape(r.shape)}, which does not reduce to ${formatShape(input.shape)}`);
        }
        push(input, reduced);
      });
    });
  }

  return wrt.map((p) => {
    const g = b.atScope('grad', () => total(p));
    if (!g) throw new GraphError(`no gradient path from the loss to ${p.describe()}`);
    return g;
  });
}
