"""What a change does to a function: the kinds of syntax its changed lines add and remove.

Per language, tree-sitter node kinds fall into five categories (declared once, here):
conditions (if/elif/else/ternary/switch/case/match), loops (for/while/do), exception handling
(try/except/catch/finally/raise/throw), calls, and returns (return/yield). A node counts on the
side whose changed line it starts on: removed lines of the old version, added lines of the new.
`signature_changed` compares a function's parameter list and return annotation (whitespace
removed) between the two versions.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator

from tree_sitter import Node, Point, Tree

logger = logging.getLogger(__name__)

__all__ = [
    "CATEGORIES",
    "DELTA_PROPS",
    "KINDS",
    "RowKinds",
    "covering",
    "definition_node",
    "overlapping",
    "row_kinds",
    "signature",
]

CATEGORIES = ("conds", "loops", "excepts", "calls", "returns")
# The MODIFIES(Commit->Function) properties, in schema order: conds_added, conds_removed, ...
DELTA_PROPS = tuple(f"{c}_{side}" for c in CATEGORIES for side in ("added", "removed"))

_JS = {
    **dict.fromkeys(
        (
            "if_statement",
            "else_clause",
            "ternary_expression",
            "switch_statement",
            "switch_case",
            "switch_default",
        ),
        "conds",
    ),
    **dict.fromkeys(
        ("for_statement", "for_in_statement", "while_statement", "do_statement"), "loops"
    ),
    **dict.fromkeys(
        ("try_statement", "catch_clause", "finally_clause", "throw_statement"), "excepts"
    ),
    **dict.fromkeys(("call_expression", "new_expression"), "calls"),
    **dict.fromkeys(("return_statement", "yield_expression"), "returns"),
}

# language -> node kind -> category. Go has no exception syntax (errors are values, tested
# with `if`); Go and Java have no `else` node, so an if/else counts one condition there.
KINDS: dict[str, dict[str, str]] = {
    "python": {
        **dict.fromkeys(
            (
                "if_statement",
                "elif_clause",
                "else_clause",
                "conditional_expression",
                "match_statement",
                "case_clause",
            ),
            "conds",
        ),
        **dict.fromkeys(("for_statement", "while_statement"), "loops"),
        **dict.fromkeys(
            (
                "try_statement",
                "except_clause",
                "except_group_clause",
                "finally_clause",
                "raise_statement",
            ),
            "excepts",
        ),
        "call": "calls",
        **dict.fromkeys(("return_statement", "yield"), "returns"),
    },
    "javascript": _JS,
    "typescript": _JS,
    "tsx": _JS,
    "go": {
        **dict.fromkeys(
            (
                "if_statement",
                "expression_switch_statement",
                "type_switch_statement",
                "select_statement",
                "expression_case",
                "type_case",
                "communication_case",
                "default_case",
            ),
            "conds",
        ),
        "for_statement": "loops",
        "call_expression": "calls",
        "return_statement": "returns",
    },
    "java": {
        **dict.fromkeys(
            ("if_statement", "ternary_expression", "switch_expression", "switch_label"), "conds"
        ),
        **dict.fromkeys(
            ("for_statement", "enhanced_for_statement", "while_statement", "do_statement"),
            "loops",
        ),
        **dict.fromkeys(
            (
                "try_statement",
                "try_with_resources_statement",
                "catch_clause",
                "finally_clause",
                "throw_statement",
            ),
            "excepts",
        ),
        **dict.fromkeys(
            ("method_invocation", "object_creation_expression", "explicit_constructor_invocation"),
            "calls",
        ),
        **dict.fromkeys(("return_statement", "yield_statement"), "returns"),
    },
}
# Fields that make up a signature, in any of the languages above.
_SIGNATURE_FIELDS = ("type_parameters", "parameters", "parameter", "return_type", "result", "type")
_END_OF_ROW = 1 << 30

RowKinds = dict[int, Counter[str]]  # 0-based row -> category -> nodes starting on it


def _rows(node: Node) -> tuple[int, int]:
    """First and last row a node has text on (a node ending at column 0 ends the row before)."""
    start, end = node.start_point, node.end_point
    last = end[0] - 1 if end[1] == 0 and end[0] > start[0] else end[0]
    return start[0], last


def covering(tree: Tree, lo: int, hi: int) -> Node:
    """The smallest node spanning rows `lo`..`hi` (0-based, inclusive)."""
    root = tree.root_node
    return root.descendant_for_point_range(Point(lo, 0), Point(hi, _END_OF_ROW)) or root


def overlapping(node: Node, lo: int, hi: int) -> Iterator[Node]:
    """`node` and its descendants with text on rows `lo`..`hi`, in document order."""
    stack = [node]
    while stack:
        n = stack.pop()
        first, last = _rows(n)
        if first > hi or last < lo:
            continue
        yield n
        if n.child_count:
            stack.extend(reversed(n.children))


def row_kinds(tree: Tree, language: str, lo: int, hi: int, into: RowKinds) -> None:
    """Add the categorised nodes that start on rows `lo`..`hi` to `into`."""
    kinds = KINDS.get(language)
    if not kinds or hi < lo:
        return
    top = covering(tree, lo, hi)
    found = list(overlapping(top, lo, hi))
    up = top.parent
    while up is not None and up.start_point[0] >= lo:  # enclosing nodes starting in the rows
        found.append(up)
        up = up.parent
    for n in found:
        category = kinds.get(n.type)
        row = n.start_point[0]
        if category is not None and lo <= row <= hi:
            into.setdefault(row, Counter())[category] += 1


def definition_node(tree: Tree, start_line: int, end_line: int) -> Node | None:
    """The outermost node with a parameter list that starts within, and ends on the last of,
    the function's lines (1-based, decorators included); None when there is none."""
    lo, hi = start_line - 1, end_line - 1
    for n in overlapping(covering(tree, lo, hi), lo, hi):
        first, last = _rows(n)
        if (
            first >= lo
            and last == hi
            and (
                n.child_by_field_name("parameters") is not None
                or n.child_by_field_name("parameter") is not None
            )
        ):
            return n
    return None


def signature(tree: Tree, start_line: int, end_line: int) -> bytes | None:
    """A function's parameters and return annotation, whitespace removed (None: not found)."""
    node = definition_node(tree, start_line, end_line)
    if node is None:
        return None
    parts = []
    for name in _SIGNATURE_FIELDS:
        child = node.child_by_field_name(name)
        parts.append(b"".join((child.text or b"").split()) if child is not None else b"")
    return b"\x00".join(parts)
