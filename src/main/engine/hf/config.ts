// config.json of a Hugging Face model folder -> the engine's model config. Reads the fields each
// architecture's transformers config class reads, with the same defaults (e.g. GPT-2 ties its head
// unless told otherwise, Mistral's window is 4096 when unset, Qwen3's head_dim is 128), and refuses
// what the engine cannot compute faithfully (unsupported rope scaling, Qwen sliding windows, other
// activations), one sentence each, naming the file and field.
import { InvalidInputError, UserError } from '../../../shared/errors';
import type { ModelConfig } from '../models/causal-lm';
import { modelShape } from '../models/causal-lm';
import type { DecoderConfig } from '../models/config';
import { GPT2_ACTIVATIONS, type Gpt2Activation, type Gpt2Config } from '../models/gpt2';
import { parseRopeScaling } from '../models/rope';
import { readJsonObject } from './files';

export const SUPPORTED_ARCHITECTURES = ['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM', 'Qwen3ForCausalLM', 'GPT2LMHeadModel'] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

const MODEL_TYPES: Record<string, Architecture> = {
  llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM', gpt2: 'GPT2LMHeadModel',
};

/** Real configs are a few KiB; multimodal ones reach tens of KiB. */
export const MAX_CONFIG_BYTES = 4 << 20;

export interface HfModelConfig {
  architecture: Architecture;
  /** What the engine builds the graph from. */
  model: ModelConfig;
  /** `torch_dtype` (or `dtype`) as written, e.g. "bfloat16"; null when absent. */
  torchDtype: string | null;
  bosTokenIds: number[];
  eosTokenIds: number[];
  padTokenId: number | null;
  /** The context the model was trained for (max_position_embeddings / n_positions), if stated. */
  maxPositionEmbeddings: number | null;
  /** The file's object, untouched (written back on merged export). */
  raw: Record<string, unknown>;
}

class Fields {
  constructor(
    readonly obj: Record<string, unknown>,
    readonly where: string,
  ) {}

  private fail(field: string, want: string): never {
    throw new InvalidInputError(`${this.where}: field ${field} must be ${want}, got ${JSON.stringify(this.obj[field]) ?? 'nothing'}`);
  }

  has(field: string): boolean {
    return this.obj[field] !== undefined && this.obj[field] !== null;
  }

  int(field: string, def?: number, max = 1 << 30): number {
    const v = this.obj[field];
    if ((v === undefined || v === null) && def !== undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) this.fail(field, `an integer from 1 to ${max}`);
    return v;
  }

  num(field: string, def?: number): number {
    const v = this.obj[field];
    if ((v === undefined || v === null) && def !== undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(field, 'a positive finite number');
    return v;
  }

  bool(field: string, def: boolean): boolean {
    const v = this.obj[field];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') this.fail(field, 'true or false');
    return v;
  }

  str(field: string): string | null {
    const v = this.obj[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') this.fail(field, 'a string');
    return v;
  }

  /** An id or a list of ids (eos_token_id may be either). */
  ids(field: string): number[] {
    const v = this.obj[field];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    if (list.length > 64 || !list.every((x) => Number.isInteger(x) && (x as number) >= 0)) this.fail(field, 'a token id or a list of token ids');
    return list as number[];
  }
}

function architectureOf(f: Fields): Architecture {
  const list = f.obj.architectures;
  const supported = `supported architectures are ${SUPPORTED_ARCHITECTURES.join(', ')}`;
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list) || list.length === 0 || typeof list[0] !== 'string') throw new InvalidInputError(`${f.where}: field architectures must be a list of names`);
    const name = list[0];
    if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(name)) throw new UserError(`${f.where}: architecture ${name} is not supported; ${supported}`);
    return name as Architecture;
  }
  const type = f.str('model_type');
  const arch = type === null ? undefined : MODEL_TYPES[type];
  if (!arch) throw new UserError(`${f.where} names no architecture${type ? ` and model_type ${type} is not supported` : ''}; ${supported}`);
  return arch;
}

/** rope_theta and rope_scaling, also in transformers 5's `rope_parameters` form. */
function rope(f: Fields): Pick<DecoderConfig, 'rope_theta' | 'rope_scaling'> {
  const params = f.obj.rope_parameters;
  if (params !== undefined && params !== null) {
    if (typeof params !== 'object' || Array.isArray(params)) throw new InvalidInputError(`${f.where}: field rope_parameters must be an object`);
    const p = new Fields(params as Record<string, unknown>, `${f.where}: rope_parameters`);
    return { rope_theta: p.num('rope_theta', 10000), rope_scaling: parseRopeScaling(params, `${f.where}: rope_parameters`) };
  }
  return { rope_theta: f.num('rope_theta', 10000), rope_scaling: parseRopeScaling(f.obj.rope_scaling, `${f.where}: rope_scaling`) };
}

