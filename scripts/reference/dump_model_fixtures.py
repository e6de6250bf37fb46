"""Dumps the model-loading fixtures (run once; the outputs are committed, so tests need no PyTorch):
for tiny random configs of every supported architecture, with float32 and bfloat16 weights, a
Hugging Face model folder (config.json, generation_config.json, model.safetensors or shards with
model.safetensors.index.json), a PEFT LoRA adapter folder (adapter_config.json,
adapter_model.safetensors with PEFT's key names), and reference.safetensors holding what
hf_models_ref.py computes in float64 from exactly the stored values: logits and loss of the base
model and of the model with the adapter, the loss gradient of every adapter tensor (under its PEFT
key), and greedy continuations of a prompt.

Usage: /usr/bin/python3 scripts/reference/dump_model_fixtures.py [OUT_DIR]
(Debian's python3-torch; OUT_DIR defaults to tests/fixtures/models.)
"""
import json
import os
import shutil
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_models_ref as ref  # noqa: E402

ALL7 = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']
B, T = 2, 10
PROMPT, NEW = 4, 6

LLAMA = dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=10000.0, hidden_act='silu', max_position_embeddings=128,
             bos_token_id=1, eos_token_id=2)
GPT2 = dict(vocab_size=64, n_positions=32, n_embd=32, n_layer=2, n_head=4, n_inner=None, layer_norm_epsilon=1e-5,
            activation_function='gelu_new', bos_token_id=1, eos_token_id=2, model_type='gpt2')

# name -> (config, weight dtype, adapter (r, alpha, targets as written, use_rslora), options)
VARIANTS = {
    'llama-f32': (dict(LLAMA, architectures=['LlamaForCausalLM'], model_type='llama', tie_word_embeddings=False,
                       rope_scaling=dict(rope_type='llama3', factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                         original_max_position_embeddings=64)),
                  'F32', (4, 8, ALL7, False), {}),
    'llama-bf16': (dict(LLAMA, architectures=['LlamaForCausalLM'], model_type='llama', tie_word_embeddings=True,
                        num_key_value_heads=4, attention_bias=True, mlp_bias=True, rope_scaling=dict(type='linear', factor=2.0)),
                   'BF16', (2, 4, ['q_proj', 'v_proj'], True), {}),
    'mistral-f32': (dict(LLAMA, architectures=['MistralForCausalLM'], model_type='mistral', tie_word_embeddings=False,
                         num_key_value_heads=1, sliding_window=4),
                    'F32', (4, 16, ALL7, False), dict(shards=3)),
    'mistral-bf16': (dict(LLAMA, architectures=['MistralForCausalLM'], model_type='mistral', tie_word_embeddings=False,
                          head_dim=12, sliding_window=None, rope_theta=1e6),
                     'BF16', (2, 4, ['q_proj', 'v_proj'], False), {}),
    'qwen2-f32': (dict(LLAMA, architectures=['Qwen2ForCausalLM'], model_type='qwen2', tie_word_embeddings=True,
                       use_sliding_window=False, sliding_window=32, max_window_layers=2, rope_theta=1e6),
                  'F32', (4, 8, 'all-linear', False), {}),
    'qwen2-bf16': (dict(LLAMA, architectures=['Qwen2ForCausalLM'], model_type='qwen2', tie_word_embeddings=False,
                        use_sliding_window=False, rope_theta=1e6),
                   'BF16', (8, 16, ['q_proj', 'k_proj', 'v_proj', 'o_proj'], True), {}),
    'qwen3-f32': (dict(LLAMA, architectures=['Qwen3ForCausalLM'], model_type='qwen3', tie_word_embeddings=True,
                       head_dim=16, attention_bias=False, use_sliding_window=False, rope_theta=1e6),
                  'F32', (4, 8, ALL7, False), {}),
    'qwen3-bf16': (dict(LLAMA, architectures=['Qwen3ForCausalLM'], model_type='qwen3', tie_word_embeddings=False,
                        head_dim=8, attention_bias=True, use_sliding_window=False, rope_theta=1e6),
                   'BF16', (4, 8, ['q_proj', 'k_proj', 'v_proj', 'o_proj'], False), {}),
    'gpt2-f32': (dict(GPT2, architectures=['GPT2LMHeadModel']), 'F32', (4, 8, ['c_attn', 'c_proj', 'c_fc'], False), {}),
    # the original GPT-2 release's layout: keys without `transformer.`, causal-mask buffers stored
    'gpt2-bf16': (dict(GPT2, architectures=['GPT2LMHeadModel'], n_inner=48), 'BF16', (4, 8, ['c_attn'], False),
                  dict(unprefixed=True, buffers=True)),
}

