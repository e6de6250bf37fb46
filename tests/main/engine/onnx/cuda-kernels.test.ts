// The CUDA preflight: element types worked out through an emitted graph (If branches included),
// looked up in the table of ONNX Runtime's CUDA kernels, and a graph with nodes CUDA cannot run
// refused in words before ONNX Runtime is asked; the graphs our models emit have no such node.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../../src/shared/errors';
import { buildGraph, parameterShapes, type GraphSpec } from '../../../../src/main/engine/graphs';
import { GraphBuilder } from '../../../../src/main/engine/ir/builder';
import { numel } from '../../../../src/main/engine/ir/types';
import { initBaseWeights } from '../../../../src/main/engine/models/init';
import type { DecoderConfig } from '../../../../src/main/engine/models/config';
import { isGpt2Config, type Gpt2Config } from '../../../../src/main/engine/models/gpt2';
import { CUDA_KERNELS, kernelTypes, readableScope, refuseUnplacedOnCuda, unplacedOnCuda } from '../../../../src/main/engine/onnx/cuda-kernels';
import { GraphCache } from '../../../../src/main/engine/onnx/graph-cache';
import { ONNX_DTYPE, type GraphData, type NodeData } from '../../../../src/main/engine/onnx/model-proto';
import { toModelData } from '../../../../src/main/engine/onnx/serialize';
import { OrtRuntime } from '../../../../src/main/engine/runtime/ort-runtime';
import { TrainingSession } from '../../../../src/main/engine/training-session';
import type { WeightSource } from '../../../../src/main/engine/weights';
import { tempDir } from '../../../helpers/temp';

const node = (opType: string, name: string, inputs: string[], outputs: string[], attributes: NodeData['attributes'] = {}): NodeData => ({ opType, name, inputs, outputs, attributes });

/**
 * x float32, ids int32, flag bool in; w a bfloat16 initializer. The then-branch reads x and eq from
 * the outer graph; the If's output type comes from the branch.
 */
function handBuilt(): GraphData {
  const thenBranch: GraphData = {
    name: 'then',
    nodes: [
      node('Cast', 'model.layers.1.mlp/cast_20#0', ['x'], ['xb'], { to: { kind: 'int', value: ONNX_DTYPE.bfloat16 } }),
      node('ReduceMax', 'grad:model.layers.1.mlp/reducemax_21#0', ['xb'], ['m']),
      node('Where', 'grad:model.layers.1.mlp/where_22#0', ['eq', 'eq', 'eq'], ['wb']),
    ],
    initializers: [],
    inputs: [],
    outputs: [{ name: 'm', dtype: 'bfloat16' }],
  };
  const elseBranch: GraphData = {
    name: 'else',
    nodes: [node('Constant', 'm/else', [], ['m0'], { value: { kind: 'tensor', value: { name: 'm0', dtype: 'bfloat16', dims: [0], raw: new Uint8Array(0) } } })],
    initializers: [],
    inputs: [],
    outputs: [{ name: 'm0', dtype: 'bfloat16', shape: [0] }],
  };
  return {
    name: 'g',
    nodes: [
      node('Cast', 'model.embed/cast_1#0', ['w'], ['wd'], { to: { kind: 'int', value: ONNX_DTYPE.float64 } }),
      node('Erf', 'model.layers.0.mlp/erf_2#0', ['wd'], ['e']),
      node('Log', 'model.layers.0.mlp/log_3#0', ['w'], ['lw']),
      node('Equal', 'loss/equal_4#0', ['ids', 'ids'], ['eq']),
      node('Where', 'loss/where_5#0', ['eq', 'x', 'x'], ['wx']),
      node('Shape', 'graph/shape_6#0', ['wx'], ['sh']),
      node('ConstantOfShape', 'graph/zeros_7#0', ['sh'], ['z']),
      node('ConstantOfShape', 'graph/trues_8#0', ['sh'], ['t'], { value: { kind: 'tensor', value: { name: 'v', dtype: 'bool', dims: [1], raw: Uint8Array.of(1) } } }),
      node('Equal', 'graph/same_9#0', ['t', 'eq'], ['same']),
      node('If', 'gate:flag', ['flag'], ['mx'], { then_branch: { kind: 'graph', value: thenBranch }, else_branch: { kind: 'graph', value: elseBranch } }),
      node('Sqrt', 'output:mx', ['mx'], ['out']),
    ],
    initializers: [{ name: 'w', dtype: 'bfloat16', dims: [2], raw: new Uint8Array(4) }],
    inputs: [{ name: 'x', dtype: 'float32', shape: [2] }, { name: 'ids', dtype: 'int32', shape: [2] }, { name: 'flag', dtype: 'bool', shape: [] }],
    outputs: [{ name: 'out', dtype: 'bfloat16' }],
  };
}

