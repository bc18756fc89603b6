"""Frames mapped to the function that held their line at the ticket's time, not at the head.

A frame's line number comes from the code the reporter ran. When the repository's clone is on
this machine, the frame's file is read as it was at the ticket's time (the newest commit at or
before it) and parsed; the function that then held the line is looked up by its qualified name
among the functions the graph knows now (which may sit at other lines after later edits).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import datetime

from graph_service.store.base import GraphReader
from graph_service.triage.blame import RepoClone, repo_clones, revision_at
from graph_service.triage.bodies import file_lines
from graph_service.triage.code_index import CodeIndex, FrameHit

logger = logging.getLogger(__name__)

__all__ = ["FramesAsOf", "short_name", "spans_at"]

_SPANS: OrderedDict[tuple[str, str, str], list[tuple[int, int, str]]] = OrderedDict()
_LOCK = threading.Lock()


def spans_at(repo: RepoClone, rev: str, path: str) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of each function of `path` at `rev`."""
    from loaders.code.parse import parse_source

    key = (str(repo.path), rev, path)
    with _LOCK:
        hit = _SPANS.get(key)
    if hit is not None:
        return hit
    text = "\n".join(file_lines(repo, rev, path))
    parsed = parse_source(path, text.encode()) if text else None
    spans = [(f.start_line, f.end_line, f.qualname) for f in parsed.functions] if parsed else []
    with _LOCK:
        _SPANS[key] = spans
        while len(_SPANS) > 256:
            _SPANS.popitem(last=False)
    return spans


def short_name(name: str) -> str:
    return name.replace("::", ".").rsplit(".", 1)[-1].split("(")[0]


class FramesAsOf:
    """Maps (file, line, frame function) to the function holding the line at `now`."""

    def __init__(self, store: GraphReader, code: CodeIndex, now: datetime) -> None:
        self.code = code
        self.now = now
        self.clones = repo_clones(store)
        self.names = sorted(self.clones, key=len, reverse=True)

    def function(self, fi: int, line: int, frame_function: str) -> int | None:
        """The function (index) that held `line` of file `fi` at the ticket's time, when it
        still exists under the same qualified name; None when unknown. A frame that names its
        function must agree with it (else its line is from another version of the file)."""
        if not self.clones or line <= 0:
            return None
        uid = self.code.file_uid[fi]
        repo = next((self.clones[n] for n in self.names if uid.startswith(f"file:{n}:")), None)
        rev = revision_at(repo, self.now) if repo is not None else None
        if repo is None or rev is None:
            return None
        held = [s for s in spans_at(repo, rev, self.code.file_path[fi]) if s[0] <= line <= s[1]]
        if not held:
            return None
        qual = min(held, key=lambda s: s[1] - s[0])[2]
        short = short_name(frame_function)
        if short and short != short_name(qual) and not short.startswith("<"):
            return None
        return next(
            (fn for fn in self.code.fns_in_file.get(fi, []) if self.code.fn_qual[fn] == qual),
            None,
        )

    def remap(self, hit: FrameHit, line: int, frame_function: str) -> FrameHit:
        """`hit` with its function replaced by the one that held the line then (in range)."""
        then = self.function(hit.file, line, frame_function)
        if then is None or then == hit.function:
            return hit
        return FrameHit(hit.file, then, hit.confidence, True)
