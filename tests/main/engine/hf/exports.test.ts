// Round trips: a PEFT adapter exported and reloaded gives the same logits; a merged model folder
// computes what base + adapter computes (and loads as an ordinary checkpoint); an adapter trained
// by a TrainingSession exports, reloads into a new session and continues with the same gradients.
// Also PEFT's initialization (A uniform within ±1/√in, seeded; B zero).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TokenBatch } from '../../../../src/main/engine/batch';
import { loadModelFolder, type ModelFolder } from '../../../../src/main/engine/hf/folder';
import { runForward, type ForwardAdapter } from '../../../../src/main/engine/hf/forward';
import { exportFullModel, exportMergedModel } from '../../../../src/main/engine/hf/merge';
import { assignAdapterValues, exportPeftAdapter, loadPeftAdapter } from '../../../../src/main/engine/hf/peft';
import { SafetensorsFile } from '../../../../src/main/engine/hf/safetensors';
import { OrtRuntime } from '../../../../src/main/engine/runtime/ort-runtime';
import { TrainingSession } from '../../../../src/main/engine/training-session';
import { tempDir } from '../../../helpers/temp';
import { fixtureDir, loadReference, relErr, type Variant } from './helpers';

const runtime = new OrtRuntime();
const cacheDir = tempDir('hf-export-cache-');
const out = tempDir('hf-export-');
const folders: ModelFolder[] = [];
afterAll(() => folders.forEach((f) => f.close()));

const load = (dir: string) => {
  const f = loadModelFolder(dir);
  folders.push(f);
  return f;
};

function batchOf(v: Variant): TokenBatch {
  const ref = loadReference(v);
  const [B, T] = ref.meta.batch;
  return { batchSize: B, seqLen: T, inputIds: ref.i32('input_ids'), labels: ref.i32('labels') };
}

const forward = (f: ModelFolder, batch: TokenBatch, adapter?: ForwardAdapter) =>
  runForward({ runtime, cacheDir, device: 'cpu', threads: 1, batch, model: { config: f.config.model, weights: f.weights, weightsKey: f.weightsKey }, adapter });

describe.each(['llama-f32', 'gpt2-f32', 'qwen2-bf16'] as const)('%s round trips', (variant) => {
  const batch = batchOf(variant);

  it('exports the adapter in PEFT format and reloads it to the same logits', async () => {
    const base = load(fixtureDir(variant));
    const original = loadPeftAdapter(path.join(fixtureDir(variant), 'adapter'), base.config.model);
    const dir = path.join(out, `${variant}-adapter`);
    expect(exportPeftAdapter(dir, { model: base.config.model, adapter: original.adapter, tensors: original.tensors, baseModel: 'org/tiny' }).sort())
      .toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const cfg = JSON.parse(readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: original.adapter.r, lora_alpha: original.adapter.alpha, base_model_name_or_path: 'org/tiny', fan_in_fan_out: variant.startsWith('gpt2'), use_rslora: original.adapter.useRslora });
    const st = SafetensorsFile.open(path.join(dir, 'adapter_model.safetensors'));
    expect(st.metadata).toEqual({ format: 'pt' });
    const someA = st.names.find((n) => n.endsWith('.lora_A.weight'))!;
    expect(someA).toMatch(/^base_model\.model\.(model\.layers|transformer\.h)\.0\./);
    st.close();
    const reloaded = loadPeftAdapter(dir, base.config.model);
    for (const [name, v] of original.tensors) expect(Array.from(reloaded.tensors.get(name)!)).toEqual(Array.from(v));
    const a = await forward(base, batch, original);
    const b = await forward(base, batch, reloaded);
    expect(Array.from(b.logits)).toEqual(Array.from(a.logits));
  });

  it('merges the adapter into a model folder whose logits equal base + adapter', async () => {
    const base = load(fixtureDir(variant));
    const adapter = loadPeftAdapter(path.join(fixtureDir(variant), 'adapter'), base.config.model);
    const dir = path.join(out, `${variant}-merged`);
    const files = exportMergedModel(dir, { base, adapter: adapter.adapter, tensors: adapter.tensors, dtype: 'F32' });
    expect(files).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'generation_config.json']));
    expect(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')).torch_dtype).toBe('float32');
    const merged = load(dir);
    const withAdapter = await forward(base, batch, adapter);
    const mergedOut = await forward(merged, batch);
    expect(relErr(mergedOut.logits, withAdapter.logits)).toBeLessThan(1e-5);
    expect(Math.abs(mergedOut.loss - withAdapter.loss) / withAdapter.loss).toBeLessThan(1e-5);
    // and the reference agrees: merged = base + adapter in PyTorch's terms too
    expect(relErr(mergedOut.logits, loadReference(variant).f64('lora.logits'))).toBeLessThan(1e-4);
  });

  it('merges into the base checkpoint’s own dtype by default, refusing a non-empty target', () => {
    const base = load(fixtureDir(variant));
    const adapter = loadPeftAdapter(path.join(fixtureDir(variant), 'adapter'), base.config.model);
    const dir = path.join(out, `${variant}-merged-native`);
    exportMergedModel(dir, { base, adapter: adapter.adapter, tensors: adapter.tensors });
    const merged = load(dir);
    expect(merged.weights.mainDtype()).toBe(base.weights.mainDtype());
    expect(() => exportMergedModel(dir, { base, adapter: adapter.adapter, tensors: adapter.tensors })).toThrow(/already exists and is not empty/);
    expect(existsSync(`${dir}.${process.pid}.tmp`)).toBe(false);
  });
});

