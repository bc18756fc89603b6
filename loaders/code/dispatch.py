"""Calls Python makes that the names do not spell: overrides and decorator wrappers.

Overrides a `self.m()` call reaches: methods of the caller's subclasses that the loaded code
constructs (rapid type analysis over the name layer's class hierarchy).

The name layer points `self.m()` at the method found from the caller's class upwards; at run
time `self` is often an instance of a subclass that overrides `m` (a base class's template
method calling its hooks: `Field.deserialize` -> `DateTime._deserialize`). Value flow finds
these only while `self` holds at most a few classes. Here a subclass's override is a callee
when the subclass, or a subclass of it that inherits that override, is constructed somewhere in
the load (a call that names the class, or a class held as a value where it is built later:
see `loaders.code.declared`): classes never constructed add no edge. Resolution `override`,
confidence 0.5.

Decorator wrappers: `@setupmethod def route(...)` where `setupmethod(f)` defines one nested
function that calls `f`: the name `route` now means that wrapper, so a caller of `route` calls
the wrapper and the wrapper calls `route`. Value flow finds this while a wrapper serves at most
8 functions; beyond (flask's `setupmethod` serves 43), the callers keep their name edge to the
original and gain one to the wrapper, and the wrapper gets one to each function it wraps.
Resolution `wrapper`, confidence 0.8.

Property reads on `self`: `if self.debug:` runs the getter found from the method's class
upwards (C3). Value flow charges such a read only while `self` holds a known instance and the
read sits where its facts keep the value (not in an operator, a test or an f-string); here
every `self.x` read of a property in the caller's class hierarchy is an edge (Python's `ast`
reads only the methods where `self.<name>` appears, not called nor assigned, and `name` is a
property of their class's hierarchy; their reads are kept by the file's content hash for the
life of the process, as value-flow facts are).
Resolution `implicit`, confidence 0.8.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import re
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any

from loaders.code.calls import ResolvedCall, resolve_bases
from loaders.code.flow_facts import FlowFacts
from loaders.code.parse import FunctionInfo, ParsedFile
from loaders.code.resolve import SymbolTable

logger = logging.getLogger(__name__)

__all__ = ["CONFIDENCE", "Overrides", "PropertyReads", "Wrappers"]

CONFIDENCE = 0.5
WRAPPER_CONFIDENCE = 0.8
_THROUGH_SELF = frozenset({"self", "class_hierarchy"})
ClassKey = tuple[str, str]


class Overrides:
    """The class hierarchy and the constructed classes of one load's Python files."""

    def __init__(
        self,
        table: SymbolTable,
        parsed: dict[str, ParsedFile],
        facts: dict[str, FlowFacts] | None = None,
    ) -> None:
        self.table = table
        self.parsed = parsed
        self.children: dict[ClassKey, list[ClassKey]] = defaultdict(list)
        self._constructed: set[ClassKey] | None = None
        self._cache: dict[tuple[ClassKey, str, str], list[tuple[str, str]]] = {}
        # names each class body binds (defs and assignments such as `tag = to_json`)
        self._binds: dict[ClassKey, set[str]] = {
            (path, qual): sc.bound
            for path, f in (facts or {}).items()
            for qual, sc in f.scopes.items()
            if sc.kind == "class"
        }
        self._parents: dict[ClassKey, list[ClassKey]] | None = None
        self._delegates: set[tuple[str, str]] | None = None
        for path, p in parsed.items():
            if p.language == "python":
                for qual, bpath, bqual in resolve_bases(table, table.files[path]):
                    self.children[(bpath, bqual)].append((path, qual))

    @property
    def constructed(self) -> set[ClassKey]:
        """Classes a call names somewhere in the load (found on first need: most self calls
        have no subclass below them)."""
        if self._constructed is None:
            self._constructed = set()
            # only subclasses matter: calls whose name is not one are not resolved at all
            names = {q.rpartition(".")[2] for kids in self.children.values() for _, q in kids}
            for path, p in self.parsed.items():
                if p.language != "python":
                    continue
                fs = self.table.files[path]
                by_qual = {f.qualname: f for f in p.functions}
                for cs in p.calls:
                    if cs.kind != "call" or cs.name not in names:
                        continue
                    dotted = f"{cs.receiver}.{cs.name}" if cs.receiver else cs.name
                    caller = by_qual.get(cs.caller) if cs.caller else None
                    target = self.table.resolve_expr(fs, caller, dotted)
                    if target is not None and target[0] == "class":
                        self._constructed.add((target[1], target[2]))
        return self._constructed

    def parents(self) -> dict[ClassKey, list[ClassKey]]:
        """Each class's in-repository bases (not in the order written)."""
        out: dict[ClassKey, list[ClassKey]] = defaultdict(list)
        for base, kids in self.children.items():
            for k in kids:
                out[k].append(base)
        return out

    def _descendants(self, cls: ClassKey) -> list[ClassKey]:
        seen: list[ClassKey] = []
        todo = list(self.children.get(cls, ()))
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.append(k)
                todo.extend(self.children.get(k, ()))
        return seen

    def add_constructed(self, classes: set[ClassKey]) -> None:
        """Classes built where no call names them (a class held in a variable: a class
        attribute default, an item of a list of classes)."""
        if not classes <= self.constructed:
            self.constructed.update(classes)
            self._cache.clear()

    def runs_own(self, cls: ClassKey, name: str) -> bool | None:
        """Whether a constructed class, `cls` or one below it, runs the `name` that `cls`
        has (its own or inherited); None when none of them is constructed."""
        own = self.table.find_method(cls, name)
        cone = [k for k in [cls, *self._descendants(cls)] if k in self.constructed]
        if not cone:
            return None
        for k in cone:
            hit = self.table.find_method(k, name)
            if (hit[0] if hit else None) == (own[0] if own else None):
                return True
        return False

    def targets(self, cls: ClassKey, name: str, via: str = "") -> list[tuple[str, str]]:
        """(path, qualname) of the overrides of `name` below `cls` that a constructed class
        runs, in a stable order. `via`: the method of `cls` the call is in; a class whose body
        (or the body of a class between it and `cls`) binds that name again never runs it
        (flask's `PassDict` has `tag = to_json`: its instances never reach `JSONTag.tag`)."""
        key = (cls, name, via)
        found = self._cache.get(key)
        if found is None:
            out: set[tuple[str, str]] = set()
            below = self._descendants(cls)
            for k in below:
                if k not in self.constructed:
                    continue
                if via and self._rebinds(k, cls, via, set(below)):
                    continue
                hit = self.table.find_method(k, name)
                if hit is None:
                    continue
                target = hit[0]
                if (target[1], target[2].rpartition(".")[0]) != cls:
                    out.add((target[1], target[2]))
            found = self._cache[key] = sorted(out)
        return found

    def _rebinds(self, k: ClassKey, top: ClassKey, name: str, below: set[ClassKey]) -> bool:
        """Whether `k`, or a class between `k` and its base `top` (`below`: what lies under
        `top`), binds `name` in its body."""
        if self._parents is None:
            self._parents = self.parents()
        if self._delegates is None:  # methods that call their own name on `super()`
            self._delegates = {
                (path, cs.caller)
                for path, p in self.parsed.items()
                for cs in p.calls
                if cs.receiver == "super()" and cs.caller and cs.caller.endswith("." + cs.name)
            }
        todo, seen = [k], {k}
        while todo:
            c = todo.pop()
            if name in self._binds.get(c, ()) and (c[0], f"{c[1]}.{name}") not in self._delegates:
                return True  # `super().name(...)` in its own `name` still runs the base's
            for p in self._parents.get(c, ()):
                if p in below and p not in seen:
                    seen.add(p)
                    todo.append(p)
        return False

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
            method = _method_of(by_qual, c.caller)
            if method is None or method.class_name is None:
                continue
            name = c.callee.rpartition(".")[2]
            via = method.qualname.rpartition(".")[2]
            for path, qual in self.targets((parsed.path, method.class_name), name, via):
                if (c.caller, path, qual) not in have:
                    have.add((c.caller, path, qual))
                    out.append(ResolvedCall(c.caller, path, qual, "override", CONFIDENCE, c.line))
        return out


