"""A Hugging Face Trainer callback that trains under the DynaMiCS controller (needs transformers, torch).

The Trainer keeps its loop; the callback answers the controller's tasks between steps:
- before the first step and whenever the current train task's steps are done, it reports the
  training loss and does the tasks that follow (evaluations, probes, checkpoints) until the next
  train task, whose mixture it gives to the MixtureSampler the train dataset draws from;
- a probe snapshots the trainable parameters and the optimizer state, takes the probe's steps on
  the probe batches you give, evaluates, and puts everything back;
- checkpoints are the trainable parameters, the optimizer state and the sampler's state, one file
  per step in `checkpoint_dir` (so a continued run loads exactly what it left).

Set the Trainer's `max_steps` to the config's `training.steps` (the steps left, when continuing),
`logging_steps=1` so every step's loss is seen, and no evaluation or saving strategy of its own.
The Trainer logs a step's loss after that step's callbacks, so each interval's reported training
loss is shifted by one step.
On several GPUs, give `broadcast` (rank 0's object to every rank) and pass `run=None` on the
other ranks: every rank does every task; only rank 0 talks to the controller.
"""

from __future__ import annotations

import copy
import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import torch

try:
    from transformers import TrainerCallback
except ImportError:  # the callback's logic stays usable (and testable) by any loop that calls it like the Trainer
    TrainerCallback = object  # type: ignore[misc,assignment]

from .client import Run, evaluation_result, train_result
from .sampler import MixtureSampler

Evaluate = Callable[[Any, str, int], Tuple[List[List[float]], Optional[List[List[float]]]]]
ProbeBatches = Callable[[int, List[float], Dict[str, Any]], Iterable[Dict[str, Any]]]


class DynamicsCallback(TrainerCallback):
    def __init__(
        self,
        run: Optional[Run],
        sampler: MixtureSampler,
        evaluate: Evaluate,
        probe_batches: ProbeBatches,
        checkpoint_dir: str,
        broadcast: Optional[Callable[[Any], Any]] = None,
        on_decision: Optional[Callable[[Dict[str, Any]], None]] = None,
    ):
        """`evaluate(model, split, batches)`: per domain (config order), the mean loss of each of the
        first `batches` fixed batches of `split` (and optionally their token counts).
        `probe_batches(steps, mixture, probe)`: the probe's `steps` batches, ready for `model(**batch)`;
        draw them with `sampler.probe_batches(steps, size, mixture, probe["seed"], probe["direction"])`."""
        self.run = run
        self.sampler = sampler
        self.evaluate = evaluate
        self.probe_batches = probe_batches
        self.checkpoint_dir = checkpoint_dir
        self.broadcast = broadcast
        self.on_decision = on_decision
        self.left = 0
        self.task: Optional[Dict[str, Any]] = None
        self.losses: List[float] = []
        self.finished: Optional[Dict[str, Any]] = None
        self._snap: Any = None
        os.makedirs(checkpoint_dir, exist_ok=True)

    # ------------------------------------------------------------ Trainer events

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        self._until_train(model, optimizer, control)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.losses.append(float(logs["loss"]))

    def on_step_end(self, args, state, control, model=None, optimizer=None, **kwargs):
        if self.task is None:
            return
        self.left -= 1
        if self.left > 0:
            return
        steps = self.task["steps"]
        mean = sum(self.losses) / len(self.losses) if self.losses else float("nan")
        if self.run is not None:
            self.run.report(self.task["seq"], train_result(steps, mean, 0, 0))
        self.task = None
        self._until_train(model, optimizer, control)

    def on_train_end(self, args, state, control, model=None, optimizer=None, **kwargs):
        # The Trainer stopped on its own step count: the controller's last tasks (selection, test).
        if self.finished is None and self.task is None:
            self._until_train(model, optimizer, control)

    # ------------------------------------------------------------ tasks

    def _next(self) -> Dict[str, Any]:
        task = self.run.next() if self.run is not None else None
        return self.broadcast(task) if self.broadcast is not None else task

    def _until_train(self, model, optimizer, control) -> None:
        while True:
            task = self._next()
            kind = task["kind"]
            if kind == "wait":
                continue
            if kind == "finished":
                self.finished = task
                control.should_training_stop = True
                return
            if kind == "train":
                if task.get("decision") and self.on_decision:
                    self.on_decision(task["decision"])
                self.sampler.set_mixture(task["mixture"])
                self.task, self.left, self.losses = task, task["steps"], []
                return
            result = self._do(task, model, optimizer)
            if self.run is not None:
                self.run.report(task["seq"], result)

    def _do(self, task: Dict[str, Any], model, optimizer) -> Dict[str, Any]:
        kind = task["kind"]
        if kind == "evaluate":
            model.eval()
            with torch.no_grad():
                losses, tokens = self.evaluate(model, task["split"], task["batches"])
            model.train()
            return evaluation_result("evaluate", losses, tokens)
        if kind == "probe":
            if task["index"] == 0 or self._snap is None:
                self._snap = self._snapshot(model, optimizer)
            try:
                model.train()
                for batch in self.probe_batches(task["steps"], task["mixture"], {"seed": task["seed"], "direction": task["direction"]}):
                    loss = model(**batch).loss
                    loss.backward()
                    optimizer.step()
                    optimizer.zero_grad()
                model.eval()
                with torch.no_grad():
                    losses, tokens = self.evaluate(model, "probe", task["batches"])
                model.train()
            finally:
                self._restore(model, optimizer, self._snap)
            if task["index"] == task["count"] - 1:
                self._snap = None
            return evaluation_result("probe", losses, tokens)
        if kind == "save":
            name = f"dynamics-step-{task['step']:08d}.pt"
            state = self._snapshot(model, optimizer)
            torch.save({"params": state[0], "optimizer": state[1], "sampler": self.sampler.state_dict()}, os.path.join(self.checkpoint_dir, name))
            return {"kind": "save", "ref": name}
        if kind == "load":
            saved = torch.load(os.path.join(self.checkpoint_dir, task["ref"]), map_location="cpu")
            self._restore(model, optimizer, (saved["params"], saved["optimizer"]))
            self.sampler.load_state_dict(saved["sampler"])
            return {"kind": "load"}
        raise ValueError(f"unknown task kind {kind!r} (a newer controller? update the client)")

    @staticmethod
    def _snapshot(model, optimizer):
        params = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
        return params, copy.deepcopy(optimizer.state_dict())

    @staticmethod
    def _restore(model, optimizer, state) -> None:
        params, opt_state = state
        with torch.no_grad():
            for n, p in model.named_parameters():
                if n in params:
                    p.copy_(params[n].to(p.device))
        optimizer.load_state_dict(opt_state)


class MixtureDataset(torch.utils.data.IterableDataset):
    """The train dataset the Trainer sees: examples drawn from your datasets with the sampler's mixture."""

    def __init__(self, datasets: List[Any], sampler: MixtureSampler):
        super().__init__()
        self.datasets = datasets
        self.sampler = sampler

    def __iter__(self):
        for j, i in self.sampler:
            yield self.datasets[j][i]
