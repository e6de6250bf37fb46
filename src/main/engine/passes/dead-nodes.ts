// Dead-node removal: keeps the nodes some graph output depends on (and the initializers they use).
import type { Graph } from '../ir/graph';

export function removeDeadNodes(graph: Graph): number {
  const live = new Set<number>();
  for (const v of graph.outputs.values()) live.add(v.id);
  const kept = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i]!;
    if (!live.has(n.output.id)) continue;
    kept.push(n);
    for (const v of n.inputs) live.add(v.id);
  }
  const removed = graph.nodes.length - kept.length;
  graph.setNodes(kept.reverse());
  return removed;
}
