"""Reading a ticket: stack traces, file:line references, paths, identifiers, error fingerprint."""

from __future__ import annotations

import logging
import re

from graph_service.triage.models import FrameRef, ParsedTicket, TicketInput
from graph_service.triage.text import identifiers
from loaders import stacktrace

logger = logging.getLogger(__name__)

__all__ = ["read_ticket"]

_PATH = re.compile(
    r"(?<![\w/.-])((?:[\w.@+-]+/)*[\w@+-][\w.@+-]*\.(?:py|pyx|js|mjs|cjs|jsx|ts|tsx|go|java|kt|"
    r"scala|cs|rb|php|rs|c|cc|cpp|h|hpp|swift))\b"
)


def read_ticket(ticket: TicketInput) -> ParsedTicket:
    """Everything triage reads from the text, fingerprinted exactly as the trace loader does.

    Frames come innermost LAST (the order of `loaders.stacktrace`), the primary trace's frames
    first, then frames of other traces and bare `path:line` references from logs.
    """
    text = ticket.text
    trace = stacktrace.parse(text)
    frames: list[FrameRef] = []
    seen: set[tuple[str, int, str]] = set()

    def add(f: stacktrace.Frame) -> None:
        key = (f.path or f.module, f.line, f.function)
        if key not in seen:
            seen.add(key)
            path = f.path or (f.module.replace(".", "/") if f.module else "")
            frames.append(FrameRef(path=path, line=f.line, function=f.function, in_app=f.in_app))

    if trace is not None:
        for f in trace.frames:
            add(f)
    for f in stacktrace.file_references(text):
        add(f)
    paths = sorted({m.group(1) for m in _PATH.finditer(text)})
    return ParsedTicket(
        error_type=trace.error_type if trace else "",
        message=trace.message if trace else "",
        language=trace.language if trace else "",
        fingerprint=(
            stacktrace.fingerprint(trace.error_type, trace.frames, trace.message) if trace else None
        ),
        frames=frames,
        paths=paths,
        identifiers=sorted(identifiers(text)),
    )
