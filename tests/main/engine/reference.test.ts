// Parity with PyTorch: the fixtures hold float64 logits, loss and every gradient of tiny decoders
// computed by scripts/reference/llama_ref.py (Hugging Face's Llama formulas, PEFT's LoRA), and two
// AdamW steps after gradient clipping. Tolerances are explicit per comparison. (float32 against
// the same fixtures, on any device: device-parity.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenBatch } from '../../../src/main/engine/batch';
import type { FloatDType } from '../../../src/main/engine/ir/types';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { AdamW } from '../../../src/main/engine/train/adamw';
import { clipToNorm, globalNorm } from '../../../src/main/engine/train/clip';
import { TrainingSession } from '../../../src/main/engine/training-session';
import { tempDir } from '../../helpers/temp';
import { loadFixture, relMaxDiff, type Fixture } from './fixtures';

/** float64 graphs at level 'basic' agree with PyTorch float64 to rounding. */
const F64_TOL = 1e-10;

const cacheDir = tempDir('engine-ref-');
const runtime = new OrtRuntime();

function setup(fx: Fixture, mode: 'lora' | 'full', dtype: FloatDType) {
  const base = new Map(fx.names('base.').map((n) => [n, Float32Array.from(fx.f64(`base.${n}`))]));
  // the fixture's weights are float32 values: the conversion above is exact
  for (const [n, w] of base) expect(relMaxDiff(w, fx.f64(`base.${n}`))).toBe(0);
  const { r, alpha, target_modules } = fx.meta.lora;
  return TrainingSession.create({
    runtime,
    cacheDir,
    model: fx.meta.config,
    baseWeights: base,
    adapter: mode === 'lora' ? { kind: 'lora', r, alpha, targetModules: target_modules } : { kind: 'full' },
    batchSize: fx.meta.batch.batch_size,
    seqLen: fx.meta.batch.seq_len,
    device: 'cpu',
    dtype,
    threads: 1,
  });
}

function batchOf(fx: Fixture): TokenBatch {
  return { batchSize: fx.meta.batch.batch_size, seqLen: fx.meta.batch.seq_len, inputIds: fx.i32('input_ids'), labels: fx.i32('labels') };
}

describe.each(['llama-tiny', 'variant-tiny'])('PyTorch reference %s', (name) => {
  const fx = loadFixture(name);
  const batch = batchOf(fx);
  const sessions: TrainingSession[] = [];
  let lora64: TrainingSession;
  let full64: TrainingSession;

  beforeAll(async () => {
    lora64 = await setup(fx, 'lora', 'float64');
    full64 = await setup(fx, 'full', 'float64');
    sessions.push(lora64, full64);
    // LoRA values from the fixture, placed by name into the flat buffer
    for (const t of lora64.trainableTensors()) t.data.set(fx.f64(`lora.${t.name}`));
  });
  afterAll(async () => {
    for (const s of sessions) await s.release();
  });

  it('trains exactly the LoRA tensors PyTorch has, with PEFT shapes', () => {
    expect(lora64.trainableTensors().map((t) => t.name).sort()).toEqual(fx.names('lora.').sort());
    for (const t of lora64.trainableTensors()) expect(t.shape).toEqual(fx.tensors.get(`lora.${t.name}`)!.shape);
    expect(full64.trainableTensors().map((t) => t.name).sort()).toEqual(fx.names('base.').sort());
  });

  it('LoRA mode, float64: logits, loss and every gradient', async () => {
    const logits = await lora64.logits(batch);
    expect(relMaxDiff(logits, fx.f64('lora_mode.logits'))).toBeLessThan(F64_TOL);
    const { loss, grads } = await lora64.gradients(batch);
    expect(Math.abs(loss - fx.f64('lora_mode.loss')[0]!)).toBeLessThan(F64_TOL);
    for (const e of lora64.layout.entries) {
      const g = grads.subarray(e.offset, e.offset + e.size);
      expect(relMaxDiff(g, fx.f64(`lora_mode.grad.${e.name}`)), e.name).toBeLessThan(F64_TOL);
    }
  });

  it('full mode, float64: logits, loss and the gradient of every base parameter', async () => {
    const logits = await full64.logits(batch);
    expect(relMaxDiff(logits, fx.f64('full_mode.logits'))).toBeLessThan(F64_TOL);
    const { loss, grads } = await full64.gradients(batch);
    expect(Math.abs(loss - fx.f64('full_mode.loss')[0]!)).toBeLessThan(F64_TOL);
    for (const e of full64.layout.entries) {
      expect(relMaxDiff(grads.subarray(e.offset, e.offset + e.size), fx.f64(`full_mode.grad.${e.name}`)), e.name).toBeLessThan(F64_TOL);
    }
  });

  it('eval step: per-sequence sums and counts add up to the mean loss', async () => {
    const { lossSum, tokenCount } = await lora64.evalStep(batch);
    const total = lossSum.reduce((a, b) => a + b, 0) / tokenCount.reduce((a, b) => a + b, 0);
    expect(Math.abs(total - fx.f64('lora_mode.loss')[0]!)).toBeLessThan(F64_TOL);
    // labels: row 0 loses one (position 2), row 1 positions 5..7; the first position is never scored
    const T = batch.seqLen;
    expect(Array.from(tokenCount)).toEqual([T - 2, T - 1 - 3]);
  });

  it('clipping and two AdamW steps match torch.optim.AdamW', async () => {
    const { grads } = await lora64.gradients(batch);
    const g = Float64Array.from(grads);
    const norm = globalNorm(g);
    expect(Math.abs(norm - fx.f64('adamw.grad_norm')[0]!) / norm).toBeLessThan(1e-10);
    clipToNorm(g, norm, fx.meta.adamw.max_grad_norm);
    const p = Float64Array.from(lora64.trainable);
    const { lr, betas, eps, weight_decay } = fx.meta.adamw;
    const opt = new AdamW({ beta1: betas[0], beta2: betas[1], eps, weightDecay: weight_decay }, lora64.layout, p);
    opt.update(p, g, lr);
    opt.update(p, g, lr);
    for (const e of lora64.layout.entries) {
      expect(relMaxDiff(p.subarray(e.offset, e.offset + e.size), fx.f64(`adamw.after2.${e.name}`)), e.name).toBeLessThan(1e-12);
    }
  });
});
