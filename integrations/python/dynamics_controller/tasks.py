"""Turns a training script's own functions into answers to the controller's tasks.

The script keeps its model, optimizer and data; it gives six functions:

- evaluate(split, batches) -> (losses, tokens): for every domain (config order), the mean loss of
  each of the first `batches` fixed evaluation batches of `split` ('regular', 'probe' or 'test';
  the probe set is the first batches of the regular set), and optionally their token counts;
- train(steps, mixture, probe) -> (steps_taken, mean_loss, tokens, skipped): optimizer steps on
  batches drawn with the mixture; `probe` is None for the main run, else a dict with the probe's
  `seed` and `direction` (draw probe batches from it: see sampler.MixtureSampler.probe_batch);
- snapshot() -> state and restore(state): everything a probe changes (trainable parameters,
  optimizer state), kept in memory;
- save(step) -> ref and load(ref): a checkpoint the run can continue from exactly (model,
  optimizer, data positions), by a name of the script's choosing (a path).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from .client import evaluation_result, train_result

Evaluate = Callable[[str, int], Tuple[List[List[float]], Optional[List[List[float]]]]]
Train = Callable[[int, List[float], Optional[Dict[str, Any]]], Tuple[int, float, int, int]]


class TaskHandler:
    """Call it with a task; it returns the task's report. Counts what it did in `counts`."""

    def __init__(
        self,
        evaluate: Evaluate,
        train: Train,
        snapshot: Callable[[], Any],
        restore: Callable[[Any], None],
        save: Callable[[int], str],
        load: Callable[[str], None],
        on_decision: Optional[Callable[[Dict[str, Any]], None]] = None,
    ):
        self.evaluate = evaluate
        self.train = train
        self.snapshot = snapshot
        self.restore = restore
        self.save = save
        self.load = load
        self.on_decision = on_decision
        self.counts: Dict[str, int] = {}
        self.decisions: List[Dict[str, Any]] = []
        self._snap: Any = None

    def __call__(self, task: Dict[str, Any]) -> Dict[str, Any]:
        kind = task["kind"]
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "evaluate":
            losses, tokens = self.evaluate(task["split"], task["batches"])
            return evaluation_result("evaluate", losses, tokens)
        if kind == "train":
            if task.get("decision"):
                self.decisions.append(task["decision"])
                if self.on_decision:
                    self.on_decision(task["decision"])
            steps, loss, tokens, skipped = self.train(task["steps"], task["mixture"], None)
            return train_result(steps, loss, tokens, skipped)
        if kind == "probe":
            # Every probe of an update starts from the same state; each puts it back when done.
            if task["index"] == 0 or self._snap is None:
                self._snap = self.snapshot()
            try:
                self.train(task["steps"], task["mixture"], {"seed": task["seed"], "direction": task["direction"]})
                losses, tokens = self.evaluate("probe", task["batches"])
            finally:
                self.restore(self._snap)
            if task["index"] == task["count"] - 1:
                self._snap = None
            return evaluation_result("probe", losses, tokens)
        if kind == "save":
            return {"kind": "save", "ref": self.save(task["step"])}
        if kind == "load":
            self.load(task["ref"])
            return {"kind": "load"}
        raise ValueError(f"unknown task kind {kind!r} (a newer controller? update the client)")
