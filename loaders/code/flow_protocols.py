"""Value flow through what no call expression spells: protocol methods and container methods.

Helpers of the solver in `loaders.code.flow` (they take it as their first argument):
- implicit protocol methods on instances of the repository's classes: operators and tests
  (`x == y` -> `__eq__`, `if x:` -> `__bool__` else `__len__`, `x in c` -> `__contains__`,
  f-strings -> `__format__` / `__str__` / `__repr__`; the facts' "use" statements), builtins
  (`len(x)` -> `__len__`, `iter`, `next`, `repr`, `str`, `bool`, `hash`), subscripts
  (`x[k]` -> `__getitem__`, `x[k] = v` -> `__setitem__`), attribute reads a class answers
  with `__getattr__`, descriptors held in class attributes (`__get__` / `__set__`) and
  property setters. A method is taken from the class's C3 order, each name of a fallback
  chain in turn (Python's own order: `__format__`, then `__str__`, then `__repr__`). An
  external base before the method found stops the search (no edge) when it defines the name
  or cannot be looked into: the classes of a few standard modules (builtins,
  `collections.abc`, `typing`, ...) are, so `class S(MutableSet)` still reaches its own
  `__len__` for `if s:`, while `class T(str)` never reaches its `__repr__` through an
  f-string (`str.__format__` runs). Resolution `implicit`.
- containers written and read through their methods: `c.append(v)`, `add`, `insert`,
  `extend`, `update`, `setdefault(k, d)` store into the container; `c.get(k)`, `pop`,
  `values()`, `items()`, `copy()` read it (flow-insensitive, the container's every slot), so
  `self.funcs.setdefault(k, []).append(f)` in one method and `for g in self.funcs[k]: g()` in
  another call `f`. `list(x)`, `tuple`, `set`, `frozenset`, `sorted`, `dict`,
  `collections.deque`, `OrderedDict` and `defaultdict(list)` make containers.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loaders.code.flow import Value, Values, _Solver

__all__ = [
    "BUILTIN_PROTOCOLS",
    "builtin_protocol",
    "container_method",
    "descriptor_get",
    "protocol_method",
    "use",
]

# builtins that call a protocol method of their first argument
BUILTIN_PROTOCOLS: dict[str, tuple[str, ...]] = {
    "len": ("__len__",),
    "iter": ("__iter__",),
    "next": ("__next__",),
    "repr": ("__repr__",),
    "ascii": ("__repr__",),
    "str": ("__str__", "__repr__"),
    "format": ("__format__", "__str__", "__repr__"),
    "bool": ("__bool__", "__len__"),
    "hash": ("__hash__",),
    "abs": ("__abs__",),
    "reversed": ("__reversed__",),
}
# builtins and standard containers whose result is a new container of the argument's items
_MAKERS = frozenset(
    {
        "<builtin>.list",
        "<builtin>.tuple",
        "<builtin>.set",
        "<builtin>.frozenset",
        "<builtin>.sorted",
        "<builtin>.dict",
        "collections.deque",
        "collections.OrderedDict",
    }
)
_DEFAULTDICT = "collections.defaultdict"
_EMPTY_FACTORIES = frozenset(
    {"<builtin>.list", "<builtin>.set", "<builtin>.dict", "collections.deque"}
)
# container methods: what they store (argument position, or "items" of an iterable) and read
_STORE_ONE = {"append": 0, "add": 0, "appendleft": 0, "insert": 1}
_STORE_ITEMS = frozenset({"extend", "extendleft", "update"})
_READ_ONE = frozenset({"get", "pop", "popleft", "setdefault"})
_SAME = frozenset({"values", "items", "copy"})
CONTAINER_METHODS = frozenset({*_STORE_ONE, *_STORE_ITEMS, *_READ_ONE, *_SAME})


def protocol_method(s: _Solver, cls: tuple[str, str], names: tuple[str, ...]) -> Value | None:
    """The method Python runs for the first of `names` the class defines (C3 order), or None
    when none is defined in the repository or an external base defines it first (or may: a
    base the loader cannot look into)."""
    order = s.mro(cls)
    for name in names:
        for k in order:
            vals = s.vars.get((k[0], k[1], name))
            if vals:  # of several functions, the first by (path, qualname), not set order
                return min((v for v in vals if v[0] == "f"), default=None)
            if any(_external_defines(q, name) for q in s.ext_bases.get(k, ())):
                return None
    return None


# standard modules whose classes are looked into (importing them has no side effect)
_INTROSPECTED = frozenset(
    {"builtins", "collections", "collections.abc", "typing", "abc", "numbers", "enum", "io"}
)


@functools.lru_cache(maxsize=1024)
def _external_defines(qualname: str, name: str) -> bool:
    """Whether an external base class defines `name` itself (not `object`'s default, not an
    abstract method a subclass must define); True when the class cannot be looked into."""
    module, _, attr = qualname.rpartition(".")
    module = "builtins" if module == "<builtin>" else module
    if module not in _INTROSPECTED:
        return True
    try:
        found = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return True
    cls = getattr(found, "__origin__", found)  # `typing.MutableSet` -> collections.abc's
    if not isinstance(cls, type):
        return True
    if name in getattr(cls, "__abstractmethods__", ()):
        return False
    return any(name in vars(k) for k in cls.__mro__ if k is not object)


def use(s: _Solver, vals: Values, names: tuple[str, ...]) -> set[Value]:
    """Call the protocol method `names` name on each instance among `vals`; their results."""
    out: set[Value] = set()
    if not names:
        return out
    for v in vals:
        if v[0] == "i":
            m = protocol_method(s, (v[1], v[2]), names)
            if m is not None:
                out |= s.invoke(m, v, [], {}, "implicit", 1)
    return out


def descriptor_get(s: _Solver, held: Value, owner: Value) -> set[Value] | None:
    """A class attribute holding an instance whose class defines `__get__`: what reading it
    through `owner` (an instance or the class) gives; None when it is no descriptor."""
    if held[0] != "i":
        return None
    m = protocol_method(s, (held[1], held[2]), ("__get__",))
    if m is None:
        return None
    return s.invoke(m, held, [{owner}], {}, "implicit", 1)


def builtin_protocol(s: _Solver, name: str, argv: list[Values]) -> set[Value]:
    """`len(x)`, `iter(x)`, ...: the protocol method of x's class runs."""
    names = BUILTIN_PROTOCOLS.get(name)
    if not names or not argv:
        return set()
    return use(s, argv[0], names)


