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
from typing import Any

from graph_service.schema import synthetic_caller
from loaders.code.annotations import Ann
from loaders.code.calls import ResolvedCall, strength
from loaders.code.declared_index import (
    CLASS,
    EMPTY,
    INSTANCE,
    ITERATING,
    NAMES,
    Index,
    Types,
    container_call,
    dotted,
    index_of,
    item,
    iterated,
    ordered,
    union,
)
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
# constructed overrides followed below a declared class; beyond, none. Measured against the calls
# observed in click's, marshmallow's and flask's suites: 0 -> 3 found 18 more, 3 -> 5 five more
# (marshmallow), neither added an edge never observed whose caller ran; 8 added 14 such (click)
# and nothing observed; no cap added 58
MAX_OVERRIDES = 5
_MAX_DEPTH = 40


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
        self._indexes: dict[str, Index] = {}
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
                and callee[0] in NAMES
                and callee[1] in ("isinstance", "issubclass")
                and isinstance(args[1], tuple)
                and args[1][0] == "k"
            }
            checks |= {b[1] for op, _, _, b in f.types if op == "except" and b[0] == "k"}
            for i, (_, items) in enumerate(f.containers):
                if i not in checks:
                    named += [x for _, x in items]
            for e in named:
                written = dotted(e)
                target = self.table.resolve_expr(fs, None, written) if written else None
                if target is not None and target[0] == "class":
                    out.add((target[1], target[2]))
        return out

    def index(self, path: str) -> Index:
        found = self._indexes.get(path)
        if found is None:
            found = self._indexes[path] = index_of(self.facts[path])
        return found

    # ---- declared types -----------------------------------------------------------------
    def ann_types(self, path: str, ann: Ann) -> Types:
        key = (path, ann)
        found = self._ann_memo.get(key)
        if found is not None:
            return found
        self._ann_memo[key] = EMPTY
        out: Types = EMPTY
        kind = ann[0]
        if kind == "T":
            fs = self.table.files.get(path)
            target = self.table.resolve_class(fs, ann[1]) if fs is not None else None
            out = frozenset({("I", target[1], target[2])}) if target is not None else EMPTY
        elif kind == "C":
            out = frozenset(("C", *t[1:]) for t in self.ann_types(path, ann[1]) if t[0] == "I")
        elif kind == "E":
            items = self.ann_types(path, ann[1])
            out = frozenset({("E", items)}) if items else EMPTY
        elif kind == "M":
            keys = self.ann_types(path, ann[1]) if ann[1] is not None else EMPTY
            values = self.ann_types(path, ann[2]) if ann[2] is not None else EMPTY
            out = frozenset({("M", keys, values)}) if keys or values else EMPTY
        elif kind == "U":
            out = union([self.ann_types(path, a) for a in ann[1]])
        self._ann_memo[key] = out
        return out

    # ---- expressions --------------------------------------------------------------------
    def types(self, path: str, scope: str, e: Any, depth: int = 0) -> Types:
        """What the facts expression `e` (in `scope` of `path`) holds, as far as declared."""
        if not isinstance(e, tuple) or not e or depth > _MAX_DEPTH:
            return EMPTY
        key = (path, scope, e)
        found = self._memo.get(key)
        if found is not None:
            return found
        self._memo[key] = EMPTY  # a cycle types nothing
        out = self._types(path, scope, e, depth + 1)
        self._memo[key] = out
        return out

    def _types(self, path: str, scope: str, e: tuple, d: int) -> Types:
        op = e[0]
        if op in NAMES:
            return self.name(path, scope, e[1], e[2] if op == "nv" else None, d)
        if op == "a":
            return union([self.attr(v, e[2], d) for v in ordered(self.types(path, scope, e[1], d))])
        if op == "c":
            return self.result(path, e[1], d)
        if op == "s":
            return union([item(v, e[2]) for v in self.types(path, scope, e[1], d)])
        if op == "u":
            return union([self.types(path, scope, x, d) for x in e[1]])
        if op == "fn":
            return frozenset({("f", path, e[1])})
        if op == "cls":
            return frozenset({("c", path, e[1])})
        if op == "k":
            items = self.facts[path].containers[e[1]][1]
            inner = union([self.types(path, scope, x, d) for _, x in items])
            return frozenset({("E", inner)}) if inner else EMPTY
        return EMPTY

    def name(
        self, path: str, scope: str, name: str, versions: tuple[str, ...] | None, d: int
    ) -> Types:
        f = self.facts[path]
        sc = f.scopes.get(scope)
        if sc is None:
            return EMPTY
        if sc.method in ("self", "cls") and sc.params and name == sc.params[0] and sc.parent:
            return frozenset({("I" if sc.method == "self" else "C", path, sc.parent)})
        idx = self.index(path)
        declared = idx.declared.get((scope, name))
        if declared is not None:
            return self.ann_types(path, declared)
        # a parameter's declared type holds until the name is bound again (`j: K` then
        # `j = other()`: the second `j.save()` is not K's), as value flow follows versions
        param = idx.params.get((scope, name))
        if versions:
            found = [b for v in versions for b in idx.versions.get((scope, v), ())]
            entry = param is not None and f"{name}#0" in versions
        else:
            found = list(idx.binds.get((scope, name), ()))
            entry = param is not None
        if found or entry:
            typed = [self.binding(path, scope, b, d) for b in found]
            return union([*typed, self.ann_types(path, param)] if entry else typed)
        if name in sc.bound and sc.kind != "module":
            return EMPTY  # an import or a binding the facts do not type
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
            return EMPTY
        target = self.table.lookup(path, name)
        if target is not None:
            kind = {"fn": "f", "class": "c"}.get(target[0])
            if kind is not None:
                return frozenset({(kind, target[1], target[2])})
            return frozenset({("m", target[1])}) if target[0] == "module" else EMPTY
        b = fs.bindings.get(name)
        if b is None or b.kind != "symbol" or not b.name:
            return EMPTY
        index = self.table.index
        mod = index.py_resolve(index.py_module_name(path), path, b.module)
        other = index.py_file(mod)
        if other is None or other not in self.facts:
            return EMPTY
        return self.types(other, "", ("n", b.name), d)  # a module variable of another file

    def binding(self, path: str, scope: str, b: tuple, d: int) -> Types:
        kind = b[0]
        if kind == "=":
            return self.types(path, scope, b[1], d)
        if kind == "exc":
            caught = self.types(path, scope, b[1], d)
            classes = [t for t in caught if t[0] in CLASS]
            for t in caught:
                if t[0] == "E":  # `except (A, B) as e`
                    classes += [x for x in t[1] if x[0] in CLASS]
            return frozenset(("I", *t[1:]) for t in classes if t[0] in ("c", "C"))
        if kind == "with":
            return union([self.entered(t, d) for t in ordered(self.types(path, scope, b[1], d))])
        if kind == "at":
            return union([item(v, repr(b[2])) for v in self.types(path, scope, b[1], d)])
        if kind == "for":
            items = union([iterated(v) for v in self.types(path, scope, b[1], d)])
            if b[2] is None:
                return items
            return union([item(v, repr(b[2])) for v in items])
        return EMPTY

    def attr(self, v: tuple, name: str, d: int) -> Types:
        kind = v[0]
        if kind == "m":
            return self.types(v[1], "", ("n", name), d) if v[1] in self.facts else EMPTY
        if kind not in INSTANCE:
            return EMPTY
        cls = (v[1], v[2])
        for k in self.table._mro(cls):
            if k[0] not in self.facts:
                continue
            idx = self.index(k[0])
            declared = idx.declared.get((k[1], name))
            found = idx.binds.get((k[1], name))
            if declared is not None or found:
                # `json_provider_class: type[JSONProvider] = DefaultJSONProvider`: both
                out = union([self.binding(k[0], k[1], b, d) for b in found or ()])
                out = union([self._bound(t, kind) for t in ordered(out)])
                if declared is not None:
                    out = union([out, self.ann_types(k[0], declared)])
                return out
            if kind in ("i", "I"):  # `self.serializer = serializer` in a method
                stored = idx.stored.get((k[1], name))
                if stored:
                    out = union([self.types(k[0], m, v, d) for m, v in stored])
                    if out:
                        return out
        if kind in ("i", "I"):
            typed = self.fields.attr_type(cls, name)
            if typed is not None:
                return frozenset({("I", *typed)})
        return EMPTY

    def _bound(self, t: tuple, kind: str) -> Types:
        """A class attribute read on an instance: a property's declared result."""
        if t[0] == "f" and kind in ("i", "I"):
            sc = self.facts[t[1]].scopes.get(t[2]) if t[1] in self.facts else None
            if sc is not None and sc.property:
                ann = self.index(t[1]).returns.get(t[2])
                return self.ann_types(t[1], ann) if ann is not None else EMPTY
        return frozenset({t})

    def result(self, path: str, site: int, d: int) -> Types:
        """What call site `site` returns: a class's instance, a function's declared result."""
        scope, callee, args, _, _ = self.facts[path].sites[site]
        if isinstance(callee, tuple) and callee and args:
            spelled = callee[1] if callee[0] in NAMES else callee[2] if callee[0] == "a" else ""
            if spelled == "cast":  # typing.cast(X, v)
                return frozenset(
                    ("I", *t[1:]) for t in self.types(path, scope, args[0], d) if t[0] in ("c", "C")
                )
            if spelled == "type" and callee[0] in NAMES and len(args) == 1:
                return frozenset(
                    ("C", *t[1:]) for t in self.types(path, scope, args[0], d) if t[0] in ("i", "I")
                )
        if isinstance(callee, tuple) and callee and callee[0] in NAMES and args:
            wrap = ITERATING.get(callee[1])
            if wrap is not None and not self.index(path).binds.get((scope, callee[1])):
                items = union([iterated(v) for v in self.types(path, scope, args[0], d)])
                if not items:
                    return EMPTY
                if wrap == "enumerate":
                    items = frozenset({("P", (EMPTY, items))})
                return frozenset({("E", items)})
        out: list[Types] = []
        for t in ordered(self.types(path, scope, callee, d)):
            if t[0] in ("c", "C"):
                out.append(frozenset({(INSTANCE[t[0]], *t[1:])}))
            elif t[0] == "f" and t[1] in self.facts:
                ann = self.index(t[1]).returns.get(t[2])
                if ann is not None:
                    out.append(self.ann_types(t[1], ann))
        if isinstance(callee, tuple) and callee and callee[0] == "a":
            for t in ordered(self.types(path, scope, callee[1], d)):
                out.append(container_call(t, callee[2]))
                out.append(self.returns_self(t, callee[2]))
        return union(out)

    def returns_self(self, t: tuple, name: str) -> Types:
        """`t.name()` where the method declares `-> Self`: the receiver's own type."""
        if t[0] not in ("i", "I"):
            return EMPTY
        hit = self.table.find_method((t[1], t[2]), name)
        if hit is None or hit[0][1] not in self.facts:
            return EMPTY
        ann = self.index(hit[0][1]).returns.get(hit[0][2])
        if ann is not None and ann[0] == "T" and ann[1].rpartition(".")[2] == "Self":
            return frozenset({t})
        return EMPTY

    def entered(self, t: tuple, d: int) -> Types:
        """What `with t as x` binds: `t.__enter__()`'s declared result."""
        if t[0] not in ("i", "I"):
            return EMPTY
        own = self.returns_self(t, "__enter__")
        if own:
            return own
        hit = self.table.find_method((t[1], t[2]), "__enter__")
        if hit is None or hit[0][1] not in self.facts:
            return EMPTY
        ann = self.index(hit[0][1]).returns.get(hit[0][2])
        return self.ann_types(hit[0][1], ann) if ann is not None else EMPTY

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
        # one site's readings: a receiver of several types may reach one method as one type's
        # own (`annotation`) and as an override below another (`override`): the strongest wins
        site: dict[tuple[str, str, str], ResolvedCall] = {}

        def add(caller: str, target: tuple[str, str], how: str, conf: float, line: int) -> None:
            key = (caller, target[0], target[1])
            if key not in have:
                new = ResolvedCall(caller, target[0], target[1], how, conf, line)
                old = site.get(key)
                if old is None or strength(new) < strength(old):
                    site[key] = new

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
                    and recv[0] in NAMES
                    and sc.method in ("self", "cls")
                    and sc.params
                    and recv[1] == sc.params[0]
                ):
                    continue  # self.m(): the name layer and the override pass
                for t in ordered(self.types(parsed.path, scope, recv)):
                    if t[0] in INSTANCE:
                        self._method(add, caller, t, callee[2], line)
            for t in ordered(self.types(parsed.path, scope, callee)):
                if t[0] in ("c", "C"):  # a class held in a variable or attribute: constructed
                    self._construct(add, caller, t, line)
            for key, c in site.items():
                have.add(key)
                out.append(c)
            site.clear()
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
