// A Llama-style decoder (RMSNorm, RoPE, grouped-query attention, SwiGLU MLP), written like
// nanoGPT's model.py: modules in dependency order, parameter names equal to Hugging Face
// checkpoint keys, and the model knows nothing of training. Variants switch on DecoderDims
// (q/k/v biases, per-head q/k norms); LoRA enters through the Linear factory.
//
// Dimension letters: B batch, T sequence, C hidden size, H attention heads, K key/value heads,
// D head size, F MLP size, V vocabulary.
import type { GraphBuilder } from '../ir/builder';
import { applyRope, causalAttention, causalMask, ropeTables, silu } from '../ir/composite';
import type { Value } from '../ir/graph';
import { decoderDims, type DecoderConfig, type DecoderDims } from './config';
import { Embedding, Linear, RMSNorm, type LinearLike } from './layers';
import { slidingWindowMask } from './masks';

/** Builds each Linear of the model; the adapter wraps the targeted ones in LoRA. */
export type LinearFactory = (linear: Linear) => LinearLike;

/** Per-forward constants shared by all layers. */
interface Context {
  cos: Value; // [T, D]
  sin: Value; // [T, D]
  mask: Value; // [T, T]
}

export class Attention {
  readonly name = 'self_attn';
  readonly q_proj: LinearLike;
  readonly k_proj: LinearLike;
  readonly v_proj: LinearLike;
  readonly o_proj: LinearLike;
  readonly q_norm?: RMSNorm;
  readonly k_norm?: RMSNorm;

  constructor(
    readonly dims: DecoderDims,
    linear: LinearFactory,
  ) {
    const { hidden: C, heads: H, kvHeads: K, headDim: D, bias } = dims;
    this.q_proj = linear(new Linear('q_proj', C, H * D, bias.q));
    this.k_proj = linear(new Linear('k_proj', C, K * D, bias.k));
    this.v_proj = linear(new Linear('v_proj', C, K * D, bias.v));
    this.o_proj = linear(new Linear('o_proj', H * D, C, bias.o));
    if (dims.qkNorm) {
      this.q_norm = new RMSNorm('q_norm', D, dims.eps);
      this.k_norm = new RMSNorm('k_norm', D, dims.eps);
    }
  }

  forward(b: GraphBuilder, x: Value, ctx: Context): Value {
    const [B, T] = x.shape as [number, number, number];
    const { heads: H, kvHeads: K, headDim: D } = this.dims;
    return b.scope(this.name, () => {
      const split = (y: Value, n: number, norm?: RMSNorm) => {
        let h = b.reshape(y, [B, T, n, D]); // [B, T, n, D]
        if (norm) h = norm.forward(b, h);
        return b.transpose(h, [0, 2, 1, 3]); // [B, n, T, D]
      };
      const q = applyRope(b, split(this.q_proj.forward(b, x), H, this.q_norm), ctx.cos, ctx.sin); // [B, H, T, D]
      const k = applyRope(b, split(this.k_proj.forward(b, x), K, this.k_norm), ctx.cos, ctx.sin); // [B, K, T, D]
      const v = split(this.v_proj.forward(b, x), K); // [B, K, T, D]
      const y = causalAttention(b, q, k, v, ctx.mask); // [B, H, T, D]
      const merged = b.reshape(b.transpose(y, [0, 2, 1, 3]), [B, T, H * D]); // [B, T, H*D]
      return this.o_proj.forward(b, merged); // [B, T, C]
    });
  }
}

export class MLP {
  readonly name = 'mlp';
  readonly gate_proj: LinearLike;
  readonly up_proj: LinearLike;
  readonly down_proj: LinearLike;

  constructor(dims: DecoderDims, linear: LinearFactory) {
    const { hidden: C, intermediate: F, bias } = dims;
    this.gate_proj = linear(new Linear('gate_proj', C, F, bias.mlp));
    this.up_proj = linear(new Linear('up_proj', C, F, bias.mlp));
    this.down_proj = linear(new Linear('down_proj', F, C, bias.mlp));
  }

  forward(b: GraphBuilder, x: Value): Value {
    return b.scope(this.name, () => {
      const gate = this.gate_proj.forward(b, x); // [B, T, F]
      const act = silu(b, gate); // [B, T, F]
      return this.down_proj.forward(b, b.mul(act, this.up_proj.forward(b, x))); // [B, T, C]
    });
  }
}

