"""Overrides a Python `self.m()` call reaches: methods of the caller's subclasses that the loaded
code constructs (rapid type analysis over the name layer's class hierarchy).

The name layer points `self.m()` at the method found from the caller's class upwards; at run
time `self` is often an instance of a subclass that overrides `m` (a base class's template
method calling its hooks: `Field.deserialize` -> `DateTime._deserialize`). Value flow finds
these only while `self` holds at most a few classes. Here a subclass's override is a callee
when the subclass, or a subclass of it that inherits that override, is constructed somewhere in
the load (a call that names the class): classes never
constructed add no edge. Resolution `override`, confidence 0.5.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from loaders.code.calls import ResolvedCall, resolve_bases
from loaders.code.parse import FunctionInfo, ParsedFile
from loaders.code.resolve import SymbolTable

logger = logging.getLogger(__name__)

__all__ = ["CONFIDENCE", "Overrides"]

CONFIDENCE = 0.5
_THROUGH_SELF = frozenset({"self", "class_hierarchy"})
ClassKey = tuple[str, str]


class Overrides:
    """The class hierarchy and the constructed classes of one load's Python files."""

    def __init__(self, table: SymbolTable, parsed: dict[str, ParsedFile]) -> None:
        self.table = table
        self.children: dict[ClassKey, list[ClassKey]] = defaultdict(list)
        self.constructed: set[ClassKey] = set()
        self._cache: dict[tuple[ClassKey, str], list[tuple[str, str]]] = {}
        for path, p in parsed.items():
            if p.language != "python":
                continue
            fs = table.files[path]
            for qual, bpath, bqual in resolve_bases(table, fs):
                self.children[(bpath, bqual)].append((path, qual))
            by_qual = {f.qualname: f for f in p.functions}
            for cs in p.calls:
                if cs.kind != "call":
                    continue
                dotted = f"{cs.receiver}.{cs.name}" if cs.receiver else cs.name
                caller = by_qual.get(cs.caller) if cs.caller else None
                target = table.resolve_expr(fs, caller, dotted)
                if target is not None and target[0] == "class":
                    self.constructed.add((target[1], target[2]))

    def _descendants(self, cls: ClassKey) -> list[ClassKey]:
        seen: list[ClassKey] = []
        todo = list(self.children.get(cls, ()))
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.append(k)
                todo.extend(self.children.get(k, ()))
        return seen

    def targets(self, cls: ClassKey, name: str) -> list[tuple[str, str]]:
        """(path, qualname) of the overrides of `name` below `cls` that a constructed class
        runs, in a stable order."""
        key = (cls, name)
        found = self._cache.get(key)
        if found is None:
            out: set[tuple[str, str]] = set()
            for k in self._descendants(cls):
                if k not in self.constructed:
                    continue
                hit = self.table.find_method(k, name)
                if hit is None:
                    continue
                target = hit[0]
                if (target[1], target[2].rpartition(".")[0]) != cls:
                    out.add((target[1], target[2]))
            found = self._cache[key] = sorted(out)
        return found

    def calls(self, parsed: ParsedFile, named: list[ResolvedCall]) -> list[ResolvedCall]:
        """Override edges for the `self.m()` edges among `named` (one file's name edges)."""
        if parsed.language != "python":
            return []
        by_qual = {f.qualname: f for f in parsed.functions}
        have = {(c.caller, c.callee_path, c.callee) for c in named}
        out: list[ResolvedCall] = []
        for c in named:
            if c.resolution not in _THROUGH_SELF:
                continue
            cls = _method_class(by_qual, c.caller)
            if cls is None:
                continue
            name = c.callee.rpartition(".")[2]
            for path, qual in self.targets((parsed.path, cls), name):
                if (c.caller, path, qual) not in have:
                    have.add((c.caller, path, qual))
                    out.append(ResolvedCall(c.caller, path, qual, "override", CONFIDENCE, c.line))
        return out


def _method_class(by_qual: dict[str, FunctionInfo], caller: str) -> str | None:
    """The class of the method `caller` is (or is nested in): what `self` dispatches on."""
    fn = by_qual.get(caller)
    while fn is not None and not fn.class_name:
        fn = by_qual.get(fn.qualname.rpartition(".")[0])
    return fn.class_name if fn is not None else None
