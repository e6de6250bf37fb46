// Parity with the PyTorch reference (scripts/reference/hf_models_ref.py, Hugging Face semantics)
// for every architecture with float32 and bfloat16 checkpoints: the folder loads, and the engine's
// logits, loss and every adapter gradient (under its PEFT key) match the float64 reference.
// Tolerances: float32 graphs 1e-4 relative for logits and loss, 1e-3 for gradients; float64
// graphs 1e-9 (the reference is float64 from the same stored values).
import { afterAll, describe, expect, it } from 'vitest';
import type { TokenBatch } from '../../../../src/main/engine/batch';
import { loadModelFolder, type ModelFolder } from '../../../../src/main/engine/hf/folder';
import { runForward } from '../../../../src/main/engine/hf/forward';
import { loadPeftAdapter, type LoadedAdapter } from '../../../../src/main/engine/hf/peft';
import { peftKey } from '../../../../src/main/engine/models/lora';
import { OrtRuntime } from '../../../../src/main/engine/runtime/ort-runtime';
import { tempDir } from '../../../helpers/temp';
import { fixtureDir, loadReference, relErr, VARIANTS } from './helpers';

const F32_LOGITS = 1e-4;
const F32_GRADS = 1e-3;
const F64_TOL = 1e-9;

const runtime = new OrtRuntime();
const cacheDir = tempDir('hf-parity-');

describe.each(VARIANTS)('%s against the PyTorch reference', (variant) => {
  const ref = loadReference(variant);
  const [B, T] = ref.meta.batch;
  const batch: TokenBatch = { batchSize: B, seqLen: T, inputIds: ref.i32('input_ids'), labels: ref.i32('labels') };
  let folder: ModelFolder;
  let adapter: LoadedAdapter;
  const run = (opts: { lora: boolean; grads?: boolean; dtype?: 'float32' | 'float64' }) =>
    runForward({
      runtime, cacheDir, batch, device: 'cpu', threads: 1, dtype: opts.dtype ?? 'float32', grads: opts.grads,
      model: { config: folder.config.model, weights: folder.weights, weightsKey: folder.weightsKey },
      adapter: opts.lora ? { adapter: adapter.adapter, tensors: adapter.tensors } : undefined,
    });

  afterAll(() => folder?.close());

  it('loads the folder and the PEFT adapter', () => {
    folder = loadModelFolder(fixtureDir(variant), { tokenizer: false });
    expect(folder.architecture).toBe(ref.meta.architecture);
    expect(folder.weights.mainDtype()).toBe(ref.meta.weights_dtype);
    expect(folder.weights.unused).toEqual([]);
    adapter = loadPeftAdapter(`${fixtureDir(variant)}/adapter`, folder.config.model);
    expect(adapter.adapter.r).toBe(ref.meta.lora.r);
    expect(adapter.adapter.useRslora).toBe(ref.meta.lora.use_rslora);
    const expectedKeys = ref.names('lora.grad.').sort();
    expect([...adapter.tensors.keys()].map(peftKey).sort()).toEqual(expectedKeys);
    expect(folder.generation.eosTokenIds).toEqual([2]);
  });

  it('float32: base logits and loss', async () => {
    const out = await run({ lora: false });
    expect(out.logits.length).toBe(B * T * folder.config.model.vocab_size);
    expect(relErr(out.logits, ref.f64('base.logits'))).toBeLessThan(F32_LOGITS);
    expect(Math.abs(out.loss - ref.f64('base.loss')[0]!) / ref.f64('base.loss')[0]!).toBeLessThan(F32_LOGITS);
  });

  it('float32: with the adapter, logits, loss and the gradient of every adapter tensor', async () => {
    const out = await run({ lora: true, grads: true });
    expect(relErr(out.logits, ref.f64('lora.logits'))).toBeLessThan(F32_LOGITS);
    expect(Math.abs(out.loss - ref.f64('lora.loss')[0]!) / ref.f64('lora.loss')[0]!).toBeLessThan(F32_LOGITS);
    expect(out.grads!.size).toBe(adapter.tensors.size);
    for (const [name, g] of out.grads!) {
      expect(g.shape).toEqual(ref.shape(`lora.grad.${peftKey(name)}`));
      expect(relErr(g.data, ref.f64(`lora.grad.${peftKey(name)}`)), name).toBeLessThan(F32_GRADS);
    }
  });

  it('float64: the same to rounding', async () => {
    const out = await run({ lora: true, grads: true, dtype: 'float64' });
    expect(relErr(out.logits, ref.f64('lora.logits'))).toBeLessThan(F64_TOL);
    expect(Math.abs(out.loss - ref.f64('lora.loss')[0]!)).toBeLessThan(F64_TOL);
    for (const [name, g] of out.grads!) expect(relErr(g.data, ref.f64(`lora.grad.${peftKey(name)}`)), name).toBeLessThan(F64_TOL);
  });
});
