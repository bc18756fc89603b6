"""Python value flow: a repository-wide, flow-insensitive assignment graph solved to a fixed point.

The design of PyCG (Salis et al., ICSE 2021) over the facts of `loaders.code.flow_facts`: every
name, attribute, container slot, parameter and return value points to a set of values
(functions, classes, modules, instances of a class, bound methods, containers), propagated
through assignments, returns, arguments (positional and keyword), `with`/`for` bindings,
decorators, imports (`*` included) and attribute stores until nothing grows. Methods are looked
up in C3 order. A call site then calls whatever its callee expression points to; calls that no
call expression spells (`raise A` -> `A.__init__`, `for x in c` -> `__iter__`/`__next__`,
`with c` -> `__enter__`/`__exit__`, a property read, a constructor) are `implicit` edges, a
decorator application a `decorator` edge, the rest `value_flow`.

Context-insensitive like PyCG, with one refinement: a function that returns one of its
parameters unchanged (an identity decorator) returns each call's own argument, not the union of
every argument it was ever given.
"""

from __future__ import annotations

import builtins
import logging
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from loaders.code import flow_protocols as proto
from loaders.code.flow_facts import FlowFacts, Scope
from loaders.code.modules import ModuleIndex
from loaders.code.resolve import c3_merge

logger = logging.getLogger(__name__)

__all__ = ["FlowEdge", "FlowResult", "solve_flow"]

# ("f"|"c"|"i", path, qual): function, class, instance · ("m", path) a module ·
# ("b", path, qual, ipath, iqual) a method bound to an instance · ("k", path, n) a container ·
# ("S", path, class) what `super()` returns in a method of `class` ·
# ("x", qualname, how) a symbol outside the repository (`requests.post`, `<builtin>.len`), how it
# was reached: import, builtin, inherited (an external base class's attribute), instance ·
# ("X", qualname) an instance of an external class
Value = tuple
_MAX_VALUES = 8  # values a variable may hold; beyond, it holds "anything" (_TOP)
_MAX_ROUNDS = 40
_MAX_FANOUT = 8  # a call site that may reach more callables than this is left unresolved
_CALLABLE = frozenset("fbci")
_EMPTY: frozenset[Value] = frozenset()
_TOP: Value = ("*",)  # any value: calls on it resolve to nothing, and it spreads as itself
Values = AbstractSet[Value]
_HIGHER_ORDER = frozenset({"map", "filter", "sorted", "min", "max"})
BUILTIN = "<builtin>"  # prefix of builtins' qualified names (PyCG's naming)
_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))
# bases that add no methods a subclass calls on itself (markers, typing constructs): a name a
# class of the repository lacks is not theirs
_MARKER_BASES = frozenset(
    {
        f"{BUILTIN}.object",
        "abc.ABC",
        "typing.Generic",
        "typing.Protocol",
        "typing_extensions.Protocol",
        "typing.NamedTuple",
        "typing.TypedDict",
        "typing_extensions.TypedDict",
    }
)
_EXT_DEPTH = 6  # dots in an external name: `x = x.parent` in a loop must not grow forever


