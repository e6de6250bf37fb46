// Half-precision compute (TrainingOptions.halfCompute, the default on CUDA): products with frozen
// half-precision weights run in the weight's dtype instead of on a float32 cast of it. On the
// device under test (DYNAMICS_ENGINE_DEVICE, cpu by default; scripts/gpu-check.sh runs it on CUDA)
// the loss and adapter gradients match the float32 computation over the same stored values within
// half precision's tolerance: activations are rounded before each product, to 2^-11 relative in
// float16 and 2^-8 in bfloat16. ONNX Runtime's CPU provider has float16 products and no bfloat16
// ones, so on the CPU each architecture's bf16 fixture is stored as float16 (which also runs
// float16 checkpoints through the cast-at-use path), and bfloat16 compute is refused in words;
// on CUDA the fixtures run as they are, in bfloat16. The emitted graph holds no float32 cast of a
// layer weight.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TokenBatch } from '../../../src/main/engine/batch';
import { f32ToF16 } from '../../../src/main/engine/hf/dtypes';
import { loadModelFolder, type ModelFolder } from '../../../src/main/engine/hf/folder';
import { loadPeftAdapter } from '../../../src/main/engine/hf/peft';
import { buildGraph } from '../../../src/main/engine/graphs';
import type { Value } from '../../../src/main/engine/ir/graph';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { TrainingSession } from '../../../src/main/engine/training-session';
import type { WeightSource } from '../../../src/main/engine/weights';
import { tempDir } from '../../helpers/temp';
import { fixtureDir, loadReference, relErr } from './hf/helpers';

const device = (process.env.DYNAMICS_ENGINE_DEVICE ?? 'cpu') as 'cpu' | 'cuda';
/** Measured on the CPU in float16: at most 5e-4 (loss) and 1.1e-2 (gradients); bfloat16 rounds 8x coarser. */
const [LOSS_TOL, GRAD_TOL] = device === 'cpu' ? [2e-3, 2e-2] : [1.6e-2, 0.16];
const runtime = new OrtRuntime();
const cacheDir = tempDir('engine-half-compute-');
const folders: ModelFolder[] = [];

afterAll(() => {
  for (const f of folders) f.close();
});

/** The checkpoint's half-precision weights as float16 (its float32 ones stay float32). */
function asFloat16(w: WeightSource): WeightSource {
  return {
    size: (n) => w.size(n),
    read: (n) => w.read(n),
    halfDtype: (n) => (w.halfDtype?.(n) ? 'float16' : undefined),
    readHalf: (n) => {
      const values = w.read(n);
      const bits = new Uint16Array(values.length);
      f32ToF16(values, bits);
      return bits;
    },
  };
}

