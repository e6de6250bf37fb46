// Training behaviour on real ONNX Runtime sessions: a 100-step run lowers the loss and repeats
// bit for bit with the same seed; gradient accumulation equals one big batch; non-finite steps are
// skipped and counted; optimizer state snapshots restore exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenBatch } from '../../../src/main/engine/batch';
import { parameterShapes } from '../../../src/main/engine/graphs';
import type { DecoderConfig } from '../../../src/main/engine/models/config';
import { initBaseWeights } from '../../../src/main/engine/models/init';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { Rng } from '../../../src/main/engine/train/rng';
import { baseWeightBytes, PREPACKED_RSS_FACTOR, prepackByDefault, TrainingSession, type TrainingOptions } from '../../../src/main/engine/training-session';
import { tempDir } from '../../helpers/temp';

const config: DecoderConfig = {
  vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000,
};
const base = initBaseWeights(parameterShapes(config), 21, 0.1);
const B = 4;
const T = 16;
const cacheDir = tempDir('engine-train-');
const runtime = new OrtRuntime();

/** Fixed data: repeating patterns a model can learn, with some labels ignored. */
function makeBatch(seed: number, batchSize = B): TokenBatch {
  const rng = new Rng(seed);
  const inputIds = new Int32Array(batchSize * T);
  for (let b = 0; b < batchSize; b++) {
    const start = Math.floor(rng.next() * 64);
    const stride = 1 + Math.floor(rng.next() * 3);
    for (let t = 0; t < T; t++) inputIds[b * T + t] = (start + stride * t) % 64;
  }
  const labels = Int32Array.from(inputIds, (x, i) => (i % T < 3 ? -100 : x));
  return { batchSize, seqLen: T, inputIds, labels };
}

function concat(a: TokenBatch, b: TokenBatch): TokenBatch {
  const cat = (x: Int32Array, y: Int32Array) => { const o = new Int32Array(x.length + y.length); o.set(x); o.set(y, x.length); return o; };
  return { batchSize: a.batchSize + b.batchSize, seqLen: T, inputIds: cat(a.inputIds, b.inputIds), labels: cat(a.labels, b.labels) };
}

const options = (over: Partial<TrainingOptions> = {}): TrainingOptions => ({
  runtime, cacheDir, model: config, baseWeights: base,
  adapter: { kind: 'lora', r: 4, alpha: 8, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] },
  batchSize: B, seqLen: T, device: 'cpu', threads: 1, seed: 42,
  optimizer: { weightDecay: 0.01 },
  schedule: { kind: 'cosine', lr: 5e-3, warmupSteps: 5, totalSteps: 100 },
  ...over,
});

const batches = Array.from({ length: 4 }, (_, i) => makeBatch(100 + i));

async function run100(): Promise<number[]> {
  const s = await TrainingSession.create(options());
  try {
    const losses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await s.trainStep(batches[i % batches.length]!);
      expect(r.skipped).toBe(false);
      losses.push(r.loss);
    }
    return losses;
  } finally {
    await s.release();
  }
}

describe('training', () => {
  let first: number[];
  beforeAll(async () => {
    first = await run100();
  });

  it('100 steps on fixed data lower the loss', () => {
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const start = mean(first.slice(0, 4));
    const end = mean(first.slice(-4));
    expect(end).toBeLessThan(0.8 * start);
  });

  it('the same seed gives bit-identical losses on the CPU', async () => {
    const second = await run100();
    expect(second).toEqual(first);
  });
});

