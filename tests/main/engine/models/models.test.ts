// The architecture pieces added for Hugging Face checkpoints: rope scaling (linear, llama3) against
// transformers' formula worked by hand, the generation masks, GPT-2's parameter names and shapes
// (GPT2LMHeadModel's state_dict), and the model factory's shape summary.
import { describe, expect, it } from 'vitest';
import { parameterShapes } from '../../../../src/main/engine/graphs';
import { modelShape } from '../../../../src/main/engine/models/causal-lm';
import type { Gpt2Config } from '../../../../src/main/engine/models/gpt2';
import { cachedChunkMask, MASKED } from '../../../../src/main/engine/models/masks';
import { parseRopeScaling, ropeInverseFrequencies } from '../../../../src/main/engine/models/rope';

describe('rope scaling', () => {
  it('llama3: keeps high frequencies, divides low ones, blends the middle band', () => {
    // head_dim 8, theta 10000: wavelengths 2π·[1, 10, 100, 1000]; original context 64 with factors
    // low 1 / high 4 puts 62.8 in the blended band and 628, 6283 in the divided one
    const s = parseRopeScaling({ rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 })!;
    const f = ropeInverseFrequencies(8, 10000, s);
    expect(f[0]).toBe(1);
    const smooth = (64 / (2 * Math.PI * 10) - 1) / (4 - 1);
    expect(f[1]).toBeCloseTo((1 - smooth) * (0.1 / 8) + smooth * 0.1, 15);
    expect(f[2]).toBeCloseTo(0.01 / 8, 15);
    expect(f[3]).toBeCloseTo(0.001 / 8, 15);
    ropeInverseFrequencies(8, 10000, { rope_type: 'linear', factor: 2 }).forEach((x, i) => expect(x).toBeCloseTo([0.5, 0.05, 0.005, 0.0005][i]!, 15));
    expect(() => parseRopeScaling({ type: 'dynamic', factor: 2 })).toThrow(/of type "dynamic" is not supported \(supported: default, linear, llama3\)/);
    expect(() => parseRopeScaling({ rope_type: 'llama3', factor: 8 })).toThrow(/low_freq_factor must be a positive number/);
  });
});

describe('generation masks', () => {
  it('lets each new token see the cached slots before it and the chunk causally, within the window', () => {
    // capacity 4, chunk 3 at positions 2..4, 2 real tokens, window 2
    const m = cachedChunkMask(4, 3, 2, 2, 2);
    const row = (i: number) => Array.from(m.subarray(i * 7, (i + 1) * 7), (x) => (x === 0 ? 1 : x === MASKED ? 0 : NaN));
    // slots: cache 0..3 | new 0..2
    expect(row(0)).toEqual([0, 1, 0, 0, 1, 0, 0]); // position 2 sees 1 and itself
    expect(row(1)).toEqual([0, 0, 0, 0, 1, 1, 0]); // position 3 sees 2 and itself
    const full = cachedChunkMask(4, 1, 3, 1, null);
    expect(Array.from(full, (x) => (x === 0 ? 1 : 0))).toEqual([1, 1, 1, 0, 1]);
  });
});

describe('GPT-2', () => {
  const gpt2: Gpt2Config = { model_type: 'gpt2', vocab_size: 50, n_positions: 16, n_embd: 8, n_layer: 1, n_head: 2, layer_norm_epsilon: 1e-5 };

  it('names its parameters as GPT2LMHeadModel’s state_dict, Conv1D weights [in, out]', () => {
    expect(parameterShapes(gpt2)).toEqual([
      { name: 'transformer.wte.weight', shape: [50, 8] },
      { name: 'transformer.wpe.weight', shape: [16, 8] },
      { name: 'transformer.h.0.ln_1.weight', shape: [8] },
      { name: 'transformer.h.0.ln_1.bias', shape: [8] },
      { name: 'transformer.h.0.attn.c_attn.weight', shape: [8, 24] },
      { name: 'transformer.h.0.attn.c_attn.bias', shape: [24] },
      { name: 'transformer.h.0.attn.c_proj.weight', shape: [8, 8] },
      { name: 'transformer.h.0.attn.c_proj.bias', shape: [8] },
      { name: 'transformer.h.0.ln_2.weight', shape: [8] },
      { name: 'transformer.h.0.ln_2.bias', shape: [8] },
      { name: 'transformer.h.0.mlp.c_fc.weight', shape: [8, 32] },
      { name: 'transformer.h.0.mlp.c_fc.bias', shape: [32] },
      { name: 'transformer.h.0.mlp.c_proj.weight', shape: [32, 8] },
      { name: 'transformer.h.0.mlp.c_proj.bias', shape: [8] },
      { name: 'transformer.ln_f.weight', shape: [8] },
      { name: 'transformer.ln_f.bias', shape: [8] },
    ]);
    const lora = parameterShapes(gpt2, { kind: 'lora', r: 2, alpha: 4, targetModules: ['c_attn'] }).filter((p) => p.name.includes('lora'));
    expect(lora).toEqual([
      { name: 'transformer.h.0.attn.c_attn.lora_A.weight', shape: [2, 8] },
      { name: 'transformer.h.0.attn.c_attn.lora_B.weight', shape: [24, 2] },
    ]);
    expect(parameterShapes({ ...gpt2, tie_word_embeddings: false }).at(-1)).toEqual({ name: 'lm_head.weight', shape: [50, 8] });
    expect(modelShape(gpt2)).toMatchObject({ maxPositions: 16, invFreq: null, kvHeads: 2, headDim: 4, intermediate: 32 });
  });

  it('refuses unknown activations and heads that do not divide the width', () => {
    expect(() => parameterShapes({ ...gpt2, activation_function: 'swish' as never })).toThrow(/activation_function: "swish" is not supported/);
    expect(() => parameterShapes({ ...gpt2, n_head: 3 })).toThrow(/n_embd \(8\) must be a multiple of n_head \(3\)/);
  });
});
