"""The controller protocol's client: HTTP calls to `dynamics serve` (standard library only).

A run is registered once; then the trainer asks for its next task and reports each task's result
until the controller says the run is finished. See docs/controller-protocol.md in the repository
for every request and reply, and README.md beside this package for how a training script uses it.
"""

from __future__ import annotations

import json
import math
import threading
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Optional

PROTOCOL = 1


class ControllerError(Exception):
    """A call the controller refused: `name` is its kind (ProtocolMismatch, InvalidInput, WrongPhase,
    StaleSession, UnknownRun...), the message says what to fix."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def _finite(value: float) -> Optional[float]:
    # JSON has no NaN: a non-finite loss travels as null, which the controller refuses in words
    # where a number is required (and accepts as "no steps taken" for a training loss).
    return value if math.isfinite(value) else None


class Client:
    """One `dynamics serve` address and its token (printed by `dynamics serve` in the URL it shows)."""

    def __init__(self, url: str, token: str, timeout: float = 120.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def call(self, method: str, payload: Dict[str, Any]) -> Any:
        body = json.dumps({"input": payload}, allow_nan=False).encode("utf-8")
        req = urllib.request.Request(
            f"{self.url}/api/call/controller.{method}",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                reply = json.loads(res.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            text = err.read().decode("utf-8", "replace")
            try:
                e = json.loads(text)["error"]
                raise ControllerError(e["name"], e["message"]) from None
            except (ValueError, KeyError, TypeError):
                raise ControllerError(f"HTTP{err.code}", text or str(err)) from None
        if not reply.get("ok"):
            e = reply.get("error") or {}
            raise ControllerError(e.get("name", "Error"), e.get("message", "the controller refused the call"))
        return reply["value"]


class Run:
    """A registered run: its id, the session that talks for it, and the config as the controller runs it."""

    def __init__(self, client: Client, reply: Dict[str, Any]):
        self.client = client
        self.run_id: int = reply["runId"]
        self.session: str = reply["session"]
        self.config: Dict[str, Any] = reply["config"]
        self.resumed: bool = reply["resumed"]
        # None: start from the base model. A step: the first task loads the checkpoint saved there.
        self.resumed_from: Optional[int] = reply["resumedFrom"]
        # When the controller will decide ({step, horizon, probeSteps} per update) and evaluate.
        self.plan: Dict[str, Any] = reply["plan"]
        self.lease_seconds: float = reply["leaseSeconds"]
        self._heartbeat: Optional[threading.Event] = None

    @classmethod
    def register(
        cls,
        client: Client,
        config: Dict[str, Any],
        run_id: Optional[int] = None,
        trainer: Optional[Dict[str, str]] = None,
        lease_seconds: Optional[float] = None,
        tags: Optional[List[str]] = None,
    ) -> "Run":
        """A new run, or (with `run_id`) the same run again after this trainer stopped."""
        payload: Dict[str, Any] = {"protocol": PROTOCOL, "config": config}
        if run_id is not None:
            payload["runId"] = run_id
        if trainer is not None:
            payload["trainer"] = trainer
        if lease_seconds is not None:
            payload["leaseSeconds"] = lease_seconds
        if tags:
            payload["tags"] = tags
        return cls(client, client.call("register", payload))

    def _ids(self) -> Dict[str, Any]:
        return {"runId": self.run_id, "session": self.session}

    @property
    def source_ids(self) -> List[str]:
        return [s["id"] for s in self.config["sources"]]

    @property
    def domain_ids(self) -> List[str]:
        return [d["id"] for d in self.config["domains"]]

    def next(self, wait_seconds: float = 20) -> Dict[str, Any]:
        return self.client.call("next", {**self._ids(), "waitSeconds": wait_seconds})

    def report(self, seq: int, result: Dict[str, Any]) -> None:
        self.client.call("report", {**self._ids(), "seq": seq, "result": result})

    def heartbeat(self) -> str:
        return self.client.call("heartbeat", self._ids())["status"]

    def detach(self, reason: str = "") -> str:
        payload = {**self._ids()}
        if reason:
            payload["reason"] = reason[:1000]
        return self.client.call("detach", payload)["status"]

    def keep_alive(self, every: Optional[float] = None) -> None:
        """Heartbeats from a background thread, so a long task does not outlive the lease."""
        if self._heartbeat is not None:
            return
        stop = threading.Event()
        self._heartbeat = stop
        interval = every if every is not None else max(1.0, self.lease_seconds / 3)

        def beat() -> None:
            while not stop.wait(interval):
                try:
                    self.heartbeat()
                except Exception:  # noqa: BLE001 - the main loop reports the real failure
                    pass

        threading.Thread(target=beat, name="dynamics-heartbeat", daemon=True).start()

    def stop_keep_alive(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.set()
            self._heartbeat = None


def evaluation_result(kind: str, per_domain: List[List[float]], tokens: Optional[List[List[float]]] = None) -> Dict[str, Any]:
    """An evaluate or probe report: per domain (config order), the mean loss of every fixed batch."""
    domains = []
    for i, losses in enumerate(per_domain):
        d: Dict[str, Any] = {"batchLosses": [_finite(float(x)) for x in losses]}
        if tokens is not None:
            d["batchTokens"] = [float(t) for t in tokens[i]]
        domains.append(d)
    return {"kind": kind, "domains": domains}


def train_result(steps: int, mean_loss: float, tokens: int = 0, skipped_steps: int = 0) -> Dict[str, Any]:
    return {"kind": "train", "steps": steps, "meanLoss": _finite(float(mean_loss)), "tokens": tokens, "skippedSteps": skipped_steps}


Broadcast = Callable[[Any], Any]


def serve_tasks(run: Optional[Run], handle: Callable[[Dict[str, Any]], Optional[Dict[str, Any]]], broadcast: Optional[Broadcast] = None) -> Dict[str, Any]:
    """Answers tasks until the run finishes; returns the `finished` task.

    `handle(task)` does the task and returns its report (None on ranks other than 0). On several
    processes, pass `broadcast` (rank 0's object to every rank) and `run=None` on every rank but 0:
    rank 0 talks to the controller and every rank does every task.
    """
    while True:
        task = run.next() if run is not None else None
        if broadcast is not None:
            task = broadcast(task)
        if task is None:
            raise RuntimeError("rank 0 sent no task: pass the Run on rank 0 and run=None elsewhere")
        kind = task["kind"]
        if kind == "finished":
            return task
        if kind == "wait":
            continue
        result = handle(task)
        if run is not None:
            if result is None:
                raise RuntimeError(f"the handler returned no report for a {kind} task")
            run.report(task["seq"], result)
