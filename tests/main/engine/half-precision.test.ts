// Half-precision base weights through the real training path (TrainingSession on ONNX Runtime):
// for every architecture's bfloat16 fixture, the frozen weights stay bfloat16 in the compiled
// graph's weights file, are cast where used, and the loss and every adapter gradient match the
// float64 PyTorch reference (computed from the same stored bf16 values, so the cast is exact and
// the tolerance is float32's: 1e-4 for the loss, 1e-3 for gradients, relative to each tensor's
// largest entry), as the float32 path does. Layer recomputation gives the same gradients.
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TokenBatch } from '../../../src/main/engine/batch';
import { loadModelFolder, type ModelFolder } from '../../../src/main/engine/hf/folder';
import { loadPeftAdapter } from '../../../src/main/engine/hf/peft';
import { peftKey } from '../../../src/main/engine/models/lora';
import { layoutWeights } from '../../../src/main/engine/onnx/weights-file';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { TrainingSession } from '../../../src/main/engine/training-session';
import { tempDir } from '../../helpers/temp';
import { fixtureDir, loadReference, relErr } from './hf/helpers';

const LOSS_TOL = 1e-4;
const GRAD_TOL = 1e-3;
const runtime = new OrtRuntime();
const cacheDir = tempDir('engine-half-');
const folders: ModelFolder[] = [];

afterAll(() => {
  for (const f of folders) f.close();
});

describe.each(['llama-bf16', 'mistral-bf16', 'qwen2-bf16', 'qwen3-bf16', 'gpt2-bf16'] as const)('%s', (variant) => {
  const ref = loadReference(variant);
  const [B, T] = ref.meta.batch;
  const batch: TokenBatch = { batchSize: B, seqLen: T, inputIds: ref.i32('input_ids'), labels: ref.i32('labels') };

  async function gradients(opts: { halfWeights: boolean; recompute: boolean }) {
    const folder = loadModelFolder(fixtureDir(variant), { tokenizer: false });
    folders.push(folder);
    const adapter = loadPeftAdapter(path.join(fixtureDir(variant), 'adapter'), folder.config.model);
    const s = await TrainingSession.create({
      runtime, cacheDir, model: folder.config.model, baseWeights: folder.weights, weightsKey: folder.weightsKey,
      adapter: adapter.adapter, batchSize: B, seqLen: T, device: 'cpu', threads: 1, ...opts,
    });
    try {
      for (const t of s.trainableTensors()) t.data.set(adapter.tensors.get(t.name)!);
      const { loss, grads } = await s.gradients(batch);
      const byName = new Map(s.layout.entries.map((e) => [e.name, Float32Array.from(grads.subarray(e.offset, e.offset + e.size))]));
      const weightsFile = statSync(path.join(path.dirname(s.graph().modelPath), 'weights.bin')).size;
      const layout = (bytes: number) => layoutWeights('w', folder.weights.names().map((n) => ({ name: n, byteLength: bytes * folder.weights.size(n)! }))).totalBytes;
      return { loss, byName, weightsFile, bf16Layout: layout(2), f32Layout: layout(4), nodes: s.graph().nodes };
    } finally {
      await s.release();
    }
  }

  it('keeps the frozen weights in bf16 and matches the float64 reference like the float32 path', async () => {
    const half = await gradients({ halfWeights: true, recompute: false });
    const full = await gradients({ halfWeights: false, recompute: false });
    // two bytes per weight (at the file's aligned offsets), against four
    expect(half.weightsFile).toBe(half.bf16Layout);
    expect(full.weightsFile).toBe(full.f32Layout);
    const refLoss = ref.f64('lora.loss')[0]!;
    for (const run of [half, full]) {
      expect(Math.abs(run.loss - refLoss) / refLoss).toBeLessThan(LOSS_TOL);
      expect(run.byName.size).toBe(ref.names('lora.grad.').length);
      for (const [name, g] of run.byName) expect(relErr(g, ref.f64(`lora.grad.${peftKey(name)}`)), name).toBeLessThan(GRAD_TOL);
    }
  });

  it('recomputing each layer in the backward gives the same loss and gradients', async () => {
    const kept = await gradients({ halfWeights: true, recompute: false });
    const recomputed = await gradients({ halfWeights: true, recompute: true });
    expect(recomputed.nodes).toBeGreaterThan(kept.nodes);
    expect(recomputed.loss).toBeCloseTo(kept.loss, 6);
    for (const [name, g] of kept.byName) expect(relErr(recomputed.byName.get(name)!, g), name).toBeLessThan(1e-5);
  });
});
