// Decoder configuration, with Hugging Face LlamaConfig's field names (a config.json maps onto it
// directly), plus the switches the Llama-family variants differ by (q/k/v biases as in Qwen2,
// per-head q/k norms as in Qwen3). Validated once here; the model code trusts it.
import { InvalidInputError } from '../../../shared/errors';
import { parseRopeScaling, ropeInverseFrequencies, type RopeScaling } from './rope';

export interface DecoderConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Defaults to num_attention_heads (no grouping). */
  num_key_value_heads?: number;
  /** Defaults to hidden_size / num_attention_heads. */
  head_dim?: number;
  rms_norm_eps: number;
  rope_theta: number;
  tie_word_embeddings?: boolean;
  /** Llama's switch: biases on q, k, v and o projections. */
  attention_bias?: boolean;
  /** Biases on q, k, v only (Qwen2). */
  qkv_bias?: boolean;
  /** Biases on the MLP projections. */
  mlp_bias?: boolean;
  /** Per-head RMSNorm on q and k before RoPE (Qwen3's q_norm / k_norm). */
  qk_norm?: boolean;
  hidden_act?: 'silu';
  /** Rotary scaling ("linear", or Llama 3's "llama3"); see rope.ts. */
  rope_scaling?: RopeScaling | null;
  /** Attention window (Mistral): position t attends to positions t - sliding_window + 1 .. t. */
  sliding_window?: number | null;
}

/** The config with defaults applied and derived sizes, as the model code uses it. */
export interface DecoderDims {
  vocab: number;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  eps: number;
  ropeTheta: number;
  tie: boolean;
  bias: { q: boolean; k: boolean; v: boolean; o: boolean; mlp: boolean };
  qkNorm: boolean;
  /** RoPE inverse frequencies [headDim / 2], scaling applied. */
  invFreq: number[];
  /** Attention window, or null for full causal attention. */
  slidingWindow: number | null;
}

const MAX_DIM = 1 << 20;

function positiveInt(cfg: Record<string, unknown>, field: string, max = MAX_DIM): number {
  const v = cfg[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new InvalidInputError(`model config field ${field} must be an integer between 1 and ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function positiveNumber(cfg: Record<string, unknown>, field: string): number {
  const v = cfg[field];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new InvalidInputError(`model config field ${field} must be a positive number, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function decoderDims(config: DecoderConfig): DecoderDims {
  const cfg = config as unknown as Record<string, unknown>;
  const heads = positiveInt(cfg, 'num_attention_heads', 4096);
  const hidden = positiveInt(cfg, 'hidden_size');
  const kvHeads = config.num_key_value_heads === undefined ? heads : positiveInt(cfg, 'num_key_value_heads', 4096);
  if (heads % kvHeads !== 0) {
    throw new InvalidInputError(`model config: num_attention_heads (${heads}) must be a multiple of num_key_value_heads (${kvHeads})`);
  }
  let headDim: number;
  if (config.head_dim === undefined) {
    if (hidden % heads !== 0) throw new InvalidInputError(`model config: hidden_size (${hidden}) must be a multiple of num_attention_heads (${heads})`);
    headDim = hidden / heads;
  } else {
    headDim = positiveInt(cfg, 'head_dim', 4096);
  }
  if (headDim % 2 !== 0) throw new InvalidInputError(`model config: the head dimension (${headDim}) must be even for rotary embeddings`);
  if (config.hidden_act !== undefined && config.hidden_act !== 'silu') {
    throw new InvalidInputError(`model config field hidden_act: only "silu" is supported by this decoder, got ${JSON.stringify(config.hidden_act)}`);
  }
  const attnBias = config.attention_bias === true;
  const qkvBias = attnBias || config.qkv_bias === true;
  return {
    vocab: positiveInt(cfg, 'vocab_size', 1 << 22),
    hidden,
    intermediate: positiveInt(cfg, 'intermediate_size'),
    layers: positiveInt(cfg, 'num_hidden_layers', 1024),
    heads,
    kvHeads,
    headDim,
    eps: positiveNumber(cfg, 'rms_norm_eps'),
    ropeTheta: positiveNumber(cfg, 'rope_theta'),
    tie: config.tie_word_embeddings === true,
    bias: { q: qkvBias, k: qkvBias, v: qkvBias, o: attnBias, mlp: config.mlp_bias === true },
    qkNorm: config.qk_norm === true,
    invFreq: ropeInverseFrequencies(headDim, positiveNumber(cfg, 'rope_theta'), parseRopeScaling(config.rope_scaling)),
    slidingWindow: config.sliding_window === undefined || config.sliding_window === null ? null : positiveInt(cfg, 'sliding_window', 1 << 30),
  };
}
