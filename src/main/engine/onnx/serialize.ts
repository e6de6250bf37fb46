// Graph IR -> ONNX ModelData (model-proto.ts encodes it). Each node is emitted by its registry
// entry; base weights become external-data initializers placed by the caller's weights layout;
// small constants are stored inline. Output values are renamed to their output names where that
// is possible, and copied through Identity where it is not (an input, or one value twice). Gated
// outputs (a train graph's gradients) go inside an If on their flag (gate.ts).
import type { Graph, Value } from '../ir/graph';
import type { OpName } from '../ir/ops';
import { OPS } from '../ir/registry';
import type { EmitContext, OpRule } from '../ir/rule';
import type { TensorArray } from '../ir/types';
import { gateOutputs } from './gate';
import type { ExternalLocation, GraphData, ModelData, NodeData, TensorData } from './model-proto';

export const OPSET = 17;
export const IR_VERSION = 8;

export interface SerializeOptions {
  name: string;
  producerVersion: string;
  /** Where each external initializer lies in the weights file (see weights-file.ts). */
  externalLocation(name: string): ExternalLocation;
}

export function bytesOf(a: TensorArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function toModelData(graph: Graph, opts: SerializeOptions): ModelData {
  const onnxName = new Map<number, string>();
  const nodes: NodeData[] = [];
  const initializers: TensorData[] = [];
  let temps = 0;
  const i64Consts = new Map<string, string>();

  // values that leave the graph under their output name (produced by a node, named once)
  const outputCount = new Map<number, number>();
  for (const v of graph.outputs.values()) outputCount.set(v.id, (outputCount.get(v.id) ?? 0) + 1);
  const renamed = new Set<number>();
  for (const [name, v] of graph.outputs) {
    if (v.source.kind === 'node' && outputCount.get(v.id) === 1) {
      onnxName.set(v.id, name);
      renamed.add(v.id);
    }
  }
  const nameOf = (v: Value): string => onnxName.get(v.id) ?? v.name;

  for (const v of graph.initializers) {
    if (v.source.kind !== 'initializer') continue;
    const init = v.source.init;
    const t: TensorData = { name: nameOf(v), dtype: v.dtype, dims: v.shape };
    initializers.push(init.external ? { ...t, external: opts.externalLocation(v.name) } : { ...t, raw: bytesOf(init.data) });
  }

  const constI64 = (values: readonly number[]): string => {
    const key = values.join(',');
    let name = i64Consts.get(key);
    if (!name) {
      name = `i64[${key}]`;
      i64Consts.set(key, name);
      initializers.push({ name, dtype: 'int64', dims: [values.length], raw: bytesOf(BigInt64Array.from(values, (x) => BigInt(x))) });
    }
    return name;
  };

  for (const node of graph.nodes) {
    let part = 0;
    const ctx: EmitContext = {
      inputs: node.inputs.map(nameOf),
      output: nameOf(node.output),
      temp: (hint) => `${node.output.name}/${hint}${temps++}`,
      constI64,
      node: (opType, inputs, outputs, attributes = {}) => {
        nodes.push({ opType, name: `${node.output.name}#${part++}`, inputs: [...inputs], outputs: [...outputs], attributes });
      },
    };
    (OPS[node.op] as unknown as OpRule<OpName>).emit(ctx, node);
  }

  const outputs = [];
  for (const [name, v] of graph.outputs) {
    if (!renamed.has(v.id)) nodes.push({ opType: 'Identity', name: `output:${name}`, inputs: [nameOf(v)], outputs: [name], attributes: {} });
    outputs.push({ name, dtype: v.dtype, shape: v.shape });
  }

  const data: GraphData = {
    name: opts.name,
    nodes,
    initializers,
    inputs: graph.inputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape })),
    outputs,
  };
  return {
    irVersion: IR_VERSION,
    producerName: 'dynamics-studio',
    producerVersion: opts.producerVersion,
    opsets: [{ domain: '', version: OPSET }],
    graph: graph.gate ? gateOutputs(data, { input: nameOf(graph.gate.input), outputs: graph.gate.outputs }) : data,
  };
}
