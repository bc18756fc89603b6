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
from functools import cache

from tree_sitter import Node, Point, Query, QueryCursor, Tree

logger = logging.getLogger(__name__)

__all__ = [
    "CATEGORIES",
    "DELTA_PROPS",
    "KINDS",
    "RowKinds",
    "covering",
    "definition_node",
    "find_definition",
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
_HEAD_ROWS = 3
_GAP = 8  # hunks closer than this many rows are queried as one range

RowKinds = dict[int, Counter[str]]  # 0-based row -> category -> nodes starting on it


def covering(tree: Tree, lo: int, hi: int) -> Node:
    """The smallest node spanning rows `lo`..`hi` (0-based, inclusive)."""
    root = tree.root_node
    return root.descendant_for_point_range(Point(lo, 0), Point(hi, _END_OF_ROW)) or root


@cache
def _kind_query(language: str) -> Query | None:
    """One pattern per categorised node kind, captured under its category's name."""
    from loaders.code.languages import grammar

    kinds = KINDS.get(language, {})
    lang = grammar(language)
    known = [f"({k}) @{c}" for k, c in kinds.items() if lang.id_for_node_kind(k, True)]
    return Query(lang, "\n".join(known)) if known else None


def row_kinds(tree: Tree, language: str, ranges: list[tuple[int, int]]) -> RowKinds:
    """The categorised nodes starting on the rows of `ranges` (0-based, inclusive), by row.
    Ranges a few rows apart are queried as one, so rows between them may be counted too."""
    rows: RowKinds = {}
    query = _kind_query(language)
    if query is None:
        return rows
    cursor = QueryCursor(query)
    for lo, hi in _merged(ranges):
        cursor.set_point_range(Point(lo, 0), Point(hi + 1, 0))
        for category, found in cursor.captures(tree.root_node).items():
            for n in found:
                row = n.start_point[0]
                if lo <= row <= hi:
                    rows.setdefault(row, Counter())[category] += 1
    return rows


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + _GAP:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def find_definition(nodes: list[Node], start_line: int, end_line: int) -> Node | None:
    """Among definition nodes, the outermost that starts within lines `start_line`..`end_line`
    (1-based, as `FunctionSpan` has them) and ends on the last."""
    lo, hi = start_line - 1, end_line - 1
    best: Node | None = None
    for n in nodes:
        inside = n.end_point[0] == hi and n.start_point[0] >= lo
        if inside and (best is None or n.start_byte < best.start_byte):
            best = n
    return best


def definition_node(tree: Tree, language: str, start_line: int, end_line: int) -> Node | None:
    """The function defined on lines `start_line`..`end_line` (1-based, decorators included,
    as `FunctionSpan` has them): the outermost definition the code loader's query finds that
    starts within them and ends on the last; None when there is none."""
    from loaders.git.spans import definition_query

    query = definition_query(language)
    if query is None:
        return None
    lo, hi = start_line - 1, end_line - 1
    lines = (start_line, end_line)
    cursor = QueryCursor(query)
    # the definition's first rows are enough to match it (a few decorators above it);
    # all of its rows only when those do not
    for last in (min(hi, lo + _HEAD_ROWS), hi):
        cursor.set_point_range(Point(lo, 0), Point(last + 1, 0))
        best = find_definition(cursor.captures(tree.root_node).get("function", []), *lines)
        if best is not None or last == hi:
            return best
    return None


def signature(node: Node) -> tuple[bytes, int]:
    """A definition's parameters and return annotation, whitespace removed, and the last row
    they reach."""
    parts = []
    last = node.start_point[0]
    for name in _SIGNATURE_FIELDS:
        child = node.child_by_field_name(name)
        if child is None:
            parts.append(b"")
            continue
        parts.append(b"".join((child.text or b"").split()))
        last = max(last, child.end_point[0])
    return b"\x00".join(parts), last
