// ONNX ModelProto as plain data, and its encoder. This file and protobuf.ts are the only places
// that know ONNX's field numbers (onnx/onnx.proto, IR version 8).
import { ProtoWriter } from './protobuf';

/** ONNX TensorProto.DataType codes for the element types we emit. */
export const ONNX_DTYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
} as const;
export type OnnxDtype = keyof typeof ONNX_DTYPE;

export type AttributeValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'tensor'; value: TensorData }
  | { kind: 'graph'; value: GraphData };

export interface NodeData {
  opType: string;
  domain?: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes: Readonly<Record<string, AttributeValue>>;
}

export interface ValueInfoData {
  name: string;
  dtype: OnnxDtype;
  /** Absent: the shape is not declared (a gated output's, which depends on the branch taken). */
  shape?: readonly number[];
}

export interface ExternalLocation {
  location: string;
  offset: number;
  length: number;
}

export interface TensorData {
  name: string;
  dtype: OnnxDtype;
  dims: readonly number[];
  /** Little-endian bytes stored inside the model... */
  raw?: Uint8Array;
  /** ...or a range of an external data file next to it. */
  external?: ExternalLocation;
}

export interface GraphData {
  name: string;
  nodes: readonly NodeData[];
  initializers: readonly TensorData[];
  inputs: readonly ValueInfoData[];
  outputs: readonly ValueInfoData[];
}

export interface ModelData {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsets: readonly { domain: string; version: number }[];
  graph: GraphData;
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, floats: 6, ints: 7 } as const;

function writeTensor(w: ProtoWriter, t: TensorData): void {
  w.packedInt64(1, t.dims);
  w.int32(2, ONNX_DTYPE[t.dtype]);
  w.string(8, t.name);
  if (t.external) {
    const e = t.external;
    const entry = (key: string, value: string) => w.message(13, (m) => m.string(1, key).string(2, value));
    entry('location', e.location);
    entry('offset', String(e.offset));
    entry('length', String(e.length));
    w.int32(14, 1); // data_location = EXTERNAL
  } else {
    w.bytes(9, t.raw ?? new Uint8Array(0));
  }
}

function writeAttribute(w: ProtoWriter, name: string, a: AttributeValue): void {
  w.string(1, name);
  w.int32(20, ATTR_TYPE[a.kind]);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int64(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'tensor':
      w.message(5, (t) => writeTensor(t, a.value));
      break;
    case 'graph':
      w.message(6, (g) => writeGraph(g, a.value));
      break;
    case 'floats':
      w.packedFloat(7, a.value);
      break;
    case 'ints':
      w.packedInt64(8, a.value);
      break;
  }
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoData): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int32(1, ONNX_DTYPE[v.dtype]);
      if (v.shape) {
        const dims = v.shape;
        tensor.message(2, (shape) => {
          for (const d of dims) shape.message(1, (dim) => dim.int64(1, d));
        });
      }
    }),
  );
}

function writeNode(w: ProtoWriter, n: NodeData): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, a] of Object.entries(n.attributes)) w.message(5, (m) => writeAttribute(m, k, a));
  if (n.domain) w.string(7, n.domain);
}

function writeGraph(w: ProtoWriter, g: GraphData): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v));
}

export function encodeModel(model: ModelData): Uint8Array {
  const w = new ProtoWriter();
  w.int64(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  w.message(7, (g) => writeGraph(g, model.graph));
  for (const o of model.opsets) w.message(8, (m) => m.string(1, o.domain).int64(2, o.version));
  return w.finish();
}