def _method_of(by_qual: dict[str, FunctionInfo], caller: str) -> FunctionInfo | None:
    """The method `caller` is (or is nested in); its class is what `self` dispatches on."""
    fn = by_qual.get(caller)
    while fn is not None and not fn.class_name:
        fn = by_qual.get(fn.qualname.rpartition(".")[0])
    return fn


Fn = tuple[str, str]  # (path, qualname)
# edges value flow or the passes above found: they follow values, not the name
_NOT_BY_NAME = frozenset({"value_flow", "wrapper", "implicit", "decorator", "override"})


class Wrappers:
    """Which definitions a decorator replaced by its single nested wrapper, and the wrapper."""

    def __init__(
        self, table: SymbolTable, parsed: dict[str, ParsedFile], facts: dict[str, FlowFacts]
    ) -> None:
        self.wrapper_of: dict[Fn, Fn] = {}
        self.wrapped: dict[str, list[ResolvedCall]] = defaultdict(list)  # by wrapper's file
        found: dict[Fn, Fn | None] = {}
        for path, f in facts.items():
            fs = table.files.get(path)
            if fs is None:
                continue
            for op, _, _, b in f.stmts:
                if op != "=" or not isinstance(b, tuple) or b[0] != "d" or len(b[2]) != 1:
                    continue  # one decorator: with several, the outer one's result is called
                dotted = _dotted(b[2][0])
                target = table.resolve_expr(fs, None, dotted) if dotted else None
                if target is None or target[0] != "fn":
                    continue
                deco = (target[1], target[2])
                if deco not in found:
                    found[deco] = _single_wrapper(parsed.get(deco[0]), deco[1])
                wrapper = found[deco]
                if wrapper is not None and wrapper != (path, b[1]):
                    self.wrapper_of[(path, b[1])] = wrapper
        for (path, qual), (wpath, wqual) in sorted(self.wrapper_of.items()):
            line = _start_line(parsed.get(wpath), wqual)
            self.wrapped[wpath].append(
                ResolvedCall(wqual, path, qual, "wrapper", WRAPPER_CONFIDENCE, line)
            )

    def calls(self, path: str, merged: list[ResolvedCall]) -> list[ResolvedCall]:
        """For one file's edges: callers of a wrapped definition also call its wrapper; a
        wrapper defined here calls what it wraps."""
        have = {(c.caller, c.callee_path, c.callee) for c in merged}
        out: list[ResolvedCall] = []
        candidates = [
            ResolvedCall(c.caller, w[0], w[1], "wrapper", WRAPPER_CONFIDENCE, c.line)
            for c in merged
            if c.resolution not in _NOT_BY_NAME
            and (w := self.wrapper_of.get((c.callee_path, c.callee))) is not None
            and w != (path, c.caller)  # the wrapper's own call of what it wraps
        ]
        for c in candidates + self.wrapped.get(path, []):
            key = (c.caller, c.callee_path, c.callee)
            if key not in have:
                have.add(key)
                out.append(c)
        return out


