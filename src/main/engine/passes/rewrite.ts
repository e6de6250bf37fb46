// Shared plumbing of the passes: a substitution of values, applied to node inputs and graph
// outputs in one topological sweep. Passes run after autodiff, on the finished graph.
import type { Graph, Node, Value } from '../ir/graph';

/** Mutable view of a node, for passes only (the builder hands out read-only nodes). */
export type MutableNode = Node & { inputs: Value[] };

export class Substitution {
  private readonly map = new Map<number, Value>();

  set(from: Value, to: Value): void {
    this.map.set(from.id, this.resolve(to));
  }

  resolve(v: Value): Value {
    let cur = v;
    for (let next = this.map.get(cur.id); next; next = this.map.get(cur.id)) cur = next;
    return cur;
  }

  /** Rewrites a node's inputs in place. */
  apply(node: Node): void {
    const m = node as MutableNode;
    m.inputs = m.inputs.map((i) => this.resolve(i));
  }

  outputs(graph: Graph): Map<string, Value> {
    const out = new Map<string, Value>();
    for (const [k, v] of graph.outputs) out.set(k, this.resolve(v));
    return out;
  }
}
