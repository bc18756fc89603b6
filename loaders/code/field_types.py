"""Python receivers typed by annotated attributes: `self.type.get_metavar()` where the class (or a
base) declares `type: ParamType` in its body or `self.type: ParamType = ...` in a method, and
`ctx.command.get_help()` where `ctx` is a local or parameter of a known class that declares
`command: Command`.

The name layer types a receiver that is a local or parameter (`annotation`, `local_type`); an
attribute of one is left unresolved. Here the attribute's declared class gives the method
(resolution `field_type`, confidence 0.75, as for the other languages' declared fields) and
the overrides below it that the load constructs (`override`, see `loaders.code.dispatch`) when
there are at most 3: a wide declared type (marshmallow's `self.field: Field`, 14 constructed
overrides, one used) says too little to name them.
Declarations are read from the source lines with a pattern (no second parse): an annotated
name directly in a class body (outside every function of the file) or `self.x: T` in a method;
the type is the first name of `T` (`t.Optional[T]`, `T | None`, `T[...]` and a quoted `"T"`
give `T`); a name declared with two different classes has no type.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from pathlib import Path

from loaders.code.calls import ResolvedCall
from loaders.code.dispatch import CONFIDENCE as OVERRIDE_CONFIDENCE
from loaders.code.dispatch import Overrides
from loaders.code.parse import FunctionInfo, ParsedFile
from loaders.code.resolve import FileSymbols, SymbolTable

logger = logging.getLogger(__name__)

__all__ = ["FieldTypes", "declared_type"]

CONFIDENCE = 0.75
_MAX_OVERRIDES = 3  # overrides of a declared class's method followed; beyond, none
ClassKey = tuple[str, str]
# an annotated name at the start of an indented line / `self.x:`; the type is cut at `=` or `#`
_BODY = re.compile(rb"^[ \t]+([A-Za-z_]\w*)[ \t]*:[ \t]*([A-Za-z_\"'][^\n=#]*)", re.M)
_SELF = re.compile(rb"\bself\.([A-Za-z_]\w*)[ \t]*:[ \t]*([A-Za-z_\"'][^\n=#]*)")
_NAME = re.compile(r"[A-Za-z_][\w.]*")
_OPTIONAL = ("t.Optional[", "typing.Optional[", "Optional[")


def declared_type(text: str) -> str | None:
    """The class an annotation names first: `t.Optional[Cmd]`, `Cmd | None`, `"Cmd"`,
    `Cmd[int]` -> `Cmd`; None for anything else."""
    t = text.strip().strip("\"'")
    for prefix in _OPTIONAL:
        if t.startswith(prefix) and t.endswith("]"):
            t = t[len(prefix) : -1]
    t = t.split("|")[0].strip().strip("\"'").split("[")[0].strip()
    return t if _NAME.fullmatch(t) and t != "None" else None


class FieldTypes:
    """Declared attribute types of the load's Python classes, and the calls they type."""

    def __init__(
        self,
        table: SymbolTable,
        parsed: dict[str, ParsedFile],
        root: Path,
        parents: dict[ClassKey, list[ClassKey]],
    ) -> None:
        self.table = table
        self.parents = parents
        self.types: dict[ClassKey, dict[str, ClassKey | None]] = defaultdict(dict)
        for path, p in parsed.items():
            if p.language != "python":
                continue
            if p.classes:
                try:
                    self._declarations(p, (root / path).read_bytes())
                except OSError:
                    continue

    def _declarations(self, p: ParsedFile, source: bytes) -> None:
        fs = self.table.files[p.path]
        for pattern, in_body in ((_BODY, True), (_SELF, False)):
            line, pos = 1, 0
            for m in pattern.finditer(source):
                written = declared_type(m.group(2).decode("utf-8", "replace"))
                if written is None:
                    continue  # `name: str,` in a signature, `x: dict[...]`: cheap to drop first
                line += source.count(b"\n", pos, m.start())
                pos = m.start()
                cls = _owner(p, line, in_body)
                if cls is None:
                    continue
                target = self.table.resolve_class(fs, written)
                found = (target[1], target[2]) if target is not None else None
                attrs = self.types[(p.path, cls)]
                name = m.group(1).decode()
                if found is None or attrs.get(name, found) != found:
                    attrs[name] = None
                else:
                    attrs[name] = found

    def attr_type(self, cls: ClassKey, name: str) -> ClassKey | None:
        """The declared class of attribute `name` on `cls` or its bases (nearest first)."""
        seen: set[ClassKey] = set()
        todo = [cls]
        while todo:
            k = todo.pop(0)
            if k in seen:
                continue
            seen.add(k)
            attrs = self.types.get(k)
            if attrs is not None and name in attrs:
                return attrs[name]
            todo.extend(self.parents.get(k, ()))
        return None

    def calls(
        self, parsed: ParsedFile, merged: list[ResolvedCall], overrides: Overrides | None
    ) -> list[ResolvedCall]:
        """Edges for one file's `x.attr.m()` calls whose `attr` has a declared class."""
        if parsed.language != "python":
            return []
        fs = self.table.files[parsed.path]
        by_qual = {f.qualname: f for f in parsed.functions}
        have = {(c.caller, c.callee_path, c.callee) for c in merged}
        out: list[ResolvedCall] = []

        def add(caller: str, path: str, qual: str, how: str, conf: float, line: int) -> None:
            if (caller, path, qual) not in have:
                have.add((caller, path, qual))
                out.append(ResolvedCall(caller, path, qual, how, conf, line))

        for cs in parsed.calls:
            if cs.kind != "call" or cs.caller is None or not cs.receiver:
                continue
            base, _, attr = cs.receiver.partition(".")
            if not attr or "." in attr:
                continue
            caller = by_qual.get(cs.caller)
            owner = self._receiver_class(fs, by_qual, caller, base) if caller else None
            declared = self.attr_type(owner, attr) if owner else None
            if declared is None:
                continue
            hit = self.table.find_method(declared, cs.name)
            if hit is not None:
                add(cs.caller, hit[0][1], hit[0][2], "field_type", CONFIDENCE, cs.line)
            below = overrides.targets(declared, cs.name) if overrides is not None else []
            if len(below) <= _MAX_OVERRIDES:  # a wide declared type (`Field`) says little
                for path, qual in below:
                    add(cs.caller, path, qual, "override", OVERRIDE_CONFIDENCE, cs.line)
        return out

    def _receiver_class(
        self,
        fs: FileSymbols,
        by_qual: dict[str, FunctionInfo],
        caller: FunctionInfo,
        base: str,
    ) -> ClassKey | None:
        """The class of `base` in `caller`: a typed local or parameter, or the `self` of the
        method the caller is (or is nested in)."""
        typed = caller.local_types.get(base)
        if typed is not None:
            target = self.table.resolve_class(fs, typed[1])
            return (target[1], target[2]) if target is not None else None
        method: FunctionInfo | None = caller
        while method is not None and not method.class_name:
            if base in method.params or base in method.local_types:
                return None  # bound here: not the method's `self`
            method = by_qual.get(method.qualname.rpartition(".")[0])
        if method is None or not method.params or method.params[0] != base:
            return None
        if method is not caller and base in caller.local_types:
            return None
        return (fs.path, method.class_name) if method.class_name else None


def _owner(p: ParsedFile, line: int, in_body: bool) -> str | None:
    """The class a declaration on `line` belongs to: the innermost class around it, directly in
    its body (`in_body`) or in one of its methods (`self.x: T`)."""
    around = [c for c in p.classes if c.start_line < line <= c.end_line]
    if not around:
        return None
    cls = max(around, key=lambda c: c.start_line)
    inside = [f for f in p.functions if f.start_line <= line <= f.end_line]
    if in_body:
        # in no function, or only in functions that enclose the class itself
        return None if any(f.start_line > cls.start_line for f in inside) else cls.qualname
    methods = [f for f in inside if f.class_name == cls.qualname]
    return cls.qualname if methods else None
