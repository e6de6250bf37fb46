// One generation step with a key/value cache, for either model family: N new tokens attend to a
// cache of fixed capacity S (slots past the current length are masked) and to themselves, and the
// step returns the logits of one chosen position and each layer's new keys and values, which the
// caller writes into its cache. It walks the same module objects as the full forward pass, so
// parameter names (and LoRA wrappers) are identical. Batch size is 1.
//
// Dimension letters: N new tokens, S cache capacity, C hidden size, H heads, K key/value heads,
// D head size, V vocabulary.
import type { GraphBuilder } from '../ir/builder';
import { applyRope, causalAttention } from '../ir/composite';
import type { Value } from '../ir/graph';
import type { CausalLM } from './causal-lm';
import { GPT2LMHeadModel, type KvPair } from './gpt2';
import type { LlamaForCausalLM } from './llama';

export interface CachedStepInputs {
  /** [1, N] int32 */
  ids: Value;
  /** [1, N] int32 absolute positions (models with learned position tables). */
  positions?: Value;
  /** [N, D] rotary tables at those positions (rotary models). */
  cos?: Value;
  sin?: Value;
  /** [N, S + N] additive mask over cache slots, then the new tokens. */
  mask: Value;
  /** Per layer, keys and values [1, K, S, D]. */
  past: readonly KvPair[];
  /** [1] int32: the position among the N whose logits are returned. */
  pick: Value;
}

export interface CachedStepOutputs {
  /** [1, 1, V] */
  logits: Value;
  /** Per layer, the new tokens' keys (after RoPE) and values [1, K, N, D]. */
  present: KvPair[];
}

/** Hidden states [1, N, C] -> the picked row [1, 1, C]. */
function pickRow(b: GraphBuilder, h: Value, pick: Value): Value {
  const [, N, C] = h.shape as [number, number, number];
  return b.reshape(b.gather(b.reshape(h, [N, C]), pick), [1, 1, C]);
}

function llamaStep(b: GraphBuilder, m: LlamaForCausalLM, io: CachedStepInputs): CachedStepOutputs {
  const { heads: H, kvHeads: K, headDim: D, vocab: V } = m.dims;
  const N = io.ids.shape[1]!;
  if (!io.cos || !io.sin) throw new Error('a rotary model needs cos and sin tables');
  const { cos, sin } = io;
  const present: KvPair[] = [];
  const h = b.scope(m.model.name, () => {
    let x = m.model.embed_tokens.forward(b, io.ids); // [1, N, C]
    m.model.layers.forEach((layer, i) => {
      x = b.scope(layer.name, () => {
        const a = layer.self_attn;
        const hIn = layer.input_layernorm.forward(b, x); // [1, N, C]
        const y = b.scope(a.name, () => {
          const split = (t: Value, n: number, norm?: { forward(b: GraphBuilder, x: Value): Value }) => {
            let r = b.reshape(t, [1, N, n, D]); // [1, N, n, D]
            if (norm) r = norm.forward(b, r);
            return b.transpose(r, [0, 2, 1, 3]); // [1, n, N, D]
          };
          const q = applyRope(b, split(a.q_proj.forward(b, hIn), H, a.q_norm), cos, sin); // [1, H, N, D]
          const k = applyRope(b, split(a.k_proj.forward(b, hIn), K, a.k_norm), cos, sin); // [1, K, N, D]
          const v = split(a.v_proj.forward(b, hIn), K); // [1, K, N, D]
          const past = io.past[i]!;
          present.push({ key: k, value: v });
          const keys = b.concat([past.key, k], 2); // [1, K, S+N, D]
          const values = b.concat([past.value, v], 2); // [1, K, S+N, D]
          const o = causalAttention(b, q, keys, values, io.mask); // [1, H, N, D]
          return a.o_proj.forward(b, b.reshape(b.transpose(o, [0, 2, 1, 3]), [1, N, H * D])); // [1, N, C]
        });
        const r = b.add(x, y); // [1, N, C]
        return b.add(r, layer.mlp.forward(b, layer.post_attention_layernorm.forward(b, r))); // [1, N, C]
      });
    });
    return m.model.norm.forward(b, x); // [1, N, C]
  });
  const row = pickRow(b, h, io.pick); // [1, 1, C]
  if (m.lm_head) return { logits: m.lm_head.forward(b, row), present };
  const table = b.storedParamAt('model.embed_tokens.weight', [V, m.dims.hidden]); // [V, C]
  const logits = b.reshape(b.storedMatmul(b.reshape(row, [1, m.dims.hidden]), table, { transB: true }), [1, 1, V]); // [1, 1, V]
  return { logits, present };
}

function gpt2Step(b: GraphBuilder, m: GPT2LMHeadModel, io: CachedStepInputs): CachedStepOutputs {
  if (!io.positions) throw new Error('a model with learned positions needs position ids');
  const caches = io.past.map((past) => ({ past, mask: io.mask }));
  const { h, present } = m.transformer.forward(b, io.ids, io.positions, io.mask, caches); // [1, N, C]
  return { logits: m.head(b, pickRow(b, h, io.pick)), present };
}

export function cachedStep(b: GraphBuilder, model: CausalLM, io: CachedStepInputs): CachedStepOutputs {
  return model instanceof GPT2LMHeadModel ? gpt2Step(b, model, io) : llamaStep(b, model, io);
}
