// Counts taken from a built graph: matmul FLOPs (the benchmark's peak fraction is computed from
// these, not from a formula) and node counts.
import type { Graph, Node } from './graph';
import { numel } from './types';

/** 2·M·N·K summed over every matmul of the graph (batch dims included). */
export function matmulFlops(graph: Graph): number {
  let flops = 0;
  for (const n of graph.nodes) {
    if (n.op !== 'matmul') continue;
    const m = n as Node<'matmul'>;
    const a = m.inputs[0]!;
    const k = m.attrs.transA ? a.shape[a.rank - 2]! : a.shape[a.rank - 1]!;
    flops += 2 * numel(m.output.shape) * k;
  }
  return flops;
}
