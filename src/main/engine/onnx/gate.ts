// Gated outputs: the nodes that only some outputs need (a train graph's backward pass) move into
// the then-branch of an ONNX `If` on a boolean graph input, so one session serves a train step
// (flag true) and a forward-only evaluation (flag false) without running the backward nodes.
// ONNX Runtime's inference build runs every node of a graph whatever outputs are fetched; only
// control flow skips work. The branch reads the main graph's values and initializers as outer-scope
// names, so the base weights stay one set of initializers, mapped and prepacked once.
import type { GraphData, NodeData, ValueInfoData } from './model-proto';

export interface Gate {
  /** Name of a rank-0 bool graph input. */
  input: string;
  /** Graph outputs computed only when the input is true (empty tensors otherwise). */
  outputs: ReadonlySet<string>;
}

const THEN = '/then';
const ELSE = '/else';
const KEPT = '/kept';

/** Indices of the nodes the named values depend on (producers, transitively). */
function closure(nodes: readonly NodeData[], roots: Iterable<string>): Set<number> {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));
  const seen = new Set<number>();
  const stack = [...roots];
  for (let v = stack.pop(); v !== undefined; v = stack.pop()) {
    const i = producer.get(v);
    if (i === undefined || seen.has(i)) continue;
    seen.add(i);
    stack.push(...nodes[i]!.inputs);
  }
  return seen;
}

export function gateOutputs(graph: GraphData, gate: Gate): GraphData {
  const flag = graph.inputs.find((v) => v.name === gate.input);
  if (!flag || flag.dtype !== 'bool' || (flag.shape?.length ?? -1) !== 0) throw new Error(`gate input ${gate.input} must be a scalar bool graph input`);
  const gated = graph.outputs.filter((o) => gate.outputs.has(o.name));
  if (gated.length !== gate.outputs.size) throw new Error(`gated outputs ${[...gate.outputs].join(', ')} are not all graph outputs`);
  if (gated.length === 0) return graph;

  const main = closure(graph.nodes, graph.outputs.filter((o) => !gate.outputs.has(o.name)).map((o) => o.name));
  // A gated output the main graph also needs keeps its value under another name in the main
  // graph; the branch passes it through (the If node owns the output name).
  const produced = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => produced.set(o, i)));
  const kept = new Set(gated.filter((o) => main.has(produced.get(o.name) ?? -1) || !produced.has(o.name)).map((o) => o.name));
  const mainName = (v: string) => (kept.has(v) && produced.has(v) ? v + KEPT : v);
  const branchName = (v: string) => (gate.outputs.has(v) && !kept.has(v) ? v + THEN : mainName(v));

  const mainNodes: NodeData[] = [];
  const branchNodes: NodeData[] = [];
  graph.nodes.forEach((n, i) => {
    if (main.has(i)) mainNodes.push({ ...n, inputs: n.inputs.map(mainName), outputs: n.outputs.map(mainName) });
    else branchNodes.push({ ...n, inputs: n.inputs.map(branchName), outputs: n.outputs.map(branchName) });
  });
  for (const o of kept) {
    branchNodes.push({ opType: 'Identity', name: `${o}${THEN}#pass`, inputs: [mainName(o)], outputs: [o + THEN], attributes: {} });
  }
  const thenGraph: GraphData = {
    name: `${graph.name}${THEN}`,
    nodes: branchNodes,
    initializers: [],
    inputs: [],
    outputs: gated.map((o) => ({ name: o.name + THEN, dtype: o.dtype, shape: o.shape })),
  };
  // the else-branch answers each gated output with an empty tensor of its type
  const elseGraph: GraphData = {
    name: `${graph.name}${ELSE}`,
    nodes: gated.map((o) => ({
      opType: 'Constant',
      name: o.name + ELSE,
      inputs: [],
      outputs: [o.name + ELSE],
      attributes: { value: { kind: 'tensor', value: { name: o.name + ELSE, dtype: o.dtype, dims: [0], raw: new Uint8Array(0) } } },
    })),
    initializers: [],
    inputs: [],
    outputs: gated.map((o) => ({ name: o.name + ELSE, dtype: o.dtype, shape: [0] })),
  };
  mainNodes.push({
    opType: 'If',
    name: `gate:${gate.input}`,
    inputs: [gate.input],
    outputs: gated.map((o) => o.name),
    attributes: { then_branch: { kind: 'graph', value: thenGraph }, else_branch: { kind: 'graph', value: elseGraph } },
  });
  // the outputs' shapes depend on the branch taken, so they are left undeclared
  const outputs: ValueInfoData[] = graph.outputs.map((o) => (gate.outputs.has(o.name) ? { name: o.name, dtype: o.dtype } : o));
  return { ...graph, nodes: mainNodes, outputs };
}
