// GPT-2 (Hugging Face's GPT2LMHeadModel), written like nanoGPT's model.py: learned position
// embeddings, pre-LayerNorm blocks, a fused q/k/v projection, GELU (tanh form, "gelu_new"), a head
// tied to the token embedding. Linear layers are Conv1D as in the checkpoint: weights stored
// [in, out], so y = x·W + b. Parameter names equal GPT2LMHeadModel's state_dict keys
// (`transformer.h.0.attn.c_attn.weight`); LoRA wraps Conv1D like any Linear.
//
// Dimension letters: B batch, T sequence, C hidden size, H heads, D head size, F MLP size,
// V vocabulary, P positions; S cache capacity and N new tokens in the cached step.
import { InvalidInputError } from '../../../shared/errors';
import type { GraphBuilder } from '../ir/builder';
import { causalMask, gelu, geluTanh, layerNorm } from '../ir/composite';
import type { Value } from '../ir/graph';
import { numel } from '../ir/types';
import { gatherRows, Linear, type LinearLike } from './layers';
import type { LinearFactory } from './llama';

export interface Gpt2Config {
  model_type: 'gpt2';
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  /** MLP size; null or absent means 4 × n_embd. */
  n_inner?: number | null;
  layer_norm_epsilon: number;
  activation_function?: Gpt2Activation;
  /** GPT-2 ties the head to wte unless told otherwise. */
  tie_word_embeddings?: boolean;
  scale_attn_weights?: boolean;
  scale_attn_by_inverse_layer_idx?: boolean;
}

