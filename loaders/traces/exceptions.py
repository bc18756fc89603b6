"""Exception span events -> error signatures: one parse per distinct trace, counts per service."""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from loaders import stacktrace
from loaders.redact import Redactor
from loaders.traces.accumulators import ErrorAcc

logger = logging.getLogger(__name__)

__all__ = ["ExceptionEvents", "any_value"]

_MAX_PARSED = 10_000  # distinct stack traces remembered


def any_value(v: AnyValue) -> object:
    """The Python value of an OTLP AnyValue (None when unset)."""
    which = v.WhichOneof("value")
    return getattr(v, which) if which else None


class ExceptionEvents:
    """ErrorSignature accumulators keyed by fingerprint (the same one tickets compute)."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.errors: dict[str, ErrorAcc] = {}
        self._parsed: dict[tuple[str, str], tuple[str, str, list[stacktrace.Frame]]] = {}

    def add(
        self, events: Any, service: str, version: str | None, env: str | None, start: int
    ) -> None:
        """Count the `exception` events of one span."""
        for ev in events:
            if ev.name != "exception":
                continue
            a = {kv.key: any_value(kv.value) for kv in ev.attributes}
            raw_msg = str(a.get("exception.message") or "")
            msg = self.redactor.text(raw_msg) or ""
            etype, fp, frames = self._parse(
                str(a.get("exception.type") or ""),
                raw_msg,
                msg,
                str(a.get("exception.stacktrace") or ""),
            )
            if not etype:
                continue
            acc = self.errors.get(fp)
            if acc is None:
                in_app = [f for f in frames if f.in_app] or frames
                acc = self.errors[fp] = ErrorAcc(
                    etype, stacktrace.message_template(msg, etype), in_app
                )
            ts = ev.time_unix_nano or start
            acc.count += 1
            acc.first, acc.last = min(acc.first, ts), max(acc.last, ts)
            seen = acc.seen_in.setdefault((service, version, env), [0, ts, ts])
            seen[0] += 1
            seen[1], seen[2] = min(seen[1], ts), max(seen[2], ts)

    def _parse(
        self, etype: str, raw_msg: str, msg: str, text: str
    ) -> tuple[str, str, list[stacktrace.Frame]]:
        """(type, fingerprint, frames), cached by the trace text without its message."""
        key = (etype, text.replace(raw_msg, "") if raw_msg else text)
        hit = self._parsed.get(key)
        if hit is None:
            trace = stacktrace.parse(text)
            frames = trace.frames if trace else []
            etype = etype or (trace.error_type if trace else "")
            fp = stacktrace.fingerprint(etype, frames, msg) if frames or not etype else ""
            hit = (etype, fp, frames)
            if len(self._parsed) > _MAX_PARSED:
                self._parsed.clear()
            self._parsed[key] = hit
        if not hit[1] and hit[0]:  # no frames: the message decides, never cached
            return hit[0], stacktrace.fingerprint(hit[0], [], msg), []
        return hit

    def merge(self, other: ExceptionEvents) -> None:
        """Add the signatures counted over other inputs."""
        for fp, acc in other.errors.items():
            mine = self.errors.get(fp)
            if mine is None:
                self.errors[fp] = acc
                continue
            mine.count += acc.count
            mine.first, mine.last = min(mine.first, acc.first), max(mine.last, acc.last)
            for k, (n, first, last) in acc.seen_in.items():
                cur = mine.seen_in.setdefault(k, [0, first, last])
                cur[0] += n
                cur[1], cur[2] = min(cur[1], first), max(cur[2], last)