def make_container(
    s: _Solver, path: str, site: int, maker: str, argv: list[Values], kwv: dict[str, Values]
) -> Value | None:
    """`list(x)`, `dict(a=f)`, `defaultdict(list)`, ...: a new container of x's items."""
    k: Value = ("k", path, ("new", site))
    if maker == _DEFAULTDICT:
        factory = argv[0] if argv else set()
        if any(v[0] == "x" and v[1] in _EMPTY_FACTORIES for v in factory):
            s.add(s.attrs, (k, None), {("k", path, ("new", site, "item"))})
        return k
    if maker not in _MAKERS:
        return None
    items: set[Value] = set()
    if argv:
        items |= s.iterate(argv[0])
    for vals in kwv.values():
        items |= vals
    if items:
        s.add(s.attrs, (k, None), items)
    return k


def container_method(s: _Solver, owners: Values, method: str, argv: list[Values]) -> set[Value]:
    """`c.append(v)`, `c.get(k)`, ... on the containers among `owners`; the call's result."""
    out: set[Value] = set()
    for c in owners:
        if c[0] != "k":
            continue
        if method in _STORE_ONE:
            at = _STORE_ONE[method]
            if len(argv) > at and argv[at]:
                s.add(s.attrs, (c, None), argv[at])
        elif method in _STORE_ITEMS:
            if argv and argv[0]:
                s.add(s.attrs, (c, None), s.iterate(argv[0]))
        elif method in _READ_ONE:
            if method == "setdefault" and len(argv) > 1 and argv[1]:
                s.add(s.attrs, (c, None), argv[1])
            out |= s.attrs.get((c, None), set())
            if method != "setdefault" and len(argv) > 1:
                out |= argv[1]  # the default
        elif method in _SAME:
            out.add(c)
    return out


def assigned(s: _Solver, name: str) -> bool:
    """Whether any code of the load assigns an attribute `name` (`x.name = ...`), a class
    body binds it, or it is a dunder: then a read of it is no `__getattr__` call, even where
    the value assigned is unknown (`self._f = open(...)`)."""
    names = s.assigned_attrs
    if names is None:
        names = s.assigned_attrs = set()
        for f in s.facts.values():
            for op, _, a, _ in f.stmts:
                if op == "=":
                    _attr_targets(a, names)
            for sc in f.scopes.values():
                if sc.kind == "class":
                    names |= sc.bound
    return name.startswith("__") or name in names


def _attr_targets(t: object, out: set[str]) -> None:
    if not isinstance(t, tuple) or not t:
        return
    if t[0] == "a":
        out.add(t[2])
    elif t[0] == "t":
        for x in t[1]:
            _attr_targets(x, out)
    elif t[0] == "*":
        _attr_targets(t[1], out)
