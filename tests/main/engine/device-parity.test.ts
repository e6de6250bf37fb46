// float32 parity on the device under test: DYNAMICS_ENGINE_DEVICE=cuda|cpu|auto (cpu by default,
// which is what CI runs; scripts/gpu-check.sh runs it on CUDA). The float32 graphs at level 'all'
// must agree with the float64 PyTorch fixtures in LoRA and full mode, and a short training run
// must stay finite and lower the loss.
import { afterAll, describe, expect, it } from 'vitest';
import type { TokenBatch } from '../../../src/main/engine/batch';
import type { DevicePreference } from '../../../src/main/engine/runtime-api';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { TrainingSession } from '../../../src/main/engine/training-session';
import { tempDir } from '../../helpers/temp';
import { loadFixture, relMaxDiff, type Fixture } from './fixtures';

const device = (process.env.DYNAMICS_ENGINE_DEVICE ?? 'cpu') as DevicePreference;
/** float32 against float64, relative to the largest entry of each tensor. */
const F32_TOL = 5e-4;
const cacheDir = tempDir('engine-device-');
const runtime = new OrtRuntime();
const open: TrainingSession[] = [];

afterAll(async () => {
  for (const s of open) await s.release();
});

async function session(fx: Fixture, mode: 'lora' | 'full', schedule?: { kind: 'constant'; lr: number }) {
  const { r, alpha, target_modules } = fx.meta.lora;
  const s = await TrainingSession.create({
    runtime, cacheDir, model: fx.meta.config, device,
    baseWeights: new Map(fx.names('base.').map((n) => [n, Float32Array.from(fx.f64(`base.${n}`))])),
    adapter: mode === 'lora' ? { kind: 'lora', r, alpha, targetModules: target_modules } : { kind: 'full' },
    batchSize: fx.meta.batch.batch_size, seqLen: fx.meta.batch.seq_len, ...(schedule ? { schedule } : {}),
  });
  open.push(s);
  if (mode === 'lora') for (const t of s.trainableTensors()) t.data.set(fx.f64(`lora.${t.name}`));
  return s;
}

describe.each(['llama-tiny', 'variant-tiny'])(`float32 on the device (${device}), %s`, (name) => {
  const fx = loadFixture(name);
  const batch: TokenBatch = { batchSize: fx.meta.batch.batch_size, seqLen: fx.meta.batch.seq_len, inputIds: fx.i32('input_ids'), labels: fx.i32('labels') };

  it.each(['lora', 'full'] as const)('%s mode: logits, loss and gradients agree with float64 PyTorch', async (mode) => {
    const s = await session(fx, mode);
    if (device !== 'auto') expect(s.device.device).toBe(device);
    expect(relMaxDiff(await s.logits(batch), fx.f64(`${mode}_mode.logits`))).toBeLessThan(F32_TOL);
    const { loss, grads } = await s.gradients(batch);
    expect(Math.abs(loss - fx.f64(`${mode}_mode.loss`)[0]!) / loss).toBeLessThan(1e-5);
    for (const e of s.layout.entries) {
      expect(relMaxDiff(grads.subarray(e.offset, e.offset + e.size), fx.f64(`${mode}_mode.grad.${e.name}`)), e.name).toBeLessThan(F32_TOL);
    }
  });

  it('trains: 20 full-mode steps on one batch stay finite and lower the loss', async () => {
    const s = await session(fx, 'full', { kind: 'constant', lr: 1e-3 });
    const losses = [];
    for (let i = 0; i < 20; i++) {
      const r = await s.trainStep(batch);
      expect(r.skipped).toBe(false);
      losses.push(r.loss);
    }
    expect(losses.at(-1)!).toBeLessThan(0.9 * losses[0]!);
  });
});