ST_DTYPE = {torch.float32: 'F32', torch.float64: 'F64', torch.bfloat16: 'BF16', torch.int32: 'I32'}


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous()
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {'dtype': ST_DTYPE[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def draw(rng, shape, std, mean=0.0):
    return torch.tensor((mean + std * rng.standard_normal(shape)).astype(np.float32))


def dump(name, cfg, wdtype, lora_spec, opts, out_dir, seed):
    rng = np.random.default_rng(seed)
    folder = os.path.join(out_dir, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, 'adapter'))
    stored = {}
    for n, shape, kind in ref.parameter_shapes(cfg):
        if kind == 'norm':
            w = draw(rng, shape, 0.1, 1.0)
        elif kind == 'bias':
            w = draw(rng, shape, 0.1)
        elif n.endswith(('wte.weight', 'embed_tokens.weight', 'wpe.weight')):
            w = draw(rng, shape, 1.0 if 'wpe' not in n else 0.3)
        else:
            fan_in = shape[1] if kind == 'linear' else shape[0]
            w = draw(rng, shape, 3.0 / np.sqrt(fan_in) if n == 'lm_head.weight' else 1.0 / np.sqrt(fan_in))
        stored[n] = w.to(torch.bfloat16) if wdtype == 'BF16' else w
    W = {k: v.to(torch.float64) for k, v in stored.items()}  # exactly the stored values

    # the checkpoint, as a Hugging Face folder
    on_disk = dict(stored)
    if opts.get('unprefixed'):
        on_disk = {(k[len('transformer.'):] if k.startswith('transformer.') else k): v for k, v in on_disk.items()}
    if opts.get('buffers'):
        P = cfg['n_positions']
        for i in range(cfg['n_layer']):
            on_disk[f'h.{i}.attn.bias'] = torch.tril(torch.ones(P, P)).view(1, 1, P, P)
            on_disk[f'h.{i}.attn.masked_bias'] = torch.tensor(-1e4)
    shards = opts.get('shards', 1)
    if shards == 1:
        write_safetensors(os.path.join(folder, 'model.safetensors'), on_disk, {'format': 'pt'})
    else:
        names = list(on_disk)
        parts = np.array_split(np.arange(len(names)), shards)
        weight_map = {}
        total = 0
        for i, idx in enumerate(parts):
            fname = f'model-{i + 1:05d}-of-{shards:05d}.safetensors'
            part = {names[j]: on_disk[names[j]] for j in idx}
            write_safetensors(os.path.join(folder, fname), part, {'format': 'pt'})
            for k, v in part.items():
                weight_map[k] = fname
                total += v.numel() * v.element_size()
        with open(os.path.join(folder, 'model.safetensors.index.json'), 'w') as f:
            json.dump({'metadata': {'total_size': total}, 'weight_map': weight_map}, f, indent=2)
    config = dict(cfg, torch_dtype='bfloat16' if wdtype == 'BF16' else 'float32', transformers_version='4.46.0')
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(folder, 'generation_config.json'), 'w') as f:
        json.dump({'bos_token_id': 1, 'eos_token_id': 2, 'do_sample': False}, f, indent=2)

    # the adapter, as a PEFT folder
    r, alpha, targets, rslora = lora_spec
    linear_targets = (['c_attn', 'c_proj', 'c_fc'] if cfg['architectures'][0] == 'GPT2LMHeadModel' else ALL7) if targets == 'all-linear' else targets
    scaling = alpha / np.sqrt(r) if rslora else alpha / r
    lora, adapter_file = {}, {}
    for module, a_shape, b_shape in ref.lora_shapes(cfg, r, linear_targets):
        A = draw(rng, a_shape, 1.0 / np.sqrt(a_shape[1]))
        Bm = draw(rng, b_shape, 0.5 / np.sqrt(r))
        lora[module] = (A.to(torch.float64), Bm.to(torch.float64))
        adapter_file[f'base_model.model.{module}.lora_A.weight'] = A
        adapter_file[f'base_model.model.{module}.lora_B.weight'] = Bm
    write_safetensors(os.path.join(folder, 'adapter', 'adapter_model.safetensors'), adapter_file, {'format': 'pt'})
    adapter_config = {
        'alpha_pattern': {}, 'auto_mapping': None, 'base_model_name_or_path': name, 'bias': 'none',
        'fan_in_fan_out': cfg['architectures'][0] == 'GPT2LMHeadModel', 'inference_mode': True, 'init_lora_weights': True,
        'layer_replication': None, 'layers_pattern': None, 'layers_to_transform': None, 'loftq_config': {},
        'lora_alpha': alpha, 'lora_dropout': 0.05, 'megatron_config': None, 'megatron_core': 'megatron.core',
        'modules_to_save': None, 'peft_type': 'LORA', 'r': r, 'rank_pattern': {}, 'revision': None,
        'target_modules': targets, 'task_type': 'CAUSAL_LM', 'use_dora': False, 'use_rslora': rslora,
    }
    with open(os.path.join(folder, 'adapter', 'adapter_config.json'), 'w') as f:
        json.dump(adapter_config, f, indent=2)

    # reference values
    ids = torch.tensor(rng.integers(3, cfg['vocab_size'], (B, T)), dtype=torch.int64)
    labels = ids.clone()
    labels[0, 2] = -100
    labels[1, 6:] = -100
    out = {'input_ids': ids.to(torch.int32), 'labels': labels.to(torch.int32)}
    base = ref.Model(cfg, W)
    logits = base.logits(ids)
    out['base.logits'] = logits
    out['base.loss'] = ref.causal_lm_loss(logits, labels).reshape(1)
    L = {m: (a.clone().requires_grad_(True), b.clone().requires_grad_(True)) for m, (a, b) in lora.items()}
    adapted = ref.Model(cfg, W, L, scaling)
    logits = adapted.logits(ids)
    loss = ref.causal_lm_loss(logits, labels)
    loss.backward()
    out['lora.logits'] = logits.detach()
    out['lora.loss'] = loss.detach().reshape(1)
    for m, (a, b) in L.items():
        out[f'lora.grad.base_model.model.{m}.lora_A.weight'] = a.grad
        out[f'lora.grad.base_model.model.{m}.lora_B.weight'] = b.grad
    prompt = ids[0, :PROMPT].tolist()
    with torch.no_grad():
        base_tokens, m1 = ref.greedy(base, prompt, NEW)
        lora_tokens, m2 = ref.greedy(ref.Model(cfg, W, lora, scaling), prompt, NEW)
    assert min(m1, m2) > 1e-4, f'{name}: greedy top-1 margin {min(m1, m2)} is too small for a stable fixture'
    out['generate.prompt'] = torch.tensor(prompt, dtype=torch.int32)
    out['generate.base'] = torch.tensor(base_tokens, dtype=torch.int32)
    out['generate.lora'] = torch.tensor(lora_tokens, dtype=torch.int32)
    write_safetensors(os.path.join(folder, 'reference.safetensors'), {k: (v.to(torch.float64) if v.is_floating_point() else v) for k, v in out.items()})
    meta = {'architecture': cfg['architectures'][0], 'weights_dtype': wdtype, 'batch': [B, T], 'lora': {'r': r, 'alpha': alpha, 'targets': targets, 'use_rslora': rslora},
            'greedy_margin': min(m1, m2), 'torch': torch.__version__, 'reference_dtype': 'float64'}
    with open(os.path.join(folder, 'reference.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    print(f'{name}: base loss {float(out["base.loss"]):.6f}, lora loss {float(out["lora.loss"]):.6f}, greedy margin {min(m1, m2):.3g}')


if __name__ == '__main__':
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'fixtures', 'models')
    os.makedirs(out_dir, exist_ok=True)
    for i, (name, (cfg, wdtype, lora_spec, opts)) in enumerate(VARIANTS.items()):
        dump(name, cfg, wdtype, lora_spec, opts, out_dir, seed=4321 + i)
