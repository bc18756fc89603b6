"""Value-flow CALLS of a load: solve the Python files' facts, name callers, merge with the rest.

Name-based edges (`loaders.code.calls`) keep their resolution; value flow adds the pairs they
miss. Callers outside functions are the synthetic `<module>` / `Class.<body>` functions, lambdas
become functions `<lambdaN>` (numbered per enclosing scope, as PyCG names them).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph_service.schema import synthetic_caller
from loaders.code import facts_cache
from loaders.code.calls import ResolvedCall
from loaders.code.flow import FlowEdge, solve_flow
from loaders.code.flow_facts import FlowFacts, flow_facts
from loaders.code.parse import ParsedFile
from loaders.code.resolve import SymbolTable

logger = logging.getLogger(__name__)

__all__ = [
    "CONFIDENCE",
    "EXTERNAL_CONFIDENCE",
    "ExternalCall",
    "ExtraFunction",
    "FlowCalls",
    "flow_calls",
    "merge_calls",
    "read_facts",
]

_FACTS_MAX = 50_000  # files' facts kept in the process (a few KB each)
_MISSING = facts_cache.MISSING
_FACTS: dict[bytes, FlowFacts | None] = {}  # sha1 of a file's bytes -> its facts (None: no parse)

CONFIDENCE = {"decorator": 0.9, "implicit": 0.8, "constructor": 0.8}
_FANOUT_CONFIDENCE = {1: 0.8, 2: 0.6, 3: 0.6}
# calls out of the repository, by how the callee was named: an import or a builtin name (the
# name is the evidence), a decorator, an attribute of a class the repository subclasses
# (inherited, constructor), a method of an instance of an external class (`ext.Cls().m()`)
EXTERNAL_CONFIDENCE = {
    "import": 0.9,
    "builtin": 0.9,
    "decorator": 0.9,
    "inherited": 0.7,
    "constructor": 0.7,
    "instance": 0.6,
}


@dataclass(slots=True)
class ExternalCall:
    """A caller -> symbol outside the repository (`requests.post`, `<builtin>.eval`)."""

    caller: str
    qualname: str
    resolution: str
    confidence: float
    line: int
    count: int = 1


@dataclass(frozen=True, slots=True)
class ExtraFunction:
    """A Function node only value flow needs: a lambda, or a body with no named call in it."""

    qualname: str
    owner: str | None  # class qualname for a class body, "" for the module; None for a lambda
    start_line: int
    end_line: int


@dataclass
class FlowCalls:
    calls: dict[str, list[ResolvedCall]] = field(default_factory=dict)
    external: dict[str, list[ExternalCall]] = field(default_factory=dict)  # per caller file
    extra: dict[str, list[ExtraFunction]] = field(default_factory=dict)
    rebound: set[tuple[str, str]] = field(default_factory=set)  # (path, qualname)


def _confidence(e: FlowEdge) -> float:
    if not e.callee_path:
        base = EXTERNAL_CONFIDENCE.get(e.resolution, 0.6)
        return base if e.fanout <= 1 else min(base, _FANOUT_CONFIDENCE.get(e.fanout, 0.4))
    if e.resolution in CONFIDENCE:
        return CONFIDENCE[e.resolution]
    return _FANOUT_CONFIDENCE.get(e.fanout, 0.4)


def read_facts(
    root: Path,
    parsed: dict[str, ParsedFile],
    stats: dict[str, Any] | None = None,
    hashes: dict[str, str] | None = None,
    cache: Path | None = None,
) -> dict[str, FlowFacts]:
    """The value-flow facts of every parsed Python file (one Python parses, others have none).

    Facts depend on a file's bytes only, so they are kept by content hash for the life of the
    process: a later load (an incremental one, or the service loading again) extracts facts
    only for files whose content it has not seen. The solver never changes them. `hashes`:
    the SHA-1 (hex) of the bytes the load parsed, per path; a file is read again only when its
    facts are not kept. `cache`: a folder that keeps them across processes too
    (`loaders.code.facts_cache`)."""
    facts: dict[str, FlowFacts] = {}
    extracted = from_disk = 0
    for path, f in parsed.items():
        if f.language != "python":
            continue
        known = hashes.get(path) if hashes is not None else None
        data = None
        if known is not None:
            digest = bytes.fromhex(known)
        else:
            try:
                data = (root / path).read_bytes()
            except OSError:
                continue
            digest = hashlib.sha1(data, usedforsecurity=False).digest()
        found: object = _FACTS.get(digest, _MISSING)
        if found is _MISSING and cache is not None:
            found = facts_cache.load(cache, digest)
            from_disk += found is not _MISSING
        if found is _MISSING:
            if data is None:
                try:
                    data = (root / path).read_bytes()
                except OSError:
                    continue
                digest = hashlib.sha1(data, usedforsecurity=False).digest()  # what is read
            found = flow_facts(data)
            extracted += 1
            if cache is not None:
                facts_cache.save(cache, digest, found)  # type: ignore[arg-type]
        if digest not in _FACTS:
            if len(_FACTS) >= _FACTS_MAX:
                _FACTS.pop(next(iter(_FACTS), b""), None)  # the oldest
            _FACTS[digest] = found  # type: ignore[assignment]
        if found is not None:
            facts[path] = found  # type: ignore[assignment]
    if stats is not None:
        stats["flow_facts_extracted"] = extracted
        stats["flow_facts_cached"] = len(facts) - extracted
        if cache is not None:
            stats["flow_facts_from_disk"] = from_disk
    return facts


def flow_calls(
    table: SymbolTable, parsed: dict[str, ParsedFile], facts: dict[str, FlowFacts]
) -> FlowCalls:
    """Value-flow edges of the Python files with facts (all of the repository's)."""
    out = FlowCalls()
    if not facts:
        return out
    solved = solve_flow(table.index, facts)
    edges = solved.edges
    out.rebound = solved.rebound
    extra: dict[str, dict[str, ExtraFunction]] = {}
    body_cache: dict[str, set[str]] = {}  # per file: scopes outside functions that call

    def node(path: str, qual: str) -> str | None:
        """The Function qualname for a scope, registering nodes only flow needs."""
        fs = table.files.get(path)
        f = facts.get(path)
        if fs is None or f is None:
            return None
        sc = f.scopes.get(qual)
        if sc is None:
            return None
        if sc.kind == "function":
            if qual in fs.functions:
                return qual
            if qual.rsplit(".", 1)[-1].startswith("<lambda"):
                extra.setdefault(path, {})[qual] = ExtraFunction(qual, None, sc.line, sc.end_line)
                return qual
            return None
        name = synthetic_caller(qual)
        bodies = body_cache.get(path)
        if bodies is None:
            found = {cs.body for cs in parsed[path].calls if cs.body is not None}
            bodies = body_cache[path] = found
        if qual not in bodies:
            extra.setdefault(path, {})[name] = ExtraFunction(name, qual, sc.line, sc.end_line)
        return name

    for path, found in edges.items():
        merged: dict[tuple[str, str, str], ResolvedCall] = {}
        outside: dict[tuple[str, str], ExternalCall] = {}
        for e in found:
            if not e.callee_path:
                caller = node(path, e.caller)
                if caller is None:
                    continue
                if (caller, e.callee) in outside:
                    outside[(caller, e.callee)].count += 1
                else:
                    outside[(caller, e.callee)] = ExternalCall(
                        caller, e.callee, e.resolution, _confidence(e), e.line
                    )
                continue
            caller = node(path, e.caller)
            callee = node(e.callee_path, e.callee) if caller is not None else None
            if caller is None or callee is None:
                continue
            key = (caller, e.callee_path, callee)
            if key in merged:
                merged[key].count += 1
                continue
            merged[key] = ResolvedCall(
                caller, e.callee_path, callee, e.resolution, _confidence(e), e.line
            )
        out.calls[path] = list(merged.values())
        if outside:
            out.external[path] = list(outside.values())
    out.extra = {p: list(v.values()) for p, v in extra.items()}
    return out


_BY_NAME = frozenset({"same_module", "import", "alias", "local", "reexport"})


def merge_calls(
    named: list[ResolvedCall], flow: list[ResolvedCall], rebound: set[tuple[str, str]]
) -> list[ResolvedCall]:
    """Name-resolved edges first (they keep their resolution), then value flow's new pairs.

    A name-resolved edge into a definition its decorator replaced is dropped: the name calls
    the decorator's result (value flow has that edge)."""
    if rebound:
        named = [
            c
            for c in named
            if c.resolution not in _BY_NAME or (c.callee_path, c.callee) not in rebound
        ]
    have = {(c.caller, c.callee_path, c.callee) for c in named}
    return named + [c for c in flow if (c.caller, c.callee_path, c.callee) not in have]
