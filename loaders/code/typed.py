"""Types of variables, fields and results in JavaScript/TypeScript, Go and Java, as written.

The extractor records what the source states (a declared type, a constructed class, the
function whose result a variable holds); resolution (`receivers`) turns it into classes.
Python's local types stay in `parse._local_type` (value flow follows Python further).
"""

from __future__ import annotations

import logging
from typing import Any

from tree_sitter import Node

from loaders.code.syntax import node_text

logger = logging.getLogger(__name__)

__all__ = ["bind_local", "bind_member", "is_go_interface", "type_name", "value_type"]

Typed = tuple[str, str]

_PLAIN = frozenset({"type_identifier", "identifier", "qualified_type", "nested_type_identifier"})
_WRAPPED = frozenset({"pointer_type", "type_annotation", "parameter_list"})
_CALLEES = frozenset({"identifier", "member_expression", "selector_expression"})


def type_name(node: Node | None) -> str | None:
    """A named type as written (`Client`, `pkg.Client`, `a.b.Client`), looking through Go
    pointers, TS annotations, a Go result list's first result and generic arguments; None for
    anything else (built-in, array, union, function types, Java's `var`)."""
    for _ in range(4):
        if node is None:
            return None
        kind = node.type
        if kind in _PLAIN or kind == "scoped_type_identifier":
            text = node_text(node)
            return None if text == "var" else text
        if kind == "generic_type":  # `Repo<T>`, Go `Box[T]`: the generic type itself
            node = (
                node.child_by_field_name("name")
                or node.child_by_field_name("type")
                or _first_named(node)
            )
            continue
        if kind == "parameter_declaration":
            node = node.child_by_field_name("type")
            continue
        if kind in _WRAPPED:
            node = _first_named(node)
            continue
        return None
    return None


def _first_named(node: Node) -> Node | None:
    return node.named_child(0) if node.named_child_count else None


def value_type(node: Node) -> Typed | None:
    """What a bound value says about its type: `new C()` / `C{}` / `&C{}` ("constructed", C),
    or a call `f()` / `pkg.F()` ("returned", the callee as written); None when unknown."""
    kind = node.type
    if kind == "unary_expression" and node.named_child_count:  # Go `&C{...}`
        node = node.named_child(0)
        kind = node.type
    if kind == "new_expression":
        written = type_name_or_text(node.child_by_field_name("constructor"))
        return ("constructed", written) if written else None
    if kind in ("object_creation_expression", "composite_literal"):
        written = type_name(node.child_by_field_name("type"))
        return ("constructed", written) if written else None
    if kind == "call_expression":
        callee = node.child_by_field_name("function")
        if callee is not None and callee.type in _CALLEES:
            text = node_text(callee)
            return ("returned", text) if len(text) <= 120 and "(" not in text else None
    return None


def type_name_or_text(node: Node | None) -> str | None:
    if node is None:
        return None
    if node.type in ("identifier", "member_expression"):
        text = node_text(node)
        return text if "(" not in text and len(text) <= 120 else None
    return type_name(node)


def _typed(caps: dict[str, list[Node]], prefix: str) -> Typed | None:
    declared = caps.get(f"{prefix}.type")
    if declared is not None:
        written = type_name(declared[0])
        return ("annotation", written) if written else None
    value = caps.get(f"{prefix}.value")
    return value_type(value[0]) if value is not None else None


def _merge(types: dict[str, Typed | None], name: str, found: Typed | None, declared: bool) -> None:
    """A declared type holds whatever is assigned later (the compiler checks it), and two
    declarations must agree; bindings without one must agree, or the type is unknown."""
    if name in types:
        old = types[name]
        old_declared = old is not None and old[0] == "annotation"
        if old_declared and not declared:
            return
        if old != found and (old_declared or not declared):
            found = None
    types[name] = found


def bind_local(caps: dict[str, list[Node]], types: dict[str, Typed | None]) -> None:
    """One binding of a local variable or parameter (`@local.name` with `@local.type` or
    `@local.value`; alone, a binding that makes the type unknown)."""
    name = node_text(caps["local.name"][0])
    declared = caps.get("local.type")
    value = caps.get("local.value")
    if value is not None and _not_a_variable(value[0]):
        return
    found = _typed(caps, "local")
    if declared is not None and found is None:
        return  # a declared type that names no class (`number`, a function type) says nothing
    _merge(types, name, found, declared is not None)


_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function", "func_literal"})


def _not_a_variable(value: Node) -> bool:
    """A binding the extractor records otherwise: a function definition (`const f = () =>`)
    or a CommonJS import (`const m = require('./m')`)."""
    if value.type in _FUNCTION_VALUES:
        return True
    if value.type != "call_expression":
        return False
    callee = value.child_by_field_name("function")
    return callee is not None and callee.type == "identifier" and callee.text == b"require"


def bind_member(caps: dict[str, list[Node]], cls: Any, fn: Any) -> None:
    """A field of the innermost class (`@field.name` + `@field.type` / `@field.value`), a Go
    interface method (`@field.method`), or a name the innermost function returns."""
    if "return.name" in caps:
        if fn is not None:
            fn.returned.append(node_text(caps["return.name"][0]))
        return
    if cls is None:
        return
    name = node_text(caps["field.name"][0])
    if "field.method" in caps:
        if cls.interface_methods is not None:
            cls.interface_methods.append(name)
        return
    found = _typed(caps, "field")
    _merge(cls.field_types, name, found, "field.type" in caps and found is not None)


def is_go_interface(node: Node) -> bool:
    kind = node.child_by_field_name("type") if node.type == "type_spec" else None
    return kind is not None and kind.type == "interface_type"
