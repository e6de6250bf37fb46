"""The reference integration: a PyTorch script that fine-tunes a tiny model under the controller.

A character-level MLP language model (about 6k parameters) is first trained briefly on an even mix of
three synthetic sources (prose, arithmetic, code) to stand in for a pretrained base model; then the
run registered with `dynamics serve` fine-tunes it toward arithmetic while prose and code are
constraints, the mixture decided by the controller. Everything the protocol asks of a trainer is
here: fixed evaluation batches, main and probe streams, snapshot and restore for probes,
checkpoints a reconnect continues from. Seconds on one CPU thread. `--world-size 2` trains in two
processes (torch.distributed over gloo, as on several GPUs): rank 0 talks to the controller and
broadcasts each task; every process trains on its share of each batch and evaluates its share of
the batches.

    DYNAMICS_TOKEN=... python3 reference_torch.py --url http://127.0.0.1:PORT [--world-size 2]
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import socket
import sys
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from dynamics_controller import Client, MixtureSampler, Run, TaskHandler, serve_tasks  # noqa: E402

CONTEXT = 8
PREDICT = 24
EXAMPLE = CONTEXT + PREDICT
SOURCES = ["prose", "arith", "code"]

WORDS = {
    "prose": (["the", "a", "every", "one"], ["cat", "river", "letter", "garden", "teacher"], ["sees", "finds", "keeps", "paints"], ["slowly", "today", "again", "at night"]),
    "code": (["x", "y", "total", "item"], ["len", "sum", "max", "sorted"], ["data", "items", "rows", "self.cache"], ["1", "2", "n", "-1"]),
}


def example(source: str, rng: random.Random) -> str:
    """One training or evaluation example of `source`, EXAMPLE characters long."""
    parts = []
    while sum(len(p) for p in parts) < EXAMPLE + 8:
        if source == "arith":
            a, b = rng.randint(0, 99), rng.randint(0, 99)
            parts.append(f"{a}+{b}={a + b}; ")
        elif source == "prose":
            d, n, v, t = (rng.choice(w) for w in WORDS["prose"])
            parts.append(f"{d} {n} {v} {rng.choice(WORDS['prose'][1])} {t}. ")
        else:
            x, f, d, k = (rng.choice(w) for w in WORDS["code"])
            parts.append(f"{x} = {f}({d}[{k}])\n")
    text = "".join(parts)
    start = rng.randint(0, 7)
    return text[start : start + EXAMPLE]


# Every character the three sources use, and one for anything else.
ALPHABET = sorted(set("0123456789+=; .\n()[]-_" + "".join(w for groups in WORDS.values() for ws in groups for w in ws)))
VOCAB = len(ALPHABET) + 1
INDEX = {c: i + 1 for i, c in enumerate(ALPHABET)}


def encode(texts) -> torch.Tensor:
    return torch.tensor([[INDEX.get(c, 0) for c in t] for t in texts], dtype=torch.long)


class CharMLP(torch.nn.Module):
    """Predicts each character from the CONTEXT before it (V: the alphabet, C: CONTEXT)."""

    def __init__(self, width: int = 8, hidden: int = 48):
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, width)
        self.hidden = torch.nn.Linear(CONTEXT * width, hidden)
        self.out = torch.nn.Linear(hidden, VOCAB)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        windows = ids.unfold(1, CONTEXT, 1)[:, :PREDICT]  # [B, PREDICT, C]
        h = torch.tanh(self.hidden(self.embed(windows).flatten(2)))  # [B, PREDICT, hidden]
        return self.out(h)  # [B, PREDICT, V]

    def loss(self, ids: torch.Tensor) -> torch.Tensor:
        logits = self(ids)
        return F.cross_entropy(logits.reshape(-1, VOCAB), ids[:, CONTEXT:].reshape(-1))


def build_data(seed: int, per_source: int = 2000, eval_batches: int = 8, eval_size: int = 32):
    rng = random.Random(seed)
    train = {s: encode([example(s, rng) for _ in range(per_source)]) for s in SOURCES}
    evals = {}
    for split, salt in (("regular", 1), ("test", 2)):
        r = random.Random(seed * 1000 + salt)
        evals[split] = {s: [encode([example(s, r) for _ in range(eval_size)]) for _ in range(eval_batches)] for s in SOURCES}
    return train, evals


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="the address dynamics serve printed (without the token)")
    p.add_argument("--token", default=os.environ.get("DYNAMICS_TOKEN"), help="the token (default: $DYNAMICS_TOKEN)")
    p.add_argument("--run-id", type=int, help="continue this run (after the script stopped)")
    p.add_argument("--checkpoint-dir", help="where checkpoints go (default: a new temporary folder)")
    p.add_argument("--steps", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--world-size", type=int, default=1, help="data-parallel processes (torch.distributed, gloo): rank 0 talks to the controller")
    p.add_argument("--stop-after-tasks", type=int, help="exit abruptly after this many tasks (to try a reconnect)")
    args = p.parse_args()
    if not args.token:
        p.error("no token: pass --token or set DYNAMICS_TOKEN")
    if args.world_size > 1 and args.stop_after_tasks is not None:
        p.error("--stop-after-tasks works with one process")
    return args


def experiment_config(args) -> dict:
    return {
        "name": "reference: char MLP in PyTorch" + (f" ({args.world_size} processes)" if args.world_size > 1 else ""),
        "seed": args.seed,
        "model": {"name": "char-mlp (PyTorch reference)"},
        "sources": [{"id": s, "dataset": f"synthetic {s}"} for s in SOURCES],
        "domains": [
            {"id": "arith", "dataset": "synthetic arith", "role": "target"},
            {"id": "prose", "dataset": "synthetic prose", "role": "constraint", "reference": {"kind": "relative", "tolerance": 0.01}},
            {"id": "code", "dataset": "synthetic code", "role": "constraint", "reference": {"kind": "relative", "tolerance": 0.01}},
        ],
        "training": {"steps": args.steps, "batchSize": 16, "seqLength": PREDICT, "learningRate": 3e-3},
        "evaluation": {"interval": 32, "regularBatches": 8, "probeBatches": 4, "testBatches": 8},
        "dynamics": {"schedule": {"kind": "interval", "every": 16}, "probeCap": 8},
    }


def worker(rank: int, args, ckpt_dir: str, init: str) -> int:
    """One process of the run. With several, each trains on its share of every batch (gradients
    averaged across processes), evaluates its share of the batches, and does every task; rank 0
    alone talks to the controller and sends each task to the others."""
    world = args.world_size
    torch.set_num_threads(1)
    t_start = time.time()
    broadcast = None
    if world > 1:
        dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)

        def broadcast(obj):
            box = [obj]
            dist.broadcast_object_list(box, src=0)
            return box[0]

    train_data, evals = build_data(args.seed)
    run = None
    if rank == 0:
        detail = f"reference_torch.py, {world} process{'es' if world > 1 else ''} of 1 CPU thread"
        run = Run.register(Client(args.url, args.token), experiment_config(args), run_id=args.run_id, trainer={"name": f"PyTorch {torch.__version__}", "detail": detail})
        print(f"run {run.run_id} registered ({'continued from step ' + str(run.resumed_from) if run.resumed else 'new'})", flush=True)
    cfg = run.config if run is not None else None
    if broadcast is not None:
        cfg = broadcast(cfg)
    batch = cfg["training"]["batchSize"]
    domain_ids = [d["id"] for d in cfg["domains"]]
    source_ids = [s["id"] for s in cfg["sources"]]

    # The base model: the same from the same seed in every process, and when a run restarts from scratch.
    torch.manual_seed(args.seed)
    model = CharMLP()
    base_opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    warm = MixtureSampler([len(train_data[s]) for s in SOURCES], seed=args.seed + 99)
    for _ in range(150):
        loss = model.loss(torch.stack([train_data[SOURCES[j]][i] for j, i in warm.batch(32)]))
        base_opt.zero_grad()
        loss.backward()
        base_opt.step()
    opt = torch.optim.Adam(model.parameters(), lr=cfg["training"]["learningRate"])
    # Every process draws the same batches and trains on its rows: the data order is the run's, not the world size's.
    sampler = MixtureSampler([len(train_data[s]) for s in SOURCES], seed=args.seed)

    def rows(pairs):
        mine = pairs[rank::world]
        return torch.stack([train_data[SOURCES[j]][i] for j, i in mine])

    def evaluate(split, batches):
        # Per domain in the config's order; the probe set is the regular set's first batches.
        sets = evals["test" if split == "test" else "regular"]
        losses, tokens = [], []
        with torch.no_grad():
            for domain in domain_ids:
                fixed = sets[domain][:batches]
                mine = {k: model.loss(b).item() for k, b in enumerate(fixed) if k % world == rank}
                if world > 1:
                    parts = [None] * world
                    dist.all_gather_object(parts, mine)
                    mine = {k: v for part in parts for k, v in part.items()}
                losses.append([mine[k] for k in range(len(fixed))])
                tokens.append([float(b.shape[0] * PREDICT) for b in fixed])
        return losses, tokens

    def step_on(ids):
        loss = model.loss(ids)
        opt.zero_grad()
        loss.backward()
        if world > 1:
            for p in model.parameters():
                dist.all_reduce(p.grad)
                p.grad /= world
            total = loss.detach().clone()
            dist.all_reduce(total)
            loss = total / world
        opt.step()
        return loss.item()

    def train(steps, mixture, probe):
        if probe is None:
            sampler.set_mixture(mixture)
            batches = [sampler.batch(batch) for _ in range(steps)]
        else:
            batches = sampler.probe_batches(steps, batch, mixture, probe["seed"], probe["direction"])
        losses = [step_on(rows(b)) for b in batches]
        return len(losses), sum(losses) / max(1, len(losses)), steps * batch * PREDICT, 0

    def snapshot():
        return copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())

    def restore(state):
        model.load_state_dict(state[0])
        opt.load_state_dict(state[1])

    def save(step):
        name = f"step-{step:06d}.pt"
        if rank == 0:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sampler": sampler.state_dict()}, os.path.join(ckpt_dir, name))
        if world > 1:
            dist.barrier()
        return name

    def load(ref):
        state = torch.load(os.path.join(ckpt_dir, ref))
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sampler.load_state_dict(state["sampler"])

    def show(d):
        if rank == 0:
            weights = ", ".join(f"{s} {w:.2f}" for s, w in zip(source_ids, d["weights"]))
            print(f"step {d['step']:4d}: {weights} | {d['reason']}", flush=True)

    handler = TaskHandler(evaluate, train, snapshot, restore, save, load, on_decision=show)
    done = 0

    def handle(task):
        nonlocal done
        if args.stop_after_tasks is not None and done >= args.stop_after_tasks:
            print(f"stopping abruptly after {done} tasks", flush=True)
            os._exit(3)
        done += 1
        return handler(task)

    if run is not None:
        run.keep_alive()
    end = serve_tasks(run, handle, broadcast=broadcast)
    if run is not None:
        run.stop_keep_alive()
        counts = ", ".join(f"{k} {v}" for k, v in sorted(handler.counts.items()))
        print(f"run {run.run_id} {end['status']}: {end.get('reason') or ''} ({counts}; {time.time() - t_start:.1f} s)", flush=True)
    if world > 1:
        dist.destroy_process_group()
    return 0 if end["status"] == "completed" else 1


def spawned(rank: int, args, ckpt_dir: str, init: str) -> None:
    code = worker(rank, args, ckpt_dir, init)
    if code != 0:
        sys.exit(code)


def main() -> int:
    args = parse_args()
    ckpt_dir = args.checkpoint_dir or tempfile.mkdtemp(prefix="dynamics-reference-")
    os.makedirs(ckpt_dir, exist_ok=True)
    if args.world_size == 1:
        return worker(0, args, ckpt_dir, "")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(spawned, args=(args, ckpt_dir, f"tcp://127.0.0.1:{port}"), nprocs=args.world_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
