// Whole-model gradient checks: the train graph's float64 gradients against central differences of
// its own loss along random directions and single coordinates, in LoRA and full mode, and in LoRA
// mode with every layer recomputed in the backward and the cross-entropy cut into four vocabulary
// slices; and the float32 graph (level 'all') against the float64 one on the same random model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenBatch } from '../../../src/main/engine/batch';
import { parameterShapes } from '../../../src/main/engine/graphs';
import type { FloatDType } from '../../../src/main/engine/ir/types';
import type { DecoderConfig } from '../../../src/main/engine/models/config';
import { initBaseWeights } from '../../../src/main/engine/models/init';
import type { AdapterConfig } from '../../../src/main/engine/models/lora';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { Rng } from '../../../src/main/engine/train/rng';
import { TrainingSession } from '../../../src/main/engine/training-session';
import { tempDir } from '../../helpers/temp';
import { relMaxDiff } from './fixtures';

const config: DecoderConfig = {
  vocab_size: 32, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000,
};
const base = initBaseWeights(parameterShapes(config), 11, 0.3);
const rng = new Rng(5);
const B = 2;
const T = 6;
const ids = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * 32));
const labels = Int32Array.from(ids, (x, i) => (i === 3 ? -100 : x));
const batch: TokenBatch = { batchSize: B, seqLen: T, inputIds: ids, labels };
const lora: AdapterConfig = { kind: 'lora', r: 2, alpha: 4, targetModules: ['q_proj', 'v_proj', 'o_proj', 'up_proj', 'down_proj'] };
const cacheDir = tempDir('engine-model-');
const runtime = new OrtRuntime();

interface Memory {
  recompute?: boolean;
  lossSliceBudget?: number;
}

function open(adapter: AdapterConfig, dtype: FloatDType, memory: Memory) {
  return TrainingSession.create({
    runtime, cacheDir, model: config, baseWeights: base, adapter, batchSize: B, seqLen: T, device: 'cpu', dtype, threads: 1, seed: 3, nonZeroLoraB: true,
    ...memory, ...(memory.lossSliceBudget ? { lossSliceBudget: memory.lossSliceBudget * (dtype === 'float64' ? 2 : 1) } : {}),
  });
}

/** Directional derivative by central differences, against the analytic gradient's projection. */
async function directional(s: TrainingSession, dir: Float64Array, eps: number): Promise<{ fd: number; analytic: number }> {
  const x0 = Float64Array.from(s.trainable);
  const { grads } = await s.gradients(batch);
  let analytic = 0;
  for (let i = 0; i < dir.length; i++) analytic += grads[i]! * dir[i]!;
  s.setTrainable(x0.map((x, i) => x + eps * dir[i]!));
  const lp = (await s.gradients(batch)).loss;
  s.setTrainable(x0.map((x, i) => x - eps * dir[i]!));
  const lm = (await s.gradients(batch)).loss;
  s.setTrainable(x0);
  return { fd: (lp - lm) / (2 * eps), analytic };
}

describe.each([
  ['LoRA', lora, {}],
  ['full', { kind: 'full' } as AdapterConfig, {}],
  // 32 tokens of (12 positions + 16 hidden) × 4 bytes in 4 slices of 8 tokens
  ['LoRA, recomputed, sliced,', lora, { recompute: true, lossSliceBudget: 8 * (12 + 16) * 4 }],
] as [string, AdapterConfig, Memory][])('whole-model gradients, %s mode', (_label, adapter, memory) => {
  let s64: TrainingSession;
  beforeAll(async () => {
    s64 = await open(adapter, 'float64', memory);
    expect(s64.graph().recompute).toBe(memory.recompute ?? false);
  });
  afterAll(async () => {
    await s64.release();
  });

  it('match float64 central differences along random directions', async () => {
    const r = new Rng(17);
    for (let k = 0; k < 3; k++) {
      const dir = Float64Array.from({ length: s64.trainable.length }, () => r.normal());
      const { fd, analytic } = await directional(s64, dir, 1e-6);
      expect(Math.abs(fd - analytic) / Math.abs(analytic)).toBeLessThan(1e-7);
    }
  });

  it('match central differences on single coordinates of each tensor', async () => {
    const { grads } = await s64.gradients(batch);
    const g0 = Float64Array.from(grads);
    for (const e of s64.layout.entries) {
      // the coordinate with the largest gradient in this tensor
      let best = e.offset;
      for (let i = e.offset; i < e.offset + e.size; i++) if (Math.abs(g0[i]!) > Math.abs(g0[best]!)) best = i;
      const dir = new Float64Array(g0.length);
      dir[best] = 1;
      const { fd } = await directional(s64, dir, 1e-6);
      expect(Math.abs(fd - g0[best]!), e.name).toBeLessThan(1e-7 * Math.max(1, Math.abs(g0[best]!)));
    }
  });

  it('float32 at level all agrees with float64', async () => {
    const s32 = await open(adapter, 'float32', memory);
    try {
      expect(Array.from(s32.trainable)).toEqual(Array.from(Float32Array.from(s64.trainable)));
      s64.setTrainable(s32.trainable);
      const a = await s32.gradients(batch);
      const b = await s64.gradients(batch);
      expect(Math.abs(a.loss - b.loss) / b.loss).toBeLessThan(1e-5);
      expect(relMaxDiff(a.grads, b.grads)).toBeLessThan(1e-4);
    } finally {
      await s32.release();
    }
  });
});