function llamaFamily(f: Fields, arch: Architecture): DecoderConfig {
  const act = f.str('hidden_act') ?? 'silu';
  if (act !== 'silu') throw new InvalidInputError(`${f.where}: hidden_act ${JSON.stringify(act)} is not supported for ${arch} (only "silu")`);
  if (f.has('partial_rotary_factor') && f.obj.partial_rotary_factor !== 1) {
    throw new InvalidInputError(`${f.where}: partial_rotary_factor ${JSON.stringify(f.obj.partial_rotary_factor)} is not supported (only 1)`);
  }
  const heads = f.int('num_attention_heads', undefined, 4096);
  const cfg: DecoderConfig = {
    vocab_size: f.int('vocab_size', undefined, 1 << 22),
    hidden_size: f.int('hidden_size', undefined, 1 << 20),
    intermediate_size: f.int('intermediate_size', undefined, 1 << 22),
    num_hidden_layers: f.int('num_hidden_layers', undefined, 1024),
    num_attention_heads: heads,
    num_key_value_heads: f.int('num_key_value_heads', heads, 4096),
    rms_norm_eps: f.num('rms_norm_eps', 1e-6),
    tie_word_embeddings: f.bool('tie_word_embeddings', false),
    hidden_act: 'silu',
    ...rope(f),
  };
  if (f.has('head_dim')) cfg.head_dim = f.int('head_dim', undefined, 4096);
  switch (arch) {
    case 'LlamaForCausalLM':
      cfg.attention_bias = f.bool('attention_bias', false);
      cfg.mlp_bias = f.bool('mlp_bias', false);
      break;
    case 'MistralForCausalLM':
      // MistralConfig's default window is 4096; configs of later versions write null
      cfg.sliding_window = f.obj.sliding_window === null ? null : f.int('sliding_window', 4096);
      break;
    case 'Qwen2ForCausalLM':
    case 'Qwen3ForCausalLM':
      if (f.bool('use_sliding_window', false)) throw new InvalidInputError(`${f.where}: use_sliding_window true is not supported for ${arch}`);
      if (arch === 'Qwen2ForCausalLM') cfg.qkv_bias = true;
      else {
        cfg.qk_norm = true;
        cfg.attention_bias = f.bool('attention_bias', false);
        cfg.head_dim = f.int('head_dim', 128, 4096);
      }
      break;
    default:
      break;
  }
  return cfg;
}

function gpt2(f: Fields): Gpt2Config {
  const act = f.str('activation_function') ?? 'gelu_new';
  if (!(GPT2_ACTIVATIONS as readonly string[]).includes(act)) {
    throw new InvalidInputError(`${f.where}: activation_function ${JSON.stringify(act)} is not supported (supported: ${GPT2_ACTIVATIONS.join(', ')})`);
  }
  const hidden = f.int('n_embd', 768, 1 << 20);
  return {
    model_type: 'gpt2',
    vocab_size: f.int('vocab_size', 50257, 1 << 22),
    n_positions: f.int('n_positions', 1024, 1 << 22),
    n_embd: hidden,
    n_layer: f.int('n_layer', 12, 1024),
    n_head: f.int('n_head', 12, 4096),
    n_inner: f.has('n_inner') ? f.int('n_inner', undefined, 1 << 22) : null,
    layer_norm_epsilon: f.num('layer_norm_epsilon', 1e-5),
    activation_function: act as Gpt2Activation,
    tie_word_embeddings: f.bool('tie_word_embeddings', true),
    scale_attn_weights: f.bool('scale_attn_weights', true),
    scale_attn_by_inverse_layer_idx: f.bool('scale_attn_by_inverse_layer_idx', false),
  };
}

/** Parses a config object (from `where`, for messages). */
export function parseHfConfig(raw: Record<string, unknown>, where: string): HfModelConfig {
  const f = new Fields(raw, where);
  const architecture = architectureOf(f);
  const model = architecture === 'GPT2LMHeadModel' ? gpt2(f) : llamaFamily(f, architecture);
  try {
    modelShape(model); // the derived checks (head sizes divide, GQA groups) with this file's name
  } catch (err) {
    if (err instanceof UserError) throw new InvalidInputError(`${where}: ${err.message}`);
    throw err;
  }
  const maxPos = architecture === 'GPT2LMHeadModel' ? (model as Gpt2Config).n_positions : f.has('max_position_embeddings') ? f.int('max_position_embeddings') : null;
  return {
    architecture,
    model,
    torchDtype: f.str('torch_dtype') ?? f.str('dtype'),
    bosTokenIds: f.ids('bos_token_id'),
    eosTokenIds: f.ids('eos_token_id'),
    padTokenId: f.ids('pad_token_id')[0] ?? null,
    maxPositionEmbeddings: maxPos,
    raw,
  };
}

export function readHfConfig(file: string): HfModelConfig {
  return parseHfConfig(readJsonObject(file, MAX_CONFIG_BYTES), file);
}
