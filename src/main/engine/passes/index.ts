// The pass pipeline run on every finished graph before serialization.
import type { Graph } from '../ir/graph';
import { eliminateCommonSubexpressions } from './cse';
import { removeDeadNodes } from './dead-nodes';
import { foldShapes } from './shape-folding';

export interface PassReport {
  folded: number;
  merged: number;
  removed: number;
  nodesBefore: number;
  nodesAfter: number;
}

export function optimizeGraph(graph: Graph): PassReport {
  const nodesBefore = graph.nodes.length;
  const folded = foldShapes(graph);
  const merged = eliminateCommonSubexpressions(graph);
  const removed = removeDeadNodes(graph);
  return { folded, merged, removed, nodesBefore, nodesAfter: graph.nodes.length };
}
