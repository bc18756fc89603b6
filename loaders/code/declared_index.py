"""The declared-types pass's bindings index and its type algebra (`loaders.code.declared`).

`index_of` files one module's value-flow facts by scope and name: what each binding assigns,
iterates, enters or catches, the declared types (`FlowFacts.types`) and the values stored on
`self` in methods. Types are tuples (see `Types` below); the helpers give a collection's items,
a mapping's values, a tuple's item at a constant index, and what `d.items()`-like calls return.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from loaders.code.annotations import Ann
from loaders.code.flow_facts import FlowFacts

__all__ = [
    "CLASS",
    "EMPTY",
    "INSTANCE",
    "ITERATING",
    "NAMES",
    "Index",
    "Types",
    "container_call",
    "dotted",
    "index_of",
    "item",
    "iterated",
    "ordered",
    "union",
]

MAX_TYPES = 8  # an expression with more types than this is left untyped
NAMES = frozenset({"n", "nv"})
# builtins that give the items of their first argument (in a new collection or iterator)
ITERATING = dict.fromkeys(("list", "tuple", "set", "frozenset", "sorted", "reversed", "iter"), "")
ITERATING["enumerate"] = "enumerate"
EMPTY: frozenset[tuple] = frozenset()
Types = frozenset[tuple]
# Types: ("i", path, qual) an instance of that class · ("I", path, qual) an instance of it or of
# a subclass (declared) · ("c", path, qual) / ("C", path, qual) the class, or it or a subclass ·
# ("f", path, qual) a function · ("m", path) a module · ("E", items) a collection ·
# ("M", keys, values) a mapping · ("P", (types, ...)) a tuple by position
INSTANCE = {"c": "i", "C": "I", "i": "i", "I": "I"}
CLASS = {"i": "c", "I": "C", "c": "c", "C": "C"}


@dataclass(slots=True)
class Index:
    """One file's bindings, by scope and name (and by version where the facts name one)."""

    binds: dict[tuple[str, str], list[tuple]] = field(default_factory=lambda: defaultdict(list))
    versions: dict[tuple[str, str], list[tuple]] = field(default_factory=lambda: defaultdict(list))
    declared: dict[tuple[str, str], Ann] = field(default_factory=dict)  # `x: T`, everywhere
    params: dict[tuple[str, str], Ann] = field(default_factory=dict)  # on entry only (`x#0`)
    returns: dict[str, Ann] = field(default_factory=dict)
    # (class, attribute) -> (method, value) of each `self.attribute = value` in its methods
    stored: dict[tuple[str, str], list[tuple[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def _bind(out: Index, scope: str, t: Any, binding: tuple) -> None:
    if not isinstance(t, tuple) or not t:
        return
    if t[0] == "n":
        out.binds[(scope, t[1])].append(binding)
        if len(t) > 2:
            out.versions[(scope, t[2])].append(binding)
    elif t[0] == "t":
        for i, sub in enumerate(t[1]):
            if binding[0] == "=":
                _bind(out, scope, sub, ("at", binding[1], i))
            elif binding[0] == "for" and binding[2] is None:
                _bind(out, scope, sub, ("for", binding[1], i))


def index_of(f: FlowFacts) -> Index:
    out = Index()
    for op, scope, a, b in f.stmts:
        if op == "=":
            _bind(out, scope, a, ("=", b))
            if isinstance(a, tuple) and a and a[0] == "a" and a[1] and a[1][0] in NAMES:
                sc = f.scopes.get(scope)
                if sc is not None and sc.method == "self" and sc.params[:1] == (a[1][1],):
                    out.stored[(sc.parent or "", a[2])].append((scope, b))
        elif op == "for":
            _bind(out, scope, a, ("for", b, None))
        elif op == "with":
            _bind(out, scope, a, ("with", b))
    for op, scope, a, b in f.types:
        if op == "ret":
            out.returns[scope] = a
        elif op == "param":
            out.params[(scope, a)] = b
        elif op == "var":
            out.declared[(scope, a)] = b
        elif op == "attr":  # `self.a: T` in a method: the class declares `a: T`
            owner = f.scopes[scope].parent
            if owner is not None:
                out.declared.setdefault((owner, a), b)
        elif op == "except":
            out.binds[(scope, a)].append(("exc", b))
    return out


def union(parts: list[Types]) -> Types:
    out: set[tuple] = set()
    for p in parts:
        out |= p
    return frozenset(out) if len(out) <= MAX_TYPES else EMPTY


def ordered(types: Types) -> list[tuple]:
    """The types of a set in a fixed order. A frozenset iterates in an order that follows
    string hashing (PYTHONHASHSEED), which differs between processes: where a pass acts on each
    type in turn (an edge, a memo filled on the way), it takes them in this order."""
    if len(types) < 2:
        return list(types)
    return sorted(types, key=_type_key)


@functools.lru_cache(maxsize=1 << 16)
def _type_key(t: Any) -> str:
    """A canonical text of a type (nested sets sorted)."""
    if isinstance(t, tuple):
        return "(" + ",".join(_type_key(x) for x in t) + ")"
    if isinstance(t, frozenset):
        return "{" + ",".join(sorted(_type_key(x) for x in t)) + "}"
    return repr(t)


def dotted(e: Any) -> str | None:
    """`Cls`, `mod.Cls` as written, from a facts expression."""
    parts: list[str] = []
    while isinstance(e, tuple) and e and e[0] == "a":
        parts.append(e[2])
        e = e[1]
    if isinstance(e, tuple) and e and e[0] in NAMES:
        return ".".join([e[1], *reversed(parts)])
    return None


def item(v: tuple, key: str | None) -> Types:
    """`v[key]`: a collection's item, a mapping's value, a tuple's item at a constant index."""
    if v[0] == "E":
        return v[1]  # type: ignore[no-any-return]
    if v[0] == "M":
        return v[2]  # type: ignore[no-any-return]
    if v[0] == "P":
        if key is not None and key.lstrip("-").isdigit() and int(key) < len(v[1]):
            return v[1][int(key)]  # type: ignore[no-any-return]
        return union(list(v[1]))
    return EMPTY


def iterated(v: tuple) -> Types:
    if v[0] == "E":
        return v[1]  # type: ignore[no-any-return]
    if v[0] == "M":
        return v[1]  # type: ignore[no-any-return]
    return EMPTY


def container_call(v: tuple, name: str) -> Types:
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
    return EMPTY
