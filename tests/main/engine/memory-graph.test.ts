// Where a train step's memory goes, read from the emitted graphs at Qwen2.5-0.5B's shapes (built,
// serialized and inspected; no weights are read, nothing runs): the cross-entropy never makes a
// [tokens × vocab] tensor (no value at all is larger than one 64 MiB slice of the logits), the float32 cast of a half-precision weight never lives from the forward
// into the gated backward, and with recomputation the backward reads little from the forward.
import { describe, expect, it } from 'vitest';
import { buildGraph, LOSS_SLICE_BYTES, lossSliceRows, parameterShapes, type GraphSpec } from '../../../src/main/engine/graphs';
import type { Value } from '../../../src/main/engine/ir/graph';
import { numel } from '../../../src/main/engine/ir/types';
import type { DecoderConfig } from '../../../src/main/engine/models/config';
import type { GraphData } from '../../../src/main/engine/onnx/model-proto';
import { toModelData } from '../../../src/main/engine/onnx/serialize';
import type { WeightSource } from '../../../src/main/engine/weights';
import { estimateTrainingMemory, memoryBudget, recomputeByDefault, trainingMemoryInput } from '../../../src/main/engine/memory';
import { parseGpuMemory } from '../../../src/main/engine/runtime/gpu';
import type { LoraTarget } from '../../../src/main/engine/models/lora';

const QWEN25_05B: DecoderConfig = {
  vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2,
  rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true, model_type: 'qwen2', attention_bias: true,
} as DecoderConfig;
const V = QWEN25_05B.vocab_size;
const B = 2;
const T = 512;

/** Sizes and storage type of a bf16 checkpoint; reading it is an error (nothing here needs the values). */
const shapes = new Map(parameterShapes(QWEN25_05B).map((p) => [p.name, numel(p.shape)]));
const bf16Checkpoint: WeightSource = {
  size: (name) => shapes.get(name),
  halfDtype: () => 'bfloat16',
  read: () => { throw new Error('no weight is read to build a graph'); },
  readHalf: () => { throw new Error('no weight is read to build a graph'); },
};