describe.each(['llama-bf16', 'mistral-bf16', 'qwen2-bf16', 'qwen3-bf16', 'gpt2-bf16'] as const)('%s', (variant) => {
  const ref = loadReference(variant);
  const [B, T] = ref.meta.batch;
  const batch: TokenBatch = { batchSize: B, seqLen: T, inputIds: ref.i32('input_ids'), labels: ref.i32('labels') };

  async function gradients(halfCompute: boolean) {
    const folder = loadModelFolder(fixtureDir(variant), { tokenizer: false });
    folders.push(folder);
    const adapter = loadPeftAdapter(path.join(fixtureDir(variant), 'adapter'), folder.config.model);
    const float16 = device === 'cpu';
    const s = await TrainingSession.create({
      runtime, cacheDir, model: folder.config.model, adapter: adapter.adapter, batchSize: B, seqLen: T, device, threads: 1, halfCompute, recompute: false,
      baseWeights: float16 ? asFloat16(folder.weights) : folder.weights, weightsKey: `${folder.weightsKey}${float16 ? ':f16' : ''}`,
    });
    for (const t of s.trainableTensors()) t.data.set(adapter.tensors.get(t.name)!);
    try {
      const { loss, grads } = await s.gradients(batch);
      const byName = new Map(s.layout.entries.map((e) => [e.name, Float32Array.from(grads.subarray(e.offset, e.offset + e.size))]));
      return { loss, byName, info: s.graph() };
    } finally {
      await s.release();
    }
  }

  it(`computes the products with half weights in half precision on ${device} and matches the float32 computation`, async () => {
    const half = await gradients(true);
    const cast = await gradients(false);
    expect(half.info.halfCompute).toBe(true);
    expect(cast.info.halfCompute).toBe(false);
    expect(Math.abs(half.loss - cast.loss) / cast.loss).toBeLessThan(LOSS_TOL);
    expect(Math.abs(half.loss - ref.f64('lora.loss')[0]!) / cast.loss).toBeLessThan(LOSS_TOL);
    expect(half.byName.size).toBe(cast.byName.size);
    for (const [name, g] of cast.byName) expect(relErr(half.byName.get(name)!, g), name).toBeLessThan(GRAD_TOL);
    // rounding the activations shows: the two computations are not the same one
    expect(half.loss).not.toBe(cast.loss);
  });

  it('makes no float32 copy of a layer weight when computing in half precision', () => {
    const folder = loadModelFolder(fixtureDir(variant), { tokenizer: false });
    folders.push(folder);
    const adapter = loadPeftAdapter(path.join(fixtureDir(variant), 'adapter'), folder.config.model);
    const spec = { kind: 'train', model: folder.config.model, adapter: adapter.adapter, batchSize: B, seqLen: T, dtype: 'float32', halfWeights: true, halfCompute: true } as const;
    const { graph } = buildGraph(spec, asFloat16(folder.weights)).builder;
    const readers = (v: Value, op: string) => graph.nodes.filter((n) => n.op === op && n.inputs.some((i) => i.id === v.id));
    const tables = /embed|wte|wpe|lm_head/;
    const products = graph.initializers.filter((v) => v.dtype === 'float16' && readers(v, 'matmul').length > 0);
    expect(products.map((v) => v.name).sort()).toEqual(graph.initializers.filter((v) => v.dtype === 'float16' && v.rank === 2 && !tables.test(v.name)).map((v) => v.name).sort());
    for (const w of products) {
      // one product forward and, past the first layer's inputs, one for the gradient of its input:
      // both in float16, and no cast of the weight
      expect(readers(w, 'matmul').map((n) => n.output.dtype), w.name).toEqual(w.name.includes('.0.') ? expect.arrayContaining(['float16']) : ['float16', 'float16']);
      expect(readers(w, 'matmul').every((n) => n.output.dtype === 'float16'), w.name).toBe(true);
      expect(readers(w, 'cast'), w.name).toEqual([]);
    }
    // the matrices still cast: the tables gathered from (their rows) and the head's slices (the
    // cross-entropy stays float32); vectors (norms, biases) are cast where they are added
    const cast = graph.initializers.filter((v) => v.dtype === 'float16' && v.rank === 2 && readers(v, 'cast').length > 0).map((v) => v.name);
    expect(cast.length).toBeGreaterThan(0);
    expect(cast.every((n) => tables.test(n)), cast.join(', ')).toBe(true);
  });
});

it.runIf(device === 'cpu')('refuses bfloat16 products on the CPU in words', async () => {
  const folder = loadModelFolder(fixtureDir('llama-bf16'), { tokenizer: false });
  folders.push(folder);
  const adapter = loadPeftAdapter(path.join(fixtureDir('llama-bf16'), 'adapter'), folder.config.model);
  await expect(
    TrainingSession.create({
      runtime, cacheDir, model: folder.config.model, baseWeights: folder.weights, weightsKey: folder.weightsKey, adapter: adapter.adapter,
      batchSize: 1, seqLen: 4, device: 'cpu', threads: 1, halfCompute: true,
    }),
  ).rejects.toThrow(/bfloat16 .*needs CUDA.*no bfloat16 matrix product/);
});
