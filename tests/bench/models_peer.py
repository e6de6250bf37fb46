"""PyTorch eager peer of the models benchmark: the same Hugging Face folder (bfloat16 safetensors,
converted to float32 on load, as the engine does), the same LoRA (r 16, alpha 32, all linear
layers), the same batch shape, forward + backward to the LoRA gradients, timed per step.
The model is scripts/reference/hf_models_ref.py (transformers' Qwen2 semantics).

Usage: models_peer.py DIR B T STEPS  (threads: PEER_THREADS; BLAS threads: OPENBLAS_NUM_THREADS
with the OpenBLAS found through LD_LIBRARY_PATH; PEER_DEVICE=cuda runs on the GPU where this
PyTorch has CUDA, and reports its peak GPU memory). Prints one JSON line.
"""
import json
import os
import resource
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'reference'))
import hf_models_ref as ref  # noqa: E402


def load_folder(d):
    cfg = json.load(open(os.path.join(d, 'config.json')))
    path = os.path.join(d, 'model.safetensors')
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
    raw = np.memmap(path, dtype=np.uint8, mode='r', offset=8 + n)
    W = {}
    for name, h in header.items():
        if name == '__metadata__':
            continue
        s, e = h['data_offsets']
        assert h['dtype'] == 'BF16', h['dtype']
        bits = np.frombuffer(raw[s:e], dtype=np.uint16)
        W[name] = torch.from_numpy((bits.astype(np.uint32) << 16).view(np.float32).reshape(h['shape']))
    return cfg, W


def main():
    d, B, T, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(int(os.environ.get('PEER_THREADS', '2')))
    torch.set_num_interop_threads(1)
    device = os.environ.get('PEER_DEVICE', 'cpu')
    if device == 'cuda':
        if not torch.cuda.is_available():
            raise SystemExit('PEER_DEVICE=cuda but this PyTorch has no usable CUDA')
        torch.set_default_device('cuda')  # the reference model makes its tables where it runs
    t0 = time.perf_counter()
    cfg, W = load_folder(d)
    W = {k: v.to(device) for k, v in W.items()}
    load_s = time.perf_counter() - t0
    r, alpha = 16, 32
    g = torch.Generator(device=device).manual_seed(5)
    lora = {}
    for module, a_shape, b_shape in ref.lora_shapes(cfg, r, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']):
        A = ((torch.rand(a_shape, generator=g) - 0.5) * 2 / a_shape[1] ** 0.5).requires_grad_(True)
        Bm = (torch.randn(b_shape, generator=g) * 0.01).requires_grad_(True)
        lora[module] = (A, Bm)
    params = [p for ab in lora.values() for p in ab]
    model = ref.Model(cfg, W, lora, alpha / r)
    ids = torch.randint(0, cfg['vocab_size'], (B, T), generator=g)

    def step():
        loss = ref.causal_lm_loss(model.logits(ids), ids)
        return torch.autograd.grad(loss, params)

    sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)
    t1 = time.perf_counter()
    step()
    sync()
    warm_s = time.perf_counter() - t1
    ms = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        sync()
        ms.append((time.perf_counter() - t) * 1000)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_gpu = torch.cuda.max_memory_allocated() / 2**20 if device == 'cuda' else None
    print(json.dumps({'mode': 'peer', 'batch': B, 'seq': T, 'device': device, 'load_s': load_s, 'warmup_s': warm_s, 'step_ms': ms, 'peak_rss_mb': peak, 'peak_gpu_mb': peak_gpu,
                      'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas_threads': os.environ.get('OPENBLAS_NUM_THREADS')}))


if __name__ == '__main__':
    main()