describe('element types through an emitted graph', () => {
  it('follows Cast, comparisons, Shape, ConstantOfShape, Where and If branches that read outer names', () => {
    const types = Object.fromEntries(kernelTypes(handBuilt()).map(({ node: n, dtype }) => [n.name, dtype]));
    expect(types).toEqual({
      'model.embed/cast_1#0': 'bfloat16', // Cast: the type cast from
      'model.layers.0.mlp/erf_2#0': 'float64', // ...and its output is the type cast to
      'model.layers.0.mlp/log_3#0': 'bfloat16', // an initializer
      'loss/equal_4#0': 'int32', // the compared type
      'loss/where_5#0': 'float32', // the values', not the condition's
      'graph/shape_6#0': 'float32',
      'graph/zeros_7#0': 'float32', // Shape gives int64; ConstantOfShape without a value is float32
      'graph/trues_8#0': 'bool', // ...and with one, its type
      'graph/same_9#0': 'bool', // Equal's output is bool
      'gate:flag': 'bfloat16',
      'model.layers.1.mlp/cast_20#0': 'float32', // an outer input, read in the branch
      'grad:model.layers.1.mlp/reducemax_21#0': 'bfloat16',
      'grad:model.layers.1.mlp/where_22#0': 'bool', // an outer node's output, read in the branch
      'm/else': undefined, // Constant: no kernel
      'output:mx': 'bfloat16', // the If's output, typed by its branch
    });
  });

  it('lists the nodes the CUDA provider has no kernel for, branches included, with the reason in words', () => {
    expect(unplacedOnCuda(handBuilt())).toEqual([
      { opType: 'Log', node: 'model.layers.0.mlp/log_3#0', scope: 'model.layers.0.mlp', dtype: 'bfloat16', reason: 'the CUDA provider has Log for float32, float64 and float16 only' },
      { opType: 'ReduceMax', node: 'grad:model.layers.1.mlp/reducemax_21#0', scope: 'the backward of model.layers.1.mlp', dtype: 'bfloat16', reason: 'the CUDA provider has ReduceMax for float32, float64, float16, int32 and int64 only' },
      { opType: 'Where', node: 'grad:model.layers.1.mlp/where_22#0', scope: 'the backward of model.layers.1.mlp', dtype: 'bool', reason: 'the CUDA provider has Where for float32, float64, float16, bfloat16, int32, int64 and uint8 only' },
    ]);
  });

  it('names an op the table does not have as having no CUDA kernel at all', () => {
    const g: GraphData = { name: 'g', nodes: [node('Celu', 'model.norm/celu_1#0', ['x'], ['y'])], initializers: [], inputs: [{ name: 'x', dtype: 'float32' }], outputs: [] };
    expect(unplacedOnCuda(g)).toEqual([{ opType: 'Celu', node: 'model.norm/celu_1#0', scope: 'model.norm', dtype: 'float32', reason: 'the CUDA provider has no Celu kernel at all' }]);
  });

  it('makes the emitted scopes readable', () => {
    expect(readableScope('model.layers.3.mlp/matmul_123#0')).toBe('model.layers.3.mlp');
    expect(readableScope('grad:model.layers.3.mlp/mul_9#1')).toBe('the backward of model.layers.3.mlp');
    expect(readableScope('graph/shape_6#0')).toBe('the top level');
    expect(readableScope('output:loss')).toBe('the output loss');
  });
});

