// The fused ops against the composites they replace (ir/composite.ts builds both): the same model
// built with fused ops and from primitives only gives the same float64 loss, gradients and eval
// losses, and the fused train graph is the smaller one. Each fused op's own gradient rule is
// checked against finite differences in op-gradients.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenBatch } from '../../../src/main/engine/batch';
import { parameterShapes } from '../../../src/main/engine/graphs';
import type { DecoderConfig } from '../../../src/main/engine/models/config';
import { initBaseWeights } from '../../../src/main/engine/models/init';
import type { AdapterConfig } from '../../../src/main/engine/models/lora';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { Rng } from '../../../src/main/engine/train/rng';
import { TrainingSession } from '../../../src/main/engine/training-session';
import { tempDir } from '../../helpers/temp';
import { relMaxDiff } from './fixtures';

const config: DecoderConfig = {
  vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000,
};
const base = initBaseWeights(parameterShapes(config), 13, 0.3);
const rng = new Rng(9);
const B = 3;
const T = 7;
const ids = Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * 40));
// ignored labels, including a whole row but one position, exercise the mask
const labels = Int32Array.from(ids, (x, i) => (i === 4 || (i >= 7 && i < 13) ? -100 : x));
const batch: TokenBatch = { batchSize: B, seqLen: T, inputIds: ids, labels };
const lora: AdapterConfig = { kind: 'lora', r: 2, alpha: 4, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] };
const cacheDir = tempDir('engine-fused-');
const runtime = new OrtRuntime();

function open(fused: boolean) {
  return TrainingSession.create({
    runtime, cacheDir, model: config, baseWeights: base, adapter: lora, batchSize: B, seqLen: T, device: 'cpu', dtype: 'float64', threads: 1, seed: 3, nonZeroLoraB: true, fused,
  });
}

describe('fused softmax and cross-entropy', () => {
  let fused: TrainingSession;
  let composite: TrainingSession;
  beforeAll(async () => {
    fused = await open(true);
    composite = await open(false);
  });
  afterAll(async () => {
    await fused.release();
    await composite.release();
  });

  it('give the composites\' loss and gradients in float64', async () => {
    const a = await fused.gradients(batch);
    const b = await composite.gradients(batch);
    expect(Math.abs(a.loss - b.loss) / Math.abs(b.loss)).toBeLessThan(1e-12);
    expect(relMaxDiff(a.grads, b.grads)).toBeLessThan(1e-10);
    expect(b.grads.some((g) => Math.abs(g) > 1e-4)).toBe(true);
  });

  it('give the composites\' per-sequence eval losses and token counts', async () => {
    const a = await fused.evalStep(batch);
    const b = await composite.evalStep(batch);
    expect([...a.tokenCount]).toEqual([...b.tokenCount]);
    expect(relMaxDiff(a.lossSum, b.lossSum)).toBeLessThan(1e-12);
  });

  it('make the train graph smaller', () => {
    expect(fused.graph().nodes).toBeLessThan(composite.graph().nodes);
  });
});