describe('training sessions and PEFT adapters', () => {
  it('initializes LoRA as PEFT does, trains, exports, and continues from the export with the same gradients', async () => {
    const base = load(fixtureDir('gpt2-f32'));
    const batch = batchOf('gpt2-f32');
    const adapter = { kind: 'lora' as const, r: 4, alpha: 8, targetModules: ['c_attn', 'c_proj', 'c_fc'] as const, useRslora: true };
    const options = {
      runtime, cacheDir, model: base.config.model, baseWeights: base.weights, weightsKey: base.weightsKey,
      adapter: { ...adapter, targetModules: [...adapter.targetModules] }, batchSize: batch.batchSize, seqLen: batch.seqLen,
      device: 'cpu' as const, threads: 1, seed: 9, schedule: { kind: 'constant' as const, lr: 1e-2 },
    };
    const s1 = await TrainingSession.create(options);
    const again = await TrainingSession.create(options);
    try {
      for (const t of s1.trainableTensors()) {
        if (t.name.endsWith('lora_B.weight')) expect(t.data.every((x) => x === 0)).toBe(true);
        else {
          const bound = 1 / Math.sqrt(t.shape[1]!); // kaiming_uniform(a=√5) on [r, in]
          expect(t.data.every((x) => Math.abs(x) <= bound)).toBe(true);
          expect(Math.max(...Array.from(t.data, Math.abs))).toBeGreaterThan(0.8 * bound);
        }
      }
      expect(Array.from(again.trainable)).toEqual(Array.from(s1.trainable)); // seeded
      for (let i = 0; i < 3; i++) expect((await s1.trainStep(batch)).skipped).toBe(false);
      const dir = path.join(out, 'trained-adapter');
      exportPeftAdapter(dir, { model: base.config.model, adapter: options.adapter, tensors: s1.trainableTensors() });
      const loaded = loadPeftAdapter(dir, base.config.model);
      expect(loaded.adapter).toMatchObject({ r: 4, alpha: 8, useRslora: true });
      // evaluate: the exported adapter gives the session's logits
      const fromFile = await forward(base, batch, loaded);
      expect(relErr(fromFile.logits, await s1.logits(batch))).toBeLessThan(1e-6);
      // continue training: a new session given the adapter has the first one's gradients
      assignAdapterValues(again.trainableTensors(), loaded);
      const g1 = Float32Array.from((await s1.gradients(batch)).grads);
      const g2 = (await again.gradients(batch)).grads;
      expect(relErr(g2, g1)).toBeLessThan(1e-6);
    } finally {
      await s1.release();
      await again.release();
    }
  });

  it('trains all parameters of a small model and exports them as a model folder', async () => {
    const base = load(fixtureDir('qwen3-f32'));
    const batch = batchOf('qwen3-f32');
    const s = await TrainingSession.create({
      runtime, cacheDir, model: base.config.model, baseWeights: base.weights, adapter: { kind: 'full' },
      batchSize: batch.batchSize, seqLen: batch.seqLen, device: 'cpu', threads: 1, schedule: { kind: 'constant', lr: 1e-3 },
    });
    try {
      const first = await s.trainStep(batch);
      for (let i = 0; i < 4; i++) await s.trainStep(batch);
      expect((await s.trainStep(batch)).loss).toBeLessThan(first.loss);
      const dir = path.join(out, 'full-trained');
      exportFullModel(dir, { base, tensors: s.trainableTensors(), dtype: 'F32' });
      const trained = load(dir);
      expect(relErr((await forward(trained, batch)).logits, await s.logits(batch))).toBeLessThan(1e-6);
    } finally {
      await s.release();
    }
  });
});
