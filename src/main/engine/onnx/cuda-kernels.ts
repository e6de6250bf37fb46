// Which nodes of an emitted graph ONNX Runtime's CUDA provider has no kernel for, worked out before
// a session is asked for. A CUDA session disables the CPU fallback (runtime/ort-runtime.ts), and
// ONNX Runtime then refuses such a graph in one sentence that names no node; this names the ops,
// where the model uses them and for which element type, so the user reads what to change.
import { UserError } from '../../../shared/errors';
import { ONNX_DTYPE, type GraphData, type NodeData, type OnnxDtype } from './model-proto';

/** The ONNX Runtime the table below describes (package.json pins onnxruntime-node). */
const ORT_VERSION = '1.29';

const ALL: readonly OnnxDtype[] = ['float32', 'float64', 'float16', 'bfloat16', 'int32', 'int64', 'int8', 'uint8', 'bool'];
const FLOATS: readonly OnnxDtype[] = ['float32', 'float64', 'float16', 'bfloat16'];
const ARITHMETIC: readonly OnnxDtype[] = [...FLOATS, 'int32', 'int64', 'int8', 'uint8'];

/**
 * Per ONNX op (domain '', the registration covering opset 17), the element types of ONNX_DTYPE the
 * CUDA provider has a kernel for; the type is that of the value `kernelType` picks.
 * From onnxruntime/core/providers/cuda/cuda_execution_provider.cc's registrations as the generated
 * docs/OperatorKernels.md of a main-branch snapshot (opsets up to 25) lists them, not checked against the 1.29 tag.
 */
export const CUDA_KERNELS: Readonly<Record<string, readonly OnnxDtype[]>> = {
  Add: ARITHMETIC,
  Sub: ARITHMETIC,
  Mul: ARITHMETIC,
  Div: ARITHMETIC,
  Neg: [...FLOATS, 'int32', 'int64', 'int8'],
  // the type cast from (T1); the types cast to (T2) are every type of ONNX_DTYPE as well
  Cast: ALL,
  Concat: ALL,
  ConstantOfShape: ALL,
  Expand: ALL,
  Gather: ALL,
  GatherElements: ALL,
  Identity: ALL,
  If: ALL,
  Reshape: ALL,
  ScatterElements: ALL,
  ScatterND: ALL,
  Shape: ALL,
  Slice: ALL,
  Transpose: ALL,
  Unsqueeze: ALL,
  Equal: ['float32', 'float64', 'float16', 'int32', 'int64', 'bool'],
  Less: ['float32', 'float64', 'float16', 'int32', 'int64'],
  Erf: FLOATS,
  Exp: FLOATS,
  Gemm: FLOATS,
  MatMul: FLOATS,
  Sigmoid: FLOATS,
  Softmax: FLOATS,
  Sqrt: FLOATS,
  Tanh: FLOATS,
  Log: ['float32', 'float64', 'float16'],
  ReduceMax: ['float32', 'float64', 'float16', 'int32', 'int64'],
  ReduceSum: [...FLOATS, 'int32', 'int64'],
  Where: [...FLOATS, 'int32', 'int64', 'uint8'],
};

/** Ops that need no kernel: ONNX Runtime turns a Constant into an initializer when it loads the graph. */
const NO_KERNEL = new Set(['Constant']);

const COMPARISONS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor']);

const DTYPE_OF_CODE = new Map<number, OnnxDtype>(Object.entries(ONNX_DTYPE).map(([name, code]) => [code, name as OnnxDtype]));

export interface UnplacedNode {
  opType: string;
  /** The node's name as emitted (`<scope>/<op>_<id>#<part>`). */
  node: string;
  /** Where in the model, in words (`model.layers.3.mlp`, `the backward of model.layers.3.mlp`). */
  scope: string;
  /** The element type that picks the kernel (Cast's: the type cast from). */
  dtype: OnnxDtype;
  reason: string;
}

type Types = ReadonlyMap<string, OnnxDtype>;

function tensorAttr(node: NodeData, name: string): OnnxDtype | undefined {
  const a = node.attributes[name];
  return a?.kind === 'tensor' ? a.value.dtype : undefined;
}

function castTo(node: NodeData): OnnxDtype | undefined {
  const to = node.attributes.to;
  return to?.kind === 'int' ? DTYPE_OF_CODE.get(to.value) : undefined;
}

/** The element type of the node's data: Where's values, else its first input of known type. */
function dataType(node: NodeData, types: Types): OnnxDtype | undefined {
  const inputs = node.opType === 'Where' ? node.inputs.slice(1) : node.inputs;
  for (const i of inputs) {
    const t = types.get(i);
    if (t) return t;
  }
  return undefined;
}

function outputTypes(node: NodeData, types: Types): (OnnxDtype | undefined)[] {
  switch (node.opType) {
    case 'Cast':
      return [castTo(node)];
    case 'Shape':
      return ['int64'];
    case 'Constant':
      return [tensorAttr(node, 'value')];
    case 'ConstantOfShape':
      return [tensorAttr(node, 'value') ?? 'float32'];
    case 'If': {
      const branch = node.attributes.then_branch;
      return branch?.kind === 'graph' ? branch.value.outputs.map((o) => o.dtype) : [];
    }
    default:
      return node.outputs.map(() => (COMPARISONS.has(node.opType) ? 'bool' : dataType(node, types)));
  }
}

