"""Python calls on values typed by what the code declares: results, parameters, variables.

The name layer types a local or parameter from its own annotation (`annotation`); value flow
follows values it can see constructed. Neither types `get_current_context().ensure_object()`
(a function's declared result, `-> Context`), `for param in self.get_params(ctx):
param.get_help_record(ctx)` (an item of a declared `list[Parameter]`), `except ClickException as
e: e.show()`, `cast(Context, v)`, a module variable declared `current_app: Flask = LocalProxy(...)`
and imported elsewhere, or a class held in a variable (`tag_class: type[JSONTag]`, a class
attribute default `json_provider_class = DefaultJSONProvider`, `type(self)(...)`).

This pass types expressions of the value-flow facts (`loaders.code.flow_facts`, whose `types`
hold the annotations) without solving anything: a local's type is the union of the types of the
bindings that reach the use (declared types first), an attribute's type comes from the class's
body (`x: T`, `x = Cls`, a property's result), `self.x: T` or `self.x = value` in its methods,
or the declared attributes of `loaders.code.field_types`; a call's type from the callee's
declared result (a class gives an instance), an item's from the collection's declared item type
(`list(...)`, `sorted(...)`, `enumerate(...)` keep it). A call on a typed value calls the method
found from the declared class upwards (C3; resolution `annotation`, 0.7) unless every class of
the load that is constructed, the declared one or below it, overrides it (an abstract hook never
runs), and the overrides below it that the load constructs when there are at most
`MAX_OVERRIDES` (`override`, 0.5: a wide declared type says too little to name them); calling
a class held in a variable runs its `__init__` (`constructor`, 0.7) and, within the same cap,
its constructed subclasses'. `self.m()` is left to the name layer and the override pass.
Classes held as values where they are built later (a class attribute's default, the items of a
literal list of classes) count as constructed for every override pass of the load.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from graph_service.schema import synthetic_caller
from loaders.code.annotations import Ann
from loaders.code.calls import ResolvedCall
from loaders.code.dispatch import CONFIDENCE as OVERRIDE_CONFIDENCE
from loaders.code.dispatch import Overrides
from loaders.code.field_types import FieldTypes
from loaders.code.flow_facts import FlowFacts
from loaders.code.parse import ParsedFile
from loaders.code.resolve import SymbolTable

logger = logging.getLogger(__name__)

__all__ = ["CONFIDENCE", "MAX_OVERRIDES", "DeclaredTypes"]

CONFIDENCE = 0.7  # as the name layer's `annotation`
CONSTRUCTOR_CONFIDENCE = 0.7
MAX_OVERRIDES = 3  # constructed overrides followed below a declared class; beyond, none
_MAX_TYPES = 8  # an expression with more types than this is left untyped
_MAX_DEPTH = 40
_NAMES = frozenset({"n", "nv"})
# builtins that give the items of their first argument (in a new collection or iterator)
_ITERATING = dict.fromkeys(("list", "tuple", "set", "frozenset", "sorted", "reversed", "iter"), "")
_ITERATING["enumerate"] = "enumerate"
_EMPTY: frozenset[tuple] = frozenset()
Types = frozenset[tuple]
# Types: ("i", path, qual) an instance of that class · ("I", path, qual) an instance of it or of
# a subclass (declared) · ("c", path, qual) / ("C", path, qual) the class, or it or a subclass ·
# ("f", path, qual) a function · ("m", path) a module · ("E", items) a collection ·
# ("M", keys, values) a mapping · ("P", (types, ...)) a tuple by position
_INSTANCE = {"c": "i", "C": "I", "i": "i", "I": "I"}
_CLASS = {"i": "c", "I": "C", "c": "c", "C": "C"}


@dataclass(slots=True)
class _Index:
    """One file's bindings, by scope and name (and by version where the facts name one)."""

    binds: dict[tuple[str, str], list[tuple]] = field(default_factory=lambda: defaultdict(list))
    versions: dict[tuple[str, str], list[tuple]] = field(default_factory=lambda: defaultdict(list))
    declared: dict[tuple[str, str], Ann] = field(default_factory=dict)
    returns: dict[str, Ann] = field(default_factory=dict)
    # (class, attribute) -> (method, value) of each `self.attribute = value` in its methods
    stored: dict[tuple[str, str], list[tuple[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def _index(f: FlowFacts) -> _Index:
    out = _Index()

    def bind(scope: str, t: Any, binding: tuple) -> None:
        if not isinstance(t, tuple) or not t:
            return
        if t[0] == "n":
            out.binds[(scope, t[1])].append(binding)
            if len(t) > 2:
                out.versions[(scope, t[2])].append(binding)
        elif t[0] == "t":
            for i, sub in enumerate(t[1]):
                if binding[0] == "=":
                    bind(scope, sub, ("at", binding[1], i))
                elif binding[0] == "for" and binding[2] is None:
                    bind(scope, sub, ("for", binding[1], i))

    for op, scope, a, b in f.stmts:
        if op == "=":
            bind(scope, a, ("=", b))
            if isinstance(a, tuple) and a and a[0] == "a" and a[1] and a[1][0] in _NAMES:
                sc = f.scopes.get(scope)
                if sc is not None and sc.method == "self" and sc.params[:1] == (a[1][1],):
                    out.stored[(sc.parent or "", a[2])].append((scope, b))
        elif op == "for":
            bind(scope, a, ("for", b, None))
    for op, scope, a, b in f.types:
        if op == "ret":
            out.returns[scope] = a
        elif op in ("param", "var"):
            out.declared[(scope, a)] = b
        elif op == "attr":  # `self.a: T` in a method: the class declares `a: T`
            owner = f.scopes[scope].parent
            if owner is not None:
                out.declared.setdefault((owner, a), b)
        elif op == "except":
            out.binds[(scope, a)].append(("exc", b))
    return out


def _union(parts: list[Types]) -> Types:
    out: set[tuple] = set()
    for p in parts:
        out |= p
    return frozenset(out) if len(out) <= _MAX_TYPES else _EMPTY


class DeclaredTypes:
    """Types of the load's Python expressions from declarations, and the calls they type."""

    def __init__(
        self,
        table: SymbolTable,
        facts: dict[str, FlowFacts],
        fields: FieldTypes,
        overrides: Overrides,
    ) -> None:
        self.table = table
        self.facts = facts
        self.fields = fields
        self.overrides = overrides
        self._indexes: dict[str, _Index] = {}
        self._memo: dict[tuple[str, str, Any], Types] = {}
        self._ann_memo: dict[tuple[str, Ann], Types] = {}
        overrides.add_constructed(self._held_classes())

    def _held_classes(self) -> set[tuple[str, str]]:
        """Classes held as values where they are likely built later: a class attribute's
        default (`json_provider_class = DefaultJSONProvider`) and the items of a literal list,
        tuple or dict of classes (`default_tags = [TagDict, ...]`), not the tuples of
        `isinstance`/`issubclass` and `except`."""
        out: set[tuple[str, str]] = set()
        for path, f in self.facts.items():
            fs = self.table.files.get(path)
            if fs is None:
                continue
            named: list[Any] = []
            for op, scope, _, b in f.stmts:
                sc = f.scopes.get(scope)
                if op == "=" and sc is not None and sc.kind == "class":
                    named.append(b)
            checks = {
                args[1][1]
                for _, callee, args, _, _ in f.sites
                if len(args) == 2
                and isinstance(callee, tuple)
                and callee[0] in _NAMES
                and callee[1] in ("isinstance", "issubclass")
                and isinstance(args[1], tuple)
                and args[1][0] == "k"
            }
            checks |= {b[1] for op, _, _, b in f.types if op == "except" and b[0] == "k"}
            for i, (_, items) in enumerate(f.containers):
                if i not in checks:
                    named += [x for _, x in items]
            for e in named:
                dotted = _dotted(e)
                target = self.table.resolve_expr(fs, None, dotted) if dotted else None
                if target is not None and target[0] == "class":
                    out.add((target[1], target[2]))
        return out

    def index(self, path: str) -> _Index:
        found = self._indexes.get(path)
        if found is None:
            found = self._indexes[path] = _index(self.facts[path])
        return found

    # ---- declared types -----------------------------------------------------------------
    def ann_types(self, path: str, ann: Ann) -> Types:
        key = (path, ann)
        found = self._ann_memo.get(key)
        if found is not None:
            return found
        self._ann_memo[key] = _EMPTY
        out: Types = _EMPTY
        kind = ann[0]
        if kind == "T":
            fs = self.table.files.get(path)
            target = self.table.resolve_class(fs, ann[1]) if fs is not None else None
            out = frozenset({("I", target[1], target[2])}) if target is not None else _EMPTY
        elif kind == "C":
            out = frozenset(("C", *t[1:]) for t in self.ann_types(path, ann[1]) if t[0] == "I")
        elif kind == "E":
            items = self.ann_types(path, ann[1])
            out = frozenset({("E", items)}) if items else _EMPTY
        elif kind == "M":
            keys = self.ann_types(path, ann[1]) if ann[1] is not None else _EMPTY
            values = self.ann_types(path, ann[2]) if ann[2] is not None else _EMPTY
            out = frozenset({("M", keys, values)}) if keys or values else _EMPTY
        elif kind == "U":
            out = _union([self.ann_types(path, a) for a in ann[1]])
        self._ann_memo[key] = out
        return out

    # ---- expressions --------------------------------------------------------------------
    def types(self, path: str, scope: str, e: Any, depth: int = 0) -> Types:
        """What the facts expression `e` (in `scope` of `path`) holds, as far as declared."""
        if not isinstance(e, tuple) or not e or depth > _MAX_DEPTH:
            return _EMPTY
        key = (path, scope, e)
        found = self._memo.get(key)
        if found is not None:
            return found
        self._memo[key] = _EMPTY  # a cycle types nothing
        out = self._types(path, scope, e, depth + 1)
        self._memo[key] = out
        return out

    def _types(self, path: str, scope: str, e: tuple, d: int) -> Types:
        op = e[0]
        if op in _NAMES:
            return self.name(path, scope, e[1], e[2] if op == "nv" else None, d)
        if op == "a":
            return _union([self.attr(v, e[2], d) for v in self.types(path, scope, e[1], d)])
        if op == "c":
            return self.result(path, e[1], d)
        if op == "s":
            return _union([_item(v, e[2]) for v in self.types(path, scope, e[1], d)])
        if op == "u":
            return _union([self.types(path, scope, x, d) for x in e[1]])
        if op == "fn":
            return frozenset({("f", path, e[1])})
        if op == "cls":
            return frozenset({("c", path, e[1])})
        if op == "k":
            items = self.facts[path].containers[e[1]][1]
            inner = _union([self.types(path, scope, x, d) for _, x in items])
            return frozenset({("E", inner)}) if inner else _EMPTY
        return _EMPTY

    def name(
        self, path: str, scope: str, name: str, versions: tuple[str, ...] | None, d: int
    ) -> Types:
        f = self.facts[path]
        sc = f.scopes.get(scope)
        if sc is None:
            return _EMPTY
        if sc.method in ("self", "cls") and sc.params and name == sc.params[0] and sc.parent:
            return frozenset({("I" if sc.method == "self" else "C", path, sc.parent)})
        idx = self.index(path)
        declared = idx.declared.get((scope, name))
        if declared is not None:
            return self.ann_types(path, declared)
        if versions:
            found = [b for v in versions for b in idx.versions.get((scope, v), ())]
        else:
            found = list(idx.binds.get((scope, name), ()))
        if found:
            return _union([self.binding(path, scope, b, d) for b in found])
        if name in sc.bound and sc.kind != "module":
            return _EMPTY  # an import or a binding the facts do not type
        if sc.kind != "module":  # a free name: the enclosing function's, else the module's
            parent = sc.parent or ""
            while parent and f.scopes[parent].kind == "class":
                parent = f.scopes[parent].parent or ""
            return self.types(path, parent, ("n", name), d)
        return self.imported(path, name, d)

    def imported(self, path: str, name: str, d: int) -> Types:
        """A module-level name no statement of the file binds: a definition or import."""
        fs = self.table.files.get(path)
        if fs is None:
            return _EMPTY
        target = self.table.lookup(path, name)
        if target is not None:
            kind = {"fn": "f", "class": "c"}.get(target[0])
            if kind is not None:
                return frozenset({(kind, target[1], target[2])})
            return frozenset({("m", target[1])}) if target[0] == "module" else _EMPTY
        b = fs.bindings.get(name)
        if b is None or b.kind != "symbol" or not b.name:
            return _EMPTY
        index = self.table.index
        mod = index.py_resolve(index.py_module_name(path), path, b.module)
        other = index.py_file(mod)
        if other is None or other not in self.facts:
            return _EMPTY
        return self.types(other, "", ("n", b.name), d)  # a module variable of another file

    def binding(self, path: str, scope: str, b: tuple, d: int) -> Types:
        kind = b[0]
        if kind == "=":
            return self.types(path, scope, b[1], d)
        if kind == "exc":
            caught = self.types(path, scope, b[1], d)
            classes = [t for t in caught if t[0] in _CLASS]
            for t in caught:
                if t[0] == "E":  # `except (A, B) as e`
                    classes += [x for x in t[1] if x[0] in _CLASS]
            return frozenset(("I", *t[1:]) for t in classes if t[0] in ("c", "C"))
        if kind == "at":
            return _union([_item(v, repr(b[2])) for v in self.types(path, scope, b[1], d)])
        if kind == "for":
            items = _union([_iterated(v) for v in self.types(path, scope, b[1], d)])
            if b[2] is None:
                return items
            return _union([_item(v, repr(b[2])) for v in items])
        return _EMPTY

    def attr(self, v: tuple, name: str, d: int) -> Types:
        kind = v[0]
        if kind == "m":
            return self.types(v[1], "", ("n", name), d) if v[1] in self.facts else _EMPTY
        if kind not in _INSTANCE:
            return _EMPTY
        cls = (v[1], v[2])
        for k in self.table._mro(cls):
            if k[0] not in self.facts:
                continue
            idx = self.index(k[0])
            declared = idx.declared.get((k[1], name))
            found = idx.binds.get((k[1], name))
            if declared is not None or found:
                # `json_provider_class: type[JSONProvider] = DefaultJSONProvider`: both
                out = _union([self.binding(k[0], k[1], b, d) for b in found or ()])
                out = _union([self._bound(t, kind) for t in out])
                if declared is not None:
                    out = _union([out, self.ann_types(k[0], declared)])
                return out
            if kind in ("i", "I"):  # `self.serializer = serializer` in a method
                stored = idx.stored.get((k[1], name))
                if stored:
                    out = _union([self.types(k[0], m, v, d) for m, v in stored])
                    if out:
                        return out
        if kind in ("i", "I"):
            typed = self.fields.attr_type(cls, name)
            if typed is not None:
                return frozenset({("I", *typed)})
        return _EMPTY

    def _bound(self, t: tuple, kind: str) -> Types:
        """A class attribute read on an instance: a property's declared result."""
        if t[0] == "f" and kind in ("i", "I"):
            sc = self.facts[t[1]].scopes.get(t[2]) if t[1] in self.facts else None
            if sc is not None and sc.property:
                ann = self.index(t[1]).returns.get(t[2])
                return self.ann_types(t[1], ann) if ann is not None else _EMPTY
        return frozenset({t})

    def result(self, path: str, site: int, d: int) -> Types:
        """What call site `site` returns: a class's instance, a function's declared result."""
        scope, callee, args, _, _ = self.facts[path].sites[site]
        if isinstance(callee, tuple) and callee and args:
            spelled = callee[1] if callee[0] in _NAMES else callee[2] if callee[0] == "a" else ""
            if spelled == "cast":  # typing.cast(X, v)
                return frozenset(
                    ("I", *t[1:]) for t in self.types(path, scope, args[0], d) if t[0] in ("c", "C")
                )
            if spelled == "type" and callee[0] in _NAMES and len(args) == 1:
                return frozenset(
                    ("C", *t[1:]) for t in self.types(path, scope, args[0], d) if t[0] in ("i", "I")
                )
        if isinstance(callee, tuple) and callee and callee[0] in _NAMES and args:
            wrap = _ITERATING.get(callee[1])
            if wrap is not None and not self.index(path).binds.get((scope, callee[1])):
                items = _union([_iterated(v) for v in self.types(path, scope, args[0], d)])
                if not items:
                    return _EMPTY
                if wrap == "enumerate":
                    items = frozenset({("P", (_EMPTY, items))})
                return frozenset({("E", items)})
        out: list[Types] = []
        for t in self.types(path, scope, callee, d):
            if t[0] in ("c", "C"):
                out.append(frozenset({(_INSTANCE[t[0]], *t[1:])}))
            elif t[0] == "f" and t[1] in self.facts:
                ann = self.index(t[1]).returns.get(t[2])
                if ann is not None:
                    out.append(self.ann_types(t[1], ann))
        if isinstance(callee, tuple) and callee and callee[0] == "a":
            for t in self.types(path, scope, callee[1], d):
                out.append(_container_call(t, callee[2]))
        return _union(out)

    # ---- edges --------------------------------------------------------------------------
    def calls(self, parsed: ParsedFile, merged: list[ResolvedCall]) -> list[ResolvedCall]:
        """Edges for one file's calls on declared-typed values that `merged` lacks."""
        f = self.facts.get(parsed.path)
        fs = self.table.files.get(parsed.path)
        if parsed.language != "python" or f is None or fs is None:
            return []
        have = {(c.caller, c.callee_path, c.callee) for c in merged}
        bodies = {cs.body for cs in parsed.calls if cs.body is not None}
        out: list[ResolvedCall] = []

        def add(caller: str, target: tuple[str, str], how: str, conf: float, line: int) -> None:
            key = (caller, target[0], target[1])
            if key not in have:
                have.add(key)
                out.append(ResolvedCall(caller, target[0], target[1], how, conf, line))

        for scope, callee, _, _, line in f.sites:
            sc = f.scopes.get(scope)
            if sc is None or not isinstance(callee, tuple) or not callee:
                continue
            if sc.kind == "function":
                if scope not in fs.functions:
                    continue  # a lambda
                caller = scope
            elif scope in bodies:
                caller = synthetic_caller(scope)
            else:
                continue
            if callee[0] == "a":
                recv = callee[1]
                if (
                    recv
                    and recv[0] in _NAMES
                    and sc.method in ("self", "cls")
                    and sc.params
                    and recv[1] == sc.params[0]
                ):
                    continue  # self.m(): the name layer and the override pass
                for t in self.types(parsed.path, scope, recv):
                    if t[0] in _INSTANCE:
                        self._method(add, caller, t, callee[2], line)
            for t in self.types(parsed.path, scope, callee):
                if t[0] in ("c", "C"):  # a class held in a variable or attribute: constructed
                    self._construct(add, caller, t, line)
        return out

    def _method(self, add: Any, caller: str, t: tuple, name: str, line: int) -> None:
        cls = (t[1], t[2])
        hit = self.table.find_method(cls, name)
        # a declared class whose constructed classes all override `name` never runs its own
        if hit is not None and (
            t[0] not in ("I", "C") or self.overrides.runs_own(cls, name) is not False
        ):
            add(caller, (hit[0][1], hit[0][2]), "annotation", CONFIDENCE, line)
        if t[0] not in ("I", "C"):
            return  # this very class: no override
        below = self.overrides.targets(cls, name)
        if len(below) <= MAX_OVERRIDES:
            for target in below:
                add(caller, target, "override", OVERRIDE_CONFIDENCE, line)

    def _construct(self, add: Any, caller: str, t: tuple, line: int) -> None:
        cls = (t[1], t[2])
        for name in ("__new__", "__init__"):
            hit = self.table.find_method(cls, name)
            if hit is not None and (t[0] != "C" or self.overrides.runs_own(cls, name) is not False):
                add(caller, (hit[0][1], hit[0][2]), "constructor", CONSTRUCTOR_CONFIDENCE, line)
            if t[0] != "C":
                continue
            below = self.overrides.targets(cls, name)
            if len(below) <= MAX_OVERRIDES:
                for target in below:
                    add(caller, target, "constructor", OVERRIDE_CONFIDENCE, line)


def _dotted(e: Any) -> str | None:
    """`Cls`, `mod.Cls` as written, from a facts expression."""
    parts: list[str] = []
    while isinstance(e, tuple) and e and e[0] == "a":
        parts.append(e[2])
        e = e[1]
    if isinstance(e, tuple) and e and e[0] in _NAMES:
        return ".".join([e[1], *reversed(parts)])
    return None


def _item(v: tuple, key: str | None) -> Types:
    """`v[key]`: a collection's item, a mapping's value, a tuple's item at a constant index."""
    if v[0] == "E":
        return v[1]  # type: ignore[no-any-return]
    if v[0] == "M":
        return v[2]  # type: ignore[no-any-return]
    if v[0] == "P":
        if key is not None and key.lstrip("-").isdigit() and int(key) < len(v[1]):
            return v[1][int(key)]  # type: ignore[no-any-return]
        return _union(list(v[1]))
    return _EMPTY


def _iterated(v: tuple) -> Types:
    if v[0] == "E":
        return v[1]  # type: ignore[no-any-return]
    if v[0] == "M":
        return v[1]  # type: ignore[no-any-return]
    return _EMPTY


def _container_call(v: tuple, name: str) -> Types:
    """`d.values()`, `d.items()`, `d.get(k)`, `ls.pop()` on a declared collection."""
    if v[0] == "M":
        keys, values = v[1], v[2]
        if name == "values" and values:
            return frozenset({("E", values)})
        if name == "keys" and keys:
            return frozenset({("E", keys)})
        if name == "items":
            return frozenset({("E", frozenset({("P", (keys, values))}))})
        if name in ("get", "pop", "setdefault"):
            return values  # type: ignore[no-any-return]
    elif v[0] == "E" and name == "pop":
        return v[1]  # type: ignore[no-any-return]
    return _EMPTY
