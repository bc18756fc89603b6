"""Reading a ticket: stack traces, file:line references, paths, identifiers, error fingerprint."""

from __future__ import annotations

import logging
import re

from graph_service.triage.models import FrameRef, ParsedTicket, TicketInput
from graph_service.triage.text import identifiers
from loaders import stacktrace

logger = logging.getLogger(__name__)

__all__ = ["go_frame_lines", "read_ticket"]

_PATH = re.compile(
    r"(?<![\w/.-])((?:[\w.@+-]+/)*[\w@+-][\w.@+-]*\.(?:py|pyx|js|mjs|cjs|jsx|ts|tsx|go|java|kt|"
    r"scala|cs|rb|php|rs|c|cc|cpp|h|hpp|swift))\b"
)


# Log-style prefixes before pasted frames (`INTERNALERROR>`, `E   `, `[gw0]`): stripped for
# frame extraction only; the fingerprint is computed on the text as the loaders see it.
_PREFIX = re.compile(r"^(?:[A-Z][A-Z_]{2,}>|\[gw\d+\])[ \t]?", re.M)
# pytest's short traceback lines: `path/to/file.py:123: in function_name`
# and Python frames pasted without their `Traceback` header (or cut before the path's opening
# quote: `_pytest/config/__init__.py", line 1484, in getoption`), all outermost first.
_LOOSE_FRAME = re.compile(
    r"(?P<path>[\w./\\:-]+\.py):(?P<line>\d+): in (?P<func>[\w<>.]+)"
    r'|File "(?P<path2>[^"]+)", line (?P<line2>\d+), in (?P<func2>[\w<>.]+)'
    r'|(?<![\w"])(?P<path3>[\w./\\-]+\.py)", line (?P<line3>\d+), in (?P<func3>[\w<>.]+)'
)


# Go frames pasted without the `goroutine N [running]:` header (a `panic(...)` line first, a
# race report's `Read by goroutine 8:` block, a `fatal error:` dump): a call line, then its
# location `\t/path/file.go:123 +0x1f fp=... sp=... pc=...`. Innermost first, as Go prints.
_GO_CALL = re.compile(
    r"^\s*(?:created by )?(?P<func>[\w./\-]*?[\w\-]+\.[\w.()*\[\]\-]+?)(?:\(.*\))?\s*$"
)
_GO_LOC = re.compile(
    r"^\s*(?P<path>\S+\.go):(?P<line>\d+)(?:\s+\+0x[0-9a-f]+)?(?:\s+fp=\S+ sp=\S+(?: pc=\S+)?)?\s*$"
)


def _go_function(raw: str) -> str:
    """`github.com/x/logrus.(*TextFormatter).Format` -> `TextFormatter.Format`."""
    name = raw.rsplit("/", 1)[-1]
    name = name.split(".", 1)[1] if "." in name else name
    return name.replace("(*", "").replace("(", "").replace(")", "")


def go_frame_lines(lines: list[str]) -> set[int]:
    """Indices of Go frame lines (a call line followed by its location, and the location)."""
    out: set[int] = set()
    for i in range(len(lines) - 1):
        if _GO_LOC.match(lines[i + 1]) and _GO_CALL.match(lines[i]):
            out |= {i, i + 1}
    return out


def _go_frames(text: str) -> list[list[tuple[str, int, str]]]:
    """Blocks of header-less Go frames, each innermost first: (path, line, function)."""
    lines = text.splitlines()
    blocks: list[list[tuple[str, int, str]]] = [[]]
    i = 0
    while i + 1 < len(lines):
        call, loc = _GO_CALL.match(lines[i]), _GO_LOC.match(lines[i + 1])
        if call and loc:
            func = _go_function(call.group("func"))
            blocks[-1].append((loc.group("path"), int(loc.group("line")), func))
            i += 2
            continue
        if blocks[-1]:
            blocks.append([])
        i += 1
    return [b for b in blocks if b]


def _without_frames(text: str) -> str:
    """The text without stack-frame lines and the source line under each Python frame but the
    innermost (its call is where the error surfaced): frames reach triage with their depth;
    read again as names, they would count twice."""
    lines = text.splitlines()
    go = go_frame_lines(lines)
    frame = [
        bool(_LOOSE_FRAME.search(ln)) or ln.lstrip().startswith("at ") or i in go
        for i, ln in enumerate(lines)
    ]
    drop = set()
    for i, is_frame in enumerate(frame):
        if not is_frame:
            continue
        drop.add(i)
        nxt = i + 1
        later_frame = any(frame[nxt + 1 : nxt + 3])
        if nxt < len(lines) and not frame[nxt] and 'File "' in lines[i] and later_frame:
            drop.add(nxt)
    return "\n".join(ln for i, ln in enumerate(lines) if i not in drop)


def read_ticket(ticket: TicketInput) -> ParsedTicket:
    """Everything triage reads from the text, fingerprinted exactly as the trace loader does.

    Frames of the primary trace carry their depth (0 = innermost); frames of other traces and
    bare `path:line` references from logs follow without one.
    """
    text = ticket.text
    trace = stacktrace.parse(text)
    cleaned = _PREFIX.sub("", text)
    frame_trace = trace if trace is not None and trace.frames else stacktrace.parse(cleaned)
    frames: list[FrameRef] = []
    seen: set[tuple[str, int]] = set()

    def add(path: str, line: int, function: str, in_app: bool, depth: int | None) -> None:
        key = (path.replace("\\", "/").rsplit("/", 1)[-1], line)
        if key not in seen or not line:
            seen.add(key)
            frames.append(
                FrameRef(path=path, line=line, function=function, in_app=in_app, depth=depth)
            )

    if frame_trace is not None and frame_trace.frames:
        n = len(frame_trace.frames)
        for i, f in enumerate(frame_trace.frames):
            path = f.path or (f.module.replace(".", "/") if f.module else "")
            add(path, f.line, f.function, f.in_app, n - 1 - i)
    loose = list(_LOOSE_FRAME.finditer(cleaned))
    as_trace = not frames
    for i, m in enumerate(loose):
        path = (m.group("path") or m.group("path2") or m.group("path3")).replace("\\", "/")
        line = int(m.group("line") or m.group("line2") or m.group("line3"))
        func = m.group("func") or m.group("func2") or m.group("func3")
        add(path, line, func, True, len(loose) - 1 - i if as_trace else None)
    go_blocks = _go_frames(cleaned) if not frames else []
    for b, block in enumerate(go_blocks):  # the first block is the failing goroutine
        for i, (path, line, func) in enumerate(block):
            add(path, line, func, True, i if b == 0 else None)
    for f in stacktrace.file_references(cleaned):
        add(f.path or f.module.replace(".", "/"), f.line, f.function, f.in_app, None)
    paths = sorted({m.group(1) for m in _PATH.finditer(text)})
    return ParsedTicket(
        error_type=trace.error_type if trace else "",
        message=trace.message if trace else "",
        language=trace.language if trace else "",
        fingerprint=(
            stacktrace.fingerprint(trace.error_type, trace.frames, trace.message) if trace else None
        ),
        complete_trace=bool(frame_trace and frame_trace.frames and frame_trace.error_type),
        frames=frames,
        paths=paths,
        identifiers=sorted(identifiers(_without_frames(cleaned))),
    )
