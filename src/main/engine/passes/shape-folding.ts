// Shape folding: removes layout ops that do nothing (reshape/expand to the same shape, identity
// transposes, full slices, one-input concats, same-type casts, detach once gradients exist, and
// multiplying by a constant one) and collapses chains (reshape of reshape, transpose of transpose).
import { producer, type Graph, type Node, type Value } from '../ir/graph';
import { sameShape } from '../ir/types';
import { Substitution, type MutableNode } from './rewrite';

function isConstantOne(v: Value): boolean {
  if (v.source.kind !== 'initializer' || v.source.init.external) return false;
  const d = v.source.init.data;
  return d.length === 1 && Number(d[0]) === 1;
}

/** The value a node is equivalent to, if it does nothing. */
function noOp(n: Node): Value | undefined {
  const x = n.inputs[0]!;
  switch (n.op) {
    case 'reshape':
    case 'expand':
      return sameShape(x.shape, n.output.shape) ? x : undefined;
    case 'transpose': {
      const perm = (n as Node<'transpose'>).attrs.perm;
      return perm.every((p, i) => p === i) ? x : undefined;
    }
    case 'slice':
      return sameShape(x.shape, n.output.shape) ? x : undefined;
    case 'concat':
      return n.inputs.length === 1 ? x : undefined;
    case 'cast':
      return x.dtype === n.output.dtype ? x : undefined;
    case 'detach':
      return x;
    case 'mul': {
      const y = n.inputs[1]!;
      if (isConstantOne(y) && sameShape(x.shape, n.output.shape)) return x;
      if (isConstantOne(x) && sameShape(y.shape, n.output.shape)) return y;
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Rewrites a node to skip a producer whose effect it subsumes. */
function collapse(n: Node): Node {
  const inner = producer(n.inputs[0]!);
  if (!inner) return n;
  if (n.op === 'reshape' && inner.op === 'reshape') {
    (n as MutableNode).inputs = [inner.inputs[0]!];
  } else if (n.op === 'transpose' && inner.op === 'transpose') {
    const p1 = (inner as Node<'transpose'>).attrs.perm;
    const p2 = (n as Node<'transpose'>).attrs.perm;
    (n as MutableNode).inputs = [inner.inputs[0]!];
    (n as { attrs: { perm: readonly number[] } }).attrs = { perm: p2.map((p) => p1[p]!) };
  }
  return n;
}

export function foldShapes(graph: Graph): number {
  const sub = new Substitution();
  const kept = [];
  let folded = 0;
  for (const n of graph.nodes) {
    sub.apply(n);
    collapse(n);
    const same = noOp(n);
    if (same) {
      sub.set(n.output, same);
      folded++;
    } else {
      kept.push(n);
    }
  }
  graph.setNodes(kept, sub.outputs(graph));
  return folded;
}
