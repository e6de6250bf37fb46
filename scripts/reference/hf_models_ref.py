"""A PyTorch reference of the Hugging Face causal LMs the engine loads, written from the semantics
of transformers' modeling code (not copied from it) and PEFT's LoRA layer:

- LlamaForCausalLM: RMSNorm, rotary embeddings (rotate_half) incl. rope_scaling "linear" and
  "llama3", grouped-query attention, SwiGLU MLP, attention_bias / mlp_bias, tied or untied head.
- MistralForCausalLM: Llama's block with a sliding attention window (query t sees keys
  t - window + 1 .. t, transformers' eager/sdpa masks).
- Qwen2ForCausalLM: biases on q, k and v.
- Qwen3ForCausalLM: per-head RMSNorm on q and k (q_norm, k_norm) before RoPE, explicit head_dim.
- GPT2LMHeadModel: learned positions, pre-LayerNorm, Conv1D weights [in, out], fused c_attn,
  gelu_new, head tied to wte.
- LoRA (PEFT): y = base(x) + scaling * lora_B(lora_A(x)), scaling alpha/r or alpha/sqrt(r)
  (rsLoRA); A [r, in], B [out, r] also for GPT-2's Conv1D (fan_in_fan_out only transposes W).
- Loss: transformers' causal-LM loss (position t predicts label t+1, -100 ignored, mean).

Everything is computed in the dtype of the tensors given (the fixtures use float64, with weights
whose values are exactly the stored float32/bfloat16 ones). Rotary tables are computed in float64
here; transformers computes them in float32, a difference far below the float32 tolerances.
Weights are a dict keyed by the checkpoint's names (GPT-2 under `transformer.`), LoRA a dict keyed
by module name -> (A, B).
"""
import math

import torch
import torch.nn.functional as F

LLAMA_FAMILY = ('LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM', 'Qwen3ForCausalLM')


def arch_of(cfg):
    return cfg['architectures'][0]


# ---- parameter inventories (what a checkpoint holds) --------------------------------------------

def llama_dims(cfg):
    arch = arch_of(cfg)
    H = cfg['num_attention_heads']
    K = cfg.get('num_key_value_heads') or H
    default_hd = 128 if arch == 'Qwen3ForCausalLM' else cfg['hidden_size'] // H
    D = cfg.get('head_dim') or default_hd
    return H, K, D


def llama_biases(cfg):
    arch = arch_of(cfg)
    attn = cfg.get('attention_bias', False) if arch in ('LlamaForCausalLM', 'Qwen3ForCausalLM') else False
    qkv = attn or arch == 'Qwen2ForCausalLM'
    mlp = cfg.get('mlp_bias', False) if arch == 'LlamaForCausalLM' else False
    return qkv, attn, mlp


def parameter_shapes(cfg):
    """(name, shape, kind) of every parameter; kind is 'linear' ([out, in]), 'conv1d' ([in, out]), or 'other'."""
    arch = arch_of(cfg)
    out = []
    if arch == 'GPT2LMHeadModel':
        C, V, P = cfg['n_embd'], cfg['vocab_size'], cfg['n_positions']
        Fd = cfg.get('n_inner') or 4 * C
        out += [('transformer.wte.weight', (V, C), 'other'), ('transformer.wpe.weight', (P, C), 'other')]
        for i in range(cfg['n_layer']):
            p = f'transformer.h.{i}.'
            out += [(p + 'ln_1.weight', (C,), 'norm'), (p + 'ln_1.bias', (C,), 'bias'),
                    (p + 'attn.c_attn.weight', (C, 3 * C), 'conv1d'), (p + 'attn.c_attn.bias', (3 * C,), 'bias'),
                    (p + 'attn.c_proj.weight', (C, C), 'conv1d'), (p + 'attn.c_proj.bias', (C,), 'bias'),
                    (p + 'ln_2.weight', (C,), 'norm'), (p + 'ln_2.bias', (C,), 'bias'),
                    (p + 'mlp.c_fc.weight', (C, Fd), 'conv1d'), (p + 'mlp.c_fc.bias', (Fd,), 'bias'),
                    (p + 'mlp.c_proj.weight', (Fd, C), 'conv1d'), (p + 'mlp.c_proj.bias', (C,), 'bias')]
        out += [('transformer.ln_f.weight', (C,), 'norm'), ('transformer.ln_f.bias', (C,), 'bias')]
        if cfg.get('tie_word_embeddings', True) is False:
            out.append(('lm_head.weight', (V, C), 'linear'))
        return out
    H, K, D = llama_dims(cfg)
    C, Fd, V = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size']
    qkv_bias, o_bias, mlp_bias = llama_biases(cfg)
    out.append(('model.embed_tokens.weight', (V, C), 'other'))
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        out.append((p + 'input_layernorm.weight', (C,), 'norm'))
        for name, o in (('q_proj', H * D), ('k_proj', K * D), ('v_proj', K * D)):
            out.append((p + f'self_attn.{name}.weight', (o, C), 'linear'))
            if qkv_bias:
                out.append((p + f'self_attn.{name}.bias', (o,), 'bias'))
        out.append((p + 'self_attn.o_proj.weight', (C, H * D), 'linear'))
        if o_bias:
            out.append((p + 'self_attn.o_proj.bias', (C,), 'bias'))
        if arch == 'Qwen3ForCausalLM':
            out += [(p + 'self_attn.q_norm.weight', (D,), 'norm'), (p + 'self_attn.k_norm.weight', (D,), 'norm')]
        out.append((p + 'post_attention_layernorm.weight', (C,), 'norm'))
        for name, shape in (('gate_proj', (Fd, C)), ('up_proj', (Fd, C)), ('down_proj', (C, Fd))):
            out.append((p + f'mlp.{name}.weight', shape, 'linear'))
            if mlp_bias:
                out.append((p + f'mlp.{name}.bias', (shape[0],), 'bias'))
    out.append(('model.norm.weight', (C,), 'norm'))
    if not cfg.get('tie_word_embeddings', False):
        out.append(('lm_head.weight', (V, C), 'linear'))
    return out