def _dotted(e: Any) -> str | None:
    """A decorator written as a name or dotted name (`@dec`, `@mod.dec`); else None."""
    if isinstance(e, tuple) and e and e[0] in ("n", "nv"):
        return str(e[1])
    if isinstance(e, tuple) and e and e[0] == "a":
        inner = _dotted(e[1])
        return f"{inner}.{e[2]}" if inner else None
    return None


def _single_wrapper(p: ParsedFile | None, deco: str) -> Fn | None:
    """The decorator's only nested function, when it calls one of the decorator's parameters
    (`def dec(f): def wrapper(*a): return f(*a)`); else None."""
    if p is None:
        return None
    by_qual = {f.qualname: f for f in p.functions}
    fn = by_qual.get(deco)
    if fn is None or fn.class_name:
        return None
    nested = [f for f in p.functions if f.qualname.rpartition(".")[0] == deco]
    if len(nested) != 1:
        return None
    inner = nested[0].qualname
    params = set(fn.params)
    calls_param = any(
        cs.caller == inner and cs.receiver is None and cs.name in params for cs in p.calls
    )
    return (p.path, inner) if calls_param else None


def _start_line(p: ParsedFile | None, qual: str) -> int:
    if p is None:
        return 0
    return next((f.start_line for f in p.functions if f.qualname == qual), 0)


_READS_MAX = 50_000  # methods' `self.x` reads kept in the process, by file content hash
_READS: dict[tuple[bytes, str], list[tuple[str, str, str, int]]] = {}  # (file, method)