export class DecoderLayer {
  readonly input_layernorm: RMSNorm;
  readonly self_attn: Attention;
  readonly post_attention_layernorm: RMSNorm;
  readonly mlp: MLP;

  constructor(
    readonly name: string,
    dims: DecoderDims,
    linear: LinearFactory,
  ) {
    this.input_layernorm = new RMSNorm('input_layernorm', dims.hidden, dims.eps);
    this.self_attn = new Attention(dims, linear);
    this.post_attention_layernorm = new RMSNorm('post_attention_layernorm', dims.hidden, dims.eps);
    this.mlp = new MLP(dims, linear);
  }

  forward(b: GraphBuilder, x: Value, ctx: Context): Value {
    return b.scope(this.name, () => {
      const h = b.add(x, this.self_attn.forward(b, this.input_layernorm.forward(b, x), ctx)); // [B, T, C]
      return b.add(h, this.mlp.forward(b, this.post_attention_layernorm.forward(b, h))); // [B, T, C]
    });
  }
}

export class LlamaModel {
  readonly name = 'model';
  readonly embed_tokens: Embedding;
  readonly layers: DecoderLayer[];
  readonly norm: RMSNorm;

  constructor(
    readonly dims: DecoderDims,
    linear: LinearFactory,
  ) {
    this.embed_tokens = new Embedding('embed_tokens', dims.vocab, dims.hidden);
    this.layers = Array.from({ length: dims.layers }, (_, i) => new DecoderLayer(`layers.${i}`, dims, linear));
    this.norm = new RMSNorm('norm', dims.hidden, dims.eps);
  }

  /** ids [B, T] -> final hidden states [B, T, C]. */
  forward(b: GraphBuilder, ids: Value): Value {
    const T = ids.shape[1]!;
    return b.scope(this.name, () => {
      const { cos, sin } = ropeTables(T, this.dims.invFreq);
      const ctx: Context = {
        cos: b.constant(cos, [T, this.dims.headDim]),
        sin: b.constant(sin, [T, this.dims.headDim]),
        mask: this.dims.slidingWindow !== null && this.dims.slidingWindow < T ? slidingWindowMask(b, T, this.dims.slidingWindow) : causalMask(b, T),
      };
      let x = this.embed_tokens.forward(b, ids); // [B, T, C]
      // each layer is a recomputation group: its backward may run its forward again (passes/recompute.ts)
      this.layers.forEach((layer, i) => {
        x = b.recomputeGroup(`layer:${i}`, () => layer.forward(b, x, ctx));
      });
      return this.norm.forward(b, x); // [B, T, C]
    });
  }
}

export class LlamaForCausalLM {
  readonly dims: DecoderDims;
  readonly model: LlamaModel;
  /** Absent when the head is tied to the embedding table. */
  readonly lm_head?: Linear;

  constructor(config: DecoderConfig, linear: LinearFactory = (l) => l) {
    this.dims = decoderDims(config);
    this.model = new LlamaModel(this.dims, linear);
    if (!this.dims.tie) this.lm_head = new Linear('lm_head', this.dims.hidden, this.dims.vocab);
  }

  /** ids [B, T] (int32) -> final hidden states [B, T, C]. */
  hiddenStates(b: GraphBuilder, ids: Value): Value {
    return this.model.forward(b, ids);
  }

  /** The head's table [V, C] as stored (lm_head, or the tied embedding): logits = h · tableᵀ. */
  headTable(b: GraphBuilder): Value {
    return b.storedParamAt(this.lm_head ? 'lm_head.weight' : 'model.embed_tokens.weight', [this.dims.vocab, this.dims.hidden]);
  }

  /** ids [B, T] (int32) -> logits [B, T, V]. */
  forward(b: GraphBuilder, ids: Value): Value {
    const h = this.hiddenStates(b, ids); // [B, T, C]
    if (this.lm_head) return this.lm_head.forward(b, h);
    const [B, T, C] = h.shape as [number, number, number];
    const table = b.storedParamAt('model.embed_tokens.weight', [this.dims.vocab, C]); // [V, C]
    const logits = b.storedMatmul(b.reshape(h, [B * T, C]), table, { transB: true }); // [B*T, V]
    return b.reshape(logits, [B, T, this.dims.vocab]);
  }
}
