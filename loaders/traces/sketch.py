"""A mergeable latency sketch (log buckets, 1% relative error) serialised into edge properties."""

from __future__ import annotations

import base64
import json
import logging
import math
import zlib
from collections.abc import Iterable

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["MAX_INPUTS", "LatencySketch"]

ALPHA = 0.01
_GAMMA = (1 + ALPHA) / (1 - ALPHA)
_LOG_GAMMA = math.log(_GAMMA)
_MIN_MS = 1e-3  # values below one microsecond land in the zero bucket
MAX_INPUTS = 256  # input digests remembered per edge (re-sent inputs are skipped)


class LatencySketch:
    """DDSketch-style histogram: bucket i holds values in (gamma^(i-1), gamma^i] milliseconds.

    Merging two sketches adds bucket counts, so percentiles of later loads combine exactly as
    if all values had been seen together (within the 1% relative accuracy).
    """

    __slots__ = ("buckets", "inputs", "zero")

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.zero = 0
        self.inputs: list[str] = []

    @property
    def count(self) -> int:
        return self.zero + sum(self.buckets.values())

    def add_many(self, values_ms: Iterable[float]) -> None:
        self._add(np.fromiter(values_ms, dtype=np.float64))

    def add_many_ns(self, values_ns: list[int]) -> None:
        self._add(np.array(values_ns, dtype=np.float64) / 1e6)

    def _add(self, arr: np.ndarray) -> None:
        if arr.size == 0:
            return
        small = arr <= _MIN_MS
        self.zero += int(small.sum())
        big = arr[~small]
        if big.size:
            idx = np.ceil(np.log(big) / _LOG_GAMMA).astype(np.int64)
            keys, counts = np.unique(idx, return_counts=True)
            b = self.buckets
            for k, c in zip(keys.tolist(), counts.tolist(), strict=True):
                b[k] = b.get(k, 0) + c

    def merge(self, other: LatencySketch) -> None:
        self.zero += other.zero
        for k, c in other.buckets.items():
            self.buckets[k] = self.buckets.get(k, 0) + c
        for d in other.inputs:
            self.add_input(d)

    def add_input(self, digest: str) -> None:
        if digest not in self.inputs:
            self.inputs.append(digest)
            del self.inputs[:-MAX_INPUTS]

    def quantile(self, q: float) -> float | None:
        """Value at quantile q (0..1) in milliseconds; None when empty."""
        total = self.count
        if total == 0:
            return None
        rank = q * (total - 1)
        seen = self.zero
        if rank < seen:
            return 0.0
        for k in sorted(self.buckets):
            seen += self.buckets[k]
            if rank < seen:
                return round(2 * _GAMMA**k / (_GAMMA + 1), 3)
        return round(2 * _GAMMA ** max(self.buckets) / (_GAMMA + 1), 3)

    def to_string(self) -> str:
        doc = {
            "v": 1,
            "a": ALPHA,
            "z": self.zero,
            "b": {str(k): c for k, c in sorted(self.buckets.items())},
            "in": self.inputs,
        }
        raw = json.dumps(doc, separators=(",", ":")).encode()
        return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")

    @classmethod
    def from_string(cls, text: str | None) -> LatencySketch:
        """Parse a stored sketch; an empty or unreadable one gives an empty sketch."""
        sk = cls()
        if not text:
            return sk
        try:
            doc = json.loads(zlib.decompress(base64.b64decode(text)))
        except (ValueError, zlib.error) as e:
            logger.warning("unreadable latency sketch ignored: %s", e)
            return sk
        if doc.get("a") != ALPHA:
            logger.warning("latency sketch with accuracy %s ignored", doc.get("a"))
            return sk
        sk.zero = int(doc.get("z", 0))
        sk.buckets = {int(k): int(v) for k, v in doc.get("b", {}).items()}
        sk.inputs = [str(x) for x in doc.get("in", [])]
        return sk