/** The element type the kernel is chosen by (ConstantOfShape's and If's are their outputs'). */
function kernelType(node: NodeData, types: Types): OnnxDtype | undefined {
  return node.opType === 'ConstantOfShape' || node.opType === 'If' ? outputTypes(node, types)[0] : dataType(node, types);
}

function listed(dtypes: readonly OnnxDtype[]): string {
  return dtypes.length === 1 ? dtypes[0]! : `${dtypes.slice(0, -1).join(', ')} and ${dtypes.at(-1)}`;
}

/** Why the CUDA provider cannot run the node, in words; undefined when it can (or its type is unknown). */
function gap(node: NodeData, types: Types): { dtype: OnnxDtype; reason: string } | undefined {
  if (NO_KERNEL.has(node.opType)) return undefined;
  const dtype = kernelType(node, types);
  if (!dtype) return undefined;
  const kernels = CUDA_KERNELS[node.opType];
  if (!kernels) return { dtype, reason: `the CUDA provider has no ${node.opType} kernel at all` };
  return kernels.includes(dtype) ? undefined : { dtype, reason: `the CUDA provider has ${node.opType} for ${listed(kernels)} only` };
}

/** `model.layers.3.mlp/matmul_123#0` -> `model.layers.3.mlp`; gradients and graph outputs in words. */
export function readableScope(nodeName: string): string {
  const slash = nodeName.lastIndexOf('/');
  const scope = slash < 0 ? nodeName : nodeName.slice(0, slash);
  if (scope === 'graph' || scope === '') return 'the top level';
  if (scope.startsWith('grad:')) return `the backward of ${scope.slice('grad:'.length)}`;
  if (scope === 'grad') return 'the backward';
  if (scope.startsWith('output:')) return `the output ${scope.slice('output:'.length)}`;
  return scope;
}

/** Visits every node (If branches included) with the element types known where it runs. */
function walk(graph: GraphData, outer: Types, visit: (node: NodeData, types: Types) => void): void {
  const types = new Map(outer);
  for (const t of graph.initializers) types.set(t.name, t.dtype);
  for (const v of graph.inputs) types.set(v.name, v.dtype);
  for (const node of graph.nodes) {
    visit(node, types);
    // a branch reads the outer graph's values by name
    for (const a of Object.values(node.attributes)) if (a.kind === 'graph') walk(a.value, types, visit);
    outputTypes(node, types).forEach((t, i) => {
      if (t && node.outputs[i]) types.set(node.outputs[i], t);
    });
  }
}

/** Every node of `graph` (If branches included) with the element type its kernel is chosen by. */
export function kernelTypes(graph: GraphData): { node: NodeData; dtype: OnnxDtype | undefined }[] {
  const out: { node: NodeData; dtype: OnnxDtype | undefined }[] = [];
  walk(graph, new Map(), (node, types) => out.push({ node, dtype: kernelType(node, types) }));
  return out;
}

/** The nodes of `graph` (If branches included) the CUDA provider has no kernel for. */
export function unplacedOnCuda(graph: GraphData): UnplacedNode[] {
  const found: UnplacedNode[] = [];
  walk(graph, new Map(), (node, types) => {
    const g = gap(node, types);
    if (g) found.push({ opType: node.opType, node: node.name, scope: readableScope(node.name), ...g });
  });
  return found;
}

const SCOPES_SHOWN = 3;

/** One clause per (op, type, reason): a 1000-node graph still gives a short message. */
function describeGroups(unplaced: readonly UnplacedNode[]): string[] {
  const groups = new Map<string, UnplacedNode[]>();
  for (const u of unplaced) {
    const key = `${u.opType}|${u.dtype}|${u.reason}`;
    const group = groups.get(key);
    if (group) group.push(u);
    else groups.set(key, [u]);
  }
  return [...groups.values()].map((nodes) => {
    const { opType, dtype, reason } = nodes[0]!;
    const scopes = [...new Set(nodes.map((n) => n.scope))];
    const more = scopes.length > SCOPES_SHOWN ? ` and ${scopes.length - SCOPES_SHOWN} more` : '';
    const count = nodes.length > 1 ? ` ×${nodes.length}` : '';
    return `${opType}${count} in ${scopes.slice(0, SCOPES_SHOWN).join(', ')}${more} (${dtype}; ${reason})`;
  });
}

/** Throws a UserError naming, grouped, the nodes of the graph the CUDA provider cannot run. */
export function refuseUnplacedOnCuda(graph: GraphData, graphName: string): void {
  const unplaced = unplacedOnCuda(graph);
  if (unplaced.length === 0) return;
  const nodes = unplaced.length === 1 ? '1 node has' : `${unplaced.length} nodes have`;
  const half = unplaced.some((u) => u.dtype === 'bfloat16' || u.dtype === 'float16');
  throw new UserError(
    `the ${graphName} graph cannot run on CUDA: ${nodes} no CUDA kernel in ONNX Runtime ${ORT_VERSION} — ${describeGroups(unplaced).join('; ')}. ` +
      `Use device: cpu${half ? ', or float32 weights' : ''}`,
  );
}
