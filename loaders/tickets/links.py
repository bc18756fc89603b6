"""What a ticket's text names, resolved against nodes already in the graph (one query per kind)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from graph_service.store.base import GraphReader
from loaders import stacktrace
from loaders.traces.resolve import FunctionIndex, safe_query, short_name

logger = logging.getLogger(__name__)

__all__ = ["Lookups", "TextRefs", "scan_text"]

_EXT = (
    r"py|pyx|js|mjs|cjs|jsx|ts|tsx|go|java|kt|scala|cs|rb|php|rs|c|cc|cpp|h|hpp|swift|"
    r"yaml|yml|json|toml|sql|tf|proto"
)
_PATH = re.compile(
    rf"(?<![\w/.-])((?:[\w.@+-]+/)+[\w.@+-]+\.(?:{_EXT}))\b|(?<![\w/.-])"
    rf"([\w-]+\.(?:{_EXT}))(?![\w/])"
)
_QUALIFIED = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?:\(\))?(?![\w])")
_CALLED = re.compile(r"`([A-Za-z_][\w.]*)\(\)`|\b([A-Za-z_]\w{3,})\(\)")
_SHA = re.compile(r"(?<![\w-])([0-9a-f]{7,40})(?![\w-])")


@dataclass
class TextRefs:
    """Candidate references found in one ticket's text."""

    trace: stacktrace.StackTrace | None = None
    frames: list[stacktrace.Frame] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)  # qualified or called names
    shas: set[str] = field(default_factory=set)

    @property
    def fingerprint(self) -> str | None:
        t = self.trace
        return stacktrace.fingerprint(t.error_type, t.frames, t.message) if t else None


def scan_text(text: str) -> TextRefs:
    refs = TextRefs(trace=stacktrace.parse(text))
    refs.frames = [f for f in stacktrace.file_references(text) if f.in_app]
    for m in _PATH.finditer(text):
        refs.paths.add(m.group(1) or m.group(2))
    for m in _QUALIFIED.finditer(text):
        token = m.group(1)
        if token.rsplit(".", 1)[-1] not in _EXT.split("|"):
            refs.names.add(token)
    for m in _CALLED.finditer(text):
        refs.names.add(m.group(1) or m.group(2))
    refs.shas = {s for s in _SHA.findall(text) if re.search(r"[a-f]", s) and re.search(r"\d", s)}
    return refs


def _module_of(path: str) -> str:
    return re.sub(r"\.\w+$", "", path).replace("/", ".")


class Lookups:
    """Existing Service, File, Function, Commit and ErrorSignature nodes a load may link to."""

    def __init__(self, reader: GraphReader | None, refs: Iterable[TextRefs]) -> None:
        refs = list(refs)
        self.reader = reader
        self.services = {
            r["n"]: r["u"]
            for r in safe_query(reader, "MATCH (s:Service) RETURN s.name AS n, s.uid AS u", {})
            if r["n"]
        }
        self._svc_rx = self._service_regex()
        self.files: dict[str, list[tuple[str, str]]] = {}
        if any(r.paths or r.frames for r in refs):
            rows = safe_query(
                reader,
                "MATCH (f:File) WHERE f.deleted IS NULL OR f.deleted = false "
                "RETURN f.uid AS u, f.path AS p",
                {},
            )
            for r in rows:
                self.files.setdefault(r["p"].rsplit("/", 1)[-1], []).append((r["u"], r["p"]))
        names = {short_name(f.function) for r in refs for f in r.frames if f.function}
        names |= {short_name(n) for r in refs for n in r.names}
        self.functions = FunctionIndex(reader, names)
        self.commits = self._commits({s for r in refs for s in r.shas})
        fps = sorted({fp for r in refs if (fp := r.fingerprint)})
        self.errors = (
            {
                r["u"]
                for r in safe_query(
                    reader,
                    "UNWIND $u AS x MATCH (e:ErrorSignature {uid: x}) RETURN e.uid AS u",
                    {"u": [f"err:{fp}" for fp in fps]},
                )
            }
            if fps
            else set()
        )

    def _service_regex(self) -> re.Pattern[str] | None:
        names = sorted((n for n in self.services if len(n) >= 3), key=len, reverse=True)
        if not names:
            return None
        return re.compile(r"(?<![\w/.-])(" + "|".join(map(re.escape, names)) + r")(?![\w/-]|\.\w)")

    def _commits(self, shas: set[str]) -> dict[str, str]:
        """Short or full sha -> Commit uid, only when exactly one commit matches."""
        if not shas:
            return {}
        prefixes = sorted({s[:7] for s in shas})
        rows = safe_query(
            self.reader,
            "MATCH (c:Commit) WHERE substring(c.sha, 1, 7) IN $p RETURN c.sha AS sha, c.uid AS u",
            {"p": prefixes},
        )
        out: dict[str, str] = {}
        for s in shas:
            hits = [r["u"] for r in rows if r["sha"].startswith(s)]
            if len(hits) == 1:
                out[s] = hits[0]
        return out

    def service_names(self, text: str) -> set[str]:
        return {self.services[m] for m in self._svc_rx.findall(text)} if self._svc_rx else set()

    def file_for(self, path: str) -> str | None:
        """File uid whose path ends with `path` (or that `path` ends with); unique only."""
        p = path.replace("\\", "/").lstrip("./")
        hits = [
            u
            for u, fp in self.files.get(p.rsplit("/", 1)[-1], [])
            if fp == p or fp.endswith("/" + p) or p.endswith("/" + fp)
        ]
        return hits[0] if len(hits) == 1 else None

    def function_for_name(self, token: str) -> str | None:
        """A qualified name (`Class.method`, `pkg.mod.func`) or a called name that is unique."""
        rows = self.functions.by_name.get(short_name(token), [])
        hits = []
        for row in rows:
            full = f"{_module_of(row.path)}.{row.qualname}"
            if (
                token in (row.qualname, full)
                or full.endswith("." + token)
                or ("." in row.qualname and token.endswith("." + row.qualname))
            ):
                hits.append(row.uid)
        if not hits and "." not in token and len(rows) == 1:
            hits = [rows[0].uid]
        return hits[0] if len(set(hits)) == 1 else None
