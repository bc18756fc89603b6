"""Exception span events -> error signatures: one parse per distinct trace, counts per service.

One exception is one occurrence. An SDK records an exception on every span it propagates
through (each `start_as_current_span` records it again, with a longer stack), so the events of
one request are grouped by (trace id, service, type, message, the frame that raised) and only the
one with the most frames (the most context) is counted. Spans of one trace exported in different
requests are not grouped: the ones already counted cannot be taken back from a written window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class _Occurrence:
    """One exception event, parsed, waiting for the request's other events."""

    type: str
    fingerprint: str
    frames: list[stacktrace.Frame]
    message: str
    service: str
    version: str | None
    env: str | None
    ts: int


class ExceptionEvents:
    """ErrorSignature accumulators keyed by fingerprint (the same one tickets compute)."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.errors: dict[str, ErrorAcc] = {}
        self._parsed: dict[tuple[str, str], tuple[str, str, list[stacktrace.Frame]]] = {}
        self._pending: dict[tuple[object, ...], _Occurrence] = {}

    def add(
        self,
        events: Any,
        service: str,
        version: str | None,
        env: str | None,
        start: int,
        trace_id: bytes = b"",
    ) -> None:
        """Take the `exception` events of one span; they count at the next `flush`."""
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
            ts = ev.time_unix_nano or start
            occ = _Occurrence(etype, fp, frames, msg, service, version, env, ts)
            if not trace_id:  # nothing ties it to other events: its own occurrence
                self._count(occ)
                continue
            site = (frames[-1].path, frames[-1].function, frames[-1].line) if frames else ()
            key = (trace_id, service, etype, raw_msg, site)
            held = self._pending.get(key)
            if held is None or len(frames) > len(held.frames):
                self._pending[key] = occ

    def flush(self) -> None:
        """Count the occurrences taken since the last flush (call once per request)."""
        for occ in self._pending.values():
            self._count(occ)
        self._pending.clear()

    def _count(self, occ: _Occurrence) -> None:
        acc = self.errors.get(occ.fingerprint)
        if acc is None:
            in_app = [f for f in occ.frames if f.in_app] or occ.frames
            acc = self.errors[occ.fingerprint] = ErrorAcc(
                occ.type, stacktrace.message_template(occ.message, occ.type), in_app
            )
        ts = occ.ts
        acc.count += 1
        acc.first, acc.last = min(acc.first, ts), max(acc.last, ts)
        seen = acc.seen_in.setdefault((occ.service, occ.version, occ.env), [0, ts, ts])
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
