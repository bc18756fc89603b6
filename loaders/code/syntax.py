"""Small readers of tree-sitter nodes: names, parameters, docstrings, call receivers, errors."""

from __future__ import annotations

import logging
import re

from tree_sitter import Node

from loaders.code.languages import LanguageSpec

logger = logging.getLogger(__name__)

__all__ = [
    "docstring_of",
    "first_error_line",
    "has_test_annotation",
    "node_text",
    "param_names",
    "receiver_text",
]

_DOTTED = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$")
_DOC_MAX = 300


def node_text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def first_error_line(node: Node) -> int | None:
    while True:
        if node.is_error or node.is_missing:
            return node.start_point[0] + 1
        child = next((c for c in node.children if c.has_error or c.is_missing), None)
        if child is None:
            return node.start_point[0] + 1
        node = child


_SIMPLE_RECEIVERS = frozenset({"identifier", "this", "self", "super", "package_identifier"})
_DOTTED_RECEIVERS = frozenset(
    {
        "attribute",
        "member_expression",
        "selector_expression",
        "field_access",
        "scoped_identifier",
    }
)


def receiver_text(node: Node) -> str | None:
    """The receiver as a dotted name, `super()`, or None when it is any other expression."""
    kind = node.type
    if kind in _SIMPLE_RECEIVERS:
        return node_text(node)
    if kind in _DOTTED_RECEIVERS and node.end_byte - node.start_byte <= 120:
        text = node_text(node)
        return text if _DOTTED.match(text) else None
    if kind == "call" and (node.text or b"").startswith(b"super("):
        return "super()"
    return None


_IDENT_TYPES = frozenset({"identifier", "shorthand_property_identifier_pattern"})
# Python parameters with no `name`, `pattern` or `left` field: their first identifier names them
# (what the general path below finds too, without its three field lookups)
_UNNAMED_PARAMS = frozenset(
    {
        "typed_parameter",
        "list_splat_pattern",
        "dictionary_splat_pattern",
        "keyword_separator",
        "positional_separator",
    }
)


def param_names(params: Node) -> list[str]:
    if params.type in _IDENT_TYPES:
        return [node_text(params)]
    out: list[str] = []
    for child in params.named_children:
        kind = child.type
        if kind in _IDENT_TYPES:
            out.append(node_text(child))
            continue
        if kind in _UNNAMED_PARAMS:
            ident = _first_identifier(child)
            if ident is not None:
                out.append(ident)
            continue
        if "comment" in kind:
            continue
        names = child.children_by_field_name("name")  # Go: `a, b int` has two
        if not names:
            named = child.child_by_field_name("pattern") or child.child_by_field_name("left")
            names = [named if named is not None else child]
        for n in names:
            ident = node_text(n) if n.type in _IDENT_TYPES else _first_identifier(n)
            if ident is not None:
                out.append(ident)
    return out


def _first_identifier(node: Node) -> str | None:
    if node.type in _IDENT_TYPES:
        return node_text(node)
    child = node.named_child(0) if node.named_child_count else None
    while child is not None:
        found = _first_identifier(child)
        if found is not None:
            return found
        child = child.next_named_sibling
    return None


_WRAPPERS = frozenset(
    {
        "export_statement",
        "variable_declarator",
        "lexical_declaration",
        "variable_declaration",
        "decorated_definition",
    }
)


def docstring_of(spec: LanguageSpec, node: Node) -> str | None:
    if spec.docstring == "body_string":
        body = node.child_by_field_name("body")
        first = body.named_child(0) if body is not None and body.named_child_count else None
        if first is not None and first.type == "expression_statement":
            string = first.named_child(0)
            if string.type == "string":
                return _clean_doc(node_text(string).strip("rRbBuUfF").strip("\"'"))
        return None
    while node.parent is not None and node.parent.type in _WRAPPERS:
        node = node.parent
    comments: list[str] = []
    prev, row = node.prev_named_sibling, node.start_point[0]
    while prev is not None and prev.type in spec.comment_kinds and prev.end_point[0] >= row - 1:
        comments.append(node_text(prev))
        row = prev.start_point[0]
        prev = prev.prev_named_sibling
    if not comments:
        return None
    lines = []
    for text in reversed(comments):
        for line in text.splitlines():
            lines.append(line.strip().lstrip("/*").rstrip("*/").strip())
    return _clean_doc("\n".join(lines))


def _clean_doc(text: str) -> str | None:
    text = text.strip()
    para = text.split("\n\n", 1)[0].strip()
    return para[:_DOC_MAX] or None


def has_test_annotation(node: Node) -> bool:
    for child in node.children:
        if child.type == "modifiers":
            return b"@Test" in (child.text or b"")
    return False
