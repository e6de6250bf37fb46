"""Drawing training examples from several sources with the controller's mixture.

`MixtureSampler` knows only how many examples each source has; it yields (source, index) pairs,
so it works over any datasets (lists, torch Datasets, Hugging Face datasets). The main stream is
seeded, reshuffles each source per epoch and has a state for checkpoints. Probe batches come from
a separate stream derived from the probe task's seed: every probe of one update draws the same
rows except those sent toward its own source (common random numbers), so their differences measure
the sources, not the sampling.
"""

from __future__ import annotations

import random
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple


def _pick(weights: Sequence[float], u: float) -> int:
    acc = 0.0
    for j, w in enumerate(weights):
        acc += w
        if u < acc:
            return j
    for j in range(len(weights) - 1, -1, -1):  # round-off: the last source with weight
        if weights[j] > 0:
            return j
    return 0


class _SourceOrder:
    """One source's examples in a seeded order, reshuffled each epoch."""

    def __init__(self, size: int, seed: int):
        if size <= 0:
            raise ValueError("a source needs at least one example")
        self.size = size
        self.seed = seed
        self.epoch = 0
        self.pos = 0
        self._order = self._shuffle()

    def _shuffle(self) -> List[int]:
        order = list(range(self.size))
        random.Random(self.seed * 1_000_003 + self.epoch).shuffle(order)
        return order

    def take(self) -> int:
        if self.pos >= self.size:
            self.epoch += 1
            self.pos = 0
            self._order = self._shuffle()
        i = self._order[self.pos]
        self.pos += 1
        return i


class MixtureSampler:
    def __init__(self, sizes: Sequence[int], seed: int = 0, mixture: Optional[Sequence[float]] = None):
        self.sizes = list(sizes)
        self.seed = seed
        self.mixture = list(mixture) if mixture is not None else [1.0 / len(sizes)] * len(sizes)
        self._rng = random.Random(seed)
        self._sources = [_SourceOrder(n, seed + 17 * (j + 1)) for j, n in enumerate(self.sizes)]

    def set_mixture(self, mixture: Sequence[float]) -> None:
        if len(mixture) != len(self.sizes):
            raise ValueError(f"the mixture has {len(mixture)} weights for {len(self.sizes)} sources")
        self.mixture = [float(w) for w in mixture]

    def batch(self, size: int) -> List[Tuple[int, int]]:
        """The main stream's next `size` examples as (source, index)."""
        out = []
        for _ in range(size):
            j = _pick(self.mixture, self._rng.random())
            out.append((j, self._sources[j].take()))
        return out

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        while True:
            yield self.batch(1)[0]

    def probe_batches(self, steps: int, size: int, mixture: Sequence[float], seed: int, direction: Optional[Dict[str, Any]] = None) -> List[List[Tuple[int, int]]]:
        """All batches of one probe. Two uniforms per row whatever the direction: the first sends the
        row toward the probe's source with probability epsilon, the second picks from the center."""
        rng = random.Random(seed)
        main = [_SourceOrder(n, seed * 31 + 2 * j + 1) for j, n in enumerate(self.sizes)]
        side = [_SourceOrder(n, seed * 31 + 2 * j + 2) for j, n in enumerate(self.sizes)]
        center = direction["center"] if direction else mixture
        batches = []
        for _ in range(steps):
            rows = []
            for _ in range(size):
                toward = rng.random() < direction["epsilon"] if direction else False
                drawn = _pick(center, rng.random())
                if toward:
                    j = direction["toward"]
                    rows.append((j, side[j].take()))
                else:
                    rows.append((drawn, main[drawn].take()))
            batches.append(rows)
        return batches

    def state_dict(self) -> Dict[str, Any]:
        return {
            "mixture": list(self.mixture),
            "rng": self._rng.getstate(),
            "sources": [(s.epoch, s.pos) for s in self._sources],
        }

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.mixture = list(state["mixture"])
        rng = state["rng"]
        self._rng.setstate((rng[0], tuple(rng[1]), rng[2]))
        for s, (epoch, pos) in zip(self._sources, state["sources"]):
            s.epoch, s.pos = epoch, pos
            s._order = s._shuffle()
