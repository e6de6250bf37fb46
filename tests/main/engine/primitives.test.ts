// Pure pieces: learning-rate schedules (Hugging Face's formulas), clipping, AdamW's weight-decay
// rule, config, adapter and batch validation with one-sentence errors.
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/shared/errors';
import { checkBatch, keptLabels } from '../../../src/main/engine/batch';
import { decoderDims } from '../../../src/main/engine/models/config';
import { validateAdapter, peftKey } from '../../../src/main/engine/models/lora';
import { AdamW, decays } from '../../../src/main/engine/train/adamw';
import { clipToNorm, globalNorm } from '../../../src/main/engine/train/clip';
import { FlatLayout } from '../../../src/main/engine/train/flat-params';
import { learningRate, validateSchedule } from '../../../src/main/engine/train/schedule';

const llama = { vocab_size: 100, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 8, num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 1e4 };

describe('learning-rate schedules', () => {
  it('warm up linearly, then hold, decay linearly or follow a half cosine', () => {
    expect([0, 5, 10, 50].map((s) => learningRate({ kind: 'constant', lr: 1, warmupSteps: 10 }, s))).toEqual([0, 0.5, 1, 1]);
    const lin = { kind: 'linear', lr: 2, warmupSteps: 10, totalSteps: 110 } as const;
    expect([0, 10, 60, 110, 200].map((s) => learningRate(lin, s))).toEqual([0, 2, 1, 0, 0]);
    const cos = { kind: 'cosine', lr: 1, warmupSteps: 0, totalSteps: 100 } as const;
    expect(learningRate(cos, 0)).toBe(1);
    expect(learningRate(cos, 50)).toBeCloseTo(0.5, 12);
    expect(learningRate(cos, 100)).toBeCloseTo(0, 12);
    expect(learningRate({ ...cos, minLrRatio: 0.1 }, 100)).toBeCloseTo(0.1, 12);
  });

  it('reject nonsense in words', () => {
    expect(() => validateSchedule({ kind: 'linear', lr: 1, warmupSteps: 10, totalSteps: 5 })).toThrow('total steps must be');
    expect(() => validateSchedule({ kind: 'constant', lr: -1 })).toThrow('learning rate must be a non-negative number, got -1');
  });
});

describe('clipping and AdamW', () => {
  it('clips to the global norm like clip_grad_norm_', () => {
    const g = Float32Array.of(3, 4);
    const n = globalNorm(g);
    expect(n).toBe(5);
    expect(clipToNorm(g, n, 1)).toBeCloseTo(1 / 5, 6);
    expect(globalNorm(g)).toBeCloseTo(1, 5);
    expect(clipToNorm(g, 0.5, 1)).toBe(1);
  });

  it('does not decay biases and norm weights (Hugging Face rule)', () => {
    expect(decays('model.layers.0.mlp.up_proj.lora_A.weight')).toBe(true);
    expect(decays('model.norm.weight')).toBe(false);
    expect(decays('model.layers.0.input_layernorm.weight')).toBe(false);
    expect(decays('model.layers.0.self_attn.q_proj.bias')).toBe(false);
    const layout = new FlatLayout([{ name: 'a.weight', shape: [2] }, { name: 'model.norm.weight', shape: [2] }]);
    const p = Float32Array.of(1, 1, 1, 1);
    const opt = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5 }, layout, p);
    opt.update(p, new Float32Array(4), 0.1); // zero gradient: only decay moves parameters
    expect(Array.from(p)).toEqual([0.949999988079071, 0.949999988079071, 1, 1]);
    expect(() => opt.setState({ step: 1, m: new Float32Array(3), v: new Float32Array(3) })).toThrow('optimizer state holds 3 values, this session trains 4');
  });
});

describe('validation', () => {
  it('derives dims from a Hugging Face config and names the bad field', () => {
    expect(decoderDims(llama)).toMatchObject({ headDim: 8, kvHeads: 2, tie: false, bias: { q: false, o: false } });
    expect(decoderDims({ ...llama, qkv_bias: true })).toMatchObject({ bias: { q: true, k: true, v: true, o: false } });
    expect(() => decoderDims({ ...llama, num_key_value_heads: 3 })).toThrow('num_attention_heads (8) must be a multiple of num_key_value_heads (3)');
    expect(() => decoderDims({ ...llama, hidden_size: 0 })).toThrow('model config field hidden_size must be an integer between 1 and');
    expect(() => decoderDims({ ...llama, rope_theta: Number.NaN })).toThrow(InvalidInputError);
  });

  it('checks adapters and maps names to PEFT keys', () => {
    expect(() => validateAdapter({ kind: 'lora', r: 0, alpha: 16, targetModules: ['q_proj'] })).toThrow('LoRA rank r must be an integer');
    expect(() => validateAdapter({ kind: 'lora', r: 8, alpha: 16, targetModules: ['qproj' as 'q_proj'] })).toThrow('LoRA target module "qproj" is not one of');
    expect(peftKey('model.layers.0.self_attn.q_proj.lora_A.weight')).toBe('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
  });

  it('checks batches against the graph shape and vocabulary', () => {
    const batch = { batchSize: 1, seqLen: 4, inputIds: Int32Array.of(1, 2, 3, 4), labels: Int32Array.of(-100, 2, -100, 4) };
    expect(() => checkBatch(batch, { batchSize: 1, seqLen: 4 }, 10)).not.toThrow();
    expect(keptLabels(batch)).toBe(2);
    expect(() => checkBatch({ ...batch, labels: Int32Array.of(1, 2, 3) }, { batchSize: 1, seqLen: 4 }, 10)).toThrow('batch labels has 3 entries, expected 4');
    expect(() => checkBatch({ ...batch, labels: Int32Array.of(1, -5, 3, 4) }, { batchSize: 1, seqLen: 4 }, 10)).toThrow('batch labels[1] = -5 is neither -100 nor inside the vocabulary');
  });
});
