"""A PyTorch reference of the engine's decoder, written from Hugging Face's LlamaForCausalLM
(modeling_llama.py) and PEFT's LoRA Linear: RMSNorm, rotary embeddings (rotate_half), grouped-query
attention (repeat_kv), SwiGLU MLP, optional q/k/v biases and per-head q/k norms (Qwen2/Qwen3),
tied or untied LM head, and Hugging Face's shifted cross-entropy (ignore index -100, mean over
kept labels). Parameters are a dict keyed by Hugging Face checkpoint names.

Used by dump_engine_fixtures.py (float64 reference fixtures) and by the engine benchmark's peer.
"""
import math

import torch
import torch.nn.functional as F


def dims(cfg):
    heads = cfg['num_attention_heads']
    kv = cfg.get('num_key_value_heads') or heads
    head_dim = cfg.get('head_dim') or cfg['hidden_size'] // heads
    return heads, kv, head_dim


def parameter_shapes(cfg):
    """Every base parameter's name and shape, Hugging Face layout ([out, in] for linear layers)."""
    heads, kv, hd = dims(cfg)
    C, Fd, V = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size']
    qkv_bias = cfg.get('attention_bias', False) or cfg.get('qkv_bias', False)
    out = [('model.embed_tokens.weight', (V, C))]
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        out.append((p + 'input_layernorm.weight', (C,)))
        for name, o, n in (('q_proj', heads * hd, C), ('k_proj', kv * hd, C), ('v_proj', kv * hd, C)):
            out.append((p + f'self_attn.{name}.weight', (o, n)))
            if qkv_bias:
                out.append((p + f'self_attn.{name}.bias', (o,)))
        if cfg.get('qk_norm', False):
            out.append((p + 'self_attn.q_norm.weight', (hd,)))
            out.append((p + 'self_attn.k_norm.weight', (hd,)))
        out.append((p + 'self_attn.o_proj.weight', (C, heads * hd)))
        if cfg.get('attention_bias', False):
            out.append((p + 'self_attn.o_proj.bias', (C,)))
        out.append((p + 'post_attention_layernorm.weight', (C,)))
        out.append((p + 'mlp.gate_proj.weight', (Fd, C)))
        out.append((p + 'mlp.up_proj.weight', (Fd, C)))
        out.append((p + 'mlp.down_proj.weight', (C, Fd)))
    out.append(('model.norm.weight', (C,)))
    if not cfg.get('tie_word_embeddings', False):
        out.append(('lm_head.weight', (V, C)))
    return out


def lora_shapes(cfg, r, targets):
    """PEFT's LoRA parameters: A [r, in], B [out, r], under each targeted module."""
    out = []
    for name, shape in parameter_shapes(cfg):
        module = name.rsplit('.', 1)[0]
        if name.endswith('.weight') and module.rsplit('.', 1)[-1] in targets:
            o, n = shape
            out.append((module + '.lora_A.weight', (r, n)))
            out.append((module + '.lora_B.weight', (o, r)))
    return out


def rms_norm(x, w, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(variance + eps))


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rope(T, head_dim, theta, dtype):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def repeat_kv(x, rep):
    if rep == 1:
        return x
    B, K, T, D = x.shape
    return x[:, :, None, :, :].expand(B, K, rep, T, D).reshape(B, K * rep, T, D)


class Model:
    def __init__(self, cfg, params, lora=None, r=None, alpha=None):
        self.cfg, self.P, self.L = cfg, params, lora or {}
        self.scaling = (alpha / r) if lora else 0.0

    def linear(self, x, module):
        y = x @ self.P[module + '.weight'].t()
        if module + '.bias' in self.P:
            y = y + self.P[module + '.bias']
        a = self.L.get(module + '.lora_A.weight')
        if a is not None:
            y = y + ((x @ a.t()) @ self.L[module + '.lora_B.weight'].t()) * self.scaling
        return y

    def logits(self, ids):
        cfg, P = self.cfg, self.P
        heads, kv, hd = dims(cfg)
        B, T = ids.shape
        eps = cfg['rms_norm_eps']
        dtype = P['model.embed_tokens.weight'].dtype
        cos, sin = rope(T, hd, cfg['rope_theta'], dtype)
        mask = torch.full((T, T), torch.finfo(dtype).min, dtype=dtype).triu(1)
        x = P['model.embed_tokens.weight'][ids]
        for i in range(cfg['num_hidden_layers']):
            p = f'model.layers.{i}.'
            h = rms_norm(x, P[p + 'input_layernorm.weight'], eps)
            q = self.linear(h, p + 'self_attn.q_proj').view(B, T, heads, hd)
            k = self.linear(h, p + 'self_attn.k_proj').view(B, T, kv, hd)
            v = self.linear(h, p + 'self_attn.v_proj').view(B, T, kv, hd).transpose(1, 2)
            if cfg.get('qk_norm', False):
                q = rms_norm(q, P[p + 'self_attn.q_norm.weight'], eps)
                k = rms_norm(k, P[p + 'self_attn.k_norm.weight'], eps)
            q, k = q.transpose(1, 2), k.transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k, v = repeat_kv(k, heads // kv), repeat_kv(v, heads // kv)
            att = (q @ k.transpose(2, 3)) / math.sqrt(hd) + mask
            o = (torch.softmax(att, dim=-1) @ v).transpose(1, 2).reshape(B, T, heads * hd)
            x = x + self.linear(o, p + 'self_attn.o_proj')
            h = rms_norm(x, P[p + 'post_attention_layernorm.weight'], eps)
            x = x + self.linear(F.silu(self.linear(h, p + 'mlp.gate_proj')) * self.linear(h, p + 'mlp.up_proj'), p + 'mlp.down_proj')
        x = rms_norm(x, P['model.norm.weight'], eps)
        head = P['model.embed_tokens.weight'] if cfg.get('tie_word_embeddings', False) else P['lm_head.weight']
        return x @ head.t()


def causal_lm_loss(logits, labels):
    """Hugging Face's ForCausalLMLoss: position t predicts labels[t+1], -100 ignored, mean."""
    V = logits.shape[-1]
    shift_logits = logits[:, :-1, :].reshape(-1, V)
    shift_labels = labels[:, 1:].reshape(-1)
    return F.cross_entropy(shift_logits, shift_labels, ignore_index=-100, reduction='mean')
