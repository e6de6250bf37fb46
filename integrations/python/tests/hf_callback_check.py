"""Runs DynamicsCallback (dynamics_controller.hf) to the end of a run without transformers: a loop
that calls it in the Hugging Face Trainer's order (on_train_begin; per step the optimizer step,
on_step_end, then on_log; on_train_end) over the reference script's model and data.

    DYNAMICS_TOKEN=... python3 hf_callback_check.py --url http://127.0.0.1:PORT
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from types import SimpleNamespace

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
import reference_torch as ref  # noqa: E402
from dynamics_controller import Client, MixtureSampler, Run  # noqa: E402
from dynamics_controller.hf import DynamicsCallback, MixtureDataset  # noqa: E402


class Model(torch.nn.Module):
    """The reference model with a Hugging Face-style call: model(**batch).loss."""

    def __init__(self):
        super().__init__()
        self.inner = ref.CharMLP()

    def forward(self, ids):
        return SimpleNamespace(loss=self.inner.loss(ids))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    args = p.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    train_data, evals = ref.build_data(0)
    config = {
        "name": "hf callback check",
        "model": {"name": "char-mlp"},
        "sources": [{"id": s} for s in ref.SOURCES],
        "domains": [{"id": "arith", "role": "target"}, {"id": "prose", "role": "constraint"}, {"id": "code", "role": "constraint"}],
        "training": {"steps": 64, "batchSize": 8, "seqLength": ref.PREDICT, "learningRate": 3e-3},
        "evaluation": {"interval": 32, "regularBatches": 4, "probeBatches": 2, "testBatches": 4},
        "dynamics": {"schedule": {"kind": "interval", "every": 16}, "probeCap": 4},
    }
    run = Run.register(Client(args.url, os.environ["DYNAMICS_TOKEN"]), config, trainer={"name": "hf callback check"})
    print(f"run {run.run_id} registered", flush=True)
    torch.manual_seed(0)
    model = Model()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    sources = [train_data[s] for s in ref.SOURCES]
    sampler = MixtureSampler([len(d) for d in sources], seed=0)
    batch = run.config["training"]["batchSize"]

    def evaluate(m, split, batches):
        sets = evals["test" if split == "test" else "regular"]
        return [[m(ids=b).loss.item() for b in sets[d][:batches]] for d in run.domain_ids], None

    def probe_batches(steps, mixture, probe):
        for rows in sampler.probe_batches(steps, batch, mixture, probe["seed"], probe["direction"]):
            yield {"ids": torch.stack([sources[j][i] for j, i in rows])}

    decisions = []
    callback = DynamicsCallback(run, sampler, evaluate, probe_batches, tempfile.mkdtemp(prefix="dynamics-hf-"), on_decision=decisions.append)
    examples = iter(MixtureDataset(sources, sampler))
    control = SimpleNamespace(should_training_stop=False, should_save=False)
    state = SimpleNamespace(global_step=0)
    hf_args = SimpleNamespace(max_steps=run.config["training"]["steps"])
    callback.on_train_begin(hf_args, state, control, model=model, optimizer=optimizer)
    while state.global_step < hf_args.max_steps and not control.should_training_stop:
        ids = torch.stack([next(examples) for _ in range(batch)])
        loss = model(ids=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        state.global_step += 1
        callback.on_step_end(hf_args, state, control, model=model, optimizer=optimizer)
        callback.on_log(hf_args, state, control, logs={"loss": loss.item()})
    callback.on_train_end(hf_args, state, control, model=model, optimizer=optimizer)
    end = callback.finished or {}
    print(f"run {run.run_id} {end.get('status')}: {len(decisions)} decisions, {state.global_step} steps ({time.time() - t0:.1f} s)", flush=True)
    return 0 if end.get("status") == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