describe('the refusal', () => {
  it('groups identical (op, type) pairs with counts and a few scopes', () => {
    const logs = [0, 1, 2, 3, 4].map((i) => node('Log', `model.layers.${i}.mlp/log_${i}#0`, ['w'], [`l${i}`]));
    const g: GraphData = {
      name: 'g',
      nodes: [...logs, node('Log', 'model.layers.0.mlp/log_9#0', ['w'], ['l9']), node('Where', 'grad:model.layers.0.self_attn/where_7#0', ['c', 'c', 'c'], ['wc'])],
      initializers: [{ name: 'w', dtype: 'bfloat16', dims: [1], raw: new Uint8Array(2) }],
      inputs: [{ name: 'c', dtype: 'bool' }],
      outputs: [],
    };
    expect(() => refuseUnplacedOnCuda(g, 'train')).toThrow(UserError);
    expect(() => refuseUnplacedOnCuda(g, 'train')).toThrow(
      'the train graph cannot run on CUDA: 7 nodes have no CUDA kernel in ONNX Runtime 1.29 — ' +
        'Log ×6 in model.layers.0.mlp, model.layers.1.mlp, model.layers.2.mlp and 2 more (bfloat16; the CUDA provider has Log for float32, float64 and float16 only); ' +
        'Where in the backward of model.layers.0.self_attn (bool; the CUDA provider has Where for float32, float64, float16, bfloat16, int32, int64 and uint8 only). ' +
        'Use device: cpu, or float32 weights',
    );
  });

  it('passes a graph the CUDA provider can run', () => {
    const g: GraphData = { name: 'g', nodes: [node('Log', 'model/log_1#0', ['x'], ['y'])], initializers: [], inputs: [{ name: 'x', dtype: 'float32' }], outputs: [] };
    expect(() => refuseUnplacedOnCuda(g, 'train')).not.toThrow();
  });
});

// ---- the graphs our models emit --------------------------------------------------------------

const LLAMA: DecoderConfig = {
  vocab_size: 64, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
  rms_norm_eps: 1e-6, rope_theta: 10000,
};
// exact gelu: the one activation that emits Erf
const GPT2: Gpt2Config = { model_type: 'gpt2', vocab_size: 64, n_embd: 16, n_layer: 2, n_head: 4, n_positions: 32, layer_norm_epsilon: 1e-5, activation_function: 'gelu' };

/** Sizes of a checkpoint, stored in bfloat16 or float32; building a graph reads no value. */
function checkpoint(config: DecoderConfig | Gpt2Config, bf16: boolean): WeightSource {
  const sizes = new Map(parameterShapes(config).map((p) => [p.name, numel(p.shape)]));
  const unread = (): never => { throw new Error('no weight is read to build a graph'); };
  return { size: (n) => sizes.get(n), read: unread, ...(bf16 ? { halfDtype: () => 'bfloat16' as const, readHalf: unread } : {}) };
}

function emitted(config: DecoderConfig | Gpt2Config, dtype: 'float32' | 'float64', bf16: boolean, halfCompute = false): GraphData {
  const targetModules = isGpt2Config(config) ? ['c_attn' as const] : ['q_proj' as const, 'v_proj' as const];
  const spec: GraphSpec = { kind: 'train', model: config, adapter: { kind: 'lora', r: 4, alpha: 8, targetModules }, batchSize: 2, seqLen: 8, dtype, halfWeights: bf16, halfCompute, recompute: true };
  const graph = buildGraph(spec, checkpoint(config, bf16)).builder.graph;
  return toModelData(graph, { name: 'train', producerVersion: 'test', externalLocation: () => ({ location: 'w.bin', offset: 0, length: 0 }) }).graph;
}

