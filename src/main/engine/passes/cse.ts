// Common-subexpression elimination: a node with the same op, inputs and attributes as an earlier
// one is replaced by it; inline constants with equal contents are merged first. The backward's
// recomputed copies of forward values (passes/recompute.ts) are never merged with their originals.
import { createHash } from 'node:crypto';
import type { Graph, Value } from '../ir/graph';
import { Substitution } from './rewrite';

function constantKey(v: Value): string | undefined {
  if (v.source.kind !== 'initializer' || v.source.init.external) return undefined;
  const d = v.source.init.data;
  const h = createHash('sha1').update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)).digest('hex');
  return `${v.dtype}|${v.shape.join('x')}|${h}`;
}

export function eliminateCommonSubexpressions(graph: Graph): number {
  const sub = new Substitution();
  const constants = new Map<string, Value>();
  for (const v of graph.initializers) {
    const key = constantKey(v);
    if (!key) continue;
    const first = constants.get(key);
    if (first) sub.set(v, first);
    else constants.set(key, v);
  }
  const seen = new Map<string, Value>();
  const kept = [];
  let merged = 0;
  for (const n of graph.nodes) {
    sub.apply(n);
    const key = `${n.op}|${n.inputs.map((i) => i.id).join(',')}|${JSON.stringify(n.attrs)}${n.recomputed ? '|recomputed' : ''}`;
    const first = seen.get(key);
    if (first) {
      sub.set(n.output, first);
      merged++;
    } else {
      seen.set(key, n.output);
      kept.push(n);
    }
  }
  graph.setNodes(kept, sub.outputs(graph));
  return merged;
}
