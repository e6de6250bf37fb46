// Recomputation in the backward: a backward node that reads a forward value the pass may
// recompute reads a copy made just before it instead, so the forward value dies with its last
// forward use and ONNX Runtime frees it before the (gated) backward starts. What may be
// recomputed:
// - casts of half-precision base weights, always: the float32 view of a weight lives for one
//   matmul, forward or backward, never from the forward to the backward (that would hold a float32
//   copy of every weight);
// - the cross-entropy's vocabulary slices (group `loss:i`), always: each slice's logits for every
//   position are made again from the hidden states and its rows of the table, so one slice's
//   worth is alive at a time;
// - decoder layers (group `layer:i`), when asked: only the values that enter a layer are kept, and
//   the backward of each layer runs its forward again first.
// A value that leaves its group (read by a forward node of another group, or a graph output) is
// kept: that is the checkpoint the group is recomputed from. A group's copies are made to wait for
// the backward to reach the group (see below).
import { Value, producer, type Graph, type Node } from '../ir/graph';
import { isFloat, isHalf } from '../ir/types';

export interface RecomputeOptions {
  /** Recompute decoder layers (group `layer:i`) in the backward. */
  layers: boolean;
  /** The gradients of the trainable parameters (the gated outputs). */
  parameterGradients: readonly Value[];
}

function isWeight(v: Value): boolean {
  return v.source.kind === 'initializer' && v.source.init.external;
}

function isWeightCast(n: Node): boolean {
  const x = n.inputs[0];
  return n.op === 'cast' && x !== undefined && isHalf(x.dtype) && isWeight(x);
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

  // Each group's copies also read a zero computed from the backward's latest gradient when the
  // group is first needed, and from the parameter gradients finished since the previous group:
  // ONNX Runtime orders the gated branch itself, and was measured to leave each layer's parameter
  // gradients (outputs of the branch, read by nothing else) to the end, holding what they read
  // (a layer's inputs and output gradients: about half of all activations) through the backward.
  const nodes: Node[] = [...forward];
  const emit = (op: 'add' | 'mul' | 'reduceSum' | 'after', inputs: Value[], attrs: object, shape: readonly number[], dtype: Value['dtype'], name: string): Value => {
    const id = graph.newId();
    const node = { id, op, inputs, attrs, scope: 'recompute', recomputed: true } as unknown as Node & { output: Value };
    node.output = new Value(id, name, shape, dtype, { kind: 'node', node });
    nodes.push(node);
    return node.output;
  };
  const parameterGradients = new Set(opts.parameterGradients.map((g) => g.id));
  let latest: Value | undefined;
  let finished: Value[] = [];
  const zeros = new Map<string, Value | undefined>();
  const zeroFor = (group: string | undefined): Value | undefined => {
    if (group === undefined || !latest) return undefined;
    if (!zeros.has(group)) {
      const after = [latest, ...finished];
      finished = [];
      let total: Value | undefined;
      for (const [i, v] of after.entries()) {
        const sum = emit('reduceSum', [v], { axes: v.shape.map((_, k) => k), keepDims: false }, [], v.dtype, `recompute/${group}/after${i}`);
        total = total ? emit('add', [total, sum], {}, [], v.dtype, `recompute/${group}/all${i}`) : sum;
      }
      const zero = graph.initializers.find((v) => v.name === ZERO_NAME) ?? zeroConstant(graph, latest.dtype);
      zeros.set(group, emit('mul', [total!, zero], {}, [], latest.dtype, `recompute/${group}/zero`));
    }
    return zeros.get(group);
  };
  const entries = new Map<string, Value>();
  const entering = (v: Value, group: string | undefined): Value => {
    const z = zeroFor(group);
    if (!z || v.source.kind !== 'node' || v.dtype !== z.dtype) return v;
    const key = `${group}|${v.id}`;
    let e = entries.get(key);
    if (!e) {
      e = emit('add', [v, z], {}, v.shape, v.dtype, `${v.name}~entering:${group}`);
      entries.set(key, e);
    }
    return e;
  };

  const waiting = (weight: Value, group: string | undefined): Value => {
    const z = zeroFor(group);
    return z ? emit('after', [weight, z], {}, weight.shape, weight.dtype, `${weight.name}~after:${group}`) : weight;
  };

  const copies = new Map<number, Value>();
  const copyOf = (v: Value): Value => {
    const p = producer(v);
    if (!p || !recomputable(p)) return v;
    const done = copies.get(v.id);
    if (done) return done;
    // a copy that reads a base weight (a weight's cast, a slice of the head's table) depends on
    // nothing else, so ONNX Runtime may run it as early as it likes (it was measured casting every
    // layer's down_proj at the start of the backward: 1.5 GB at 1.5B's shapes): it reads the
    // weight through an ordering edge on the group's zero instead
    const inputs = p.inputs.map((i) => {
      const ip = producer(i);
      if (ip && recomputable(ip)) return copyOf(i);
      return isWeight(i) ? waiting(i, p.group) : entering(i, p.group);
    });
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
    if (isFloat(n.output.dtype) && n.output.rank > 0) latest = n.output;
    if (parameterGradients.has(n.output.id)) finished.push(n.output);
  }
  graph.setNodes(nodes);
  return copies.size;
}

const ZERO_NAME = 'recompute.zero';

function zeroConstant(graph: Graph, dtype: Value['dtype']): Value {
  const v = new Value(graph.newId(), ZERO_NAME, [], dtype, { kind: 'initializer', init: { external: false, data: dtype === 'float64' ? new Float64Array(1) : new Float32Array(1) } });
  graph.initializers.push(v);
  return v;
}
