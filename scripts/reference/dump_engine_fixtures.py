"""Dumps the engine's reference fixtures (run once; the outputs are committed, so CI needs no
PyTorch): for tiny decoder configs, float64 logits, loss and the gradient of every parameter, in
LoRA mode (all seven target modules, non-zero A and B) and in full mode, plus two AdamW steps of
torch.optim.AdamW after clip_grad_norm_, from the same gradients.

Usage: /usr/bin/python3 scripts/reference/dump_engine_fixtures.py [OUT_DIR]
(Debian's python3-torch; OUT_DIR defaults to tests/fixtures/engine.)
Weights are drawn as float32 values and computed in float64, so the float32 weights the engine
receives are exactly the fixture's.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_ref as ref  # noqa: E402

TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']

VARIANTS = {
    # Llama: grouped-query attention, untied head
    'llama-tiny': dict(vocab_size=48, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False),
    # the switches later variants use: q/k/v biases (Qwen2), per-head q/k norms (Qwen3), tied head
    'variant-tiny': dict(vocab_size=40, hidden_size=24, intermediate_size=40, num_hidden_layers=1, num_attention_heads=2,
                         num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True,
                         qkv_bias=True, qk_norm=True),
}
LORA = dict(r=4, alpha=8.0)
ADAMW = dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
MAX_NORM = 0.5
B, T = 2, 8


def f32(rng, shape, std, mean=0.0):
    return torch.tensor((mean + std * rng.standard_normal(shape)).astype(np.float32), dtype=torch.float64)


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().numpy()
        dt = {np.float64: 'F64', np.int32: 'I32'}[a.dtype.type]
        b = a.tobytes()
        header[name] = {'dtype': dt, 'shape': list(a.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def dump(name, cfg, out_dir, seed):
    rng = np.random.default_rng(seed)
    params = {}
    for n, shape in ref.parameter_shapes(cfg):
        if n.endswith('norm.weight'):
            params[n] = f32(rng, shape, 0.1, 1.0)
        elif n.endswith('.bias'):
            params[n] = f32(rng, shape, 0.1)
        else:
            params[n] = f32(rng, shape, 0.3 if 'embed' in n else 1.0 / np.sqrt(shape[1]))
    lora = {n: f32(rng, shape, 0.3 / np.sqrt(shape[1])) for n, shape in ref.lora_shapes(cfg, LORA['r'], TARGETS)}
    ids = torch.tensor(rng.integers(0, cfg['vocab_size'], (B, T)), dtype=torch.int64)
    labels = ids.clone()
    labels[0, 2] = -100
    labels[1, 5:] = -100
    out = {'input_ids': ids.to(torch.int32), 'labels': labels.to(torch.int32)}
    out.update({'base.' + k: v for k, v in params.items()})
    out.update({'lora.' + k: v for k, v in lora.items()})

    # LoRA mode: gradients of A and B
    L = {k: v.clone().requires_grad_(True) for k, v in lora.items()}
    model = ref.Model(cfg, params, L, **LORA)
    logits = model.logits(ids)
    loss = ref.causal_lm_loss(logits, labels)
    loss.backward()
    out['lora_mode.logits'] = logits.detach()
    out['lora_mode.loss'] = loss.detach().reshape(1)
    out.update({'lora_mode.grad.' + k: v.grad.clone() for k, v in L.items()})  # clipping below scales .grad in place

    # the optimizer from those gradients: clip_grad_norm_ then two AdamW steps
    opt_params = [L[k] for k in lora]
    norm = torch.nn.utils.clip_grad_norm_(opt_params, MAX_NORM)
    grads = [p.grad.clone() for p in opt_params]
    opt = torch.optim.AdamW(opt_params, **ADAMW)
    opt.step()
    for p, g in zip(opt_params, grads):
        p.grad = g.clone()
    opt.step()
    out['adamw.grad_norm'] = norm.detach().reshape(1)
    out.update({'adamw.after2.' + k: L[k].detach() for k in lora})

    # full mode: gradients of every base parameter
    P = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    logits = ref.Model(cfg, P).logits(ids)
    loss = ref.causal_lm_loss(logits, labels)
    loss.backward()
    out['full_mode.logits'] = logits.detach()
    out['full_mode.loss'] = loss.detach().reshape(1)
    out.update({'full_mode.grad.' + k: v.grad.clone() for k, v in P.items()})

    write_safetensors(os.path.join(out_dir, name + '.safetensors'), out)
    meta = {'config': cfg, 'lora': {**LORA, 'target_modules': TARGETS}, 'adamw': {**ADAMW, 'max_grad_norm': MAX_NORM},
            'batch': {'batch_size': B, 'seq_len': T}, 'torch': torch.__version__, 'dtype': 'float64'}
    with open(os.path.join(out_dir, name + '.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    print(name, 'lora loss', float(out['lora_mode.loss']), 'full loss', float(out['full_mode.loss']))


if __name__ == '__main__':
    torch.set_default_dtype(torch.float64)
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'fixtures', 'engine')
    os.makedirs(out_dir, exist_ok=True)
    for i, (name, cfg) in enumerate(VARIANTS.items()):
        dump(name, cfg, out_dir, seed=1234 + i)
