"""Implicit calls on values typed by declarations: property reads, protocol methods, `x()`.

Value flow (`loaders.code.flow_protocols`) charges a property read, a `with` block's
`__enter__`/`__exit__`, an operator's dunder method or an instance's `__call__` when it sees
the instance built. Many receivers are only declared: `session: SessionMixin` (a parameter),
`ctx = app.test_request_context()` (`-> RequestContext`), `self.type: ParamType` (an attribute),
`value_proc = convert_type(...)` (`-> ParamType`). `loaders.code.declared` types those
expressions; here the same facts are read again for what runs without a call expression:
- `x.attr` where x's declared class has a property `attr` (C3 order) -> the property;
- a "use" statement of the facts (a test, an operand, an f-string) -> the first protocol method
  of the chain the class defines (`if x:` -> `__bool__`, else `__len__`);
- `with x:` -> `__enter__` and `__exit__`; `x(...)` on an instance -> `__call__`.
A class whose order passes a base outside the repository before the method is found gives no
edge (that base may define it). Resolution `implicit`, confidence 0.7 (a declaration, as the
name layer's `annotation`). Callers are the functions of the file (module and class bodies and
lambdas are left to value flow).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from loaders.code.calls import ResolvedCall
from loaders.code.declared import DeclaredTypes
from loaders.code.flow_facts import FlowFacts
from loaders.code.parse import ParsedFile
from loaders.code.resolve import SymbolTable

logger = logging.getLogger(__name__)

__all__ = ["CONFIDENCE", "DeclaredProtocols"]

CONFIDENCE = 0.7
_INSTANCES = frozenset({"i", "I"})  # declared types that are instances (of it, or a subclass)
_MAX_DEPTH = 30
_STMTS = frozenset({"use", "with", "=", "for", "ret", "yield"})
_Add = Callable[[str, "tuple[str, str] | None", int], None]  # caller, target, line


class DeclaredProtocols:
    """Implicit calls on declared-typed values, per file."""

    def __init__(
        self, table: SymbolTable, facts: dict[str, FlowFacts], declared: DeclaredTypes
    ) -> None:
        self.table = table
        self.facts = facts
        self.declared = declared
        self._chains: dict[tuple[tuple[str, str], tuple[str, ...]], tuple[str, str] | None] = {}
        # names worth typing a receiver for: properties and methods some class defines
        self.properties: set[str] = set()
        self.methods: set[str] = set()
        for f in facts.values():
            for qual, sc in f.scopes.items():
                if sc.method:
                    name = qual.rpartition(".")[2]
                    (self.properties if sc.property else self.methods).add(name)

    def method(self, cls: tuple[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
        """(path, qualname) of the first of `names` the class's order defines; None when none
        is defined in the repository or a base outside it comes first."""
        key = (cls, names)
        if key in self._chains:
            return self._chains[key]
        found: tuple[str, str] | None = None
        for name in names:
            hit = self.table.find_method(cls, name)
            if hit is not None:
                found = None if hit[2] else (hit[0][1], hit[0][2])
                break
            if self._external_base(cls):
                break  # the external base may define it: Python stops there
        self._chains[key] = found
        return found

    def _external_base(self, cls: tuple[str, str]) -> bool:
        unresolved: set[tuple[str, str]] = getattr(self.table, "_unresolved", set())
        return any(k in unresolved for k in self.table._mro(cls))

    def _is_property(self, target: tuple[str, str]) -> bool:
        f = self.facts.get(target[0])
        sc = f.scopes.get(target[1]) if f is not None else None
        return sc is not None and sc.property

    def calls(self, parsed: ParsedFile, merged: list[ResolvedCall]) -> list[ResolvedCall]:
        path = parsed.path
        f = self.facts.get(path)
        fs = self.table.files.get(path)
        if parsed.language != "python" or f is None or fs is None:
            return []
        have = {(c.caller, c.callee_path, c.callee) for c in merged}
        out: list[ResolvedCall] = []

        def add(caller: str, target: tuple[str, str] | None, line: int) -> None:
            if target is None:
                return
            key = (caller, target[0], target[1])
            if key not in have:
                have.add(key)
                out.append(ResolvedCall(caller, target[0], target[1], "implicit", CONFIDENCE, line))

        def instances(scope: str, e: Any) -> list[tuple[str, str]]:
            return self._instances(path, scope, e)

        def reads(caller: str, scope: str, e: Any, line: int) -> None:
            self._reads(path, add, caller, scope, e, line, 0)

        callers: dict[str, str | None] = {}

        def caller_of(scope: str) -> str | None:
            found = callers.get(scope, "")
            if found == "":
                found = callers[scope] = self._caller(f, fs.functions, scope)
            return found

        for op, scope, a, b in f.stmts:
            if op not in _STMTS:
                continue
            caller = caller_of(scope)
            if caller is None:
                continue
            line = f.scopes[scope].line
            if op == "use":
                reads(caller, scope, a, line)
                for cls in instances(scope, a) if self.methods.intersection(b) else ():
                    add(caller, self.method(cls, b), line)
            elif op == "with":
                reads(caller, scope, b, line)
                for cls in instances(scope, b) if "__enter__" in self.methods else ():
                    add(caller, self.method(cls, ("__enter__",)), line)
                    add(caller, self.method(cls, ("__exit__",)), line)
            elif op in ("=", "for"):
                reads(caller, scope, b, line)
            elif op in ("ret", "yield"):
                reads(caller, scope, a, line)
        callable_params = {
            (scope, name)
            for op, scope, name, ann in f.types
            if op in ("param", "var") and _class_or_callable(ann)
        }
        for scope, callee, args, kws, line in f.sites:
            caller = caller_of(scope)
            if caller is None or not isinstance(callee, tuple) or not callee:
                continue
            if callee[0] == "a":
                reads(caller, scope, callee[1], line)
            for x in (*args, *(v for _, v in kws)):
                reads(caller, scope, x, line)
            if callee[0] in ("n", "nv") and (scope, callee[1]) in callable_params:
                continue  # `cb: Command | Callable`: called as the plain callable it may be
            for cls in instances(scope, callee) if "__call__" in self.methods else ():
                add(caller, self.method(cls, ("__call__",)), line)
        return out

    def _instances(self, path: str, scope: str, e: Any) -> list[tuple[str, str]]:
        """Classes of the instances `e` may be, sorted (not in set order: stable rows)."""
        types = self.declared.types(path, scope, e)
        return sorted({(t[1], t[2]) for t in types if t[0] in _INSTANCES})

    def _reads(
        self, path: str, add: _Add, caller: str, scope: str, e: Any, line: int, depth: int
    ) -> None:
        """Property reads in `e` on declared-typed owners (`session.permanent`). A method, not
        a recursive closure: a closure that calls itself is a reference cycle, and its file's
        sets would wait for the cyclic GC instead of going when `calls` returns."""
        if not isinstance(e, tuple) or not e or depth > _MAX_DEPTH:
            return
        op = e[0]
        if op == "a":
            for cls in self._instances(path, scope, e[1]) if e[2] in self.properties else ():
                hit = self.table.find_method(cls, e[2])
                if hit is not None and not hit[2]:
                    target = (hit[0][1], hit[0][2])
                    if self._is_property(target):
                        add(caller, target, line)
            self._reads(path, add, caller, scope, e[1], line, depth + 1)
        elif op in ("s", "sl"):
            self._reads(path, add, caller, scope, e[1], line, depth + 1)
        elif op == "u":
            for x in e[1]:
                self._reads(path, add, caller, scope, x, line, depth + 1)

    @staticmethod
    def _caller(f: FlowFacts, functions: dict[str, str | None], scope: str) -> str | None:
        sc = f.scopes.get(scope)
        if sc is None or sc.kind != "function" or scope not in functions:
            return None
        return scope


def _class_or_callable(ann: Any) -> bool:
    """Whether a declared type (`loaders.code.annotations`) is a class or a plain callable
    (`Command | t.Callable[..., V]`): its class part says nothing about what a call runs. A
    declaration naming `Callable` alone types no instance, so it stops nothing."""
    if not isinstance(ann, tuple) or not ann or ann[0] != "U":
        return False
    named = [a[1] for a in ann[1] if isinstance(a, tuple) and a and a[0] == "T"]
    callable_ = [n for n in named if isinstance(n, str) and n.rpartition(".")[2] == "Callable"]
    return bool(callable_) and len(named) > len(callable_)