function build(kind: GraphSpec['kind'], recompute: boolean) {
  const spec: GraphSpec = { kind, model: QWEN25_05B, adapter: { kind: 'lora', r: 16, alpha: 32, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, batchSize: B, seqLen: T, dtype: 'float32', halfWeights: true, recompute };
  const built = buildGraph(spec, bf16Checkpoint);
  const values = new Map<string, Value>();
  for (const n of built.builder.graph.nodes) values.set(n.output.name, n.output);
  const data = toModelData(built.builder.graph, { name: kind, producerVersion: 'test', externalLocation: () => ({ location: 'w.bin', offset: 0, length: 0 }) });
  return { built, values, data };
}

/** Names the then-branch of the train graph's gate reads from the main graph. */
function outerReads(graph: GraphData): Set<string> {
  const gate = graph.nodes.find((n) => n.opType === 'If')!;
  const branch = gate.attributes.then_branch!;
  if (branch.kind !== 'graph') throw new Error('then_branch is not a graph');
  const inner = new Set(branch.value.nodes.flatMap((n) => n.outputs));
  return new Set(branch.value.nodes.flatMap((n) => n.inputs).filter((i) => i !== '' && !inner.has(i)));
}

describe('the train graph at Qwen2.5-0.5B shapes (batch 2 × 512, vocabulary 151,936)', () => {
  const plain = build('train', false);
  const recomputed = build('train', true);

  it('never holds a [tokens × vocab] tensor: the loss runs over slices of the vocabulary', () => {
    const rows = lossSliceRows(B * T, V, 896);
    expect(rows).toBeLessThan(V / 4);
    for (const { built } of [plain, recomputed, { built: build('eval', false).built }]) {
      // (an ordering edge's output is its input, aliased: a weight, not a buffer of its own)
      const values = built.builder.graph.nodes.filter((n) => n.op !== 'after').map((n) => n.output);
      // every logits slice covers all positions and at most `rows` tokens of the vocabulary
      const logits = values.filter((v) => v.shape.length === 2 && v.shape[0] === B * T && v.shape[1]! > 1024);
      expect(logits.length).toBeGreaterThanOrEqual(Math.ceil(V / rows));
      expect(Math.max(...logits.map((v) => v.shape[1]!))).toBeLessThanOrEqual(rows);
      // and no value of the graph, whatever it is, holds more than one slice's bytes
      expect(values.filter((v) => 4 * numel(v.shape) > LOSS_SLICE_BYTES).map((v) => v.describe())).toEqual([]);
      expect(built.builder.graph.outputs.has('logits')).toBe(false);
    }
  });

  it('casts each bf16 weight where it is used: the backward never reads a forward cast', () => {
    const initializers = plain.data.graph.initializers.filter((t) => t.dtype === 'bfloat16');
    expect(initializers.length).toBe(shapes.size);
    expect(plain.data.graph.initializers.filter((t) => t.external && t.dtype === 'float32')).toEqual([]);
    const weights = new Set(initializers.map((t) => t.name));
    const casts = new Set(plain.data.graph.nodes.filter((n) => n.opType === 'Cast' && weights.has(n.inputs[0]!)).flatMap((n) => n.outputs));
    expect(casts.size).toBeGreaterThan(24 * 7);
    for (const { data } of [plain, recomputed]) expect([...outerReads(data.graph)].filter((name) => casts.has(name))).toEqual([]);
  });

  it('reads a weight in the backward only once the backward reaches it, not when ONNX Runtime likes', () => {
    for (const { data } of [plain, recomputed]) {
      const weights = new Set(data.graph.initializers.filter((t) => t.dtype === 'bfloat16' && t.dims.length === 2).map((t) => t.name));
      const branch = data.graph.nodes.find((n) => n.opType === 'If')!.attributes.then_branch!;
      if (branch.kind !== 'graph') throw new Error('then_branch is not a graph');
      const made = new Map(branch.value.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
      const readers = branch.value.nodes.filter((n) => n.inputs.some((i) => weights.has(i)));
      // every layer matrix past the first layer's (whose input needs no gradient) and every slice
      // of the head's table is read again in the backward...
      expect(readers.length).toBeGreaterThanOrEqual(23 * 7 + Math.ceil(V / lossSliceRows(B * T, V, 896)));
      for (const r of readers) {
        // ...by a Reshape whose shape is computed from the backward's progress, not a constant the
        // scheduler could run at once
        expect(r.opType, r.name).toBe('Reshape');
        expect(made.get(r.inputs[1]!)?.opType, r.name).toBe('Add');
      }
    }
  });

  it('with recomputation, the backward reads a small fraction of what it reads without', () => {
    const bytes = (g: ReturnType<typeof build>) =>
      [...outerReads(g.data.graph)].reduce((sum, name) => sum + 4 * numel(g.values.get(name)?.shape ?? []), 0);
    const without = bytes(plain);
    const withIt = bytes(recomputed);
    // kept: each layer's input [B·T, 896] and the final hidden states; without: every activation
    expect(withIt).toBeLessThan(0.1 * without);
    expect(withIt).toBeGreaterThan(QWEN25_05B.num_hidden_layers * B * T * 896 * 4 * 0.9);
  });
});

describe('the memory estimate behind the recomputation default', () => {
  const lora = { kind: 'lora' as const, r: 16, alpha: 32, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as LoraTarget[] };
  const at = (B: number, T: number, weights: WeightSource = bf16Checkpoint) => trainingMemoryInput(QWEN25_05B, lora, weights, true, B, T);

  it('counts bf16 weights at two bytes, and recomputation keeps a small part of the activations', () => {
    const m = at(1, 512);
    expect(m.weightBytesPerParameter).toBe(2);
    expect(at(1, 512, { ...bf16Checkpoint, halfDtype: () => undefined }).weightBytesPerParameter).toBe(4);
    const kept = estimateTrainingMemory(m, false);
    const recomputed = estimateTrainingMemory(m, true);
    expect(recomputed.activationBytes).toBeLessThan(0.15 * kept.activationBytes);
    expect(recomputed.weightsBytes).toBe(kept.weightsBytes);
    expect(kept.totalBytes).toBeGreaterThan(recomputed.totalBytes);
  });

  it('recomputes where the peak without it would exceed half the memory', () => {
    const without = estimateTrainingMemory(at(4, 512), false).totalBytes;
    expect(recomputeByDefault(at(4, 512), { bytes: 2 * without - 1, share: 0.5 })).toBe(true);
    expect(recomputeByDefault(at(4, 512), { bytes: 2 * without + 1, share: 0.5 })).toBe(false);
    // on a 24 GiB machine: batch 1 to 4 keep their activations, batch 8 recomputes
    expect([1, 2, 4, 8].map((B) => recomputeByDefault(at(B, 512), { bytes: 24 * 2 ** 30, share: 0.5 }))).toEqual([false, false, false, true]);
  });

  it('plans a CUDA session in the GPU memory, without weight casts when computing in half precision', () => {
    const m = at(8, 512);
    const cast = estimateTrainingMemory(m, false);
    const half = estimateTrainingMemory(m, false, true);
    // the float32 cast of the largest layer weight (4864 x 896 at 0.5B) is not made
    expect(cast.weightsBytes - half.weightsBytes).toBe(4 * 4864 * 896);
    expect(memoryBudget('cuda', 24 * 2 ** 30)).toEqual({ bytes: 24 * 2 ** 30, share: 0.9 });
    expect(memoryBudget('cuda', undefined)).toEqual(memoryBudget('cpu'));
    // batch 8 recomputes on a 24 GiB machine's CPU (above) but fits a 24 GiB GPU
    expect(recomputeByDefault(m, memoryBudget('cuda', 24 * 2 ** 30), true)).toBe(half.totalBytes > 0.9 * 24 * 2 ** 30);
    expect(half.totalBytes).toBeLessThan(0.9 * 24 * 2 ** 30);
  });

  it('reads the GPU memory from nvidia-smi in MiB and nothing else', () => {
    expect(parseGpuMemory('81559\n')).toBe(81559 * 2 ** 20);
    expect(parseGpuMemory('24564\n24564\n')).toBe(24564 * 2 ** 20);
    for (const junk of ['', '[N/A]', 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.', '0', '-1']) expect(parseGpuMemory(junk), junk).toBeUndefined();
  });
});

