// The bundled base model's architecture: a Llama-style decoder over the bundled tokenizer's
// 4,096-token vocabulary, written as Hugging Face's LlamaConfig fields so config.json is exactly
// what transformers' LlamaForCausalLM reads. The shape itself is chosen in pretrain.ts (measured
// with measure.ts; see resources/models/<name>/README.md).
import type { DecoderConfig } from '../../src/main/engine/models/config';

/** The bundled tokenizer's vocabulary size and its special tokens' ids (resources/tokenizer/README.md). */
export const VOCAB_SIZE = 4096;
export const ENDOFTEXT_ID = 4090;
export const PAD_ID = 4091;

export interface ModelShapeChoice {
  hidden: number;
  layers: number;
  heads: number;
  /** Key/value heads (grouped-query attention when fewer than `heads`). */
  kvHeads: number;
  intermediate: number;
}

export function baseModelConfig(shape: ModelShapeChoice): DecoderConfig {
  return {
    vocab_size: VOCAB_SIZE,
    hidden_size: shape.hidden,
    intermediate_size: shape.intermediate,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
    hidden_act: 'silu',
  };
}

/** config.json: LlamaForCausalLM with the tokenizer's BOS/EOS/pad ids and the trained context. */
export function hfConfigJson(shape: ModelShapeChoice, maxPositions: number, torchDtype: 'float32' | 'bfloat16'): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    ...baseModelConfig(shape),
    attention_bias: false,
    mlp_bias: false,
    max_position_embeddings: maxPositions,
    initializer_range: 0.02,
    bos_token_id: ENDOFTEXT_ID,
    eos_token_id: ENDOFTEXT_ID,
    pad_token_id: PAD_ID,
    torch_dtype: torchDtype,
    use_cache: true,
  };
}

/** generation_config.json: greedy by default, stopping at <|endoftext|>. */
export function generationConfigJson(): Record<string, unknown> {
  return { bos_token_id: ENDOFTEXT_ID, eos_token_id: ENDOFTEXT_ID, pad_token_id: PAD_ID, do_sample: false };
}