class _Store(dict[Any, set[Value]]):
    """A value store that notes which units (a file's scope: its module code, a class body, a
    function) read each entry, present or not: a unit is solved again only when an entry it
    read grew."""

    __slots__ = ("deps", "reader")

    def __init__(self) -> None:
        super().__init__()
        self.deps: dict[object, set[tuple[str, str]]] = {}  # key -> units that read it
        self.reader: tuple[str, str] | None = None  # the unit being solved

    def get(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        reader = self.reader
        if reader is not None:
            found = self.deps.get(key)
            if found is None:
                self.deps[key] = {reader}
            else:
                found.add(reader)
        return dict.get(self, key, default)


@dataclass(slots=True)
class FlowEdge:
    caller_path: str
    caller: str  # scope qualname ("" module, a class, a function or lambda)
    callee_path: str  # "" for a symbol outside the repository (callee: its qualified name)
    callee: str
    resolution: str  # value_flow, implicit, decorator, constructor
    line: int
    fanout: int  # how many targets the call site had


def _param_returned(e: object, scope: Scope | None) -> bool:
    """`return p` where p is a parameter not rebound before: the caller's own argument."""
    if scope is None or not isinstance(e, tuple) or not e or e[0] != "nv":
        return False
    return e[1] in scope.params and e[2] == (f"{e[1]}#0",)


class _Solver:
    def __init__(self, index: ModuleIndex, facts: dict[str, FlowFacts]) -> None:
        self.index = index
        self.facts = facts
        self.dirty: dict[str, set[str]] = {}  # file -> its units (scopes) to solve again
        self.star_deps: dict[str, set[tuple[str, str]]] = defaultdict(set)  # module -> `*` units
        self.vars = _Store()  # (path, scope, name)
        self.attrs = _Store()  # ((kind, path, ...), name)
        self.rets = _Store()  # (path, qual)
        self.site_res = _Store()  # (path, site)
        self.stores = (self.vars, self.attrs, self.rets, self.site_res)
        self.parents: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.ext_bases: dict[tuple[str, str], list[str]] = {}  # class -> external bases
        self.tops = {dotted.partition(".")[0] for dotted in index.py}  # in-repo top packages
        self.no_builtins: dict[str, set[str]] = defaultdict(set)  # path -> `global` names
        self.mro_cache: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.mro_readers: dict[tuple[str, str], set[tuple[str, str]]] = {}  # class -> units
        self.passthrough: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.globals: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.lookup_cache: dict[tuple[str, str, str], tuple[str, str, str]] = {}
        self.changed = False
        self.assigned_attrs: set[str] | None = None  # attribute names any code assigns
        # per file, per item (import, container, statement, call site): its latest solve's edges
        self.edges: dict[str, dict[int, list[FlowEdge]]] = {}
        self.current: list[FlowEdge] | None = None
        self.where: tuple[str, str, int] = ("", "", 0)
        self._prepare()
        self._compile()
        self._sequence()
        self.files_in_order = self.order()

    # ---- setup --------------------------------------------------------------------------
    def _prepare(self) -> None:
        for path, f in self.facts.items():
            for op, scope, a, _ in f.stmts:
                if op == "global":
                    self.globals[(path, scope)].update(a)
                    self.no_builtins[path].update(a)
                elif op == "ret" and _param_returned(a, f.scopes.get(scope)):
                    self.passthrough[(path, scope)].add(a[1])
            if any(name == "*" for _, _, _, name, _ in f.imports):
                self.no_builtins[path] = set(_BUILTINS)  # any free name may come from there
            for qual, sc in f.scopes.items():
                if sc.kind == "function" and sc.method in ("self", "cls") and sc.params:
                    cls = sc.parent or ""
                    tag = "i" if sc.method == "self" else "c"
                    self.vars[(path, qual, sc.params[0])] = {(tag, path, cls)}
                    self.vars[(path, qual, sc.params[0] + "#0")] = {(tag, path, cls)}

    def compiled(self, path: str, scope: str, e: object) -> object:
        """`e` with its names resolved to variable keys once: ("V", key) every binding,
        ("VV", keys) the bindings that reach; constants folded to ("K", values)."""
        if not isinstance(e, tuple) or not e:
            return e
        op = e[0]
        if op == "n":
            key = self.var(path, scope, e[1])
            if key[1] == "" and self.is_builtin(path, e[1]):
                return ("K", frozenset({("x", f"{BUILTIN}.{e[1]}", "builtin")}))
            return ("V", key)
        if op == "nv":
            key = self.var(path, scope, e[1])
            return ("VV", tuple((key[0], key[1], v) for v in e[2]))
        if op == "a":
            return ("a", self.compiled(path, scope, e[1]), e[2])
        if op == "s":
            return ("s", self.compiled(path, scope, e[1]), e[2])
        if op == "sl":
            return ("sl", self.compiled(path, scope, e[1]), e[2], e[3])
        if op == "u":
            return ("u", tuple(self.compiled(path, scope, x) for x in e[1]))
        if op == "fn":
            return ("K", frozenset({("f", path, e[1])}))
        if op == "cls":
            return ("K", frozenset({("c", path, e[1])}))
        if op == "k":
            return ("K", frozenset({("k", path, e[1])}))
        if op == "d":
            return ("d", e[1], tuple(self.compiled(path, scope, x) for x in e[2]))
        if op == "inst":
            return ("inst", self.compiled(path, scope, e[1]))
        return e

    def target(self, path: str, scope: str, t: object) -> object:
        if not isinstance(t, tuple) or not t:
            return t
        if t[0] == "n":
            key = self.var(path, scope, t[1])
            return ("T", key, (key[0], key[1], t[2]) if len(t) > 2 else None)
        if t[0] in ("a", "s"):
            return (t[0], self.compiled(path, scope, t[1]), t[2])
        if t[0] == "t":
            return ("t", tuple(self.target(path, scope, x) for x in t[1]))
        if t[0] == "*":
            return ("*", self.target(path, scope, t[1]))
        return t

    def _compile(self) -> None:
        """Per file, the facts with names resolved; definitions bound once, not every round."""
        self.program: dict[str, tuple[list, list, list]] = {}
        self.stmt_index: dict[str, list[int]] = {}  # per file: fact stmt -> program stmt (-1)
        for path, f in self.facts.items():
            stmts: list[tuple] = []
            index = self.stmt_index[path] = []
            for op, scope, a, b in f.stmts:
                index.append(len(stmts))
                if op == "=":
                    t, v = self.target(path, scope, a), self.compiled(path, scope, b)
                    if (
                        isinstance(v, tuple)
                        and v[0] == "K"
                        and isinstance(t, tuple)
                        and t[0] == "T"
                    ):
                        self.assign(path, scope, t, set(v[1]))
                        index[-1] = -1
                        continue
                    stmts.append((op, scope, t, v))
                elif op in ("for", "with"):
                    t = self.target(path, scope, a)
                    stmts.append((op, scope, t, self.compiled(path, scope, b)))
                elif op == "bases":
                    stmts.append((op, scope, a, tuple(self.compiled(path, scope, x) for x in b)))
                elif op == "param":
                    stmts.append((op, scope, a, self.compiled(path, scope, b)))
                elif op == "global" or (op == "ret" and _param_returned(a, f.scopes[scope])):
                    index[-1] = -1
                    continue
                else:
                    stmts.append((op, scope, self.compiled(path, scope, a), b))
            sites = [
                (
                    scope,
                    self.compiled(path, scope, callee),
                    tuple(self.compiled(path, scope, x) for x in args),
                    tuple((k, self.compiled(path, scope, x)) for k, x in kws),
                    line,
                    callee,
                )
                for scope, callee, args, kws, line in f.sites
            ]
            containers = [
                (scope, tuple((k, self.compiled(path, scope, x)) for k, x in items))
                for scope, items in f.containers
            ]
            self.program[path] = (stmts, sites, containers)

    def _sequence(self) -> None:
        """Each file's items in the order a pass solves them: imports, then containers,
        statements and call sites in the order Python runs them in straight-line code (a call's
        result is there when the assignment that takes it is solved); with their unit (scope)
        and whether it is the unit's first item."""
        self.items: dict[str, list[tuple[int, str, int, bool]]] = {}
        self.units: dict[str, set[str]] = {}
        for path, f in self.facts.items():
            stmts, sites, containers = self.program[path]
            seq = [(0, imp[0], i) for i, imp in enumerate(f.imports)]
            index = self.stmt_index[path]
            for kind, i in f.order:
                if kind == 2:
                    j = index[i]
                    if j >= 0:
                        seq.append((2, stmts[j][1], j))
                elif kind == 3:
                    seq.append((3, sites[i][0], i))
                else:
                    seq.append((1, containers[i][0], i))
            seen: set[str] = set()
            out = []
            for kind, scope, i in seq:
                out.append((kind, scope, i, scope not in seen))
                seen.add(scope)
            self.items[path] = out
            self.units[path] = seen
        self.dirty_all()

    def dirty_all(self) -> None:
        for path, units in self.units.items():
            self.dirty.setdefault(path, set()).update(units)

    def mark(self, units: Iterable[tuple[str, str]]) -> None:
        dirty = self.dirty
        for path, scope in units:
            found = dirty.get(path)
            if found is None:
                dirty[path] = {scope}
            else:
                found.add(scope)

    def add(self, store: _Store, key: tuple, values: Iterable[Value]) -> None:
        s = dict.get(store, key)
        if s is None:
            s = store[key] = set()
        if _TOP in s:
            return
        n = len(s)
        s.update(values)
        if len(s) > _MAX_VALUES or (_TOP in s and len(s) > 1):
            s.clear()  # too many to be of use: "anything" from here on
            s.add(_TOP)
        if len(s) != n or _TOP in s:  # grew, or became "anything" (it was not before)
            self.changed = True
            readers = store.deps.get(key)
            if readers:
                self.mark(readers)
            if store is self.vars and key[1] == "":
                readers = self.star_deps.get(key[0])
                if readers:
                    self.mark(readers)

    # ---- names --------------------------------------------------------------------------
    def var(self, path: str, scope: str, name: str) -> tuple[str, str, str]:
        key = (path, scope, name)
        found = self.lookup_cache.get(key)
        if found is not None:
            return found
        scopes = self.facts[path].scopes
        s: str | None = scope
        first = True
        while s is not None:
            sc = scopes.get(s)
            if sc is None:
                break
            if (
                (first or sc.kind != "class")
                and name in sc.bound
                and name not in self.globals.get((path, s), ())
            ):
                found = (path, s, name)
                break
            first = False
            s = sc.parent
        if found is None:
            found = (path, "", name)
        self.lookup_cache[key] = found
        return found

    def outside(self, dotted: str) -> bool:
        """A module no file of the repository can be (its top-level package is not ours)."""
        return dotted.partition(".")[0] not in self.tops

    def is_builtin(self, path: str, name: str) -> bool:
        """A free name of the file that only Python's builtins define (not shadowed)."""
        return (
            name in _BUILTINS
            and name not in self.facts[path].scopes[""].bound
            and name not in self.no_builtins.get(path, ())
        )

    # ---- modules and classes ------------------------------------------------------------
    def module(self, dotted: str | None) -> Value | None:
        f = self.index.py_file(dotted)
        return ("m", f) if f and f in self.facts else None

    def import_value(self, path: str, module: str, name: str | None) -> set[Value]:
        mod = self.index.py_resolve(self.index.py_module_name(path), path, module)
        if mod is not None and not module.startswith(".") and self.outside(mod):
            return {("x", mod if name is None else f"{mod}.{name}", "import")}
        if name is None:
            m = self.module(mod)
            return {m} if m else set()
        if mod is None:
            return set()
        sub = self.module(f"{mod}.{name}")
        if sub is not None:
            return {sub}
        m = self.module(mod)
        return self.attr(m, name) if m else set()

    def mro(self, cls: tuple[str, str]) -> list[tuple[str, str]]:
        """C3 order; the unit being solved is noted as a reader of every class in it (a change
        of one's bases solves it again)."""
        found = self.mro_cache.get(cls)
        if found is None:
            self.mro_cache[cls] = [cls]
            parents = self.parents.get(cls, [])
            order = c3_merge([cls], [self.mro(p) for p in parents] + [list(parents)])
            found = self.mro_cache[cls] = order if order is not None else [cls]
        reader = self.vars.reader
        if reader is not None:
            for k in found:
                readers = self.mro_readers.get(k)
                if readers is None:
                    self.mro_readers[k] = {reader}
                else:
                    readers.add(reader)
        return found

    def class_attr(self, cls: tuple[str, str], name: str) -> tuple[tuple[str, str], set[Value]]:
        """(defining class, values) of a class attribute, first in C3 order."""
        for k in self.mro(cls):
            vals = self.vars.get((k[0], k[1], name))
            if vals:
                return k, vals
        return cls, set()

    def method(self, cls: tuple[str, str], name: str) -> Value | None:
        """The function a class attribute holds; of several (`__iter__ = a if c else b`), the
        first by (path, qualname): not the set's order, which follows string hashing."""
        _, vals = self.class_attr(cls, name)
        return min((v for v in vals if v[0] == "f"), default=None)

    def ext_attr(self, cls: tuple[str, str], name: str) -> Value | None:
        """An attribute no in-repository class of `cls`'s MRO defines, named after the first
        external base class in that order (`class A(ext.Base)`: `self.f()` -> `ext.Base.f`)."""
        for k in self.mro(cls):
            for q in self.ext_bases.get(k, ()):
                return ("x", f"{q}.{name}", "inherited")
        return None

    # ---- values -------------------------------------------------------------------------
    def attr(self, v: Value, name: str) -> set[Value]:
        kind = v[0]
        if kind == "x" or kind == "X":
            q = f"{v[1]}.{name}"
            if q.count(".") > _EXT_DEPTH:
                return set()
            return {("x", q, "instance" if kind == "X" else v[2])}
        if kind == "m":
            out = set(self.vars.get((v[1], "", name), ()))
            mod = self.index.py_module_name(v[1])
            sub = self.module(f"{mod}.{name}") if mod else None
            if sub is not None:
                out.add(sub)
            return out
        if kind == "c":
            found = set(self.class_attr((v[1], v[2]), name)[1])
            for held in [h for h in found if h[0] == "i"]:
                got = proto.descriptor_get(self, held, v)
                if got is not None:
                    found.discard(held)
                    found |= got
            if not found and self.ext_bases:
                ext = self.ext_attr((v[1], v[2]), name)
                return {ext} if ext is not None else found
            return found
        if kind == "i":
            cls = (v[1], v[2])
            out = set()
            for k in self.mro(cls):
                out |= self.attrs.get((("c", k[0], k[1]), name), set())
            _, vals = self.class_attr(cls, name)
            for f in vals:
                if f[0] != "f":
                    got = proto.descriptor_get(self, f, v) if f[0] == "i" else None
                    out |= got if got is not None else {f}
                    continue
                sc = self.facts[f[1]].scopes.get(f[2])
                if sc is not None and sc.property:
                    self.edge(f, "implicit", 1)
                    out |= self.rets.get((f[1], f[2]), set())
                elif sc is not None and sc.method in ("self", "cls"):
                    out.add(("b", f[1], f[2], v[1], v[2]))
                else:
                    out.add(f)
            if not out and not vals:
                ext = self.ext_attr(cls, name) if self.ext_bases else None
                if ext is not None:
                    out.add(ext)
                elif not proto.assigned(self, name):  # defined nowhere: `__getattr__` answers
                    out |= proto.use(self, {v}, ("__getattr__",))
            return out
        if kind == "S":  # super(): the classes after v's class in C3 order
            for k in self.mro((v[1], v[2]))[1:]:
                found = self.vars.get((k[0], k[1], name))
                if found:
                    return {("b", f[1], f[2], v[1], v[2]) if f[0] == "f" else f for f in found}
        return set()

    def iterate(self, vals: Iterable[Value]) -> set[Value]:
        """What `for x in vals` binds x to (and the implicit __iter__/__next__ calls)."""
        out: set[Value] = set()
        for v in vals:
            if v[0] == "k":
                out |= self.attrs.get((v, None), set())
            elif v[0] == "i":
                it = self.method((v[1], v[2]), "__iter__")
                iters = {v}
                if it is not None:
                    self.edge(it, "implicit", 1)
                    iters = self.rets.get((it[1], it[2]), set()) or {v}
                for i in iters:
                    nxt = self.method((i[1], i[2]), "__next__") if i[0] == "i" else None
                    if nxt is not None:
                        self.edge(nxt, "implicit", 1)
                        out |= self.rets.get((nxt[1], nxt[2]), set())
            elif v[0] in "fbcm":
                out.add(v)  # a generator's yielded values are its return values
        return out

    def eval(self, path: str, scope: str, e: object) -> Values:
        if e is None:
            return _EMPTY
        op = e[0]  # type: ignore[index]
        if op == "VV":
            keys = e[1]  # type: ignore[index]
            if len(keys) == 1:
                return self.vars.get(keys[0], _EMPTY)
            out: set[Value] = set()
            for k in keys:
                out |= self.vars.get(k, _EMPTY)
            return out
        if op == "V":
            return self.vars.get(e[1], _EMPTY)  # type: ignore[index]
        if op == "a":
            out = set()
            for v in self.eval(path, scope, e[1]):  # type: ignore[index]
                out |= self.attr(v, e[2])  # type: ignore[index]
            return out
        if op == "c":
            return self.site_res.get((path, e[1]), _EMPTY)  # type: ignore[index]
        if op == "K":
            return e[1]  # type: ignore[index,no-any-return]
        assert isinstance(e, tuple)
        if op == "nv":
            key = self.var(path, scope, e[1])
            if len(e[2]) == 1:
                return self.vars.get((key[0], key[1], e[2][0]), set())
            out = set()
            for v in e[2]:
                out |= self.vars.get((key[0], key[1], v), set())
            return out
        if op == "n":
            return self.vars.get(self.var(path, scope, e[1]), set())
        if op == "a":
            out = set()
            for v in self.eval(path, scope, e[1]):
                out |= self.attr(v, e[2])
            return out
        if op == "c":
            return self.site_res.get((path, e[1]), set())
        if op == "s":
            out = set()
            for v in self.eval(path, scope, e[1]):
                if v[0] == "k":
                    hit = self.attrs.get((v, e[2])) if e[2] is not None else None
                    out |= hit if hit else self.attrs.get((v, None), set())
                elif v[0] == "i":
                    out |= proto.use(self, {v}, ("__getitem__",))
                elif v[0] == "c":
                    out.add(v)  # `Base[T]`: a generic alias, called or read as the class
            return out
        if op == "sl":
            return self.sliced(self.eval(path, scope, e[1]), e[2], e[3])
        if op == "k":
            return {("k", path, e[1])}
        if op == "u":
            out = set()
            for x in e[1]:
                out |= self.eval(path, scope, x)
            return out
        if op == "fn":
            return {("f", path, e[1])}
        if op == "cls":
            return {("c", path, e[1])}
        if op == "d":
            return self.decorated(path, scope, e)
        if op == "inst":  # a declared class: an instance of it
            return {("i", v[1], v[2]) for v in self.eval(path, scope, e[1]) if v[0] == "c"}
        if op == "sup":
            sc = self.facts[path].scopes.get(scope)
            cls = sc.parent if sc is not None and sc.method else None
            return {("S", path, cls)} if cls is not None else set()
        return set()

    def sliced(self, vals: Values, lower: int | None, upper: int | None) -> set[Value]:
        """`ls[1:3]`: a new container; a literal's items keep their values at their new
        indices, any other container's values fill every slot."""
        out: set[Value] = set()
        for v in vals:
            if v[0] != "k" or isinstance(v[2], tuple):
                continue
            new = ("k", v[1], (v[2], lower, upper))
            everything = self.attrs.get((v, None), _EMPTY)
            if everything:
                self.add(self.attrs, (new, None), everything)
            literal = self.program[v[1]][2] if 0 <= v[2] < len(self.program[v[1]][2]) else None
            items = literal[v[2]][1] if literal is not None else ()
            if items and all(k == repr(i) for i, (k, _) in enumerate(items)):
                for j, i in enumerate(range(len(items))[lower:upper]):
                    found = self.attrs.get((v, repr(i)), _EMPTY)
                    if found:
                        self.add(self.attrs, (new, repr(j)), found)
            out.add(new)
        return out

    def decorated(self, path: str, scope: str, e: tuple) -> Values:
        qual = e[1]
        sc = self.facts[path].scopes.get(qual)
        cur: Values = {("c" if sc is not None and sc.kind == "class" else "f", path, qual)}
        for deco in e[2]:
            dv = self.eval(path, scope, deco)
            for v in dv:
                if v[0] == "x" and v[2] != "builtin":  # `@functools.lru_cache`: a call
                    self.ext_edge(v[1], "decorator", 1)
            if not any(v[0] in _CALLABLE for v in dv):
                continue  # not ours (property, app.route(...), functools.wraps, ...): unchanged
            cur = self.call(path, dv, [cur], {}, "decorator") or cur
        return cur

    # ---- calls --------------------------------------------------------------------------
    def edge(self, fn: Value, how: str, fanout: int) -> None:
        if self.current is not None:
            path, scope, line = self.where
            self.current.append(FlowEdge(path, scope, fn[1], fn[2], how, line, fanout))

    def ext_edge(self, qualname: str, how: str, fanout: int) -> None:
        if self.current is not None:
            path, scope, line = self.where
            self.current.append(FlowEdge(path, scope, "", qualname, how, line, fanout))

    def call(
        self,
        path: str,
        callee: Values,
        args: list[Values],
        kws: dict[str, Values],
        how: str,
    ) -> set[Value]:
        out: set[Value] = set()
        fanout = sum(1 for v in callee if v[0] in _CALLABLE or v[0] == "x")
        if fanout > _MAX_FANOUT or _TOP in callee:
            return out  # too many candidates: no edge (and nothing flows) rather than guesses
        for v in callee:
            kind = v[0]
            if kind == "f":
                out |= self.invoke(v, None, args, kws, how, fanout)
            elif kind == "b":
                recv = ("i", v[3], v[4])
                out |= self.invoke(("f", v[1], v[2]), recv, args, kws, how, fanout)
            elif kind == "c":
                inst = ("i", v[1], v[2])
                constructed = False
                for name in ("__new__", "__init__"):
                    m = self.method((v[1], v[2]), name)
                    if m is not None:
                        constructed = True
                        implicit = "constructor" if how == "value_flow" else how
                        self.invoke(m, inst, args, kws, implicit, fanout)
                if not constructed and self.ext_bases:
                    ext = self.ext_attr((v[1], v[2]), "__init__")
                    if ext is not None:  # an external base class's constructor runs
                        self.ext_edge(ext[1], "constructor", fanout)
                out.add(inst)
            elif kind == "x":
                self.ext_edge(v[1], v[2], fanout)
                if _class_like(v[1]) and v[2] != "builtin":
                    out.add(("X", v[1]))  # `ext.Cls()`: an instance of it
            elif kind == "i":
                m = self.method((v[1], v[2]), "__call__")
                if m is not None:
                    out |= self.invoke(m, v, args, kws, "implicit", fanout)
        return out

    def invoke(
        self,
        fn: Value,
        recv: Value | None,
        args: list[Values],
        kws: dict[str, Values],
        how: str,
        fanout: int,
    ) -> set[Value]:
        path, qual = fn[1], fn[2]
        facts = self.facts.get(path)
        sc: Scope | None = facts.scopes.get(qual) if facts else None
        if sc is None or sc.kind != "function":
            return set()
        self.edge(fn, how, fanout)
        params = sc.params
        offset = 0
        if recv is not None and sc.method in ("self", "cls") and params:
            offset = 1
            bound = recv if sc.method == "self" else ("c", recv[1], recv[2])
        given: dict[str, Values] = {}
        if offset:
            given[params[0]] = {bound}
        for i, a in enumerate(args):
            if a and i + offset < len(params):
                given[params[i + offset]] = a
        for name, a in kws.items():
            if a and name in params:
                given[name] = a
        for name, a in given.items():
            self.add(self.vars, (path, qual, name), a)
            self.add(self.vars, (path, qual, name + "#0"), a)
        out = set(self.rets.get((path, qual), ()))
        for name in self.passthrough.get((path, qual), ()):
            out |= given.get(name, set())
        return out

    def rebound(self) -> set[tuple[str, str]]:
        out = set()
        for path, f in self.facts.items():
            for op, scope, a, b in f.stmts:
                if op == "=" and b is not None and b[0] == "d" and len(a) > 2:
                    key = self.var(path, scope, a[1])
                    vals = self.vars.get((key[0], key[1], a[2]), set())
                    if vals and not any(v[1:3] == (path, b[1]) for v in vals):
                        out.add((path, b[1]))
        return out

    # ---- one round over every fact -------------------------------------------------------
    def order(self) -> list[str]:
        """Files with what they import first (fewer rounds to the fixed point)."""
        deps: dict[str, list[str]] = {}
        for path, f in self.facts.items():
            me = self.index.py_module_name(path)
            found = []
            for _, _, module, name, _ in f.imports:
                mod = self.index.py_resolve(me, path, module)
                for dotted in (f"{mod}.{name}", mod) if name and name != "*" else (mod,):
                    dep = self.index.py_file(dotted)
                    if dep in self.facts and dep != path:
                        found.append(dep)
                        break
            deps[path] = found
        out: list[str] = []
        seen: set[str] = set()
        for start in sorted(deps):
            stack = [(start, iter(deps[start]))]
            if start in seen:
                continue
            seen.add(start)
            while stack:
                node, it = stack[-1]
                nxt = next((d for d in it if d not in seen), None)
                if nxt is None:
                    stack.pop()
                    out.append(node)
                else:
                    seen.add(nxt)
                    stack.append((nxt, iter(deps[nxt])))
        return out

    def round(self, only_dirty: bool) -> None:
        """One pass over the files in order, each file's items in order: every item, or the
        items of units an entry they read grew since they were last solved (an item whose reads
        are unchanged would add nothing and make the same edges). A unit found dirty at its
        first item is solved from there to the file's end and is clean again (unless an entry
        it read grows meanwhile); found dirty later, its earlier items wait for the next pass,
        so it stays dirty. The items solved are thus a subsequence, in the same order, of what
        full rounds solve, and the fixed point is the same."""
        for path in self.files_in_order:
            dirty = self.dirty.setdefault(path, set())
            if only_dirty and not dirty:
                continue
            f = self.facts[path]
            stmts, sites, containers = self.program[path]
            edges = self.edges.setdefault(path, {})
            active: set[str] = set()
            reader: tuple[str, str] | None = None
            for n, (kind, scope, i, first) in enumerate(self.items[path]):
                if scope not in active:
                    if only_dirty and scope not in dirty:
                        continue
                    active.add(scope)
                    if first:
                        dirty.discard(scope)
                if reader is None or reader[1] != scope:
                    reader = (path, scope)
                    for store in self.stores:
                        store.reader = reader
                self.current = edges[n] = []
                if kind == 2:
                    self.solve_stmt(path, f, stmts[i])
                elif kind == 3:
                    self.solve_site(path, i, sites[i])
                elif kind == 1:
                    self.solve_container(path, f, i, containers[i])
                else:
                    self.solve_import(path, f, f.imports[i])
        for store in self.stores:
            store.reader = None
        self.current = None

    def solve_import(self, path: str, f: FlowFacts, imp: tuple) -> None:
        scope, local, module, name, version = imp
        self.where = (path, scope, f.scopes[scope].line)
        if name == "*":
            self.star(path, scope, module)
            return
        vals: Values = self.import_value(path, module, name)
        if vals:
            key = self.var(path, scope, local)
            self.add(self.vars, key, vals)
            if version:
                self.add(self.vars, (key[0], key[1], version), vals)

    def solve_container(self, path: str, f: FlowFacts, i: int, container: tuple) -> None:
        scope, items = container
        self.where = (path, scope, f.scopes[scope].line)  # a property read in an item
        k = ("k", path, i)
        for key, item in items:
            vals = self.eval(path, scope, item)
            if vals:
                self.add(self.attrs, (k, None), vals)
                if key is not None:
                    self.add(self.attrs, (k, key), vals)

    def solve_stmt(self, path: str, f: FlowFacts, stmt: tuple) -> None:
        op, scope, a, b = stmt
        self.where = (path, scope, f.scopes[scope].line)
        if op == "=":
            self.assign(path, scope, a, self.eval(path, scope, b))
        elif op == "ret" or op == "yield":
            self.add(self.rets, (path, scope), self.eval(path, scope, a))
        elif op == "yfrom":
            self.add(self.rets, (path, scope), self.iterate(self.eval(path, scope, a)))
        elif op == "for":
            self.assign(path, scope, a, self.iterate(self.eval(path, scope, b)))
        elif op == "with":
            self.with_(path, scope, a, self.eval(path, scope, b))
        elif op == "use":
            proto.use(self, self.eval(path, scope, a), b)
        elif op == "raise":
            self.where = (path, scope, b)
            for v in self.eval(path, scope, a):
                if v[0] == "c":
                    self.call(path, {v}, [], {}, "implicit")
        elif op == "param":
            vals = self.eval(path, scope, b)
            self.add(self.vars, (path, a[0], a[1]), vals)
            self.add(self.vars, (path, a[0], a[1] + "#0"), vals)
        elif op == "bases":
            parents = []
            ext = []
            for base in b:
                vals = self.eval(path, scope, base)
                found = [v for v in vals if v[0] == "c"]
                if len(found) == 1:
                    parents.append((found[0][1], found[0][2]))
                elif not found and len(vals) == 1:
                    ext += [v[1] for v in vals if v[0] == "x" and v[1] not in _MARKER_BASES]
            cls_key = (path, a)
            if self.ext_bases.get(cls_key, []) != ext:
                self.ext_bases[cls_key] = ext
                self.changed = True
                self.mark(self.mro_readers.get(cls_key, ()))
            if self.parents.get(cls_key, []) != parents:
                self.parents[cls_key] = parents
                self.mro_cache.clear()
                self.changed = True
                # lookups through this class may go another way now
                self.mark(self.mro_readers.get(cls_key, ()))

    def solve_site(self, path: str, i: int, site: tuple) -> None:
        scope, callee, args, kws, line, written = site
        self.where = (path, scope, line)
        cv = self.eval(path, scope, callee)
        if not cv:
            if written and written[0] == "a" and written[2] in proto.CONTAINER_METHODS:
                owners = self.eval(path, scope, callee[1])
                argv = [self.eval(path, scope, a) for a in args]
                res = proto.container_method(self, owners, written[2], argv)
                if res:
                    self.add(self.site_res, (path, i), res)
            return
        if len(cv) == 1 and written and written[0] == "n" and written[1] in _HIGHER_ORDER:
            (v,) = cv
            if v[0] == "x" and v[2] == "builtin":
                self.ext_edge(v[1], "builtin", 1)
                self.builtin(path, scope, i, written[1], args, kws)
                return
        argv = [self.eval(path, scope, a) for a in args]
        kwv = {k: self.eval(path, scope, v) for k, v in kws}
        res = self.call(path, cv, argv, kwv, "value_flow")
        if len(cv) == 1:
            (v,) = cv
            if v[0] == "x":
                if v[2] == "builtin" and written and written[0] == "n":
                    res |= proto.builtin_protocol(self, written[1], argv)
                made = proto.make_container(self, path, i, v[1], argv, kwv)
                if made is not None:
                    res.add(made)
                if v[1] == "functools.update_wrapper" and argv:
                    res |= argv[0]  # returns the wrapper it updates
        if res:
            self.add(self.site_res, (path, i), res)

    def builtin(self, path: str, scope: str, site: int, name: str, args: tuple, kws: tuple) -> None:
        """`map(f, xs)`, `filter(f, xs)`, `sorted(xs, key=f)`, ...: the builtin calls f (an
        `implicit` edge from the caller); map's result holds f's return values."""
        argv = [self.eval(path, scope, a) for a in args]
        funcs = [a for a in argv if any(v[0] in _CALLABLE for v in a)]
        funcs += [self.eval(path, scope, v) for k, v in kws if k == "key"]
        items = set()
        for a in argv:
            if not any(v[0] in _CALLABLE for v in a):
                items |= self.iterate(a)
        results: set[Value] = set()
        for f in funcs:
            results |= self.call(path, f, [items], {}, "implicit")
        if name in ("map", "filter"):
            k = ("k", path, -1 - site)
            self.add(self.attrs, (k, None), results if name == "map" else items)
            self.add(self.site_res, (path, site), {k})

    def with_(self, path: str, scope: str, target: object, ctx: Values) -> None:
        bound: set[Value] = set()
        for v in ctx:
            if v[0] == "X":  # `with ext.Client() as c`: c.get() -> ext.Client.get
                bound.add(v)
            if v[0] != "i":
                continue
            enter = self.method((v[1], v[2]), "__enter__")
            if enter is not None:
                bound |= self.invoke(enter, v, [], {}, "implicit", 1)
            else:
                bound.add(v)
            exit_ = self.method((v[1], v[2]), "__exit__")
            if exit_ is not None:
                self.invoke(exit_, v, [], {}, "implicit", 1)
        if target is not None:
            self.assign(path, scope, target, bound)

    def star(self, path: str, scope: str, module: str) -> None:
        mod = self.index.py_resolve(self.index.py_module_name(path), path, module)
        m = self.module(mod)
        if m is None or m[1] == path:
            return
        src = self.facts[m[1]].scopes[""]
        self.star_deps[m[1]].add((path, scope))  # a new name there is a new name here
        names = set(src.bound)
        names |= {k[2] for k in self.vars if k[0] == m[1] and k[1] == ""}
        for name in names:
            if not name.startswith("_"):
                vals = self.vars.get((m[1], "", name))
                if vals:
                    self.add(self.vars, self.var(path, scope, name), vals)

    def assign(self, path: str, scope: str, t: object, vals: Values) -> None:
        if t is None or not vals:
            if isinstance(t, tuple) and t and t[0] == "a":  # a setter runs whatever the value
                for o in self.eval(path, scope, t[1]):
                    if o[0] == "i":
                        self.set_attr(o, t[2], vals)
            return
        assert isinstance(t, tuple)
        op = t[0]
        if op == "T":
            self.add(self.vars, t[1], vals)
            if t[2] is not None:
                self.add(self.vars, t[2], vals)
        elif op == "n":
            key = self.var(path, scope, t[1])
            self.add(self.vars, key, vals)
            if len(t) > 2:
                self.add(self.vars, (key[0], key[1], t[2]), vals)
        elif op == "a":
            for o in self.eval(path, scope, t[1]):
                if o[0] == "m":
                    self.add(self.vars, (o[1], "", t[2]), vals)
                elif o[0] == "c":
                    self.add(self.vars, (o[1], o[2], t[2]), vals)
                elif o[0] == "i":
                    self.add(self.attrs, (("c", o[1], o[2]), t[2]), vals)
                    self.set_attr(o, t[2], vals)
        elif op == "s":
            for o in self.eval(path, scope, t[1]):
                if o[0] == "k":
                    self.add(self.attrs, (o, None), vals)
                    if t[2] is not None:
                        self.add(self.attrs, (o, t[2]), vals)
                elif o[0] == "i":
                    proto.use(self, {o}, ("__setitem__",))
        elif op == "t":
            elems = self.iterate(vals)
            for sub in t[1]:
                self.assign(path, scope, sub, elems)
        elif op == "*":
            self.assign(path, scope, t[1], vals)

    def set_attr(self, obj: Value, name: str, vals: Values) -> None:
        """`obj.name = v` on an instance runs a property's setter or a descriptor's `__set__`
        held in the class attribute `name`."""
        _, held = self.class_attr((obj[1], obj[2]), name)
        for h in held:
            if h[0] == "f":
                sc = self.facts[h[1]].scopes.get(h[2])
                if sc is not None and sc.property:
                    self.invoke(h, obj, [vals], {}, "implicit", 1)
            elif h[0] == "i":
                m = proto.protocol_method(self, (h[1], h[2]), ("__set__",))
                if m is not None:
                    self.invoke(m, h, [{obj}, vals], {}, "implicit", 1)


def _class_like(qualname: str) -> bool:
    """`ext.Cls` (CapWords): calling it makes an instance whose methods are `ext.Cls.m`;
    a function's result (`requests.get(...)`) is of no type the loader knows."""
    last = qualname.rpartition(".")[2]
    return last[:1].isupper() and not last.isupper()


@dataclass
class FlowResult:
    edges: dict[str, list[FlowEdge]]  # per caller file
    # decorated definitions whose name no longer means them (the decorator returned another
    # value): a call by that name does not reach them
    rebound: set[tuple[str, str]]


def _edge_order(e: FlowEdge) -> tuple:
    return (e.line, e.caller, e.callee_path, e.callee, e.resolution, e.fanout)


def solve_flow(
    index: ModuleIndex, facts: dict[str, FlowFacts], *, worklist: bool = True
) -> FlowResult:
    """Solve the value flow of every Python file given.

    `worklist`: after the first pass, pass again only over files an entry they read grew
    (same order, so the same fixed point as full rounds); False runs full rounds (reference)."""
    solver = _Solver(index, facts)
    for rounds in range(1, _MAX_ROUNDS + 1):
        solver.changed = False
        solver.round(only_dirty=worklist and rounds > 1)
        if not (any(solver.dirty.values()) if worklist else solver.changed):
            logger.debug("value flow: fixed point after %d rounds", rounds)
            break
    else:
        logger.info("value flow: no fixed point after %d rounds; edges as of the last", _MAX_ROUNDS)
    out: dict[str, list[FlowEdge]] = defaultdict(list)
    seen = set()
    every = [
        e
        for path in solver.files_in_order
        for e in sorted(  # not set order: stable
            (e for found in solver.edges.get(path, {}).values() for e in found), key=_edge_order
        )
    ]
    for e in every:
        key = (e.caller_path, e.caller, e.callee_path, e.callee, e.line)
        if key not in seen:
            seen.add(key)
            out[e.caller_path].append(e)
    # a replaced definition stays reachable by its name's edges unless value flow reaches it
    # (through the wrapper that calls it): a decorator applied to many functions conflates
    # them in its wrapper, which then gets no edge, and the name edges keep the graph connected
    reached = {(e.callee_path, e.callee) for e in every}
    return FlowResult(dict(out), solver.rebound() & reached)