class PropertyReads:
    """`self.x` reads of properties, per file (parsed again with `ast` only where a property's
    name appears after `self.`)."""

    def __init__(self, table: SymbolTable, root: Path, facts: dict[str, FlowFacts]) -> None:
        self.table = table
        self.root = root
        self.facts = facts
        self.props = {
            (path, q) for path, f in facts.items() for q, sc in f.scopes.items() if sc.property
        }
        names = sorted({q.rpartition(".")[2] for _, q in self.props})
        alternatives = b"|".join(re.escape(n.encode()) for n in names)
        # `self.name` not called nor assigned: a cheap test before Python parses the file
        self.pattern = (
            re.compile(rb"\bself\.(" + alternatives + rb")\b(?!\s*(?:\(|=[^=]))") if names else None
        )

    def calls(self, parsed: ParsedFile, merged: list[ResolvedCall]) -> list[ResolvedCall]:
        path = parsed.path
        f = self.facts.get(path)
        if f is None or self.pattern is None:
            return []
        try:
            data = (self.root / path).read_bytes()
        except OSError:
            return []
        chosen = self._plausible(data, parsed, f)
        if not chosen:
            return []
        digest = hashlib.sha1(data, usedforsecurity=False).digest()
        reads: list[Read] = []
        for fn in chosen:
            key = (digest, fn.qualname)
            got = _READS.get(key)
            if got is None:
                got = _method_reads(data, fn, f)
                if len(_READS) >= _READS_MAX:
                    _READS.pop(next(iter(_READS), (b"", "")), None)  # the oldest
                _READS[key] = got
            reads += got
        have = {(c.caller, c.callee_path, c.callee) for c in merged}
        out: list[ResolvedCall] = []
        for caller, cls, name, line in reads:
            hit = self.table.find_method((path, cls), name)
            if hit is None or (hit[0][1], hit[0][2]) not in self.props:
                continue
            key2 = (caller, hit[0][1], hit[0][2])
            if key2 not in have:
                have.add(key2)
                out.append(ResolvedCall(caller, key2[1], key2[2], "implicit", 0.8, line))
        return out

    def _plausible(self, data: bytes, parsed: ParsedFile, facts: FlowFacts) -> list[FunctionInfo]:
        """Methods holding a `self.name` text where `name` is a property of their class's
        hierarchy: the only ones worth parsing."""
        methods = [
            fn
            for fn in parsed.functions
            if fn.class_name
            and fn.params
            and (sc := facts.scopes.get(fn.qualname)) is not None
            and sc.method == "self"
        ]
        chosen: dict[str, FunctionInfo] = {}
        line, pos = 1, 0
        for m in self.pattern.finditer(data) if self.pattern is not None else ():
            line += data.count(b"\n", pos, m.start())
            pos = m.start()
            around = [fn for fn in methods if fn.start_line <= line <= fn.end_line]
            if not around:
                continue
            outer = min(around, key=lambda fn: fn.start_line)
            if outer.qualname in chosen or outer.class_name is None:
                continue
            hit = self.table.find_method((parsed.path, outer.class_name), m.group(1).decode())
            if hit is not None and (hit[0][1], hit[0][2]) in self.props:
                chosen[outer.qualname] = outer
        return list(chosen.values())


Read = tuple[str, str, str, int]  # caller, its method's class, attribute, line


def _method_reads(data: bytes, fn: FunctionInfo, facts: FlowFacts) -> list[Read]:
    """The `self.x` reads of one method (and what is nested in it): its lines parsed on their
    own, dedented; the whole file when they will not parse alone."""
    text = data.decode("utf-8", "replace").splitlines()
    out: list[Read] = []
    try:
        tree = ast.parse(textwrap.dedent("\n".join(text[fn.start_line - 1 : fn.end_line])))
        ctx = (fn.params[0], fn.class_name or "")
        for node in tree.body:
            _walk(node, fn.qualname, ctx, facts, fn.start_line - 1, out, top=True)
        return out
    except (SyntaxError, ValueError):
        pass
    try:
        _walk(ast.parse(data), "", None, facts, 0, out)
    except (SyntaxError, ValueError):
        return []
    inner = fn.qualname + "."
    return [r for r in out if r[0] == fn.qualname or r[0].startswith(inner)]


def _walk(
    node: ast.AST,
    qual: str,
    ctx: tuple[str, str] | None,
    facts: FlowFacts,
    offset: int,
    out: list[Read],
    top: bool = False,
) -> None:
    """Collect `self.x` loads below `node` (qualname `qual`; `ctx`: the name `self` has and the
    method's class) into `out`; lambdas and comprehensions count for the named function around
    them, as the loader's callers do. `top`: `node` is the method `qual` itself."""
    children = (
        node.body
        if top and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        else (ast.iter_child_nodes(node))
    )
    for child in children:
        if isinstance(child, ast.ClassDef):
            _walk(child, f"{qual}.{child.name}" if qual else child.name, None, facts, offset, out)
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = f"{qual}.{child.name}" if qual else child.name
            sc = facts.scopes.get(inner)
            new = ctx
            if sc is not None and sc.method == "self" and sc.params and sc.parent:
                new = (sc.params[0], sc.parent)
            elif ctx is not None and sc is not None and ctx[0] in sc.params:
                new = None  # `self` rebound as a parameter
            _walk(child, inner, new, facts, offset, out)
        else:
            if (
                ctx is not None
                and isinstance(child, ast.Attribute)
                and isinstance(child.ctx, ast.Load)
                and isinstance(child.value, ast.Name)
                and child.value.id == ctx[0]
            ):
                out.append((qual, ctx[1], child.attr, child.lineno + offset))
            _walk(child, qual, ctx, facts, offset, out)
