"""Python type annotations as plain tuples, for the declared-types pass.

`annotation(node)` reads what an annotation says about the values it types, as far as calls
care: ("T", dotted) an instance of the named class · ("C", ann) the class object itself
(`type[X]`, `t.Type[X]`) · ("E", ann) a collection whose items are `ann` (`list[X]`,
`Sequence[X]`, `Iterator[X]`, `set[X]`, `tuple[X, ...]`) · ("M", key, value) a mapping
(`dict[K, V]`, `Mapping[K, V]`) · ("U", (ann, ...)) either. `Optional[X]`, `X | None`,
`Union[X, None]`, `Annotated[X, ...]`, `ClassVar[X]`, `Final[X]` and a quoted `"X"` give X;
a subscripted class of the project (`ParamType[T]`) gives the class. Anything else (`int`,
`Callable[...]`, `Any`, a type variable the pass cannot resolve) stays as a name the pass
will not resolve to a class, or None.
"""

from __future__ import annotations

import ast
import warnings
from typing import Any

__all__ = ["Ann", "annotation"]

Ann = Any  # nested tuples, see the module docstring
_MAX_DEPTH = 8
_ITEMS = frozenset(
    {
        "list", "List", "Sequence", "MutableSequence", "Iterable", "Iterator", "Generator",
        "AsyncIterable", "AsyncIterator", "AsyncGenerator", "Collection", "Container",
        "Reversible", "set", "Set", "frozenset", "FrozenSet", "AbstractSet", "MutableSet",
        "deque", "Deque", "KeysView", "ValuesView",
    }
)  # fmt: skip
_MAPPINGS = frozenset(
    {
        "dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "defaultdict",
        "DefaultDict", "ChainMap", "Counter",
    }
)  # fmt: skip
_SAME = frozenset({"Optional", "Annotated", "ClassVar", "Final", "Required", "NotRequired"})
_CLASS = frozenset({"type", "Type"})


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _union(items: list[Ann]) -> Ann:
    found = tuple(a for a in items if a is not None)
    if not found:
        return None
    return found[0] if len(found) == 1 else ("U", found)


def annotation(node: ast.expr | None, depth: int = 0) -> Ann:
    """What annotation `node` says, or None."""
    if node is None or depth > _MAX_DEPTH:
        return None
    d = depth + 1
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str) or len(node.value) > 200:
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                inner = ast.parse(node.value.strip(), mode="eval").body
        except (SyntaxError, ValueError):
            return None
        return annotation(inner, d)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([annotation(node.left, d), annotation(node.right, d)])
    if isinstance(node, (ast.Name, ast.Attribute)):
        dotted = _dotted(node)
        return ("T", dotted) if dotted and dotted != "None" else None
    if not isinstance(node, ast.Subscript):
        return None
    base = _dotted(node.value)
    if base is None:
        return None
    last = base.rpartition(".")[2]
    args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    if last in _SAME:
        return annotation(args[0], d)
    if last == "Union":
        return _union([annotation(a, d) for a in args])
    if last in _CLASS:
        inner = annotation(args[0], d)
        return ("C", inner) if inner is not None else None
    if last in _ITEMS:
        inner = annotation(args[0], d)
        return ("E", inner) if inner is not None else None
    if last in ("tuple", "Tuple"):
        if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
            inner = annotation(args[0], d)
            return ("E", inner) if inner is not None else None
        inner = _union([annotation(a, d) for a in args])
        return ("E", inner) if inner is not None else None
    if last in _MAPPINGS:
        if len(args) != 2:
            return None
        key, value = annotation(args[0], d), annotation(args[1], d)
        return ("M", key, value) if key is not None or value is not None else None
    return ("T", base)  # a generic class (`ParamType[T]`): the class
