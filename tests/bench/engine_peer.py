"""PyTorch eager peer of the engine benchmark: the same decoder (scripts/reference/llama_ref.py),
the same weights, batch and LoRA tensors, forward + backward to the LoRA gradients, in float32.

A long-lived process driven by JSON lines on stdin, so the benchmark can interleave it with our
own steps: {"cmd": "load", "name": N, "path": FILE.safetensors, "config": {...}, "lora": {...}},
{"cmd": "bench", "name": N, "steps": S} -> {"ms": mean ms per step, "cpu_ms": mean CPU ms per step
(time.process_time, all threads)}, {"cmd": "quit"}.
Threads: torch.set_num_threads(PEER_THREADS); BLAS threads come from OPENBLAS_NUM_THREADS and the
OpenBLAS found through LD_LIBRARY_PATH (Debian's default BLAS is the slow reference one).
"""
import json
import os
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'reference'))
import llama_ref as ref  # noqa: E402


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for name, h in header.items():
        if name == '__metadata__':
            continue
        dt = {'F32': np.float32, 'I32': np.int32}[h['dtype']]
        s, e = h['data_offsets']
        out[name] = np.frombuffer(blob[s:e], dtype=dt).reshape(h['shape'])
    return out


def main():
    torch.set_num_threads(int(os.environ.get('PEER_THREADS', '1')))
    torch.set_num_interop_threads(1)
    models = {}
    print(json.dumps({'ready': True, 'torch': torch.__version__, 'threads': torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        msg = json.loads(line)
        if msg['cmd'] == 'quit':
            break
        if msg['cmd'] == 'load':
            t = read_safetensors(msg['path'])
            params = {k[5:]: torch.from_numpy(v.copy()) for k, v in t.items() if k.startswith('base.')}
            lora = {k[5:]: torch.from_numpy(v.copy()).requires_grad_(True) for k, v in t.items() if k.startswith('lora.')}
            ids = torch.from_numpy(t['input_ids'].astype(np.int64))
            labels = torch.from_numpy(t['labels'].astype(np.int64))
            model = ref.Model(msg['config'], params, lora, msg['lora']['r'], msg['lora']['alpha'])
            models[msg['name']] = (model, list(lora.values()), ids, labels)
            step(models[msg['name']])  # warm-up
            print(json.dumps({'loaded': msg['name']}), flush=True)
        elif msg['cmd'] == 'bench':
            m = models[msg['name']]
            t0 = time.perf_counter()
            c0 = time.process_time()
            for _ in range(msg['steps']):
                step(m)
            ms = (time.perf_counter() - t0) / msg['steps'] * 1000
            cpu_ms = (time.process_time() - c0) / msg['steps'] * 1000
            print(json.dumps({'ms': ms, 'cpu_ms': cpu_ms}), flush=True)


def step(m):
    model, lora, ids, labels = m
    loss = ref.causal_lm_loss(model.logits(ids), labels)
    grads = torch.autograd.grad(loss, lora)
    return float(loss), grads


if __name__ == '__main__':
    main()
