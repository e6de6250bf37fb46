// Recomputation in the backward: a backward node that reads a forward value the pass may
// recompute reads a copy made just before it instead, so the forward value dies with its last
// forward use and ONNX Runtime frees it before the (gated) backward starts. What may be
// recomputed:
// - casts of half-precision base weights, always: the float32 view of a weight lives for one
//   matmul, forward or backward, never from the forward to the backward (that would hold a float32
//   copy of every weight);
// - the cross-entropy's chunks (group `loss:i`), always: each chunk's [rows × vocab] logits are
//   made again from its hidden rows, so one chunk's worth is alive at a time;
// - decoder layers (group `layer:i`), when asked: only the values that enter a layer are kept, and
//   the backward of each layer runs its forward again first.
// A value that leaves its group (read by a forward node of another group, or a graph output) is
// kept: that is the checkpoint the group is recomputed from.
import { Value, producer, type Graph, type Node } from '../ir/graph';
import { isHalf } from '../ir/types';

export interface RecomputeOptions {
  /** Recompute decoder layers (group `layer:i`) in the backward. */
  layers: boolean;
}

function isWeightCast(n: Node): boolean {
  const x = n.inputs[0];
  return n.op === 'cast' && x !== undefined && isHalf(x.dtype) && x.source.kind === 'initializer';
}

/**
 * Rewrites the backward (the nodes from index `firstBackward` on) to read recomputed copies.
 * Returns the number of nodes copied.
 */
export function recomputeInBackward(graph: Graph, firstBackward: number, opts: RecomputeOptions): number {
  const forward = graph.nodes.slice(0, firstBackward);
  const backward = graph.nodes.slice(firstBackward);
  const isForward = new Set(forward.map((n) => n.id));
  const kept = new Set<number>();
  for (const n of forward) {
    for (const v of n.inputs) {
      const p = producer(v);
      if (p?.group !== undefined && p.group !== n.group) kept.add(v.id);
    }
  }
  for (const v of graph.outputs.values()) kept.add(v.id);
  const recomputable = (n: Node): boolean => {
    if (!isForward.has(n.id)) return false;
    if (isWeightCast(n)) return true;
    if (n.group === undefined || kept.has(n.output.id)) return false;
    return n.group.startsWith('loss:') || (opts.layers && n.group.startsWith('layer:'));
  };

  const copies = new Map<number, Value>();
  const nodes: Node[] = [...forward];
  const copyOf = (v: Value): Value => {
    const p = producer(v);
    if (!p || !recomputable(p)) return v;
    const done = copies.get(v.id);
    if (done) return done;
    const inputs = p.inputs.map(copyOf);
    const id = graph.newId();
    const node = { id, op: p.op, inputs, attrs: p.attrs, scope: p.scope, recomputed: true } as unknown as Node & { output: Value };
    node.output = new Value(id, `${p.output.name}~recomputed`, p.output.shape, p.output.dtype, { kind: 'node', node });
    nodes.push(node);
    copies.set(v.id, node.output);
    return node.output;
  };
  for (const n of backward) {
    const inputs = n.inputs.map(copyOf);
    (n as Node & { inputs: Value[] }).inputs = inputs;
    nodes.push(n);
  }
  graph.setNodes(nodes);
  return copies.size;
}