describe.each([
  ['llama', LLAMA],
  ['gpt2 (exact gelu)', GPT2],
] as const)('the %s train graph', (_, config) => {
  it.each([
    ['float32', 'float32', false, false],
    ['bfloat16 weights', 'float32', true, false],
    ['bfloat16 compute', 'float32', true, true],
    ['float64', 'float64', false, false],
  ] as const)('in %s has a CUDA kernel for every node', (_form, dtype, bf16, halfCompute) => {
    const graph = emitted(config, dtype, bf16, halfCompute);
    const typed = kernelTypes(graph);
    // the check is not vacuous: every op is in the table and every node but a Constant has a type
    expect(typed.filter(({ node: n }) => n.opType !== 'Constant' && !CUDA_KERNELS[n.opType])).toEqual([]);
    expect(typed.filter(({ node: n, dtype: t }) => n.opType !== 'Constant' && !t).map(({ node: n }) => n.name)).toEqual([]);
    expect(typed.some(({ node: n }) => n.opType === 'If')).toBe(true);
    if (bf16) expect(typed.some(({ node: n, dtype: t }) => n.opType === 'Cast' && t === 'bfloat16')).toBe(true);
    if (halfCompute) expect(typed.some(({ node: n, dtype: t }) => /^(Gemm|MatMul)$/.test(n.opType) && t === 'bfloat16')).toBe(true);
    expect(unplacedOnCuda(graph)).toEqual([]);
  });
});

// ---- through the real path: the graph cache and a session on (stand-in) CUDA -------------------

describe('a session on CUDA', () => {
  const standIn = new OrtRuntime({ cudaProvider: 'cpu' });

  it('is refused in words before ONNX Runtime is asked when a node has no CUDA kernel', async () => {
    const b = new GraphBuilder('float32');
    const x = b.input('x', [4], 'float32');
    const half = b.cast(x, 'bfloat16');
    b.output('y', b.scope('loss', () => b.where(b.equal(half, half), x, x)));
    const dir = tempDir('engine-cuda-kernels-');
    const cache = new GraphCache(dir);
    const { device } = await standIn.chooseDevice('cuda');
    expect(device).toBe('cuda');
    expect(() => cache.compile(b.graph, { name: 'probe', producerVersion: 't', device })).toThrow(
      /^the probe graph cannot run on CUDA: 1 node has no CUDA kernel in ONNX Runtime 1\.29 — Equal in loss \(bfloat16; the CUDA provider has Equal for float32, float64, float16, int32, int64 and bool only\)\. Use device: cpu, or float32 weights$/,
    );
    // nothing was written, so nothing could reach ONNX Runtime
    const models = (d: string): string[] => readdirSync(d, { recursive: true }).map(String).filter((f) => f.endsWith('.onnx'));
    expect(models(dir)).toEqual([]);
    // the same graph for the CPU is compiled (the table speaks for CUDA only)
    expect(path.basename(cache.compile(b.graph, { name: 'probe', producerVersion: 't', device: 'cpu' }).modelPath)).toMatch(/^probe-.+\.onnx$/);
  });

  it("lets a model's train graph through to ONNX Runtime, whose own refusal stays the backstop", async () => {
    // With the CPU provider standing in for CUDA every node is a CPU fallback, so ONNX Runtime
    // refuses the session: the preflight passed the graph on, and ORT's refusal still reads in words.
    const created = TrainingSession.create({
      runtime: standIn, cacheDir: tempDir('engine-cuda-kernels-train-'), model: LLAMA, baseWeights: initBaseWeights(parameterShapes(LLAMA), 3, 0.1),
      adapter: { kind: 'lora', r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj'] }, batchSize: 1, seqLen: 8, device: 'cuda', threads: 1,
    });
    await expect(created).rejects.toThrow(UserError);
    await expect(created).rejects.toThrow(/^the graph train-.+\.onnx has operators the CUDA execution provider cannot run, .*ONNX Runtime said: ".*fallback to CPU EP has been explicitly disabled/);
  });
});
