"""Function line ranges only: the code loader's definitions, without its calls and imports.

History needs just each function's qualified name and lines, for thousands of blob versions.
`function_spans` runs the definition patterns of the code loader's own query files and nests
them the way `loaders.code.parse_source` does (its tests pin the two to the same answers), so
uids agree with the code loader at a fraction of the cost. Unsupported languages give None.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from itertools import accumulate
from typing import Any

from tree_sitter import Node, Parser, Point, Query, QueryCursor, Tree

from loaders.git.log_parser import Hunk

logger = logging.getLogger(__name__)

__all__ = ["SpanTuple", "edit_tree", "function_spans"]

_DEFINITION = re.compile(r"@(function|class)\b")
SpanTuple = tuple[str, str, int, int]  # qualname, name, first line, last line
_parsers: dict[str, Parser] = {}


@cache
def _definition_query(language: str) -> Query | None:
    """The definition patterns of the code loader's query for `language` (None if none)."""
    from loaders.code.languages import grammar, queries

    full, _ = queries(language)
    text = _query_text(language)
    kept = []
    for i in range(full.pattern_count):
        pattern = text[full.start_byte_for_pattern(i) : full.end_byte_for_pattern(i)]
        if _DEFINITION.search(pattern.decode("utf-8")):
            kept.append(pattern.decode("utf-8"))
    return Query(grammar(language), "\n".join(kept)) if kept else None


def _query_text(language: str) -> bytes:
    from loaders.code.languages import SPECS

    spec = next(s for s in SPECS if s.name == language)
    return spec.query_path.read_bytes()


def function_spans(
    path: str, source: bytes, old_tree: Tree | None = None
) -> tuple[list[SpanTuple], Tree] | None:
    """Functions of `source` parsed as the language of `path`, and the tree; None if unsupported.

    `old_tree`, already edited with `edit_tree`, makes tree-sitter reparse only what changed.
    """
    from loaders.code.languages import grammar, spec_for

    spec = spec_for(path)
    if spec is None:
        return None
    query = _definition_query(spec.name)
    parser = _parsers.get(spec.name)
    if parser is None:
        parser = _parsers[spec.name] = Parser(grammar(spec.name))
    tree = parser.parse(source, old_tree) if old_tree is not None else parser.parse(source)
    if query is None:
        return [], tree
    root = tree.root_node
    scopes: list[tuple[int, int, str, Node, dict[str, Any]]] = []
    for _, caps in QueryCursor(query).matches(root):
        kind = "f" if "function" in caps else "c" if "class" in caps else ""
        if kind:
            node = caps["function" if kind == "f" else "class"][0]
            scopes.append((node.start_byte, node.end_byte, kind, node, caps))
    return _nest(scopes), tree


def _nest(scopes: list[tuple[int, int, str, Node, dict[str, Any]]]) -> list[SpanTuple]:
    """Qualified names by nesting, as the code loader's extractor names them."""
    scopes.sort(key=lambda s: (s[0], -s[1]))
    stack: list[tuple[int, str, str]] = []  # (end_byte, qualname, kind)
    out: list[SpanTuple] = []
    for start, end, kind, node, caps in scopes:
        while stack and stack[-1][0] <= start:
            stack.pop()
        name = _text(caps["function.name" if kind == "f" else "class.name"][0])
        if stack:
            qual = f"{stack[-1][1]}.{name}"
        elif kind == "f" and "function.receiver" in caps:
            qual = f"{_text(caps['function.receiver'][0])}.{name}"
        else:
            qual = name
        if kind == "f":
            outer = node.parent if node.parent is not None else node
            first = (outer if outer.type == "decorated_definition" else node).start_point[0] + 1
            out.append((qual, name, first, node.end_point[0] + 1))
        stack.append((end, qual, kind))
    return out


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _line_starts(source: bytes) -> list[int]:
    """Byte offset where each line starts, then the end (for text ending in a newline)."""
    return list(accumulate(map((1).__add__, map(len, source.split(b"\n"))), initial=0))[:-1]


def edit_tree(tree: Tree, old: bytes, new: bytes, hunks: list[Hunk]) -> Tree | None:
    """A copy of `old`'s tree with the -U0 `hunks` applied as edits; None if not applicable.

    Hunks arrive top-down, so each edit starts at its new-side position (everything above it
    is already edited) and spans the removed bytes of the old side.
    """
    if not (old.endswith(b"\n") and new.endswith(b"\n")):
        return None
    old_lines, new_lines = _line_starts(old), _line_starts(new)
    edited = tree.copy()
    for h in hunks:
        row = h.new_start - 1 if h.new_count else h.new_start
        if row + h.new_count >= len(new_lines) or h.old_start + h.old_count > len(old_lines):
            return None
        removed = 0
        if h.old_count:
            first = h.old_start - 1
            removed = old_lines[first + h.old_count] - old_lines[first]
        start = new_lines[row]
        edited.edit(
            start_byte=start,
            old_end_byte=start + removed,
            new_end_byte=new_lines[row + h.new_count],
            start_point=Point(row, 0),
            old_end_point=Point(row + h.old_count, 0),
            new_end_point=Point(row + h.new_count, 0),
        )
    return edited