export const GPT2_ACTIVATIONS = ['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'gelu'] as const;
export type Gpt2Activation = (typeof GPT2_ACTIVATIONS)[number];

export function isGpt2Config(c: object): c is Gpt2Config {
  return (c as { model_type?: unknown }).model_type === 'gpt2';
}

export interface Gpt2Dims {
  vocab: number;
  positions: number;
  hidden: number;
  layers: number;
  heads: number;
  headDim: number;
  inner: number;
  eps: number;
  exactGelu: boolean;
  tie: boolean;
  scaleAttn: boolean;
  scaleByLayer: boolean;
}

function int(c: Gpt2Config, field: keyof Gpt2Config, max: number): number {
  const v = c[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new InvalidInputError(`model config field ${field} must be an integer between 1 and ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function gpt2Dims(c: Gpt2Config): Gpt2Dims {
  const hidden = int(c, 'n_embd', 1 << 20);
  const heads = int(c, 'n_head', 4096);
  if (hidden % heads !== 0) throw new InvalidInputError(`model config: n_embd (${hidden}) must be a multiple of n_head (${heads})`);
  const act = c.activation_function ?? 'gelu_new';
  if (!(GPT2_ACTIVATIONS as readonly string[]).includes(act)) {
    throw new InvalidInputError(`model config field activation_function: ${JSON.stringify(act)} is not supported (supported: ${GPT2_ACTIVATIONS.join(', ')})`);
  }
  const eps = c.layer_norm_epsilon;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0) throw new InvalidInputError(`model config field layer_norm_epsilon must be a positive number, got ${JSON.stringify(eps)}`);
  return {
    vocab: int(c, 'vocab_size', 1 << 22),
    positions: int(c, 'n_positions', 1 << 22),
    hidden,
    layers: int(c, 'n_layer', 1024),
    heads,
    headDim: hidden / heads,
    inner: c.n_inner === undefined || c.n_inner === null ? 4 * hidden : int(c, 'n_inner', 1 << 22),
    eps,
    exactGelu: act === 'gelu',
    tie: c.tie_word_embeddings !== false,
    scaleAttn: c.scale_attn_weights !== false,
    scaleByLayer: c.scale_attn_by_inverse_layer_idx === true,
  };
}

/** GPT-2's Conv1D: a linear layer whose weight is stored [in, out] (y = x·W + b). */
export class Conv1D extends Linear {
  constructor(name: string, inFeatures: number, outFeatures: number) {
    super(name, inFeatures, outFeatures, true);
  }

  override forward(b: GraphBuilder, x: Value): Value {
    return b.scope(this.name, () => {
      const W = b.storedParam('weight', [this.inFeatures, this.outFeatures]);
      const lead = x.shape.slice(0, -1);
      const x2 = b.reshape(x, [numel(lead), this.inFeatures]); // [N, in]
      const y = b.add(b.storedMatmul(x2, W), b.param('bias', [this.outFeatures])); // [N, out]
      return b.reshape(y, [...lead, this.outFeatures]); // [..., out]
    });
  }
}

export class LayerNorm {
  constructor(
    readonly name: string,
    readonly dim: number,
    readonly eps: number,
  ) {}

  forward(b: GraphBuilder, x: Value): Value {
    return b.scope(this.name, () => layerNorm(b, x, b.param('weight', [this.dim]), b.param('bias', [this.dim]), this.eps));
  }
}

/** Keys and values of one layer: [B, H, S, D] cached before the step, [B, H, N, D] produced by it. */
export interface KvPair {
  key: Value;
  value: Value;
}

/** What the cached (generation) step of a layer needs besides its input. */
export interface CachedAttention {
  past: KvPair;
  /** Additive mask [N, S + N] over the cache slots then the new tokens. */
  mask: Value;
}

export class Gpt2Attention {
  readonly name = 'attn';
  readonly c_attn: LinearLike;
  readonly c_proj: LinearLike;

  constructor(
    readonly dims: Gpt2Dims,
    readonly layerIndex: number,
    linear: LinearFactory,
  ) {
    this.c_attn = linear(new Conv1D('c_attn', dims.hidden, 3 * dims.hidden));
    this.c_proj = linear(new Conv1D('c_proj', dims.hidden, dims.hidden));
  }

  private scale(): number {
    let s = this.dims.scaleAttn ? 1 / Math.sqrt(this.dims.headDim) : 1;
    if (this.dims.scaleByLayer) s /= this.layerIndex + 1;
    return s;
  }

  /** x [B, T, C] -> [B, T, C]; with `cache`, keys and values of earlier tokens come from it. */
  forward(b: GraphBuilder, x: Value, mask: Value, cache?: CachedAttention): { y: Value; present: KvPair } {
    const [B, T, C] = x.shape as [number, number, number];
    const { heads: H, headDim: D } = this.dims;
    return b.scope(this.name, () => {
      const qkv = this.c_attn.forward(b, x); // [B, T, 3C]
      const head = (i: number) => b.transpose(b.reshape(b.slice(qkv, -1, i * C, (i + 1) * C), [B, T, H, D]), [0, 2, 1, 3]); // [B, H, T, D]
      const q = head(0);
      const k = head(1);
      const v = head(2);
      const keys = cache ? b.concat([cache.past.key, k], 2) : k; // [B, H, S+T, D]
      const values = cache ? b.concat([cache.past.value, v], 2) : v;
      const scores = b.add(b.mulScalar(b.matmul(q, keys, { transB: true }), this.scale()), cache ? cache.mask : mask); // [B, H, T, S+T]
      const y = b.matmul(b.softmax(scores), values); // [B, H, T, D]
      const merged = b.reshape(b.transpose(y, [0, 2, 1, 3]), [B, T, C]); // [B, T, C]
      return { y: this.c_proj.forward(b, merged), present: { key: k, value: v } };
    });
  }
}

export class Gpt2MLP {
  readonly name = 'mlp';
  readonly c_fc: LinearLike;
  readonly c_proj: LinearLike;

  constructor(
    readonly dims: Gpt2Dims,
    linear: LinearFactory,
  ) {
    this.c_fc = linear(new Conv1D('c_fc', dims.hidden, dims.inner));
    this.c_proj = linear(new Conv1D('c_proj', dims.inner, dims.hidden));
  }

  forward(b: GraphBuilder, x: Value): Value {
    return b.scope(this.name, () => {
      const h = this.c_fc.forward(b, x); // [B, T, F]
      return this.c_proj.forward(b, this.dims.exactGelu ? gelu(b, h) : geluTanh(b, h)); // [B, T, C]
    });
  }
}

export class Gpt2Block {
  readonly ln_1: LayerNorm;
  readonly attn: Gpt2Attention;
  readonly ln_2: LayerNorm;
  readonly mlp: Gpt2MLP;

  constructor(
    readonly name: string,
    dims: Gpt2Dims,
    index: number,
    linear: LinearFactory,
  ) {
    this.ln_1 = new LayerNorm('ln_1', dims.hidden, dims.eps);
    this.attn = new Gpt2Attention(dims, index, linear);
    this.ln_2 = new LayerNorm('ln_2', dims.hidden, dims.eps);
    this.mlp = new Gpt2MLP(dims, linear);
  }

  forward(b: GraphBuilder, x: Value, mask: Value, cache?: CachedAttention): { y: Value; present: KvPair } {
    return b.scope(this.name, () => {
      const a = this.attn.forward(b, this.ln_1.forward(b, x), mask, cache);
      const h = b.add(x, a.y); // [B, T, C]
      return { y: b.add(h, this.mlp.forward(b, this.ln_2.forward(b, h))), present: a.present }; // [B, T, C]
    });
  }
}

export class Gpt2Model {
  readonly name = 'transformer';
  readonly h: Gpt2Block[];
  readonly ln_f: LayerNorm;

  constructor(
    readonly dims: Gpt2Dims,
    linear: LinearFactory,
  ) {
    this.h = Array.from({ length: dims.layers }, (_, i) => new Gpt2Block(`h.${i}`, dims, i, linear));
    this.ln_f = new LayerNorm('ln_f', dims.hidden, dims.eps);
  }

  /** ids and positions [B, T] -> final hidden states [B, T, C] and each layer's new keys/values. */
  forward(b: GraphBuilder, ids: Value, positions: Value, mask: Value, caches?: readonly CachedAttention[]): { h: Value; present: KvPair[] } {
    return b.scope(this.name, () => {
      const { vocab: V, positions: P, hidden: C } = this.dims;
      const tok = b.scope('wte', () => gatherRows(b, 'weight', [V, C], ids)); // [B, T, C]
      const pos = b.scope('wpe', () => gatherRows(b, 'weight', [P, C], positions)); // [B, T, C]
      let x = b.add(tok, pos);
      const present: KvPair[] = [];
      this.h.forEach((block, i) => {
        const r = b.recomputeGroup(`layer:${i}`, () => block.forward(b, x, mask, caches?.[i]));
        x = r.y;
        present.push(r.present);
      });
      return { h: this.ln_f.forward(b, x), present };
    });
  }
}

export class GPT2LMHeadModel {
  readonly dims: Gpt2Dims;
  readonly transformer: Gpt2Model;
  /** Absent when tied to transformer.wte (the usual case). */
  readonly lm_head?: Linear;

  constructor(config: Gpt2Config, linear: LinearFactory = (l) => l) {
    this.dims = gpt2Dims(config);
    this.transformer = new Gpt2Model(this.dims, linear);
    if (!this.dims.tie) this.lm_head = new Linear('lm_head', this.dims.hidden, this.dims.vocab);
  }

  /** Final hidden states [B, T, C] -> logits [B, T, V]. */
  head(b: GraphBuilder, h: Value): Value {
    if (this.lm_head) return this.lm_head.forward(b, h);
    const [B, T, C] = h.shape as [number, number, number];
    const table = b.storedParamAt('transformer.wte.weight', [this.dims.vocab, C]); // [V, C]
    return b.reshape(b.storedMatmul(b.reshape(h, [B * T, C]), table, { transB: true }), [B, T, this.dims.vocab]);
  }

  /** The head's table [V, C] as stored (lm_head, or the tied wte): logits = h · tableᵀ. */
  headTable(b: GraphBuilder): Value {
    return b.storedParamAt(this.lm_head ? 'lm_head.weight' : 'transformer.wte.weight', [this.dims.vocab, this.dims.hidden]);
  }

  /** ids [B, T] (int32) -> final hidden states [B, T, C]. */
  hiddenStates(b: GraphBuilder, ids: Value): Value {
    const T = ids.shape[1]!;
    const B = ids.shape[0]!;
    if (T > this.dims.positions) throw new InvalidInputError(`sequence length ${T} is longer than the model's n_positions (${this.dims.positions})`);
    const positions = b.constant(Array.from({ length: B * T }, (_, i) => i % T), [B, T], 'int32');
    return this.transformer.forward(b, ids, positions, causalMask(b, T)).h;
  }

  /** ids [B, T] (int32) -> logits [B, T, V]. */
  forward(b: GraphBuilder, ids: Value): Value {
    return this.head(b, this.hiddenStates(b, ids));
  }
}