def lora_shapes(cfg, r, targets):
    """PEFT's LoRA tensors (module, A shape [r, in], B shape [out, r]) for the targeted modules."""
    out = []
    for name, shape, kind in parameter_shapes(cfg):
        module = name[: -len('.weight')] if name.endswith('.weight') else None
        if module is None or kind not in ('linear', 'conv1d') or module == 'lm_head':
            continue
        if module.rsplit('.', 1)[-1] not in targets:
            continue
        inn, o = (shape[1], shape[0]) if kind == 'linear' else (shape[0], shape[1])
        out.append((module, (r, inn), (o, r)))
    return out


# ---- building blocks ----------------------------------------------------------------------------

def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def layer_norm(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def inv_freq(cfg, D):
    base = cfg.get('rope_theta', 10000.0)
    f = [1.0 / (base ** (2 * i / D)) for i in range(D // 2)]
    sc = cfg.get('rope_scaling') or {}
    kind = sc.get('rope_type', sc.get('type', 'default'))
    if kind == 'linear':
        f = [x / sc['factor'] for x in f]
    elif kind == 'llama3':
        factor, lo, hi, old = sc['factor'], sc['low_freq_factor'], sc['high_freq_factor'], sc['original_max_position_embeddings']
        lo_wl, hi_wl = old / lo, old / hi
        g = []
        for x in f:
            wl = 2 * math.pi / x
            if wl < hi_wl:
                g.append(x)
            elif wl > lo_wl:
                g.append(x / factor)
            else:
                s = (old / wl - lo) / (hi - lo)
                g.append((1 - s) * x / factor + s * x)
        f = g
    elif kind != 'default':
        raise ValueError(kind)
    return torch.tensor(f, dtype=torch.float64)


def rope_tables(cfg, D, T, dtype):
    ang = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq(cfg, D))
    emb = torch.cat((ang, ang), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def attention_mask(T, window, dtype):
    """Additive [T, T] mask: query i sees keys j <= i (and i - j < window when windowed)."""
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    ok = j <= i
    if window is not None:
        ok = ok & (i - j < window)
    return torch.where(ok, torch.zeros((), dtype=dtype), torch.full((), torch.finfo(dtype).min, dtype=dtype))


def repeat_kv(x, rep):
    if rep == 1:
        return x
    B, K, T, D = x.shape
    return x[:, :, None].expand(B, K, rep, T, D).reshape(B, K * rep, T, D)


class Model:
    """Weights W (checkpoint names), LoRA {module: (A, B)} with one scaling."""

    def __init__(self, cfg, W, lora=None, scaling=0.0):
        self.cfg, self.W, self.lora, self.scaling = cfg, W, lora or {}, scaling

    def linear(self, x, module, kind='linear'):
        w = self.W[module + '.weight']
        y = x @ w.t() if kind == 'linear' else x @ w
        b = self.W.get(module + '.bias')
        if b is not None:
            y = y + b
        ab = self.lora.get(module)
        if ab is not None:
            A, B = ab
            y = y + (x @ A.t()) @ B.t() * self.scaling
        return y

    def logits(self, ids):
        return self.gpt2(ids) if arch_of(self.cfg) == 'GPT2LMHeadModel' else self.llama(ids)

    def llama(self, ids):
        cfg, W = self.cfg, self.W
        arch = arch_of(cfg)
        H, K, D = llama_dims(cfg)
        Bn, T = ids.shape
        eps = cfg.get('rms_norm_eps', 1e-6)
        dtype = W['model.embed_tokens.weight'].dtype
        cos, sin = rope_tables(cfg, D, T, dtype)
        window = cfg.get('sliding_window', 4096) if arch == 'MistralForCausalLM' else None
        mask = attention_mask(T, window, dtype)
        x = W['model.embed_tokens.weight'][ids]
        for i in range(cfg['num_hidden_layers']):
            p = f'model.layers.{i}.'
            h = rms_norm(x, W[p + 'input_layernorm.weight'], eps)
            q = self.linear(h, p + 'self_attn.q_proj').view(Bn, T, H, D)
            k = self.linear(h, p + 'self_attn.k_proj').view(Bn, T, K, D)
            v = self.linear(h, p + 'self_attn.v_proj').view(Bn, T, K, D).transpose(1, 2)
            if arch == 'Qwen3ForCausalLM':
                q = rms_norm(q, W[p + 'self_attn.q_norm.weight'], eps)
                k = rms_norm(k, W[p + 'self_attn.k_norm.weight'], eps)
            q, k = q.transpose(1, 2), k.transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k, v = repeat_kv(k, H // K), repeat_kv(v, H // K)
            att = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(D) + mask, dim=-1)
            o = (att @ v).transpose(1, 2).reshape(Bn, T, H * D)
            x = x + self.linear(o, p + 'self_attn.o_proj')
            h = rms_norm(x, W[p + 'post_attention_layernorm.weight'], eps)
            x = x + self.linear(F.silu(self.linear(h, p + 'mlp.gate_proj')) * self.linear(h, p + 'mlp.up_proj'), p + 'mlp.down_proj')
        x = rms_norm(x, W['model.norm.weight'], eps)
        head = W['model.embed_tokens.weight'] if cfg.get('tie_word_embeddings', False) else W['lm_head.weight']
        return x @ head.t()

    def gpt2(self, ids):
        cfg, W = self.cfg, self.W
        Bn, T = ids.shape
        C, H = cfg['n_embd'], cfg['n_head']
        D = C // H
        eps = cfg.get('layer_norm_epsilon', 1e-5)
        dtype = W['transformer.wte.weight'].dtype
        mask = attention_mask(T, None, dtype)
        x = W['transformer.wte.weight'][ids] + W['transformer.wpe.weight'][torch.arange(T)][None]
        heads = lambda t: t.view(Bn, T, H, D).transpose(1, 2)  # noqa: E731
        for i in range(cfg['n_layer']):
            p = f'transformer.h.{i}.'
            h = layer_norm(x, W[p + 'ln_1.weight'], W[p + 'ln_1.bias'], eps)
            q, k, v = self.linear(h, p + 'attn.c_attn', 'conv1d').split(C, dim=2)
            att = torch.softmax(heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(D) + mask, dim=-1)
            o = (att @ heads(v)).transpose(1, 2).reshape(Bn, T, C)
            x = x + self.linear(o, p + 'attn.c_proj', 'conv1d')
            h = layer_norm(x, W[p + 'ln_2.weight'], W[p + 'ln_2.bias'], eps)
            x = x + self.linear(gelu_new(self.linear(h, p + 'mlp.c_fc', 'conv1d')), p + 'mlp.c_proj', 'conv1d')
        x = layer_norm(x, W['transformer.ln_f.weight'], W['transformer.ln_f.bias'], eps)
        head = W['transformer.wte.weight'] if cfg.get('tie_word_embeddings', True) else W['lm_head.weight']
        return x @ head.t()


def causal_lm_loss(logits, labels):
    V = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, V), labels[:, 1:].reshape(-1), ignore_index=-100, reduction='mean')


def greedy(model, prompt, new_tokens):
    """Greedy continuation by full recomputation (no cache); returns tokens and the smallest top-1 margin."""
    ids = list(prompt)
    margin = float('inf')
    for _ in range(new_tokens):
        last = model.logits(torch.tensor([ids]))[0, -1]
        top = torch.topk(last, 2).values
        margin = min(margin, float(top[0] - top[1]))
        ids.append(int(torch.argmax(last)))
    return ids[len(prompt):], margin