describe('train step mechanics', () => {
  let s: TrainingSession;
  beforeAll(async () => {
    s = await TrainingSession.create(options({ dtype: 'float64', schedule: { kind: 'constant', lr: 1e-3 }, maxGradNorm: null }));
  });
  afterAll(async () => {
    await s.release();
  });

  it('reports the device and the reason', () => {
    expect(s.device).toEqual({ device: 'cpu', reason: 'the CPU was requested' });
  });

  it('gradient accumulation over micro-batches equals one batch of all of them', async () => {
    const big = await TrainingSession.create(options({ dtype: 'float64', batchSize: 2 * B, schedule: { kind: 'constant', lr: 1e-3 }, maxGradNorm: null }));
    try {
      const start = Float64Array.from(s.trainable);
      big.setTrainable(start);
      const [a, b] = [makeBatch(7), makeBatch(8)];
      // make the micro-batches unequal in kept labels, so the weighting matters
      a.labels.fill(-100, 0, 20);
      const acc = await s.trainStep([a, b]);
      const one = await big.trainStep(concat(a, b));
      expect(acc.tokens).toBe(one.tokens);
      expect(Math.abs(acc.loss - one.loss)).toBeLessThan(1e-12);
      expect(Math.abs(acc.gradNorm - one.gradNorm) / one.gradNorm).toBeLessThan(1e-10);
      let d = 0;
      for (let i = 0; i < start.length; i++) d = Math.max(d, Math.abs(s.trainable[i]! - big.trainable[i]!));
      expect(d).toBeLessThan(1e-12);
    } finally {
      await big.release();
    }
  });

  it('skips, counts and explains steps whose loss or gradient is not finite', async () => {
    const before = Float64Array.from(s.trainable);
    const { stepsSkipped } = s.counters;
    const empty = makeBatch(9);
    empty.labels.fill(-100);
    const r1 = await s.trainStep(empty);
    expect(r1).toMatchObject({ skipped: true, skipReason: 'the batch has no labels to score' });
    const poisoned = Float64Array.from(before);
    poisoned[0] = NaN;
    s.setTrainable(poisoned);
    const r2 = await s.trainStep(makeBatch(9));
    expect(r2.skipped).toBe(true);
    expect(r2.skipReason).toMatch(/not finite/);
    expect(s.counters.stepsSkipped).toBe(stepsSkipped + 2);
    expect(Number.isNaN(s.trainable[0])).toBe(true); // untouched by the skipped update
    s.setTrainable(before);
  });

  it('optimizer state and parameters restore exactly from a snapshot', async () => {
    await s.trainStep(makeBatch(1));
    const params = Float64Array.from(s.trainable);
    const state = s.getOptimizerState();
    const stateCopy = structuredClone(state);
    const losses = async () => {
      const out = [];
      for (let i = 0; i < 3; i++) out.push((await s.trainStep(makeBatch(30 + i))).loss);
      return out;
    };
    const a = await losses();
    const after = Float64Array.from(s.trainable);
    s.setTrainable(params);
    s.setOptimizerState(stateCopy);
    expect(s.getOptimizerState()).toEqual(state);
    const b = await losses();
    expect(b).toEqual(a);
    expect(Float64Array.from(s.trainable)).toEqual(after);
  });

  it('eval step: summed loss and kept labels per sequence', async () => {
    const batch = makeBatch(3);
    const { lossSum, tokenCount } = await s.evalStep(batch);
    expect(Array.from(tokenCount)).toEqual([T - 3, T - 3, T - 3, T - 3]);
    const { loss } = await s.gradients(batch);
    expect(Math.abs(lossSum.reduce((p, q) => p + q, 0) / ((T - 3) * B) - loss)).toBeLessThan(1e-12);
  });

  it('runs concurrent calls one at a time (they share the gradient buffers)', async () => {
    const [b1, b2] = [makeBatch(11), makeBatch(12)];
    const alone = Float64Array.from((await s.gradients(b2)).grads);
    const evalAlone = await s.evalStep(b1);
    const [ev, g] = await Promise.all([s.evalStep(b1), s.gradients(b2).then((r) => Float64Array.from(r.grads)), s.gradients(b1)]);
    expect(ev).toEqual(evalAlone);
    expect(g).toEqual(alone);
  });

  it('rejects a batch of the wrong shape or with tokens outside the vocabulary, in one sentence', async () => {
    await expect(s.trainStep(makeBatch(1, 2))).rejects.toThrow('batch is 2×16 but the graph was built for 4×16');
    const bad = makeBatch(1);
    bad.inputIds[5] = 64;
    await expect(s.evalStep(bad)).rejects.toThrow('batch inputIds[5] = 64 is outside the vocabulary (0..63)');
  });
});

describe('prepacking by default', () => {
  it('prepacks only where the prepacked session stays within a quarter of the memory', () => {
    const gib = 2 ** 30;
    // The bundled demo model's size, and Qwen2.5-0.5B's float32 weights, on a 24 GiB machine.
    expect(prepackByDefault(10e6, 24 * gib)).toBe(true);
    expect(prepackByDefault(4 * 494e6, 24 * gib)).toBe(true);
    expect(prepackByDefault(4 * 1.54e9, 24 * gib)).toBe(false);
    expect(prepackByDefault((6 * gib) / PREPACKED_RSS_FACTOR, 24 * gib)).toBe(true);
    expect(prepackByDefault((6 * gib) / PREPACKED_RSS_FACTOR + 1, 24 * gib)).toBe(false);
    // Embeddings, blocks, norms and head of a 2-layer model, in float32.
    const cfg = { vocab_size: 100, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 2, num_attention_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false };
    const perLayer = 4 * 8 * 8 + 3 * 8 * 16 + 2 * 8;
    expect(baseWeightBytes(cfg as never)).toBe(4 * (2 * 100 * 8 + 2 * perLayer + 8));
  });
});
