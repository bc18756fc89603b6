"""Function line ranges only: the code loader's definitions, without its calls and imports.

History needs just each function's qualified name and lines, for thousands of blob versions.
`function_spans` runs the definition patterns of the code loader's own query files and nests
them the way `loaders.code.parse_source` does (its tests pin the two to the same answers), so
uids agree with the code loader at a fraction of the cost. Unsupported languages give None.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from typing import NamedTuple

from tree_sitter import Node, Parser, Point, Query, QueryCursor, Tree

from loaders.git.log_parser import Hunk

logger = logging.getLogger(__name__)

__all__ = [
    "FunctionSpan",
    "ParsedSpans",
    "Scope",
    "SpanTuple",
    "definition_patterns",
    "definition_query",
    "edit_tree",
    "function_spans",
    "parse_spans",
    "reparse_spans",
    "reparse_tree",
]

_DEFINITION = re.compile(r"@(function|class)\b")
SpanTuple = tuple[str, str, int, int]  # qualname, name, first line, last line


class FunctionSpan(NamedTuple):
    """A function's name and 1-based inclusive line range in one blob."""

    qualname: str
    name: str
    start_line: int
    end_line: int


_parsers: dict[str, Parser] = {}


@cache
def _definition_query(language: str) -> Query | None:
    """The definition patterns of the code loader's query for `language` (None if none)."""
    from loaders.code.languages import grammar

    kept = definition_patterns(language)
    return Query(grammar(language), "\n".join(kept)) if kept else None


@cache
def definition_patterns(language: str) -> tuple[str, ...]:
    """The patterns of the code loader's query for `language` that capture definitions."""
    from loaders.code.languages import queries

    full, _ = queries(language)
    text = _query_text(language)
    kept = []
    for i in range(full.pattern_count):
        pattern = text[full.start_byte_for_pattern(i) : full.end_byte_for_pattern(i)]
        if _DEFINITION.search(pattern.decode("utf-8")):
            kept.append(pattern.decode("utf-8"))
    return tuple(kept)


def definition_query(language: str) -> Query | None:
    """The code loader's definition patterns for `language` (captures `function`, `class`)."""
    return _definition_query(language)


def _query_text(language: str) -> bytes:
    from loaders.code.languages import SPECS

    spec = next(s for s in SPECS if s.name == language)
    return spec.query_text().encode("utf-8")


# A definition as the query found it: start and end (row, column), kind ("f" function, "c"
# class), name, receiver (Go methods), first line (1-based, decorators included) and the first
# row any part of the match is on.
Scope = tuple[tuple[int, int], tuple[int, int], str, str, str | None, int, int]


@dataclass
class ParsedSpans:
    """One blob's functions, with the tree and the raw definitions a later version reuses."""

    spans: list[FunctionSpan]
    tree: Tree
    scopes: list[Scope]
    line_starts: list[int] | None = None  # of the source, once an edit needed them


def function_spans(
    path: str, source: bytes, old_tree: Tree | None = None
) -> tuple[list[FunctionSpan], Tree] | None:
    """Functions of `source` parsed as the language of `path`, and the tree; None if unsupported.

    `old_tree`, already edited with `edit_tree`, makes tree-sitter reparse only what changed.
    """
    parsed = parse_spans(path, source, old_tree)
    return None if parsed is None else (parsed.spans, parsed.tree)


def parse_spans(path: str, source: bytes, old_tree: Tree | None = None) -> ParsedSpans | None:
    """Parse `source` and query all of it for definitions; None if the language is unknown."""
    found = _parser(path)
    if found is None:
        return None
    parser, query = found
    tree = parser.parse(source, old_tree) if old_tree is not None else parser.parse(source)
    scopes = _scopes(QueryCursor(query), tree) if query is not None else []
    return ParsedSpans(_nest(scopes), tree, scopes)


def reparse_spans(
    path: str, source: bytes, old: ParsedSpans, old_source: bytes, hunks: list[Hunk]
) -> ParsedSpans | None:
    """The next version of a parsed blob, from its -U0 `hunks`: tree-sitter reparses only
    what changed, and only the rows the hunks touched or whose structure changed are queried
    again; definitions elsewhere are the old ones, moved by the lines added above them.
    Gives what `parse_spans` gives (the tests pin the two together)."""
    found = _parser(path)
    if found is None or not (old_source.endswith(b"\n") and source.endswith(b"\n")):
        return parse_spans(path, source)
    old_lines = old.line_starts or _line_starts(old_source)
    new_lines = _line_starts(source)
    edited = _edit(old.tree, old_lines, new_lines, hunks)
    if edited is None:
        return parse_spans(path, source)
    parser, query = found
    tree = parser.parse(source, edited)
    if query is None:
        return ParsedSpans([], tree, [], new_lines)
    moved = _Moves(hunks)
    touched = _Rows(moved.old_rows)
    changed = _Rows(
        moved.new_rows
        + [(r.start_point[0] - 1, r.end_point[0] + 1) for r in edited.changed_ranges(tree)]
    )
    requery = list(changed.ranges)
    kept: dict[tuple[tuple[int, int], tuple[int, int], str], Scope] = {}
    for sc in old.scopes:
        lo, hi, start_row = sc[6], sc[1][0], sc[0][0]
        if touched.hits(lo, hi):
            shift = moved.shift(start_row)
            if shift is not None:  # its own line is intact: query it again there
                requery.append((start_row + shift, start_row + shift))
            continue
        shift = moved.shift(lo) or 0
        if changed.hits(lo + shift, hi + shift):
            requery.append((start_row + shift, start_row + shift))
            continue
        start, end = (sc[0][0] + shift, sc[0][1]), (sc[1][0] + shift, sc[1][1])
        kept[(start, end, sc[2])] = (start, end, sc[2], sc[3], sc[4], sc[5] + shift, lo + shift)
    cursor = QueryCursor(query)
    for first, last in _Rows(requery).ranges:
        cursor.set_point_range((max(first, 0), 0), (last + 1, 0))
        for sc in _scopes(cursor, tree):
            kept[(sc[0], sc[1], sc[2])] = sc
    scopes = list(kept.values())
    return ParsedSpans(_nest(scopes), tree, scopes, new_lines)


def reparse_tree(
    path: str, tree: Tree, source: bytes, target: bytes, hunks: list[Hunk]
) -> Tree | None:
    """The tree of `target` (the other side of -U0 `hunks` from `source`), parsed
    incrementally from `tree`; None when the hunks cannot be applied as edits."""
    found = _parser(path)
    edited = edit_tree(tree, source, target, hunks) if found is not None else None
    if found is None or edited is None:
        return None
    return found[0].parse(target, edited)


def _parser(path: str) -> tuple[Parser, Query | None] | None:
    from loaders.code.languages import grammar, spec_for

    spec = spec_for(path)
    if spec is None:
        return None
    parser = _parsers.get(spec.name)
    if parser is None:
        parser = _parsers[spec.name] = Parser(grammar(spec.name))
    return parser, _definition_query(spec.name)


def _scopes(cursor: QueryCursor, tree: Tree) -> list[Scope]:
    out: dict[tuple[tuple[int, int], tuple[int, int], str], Scope] = {}
    for _, caps in cursor.matches(tree.root_node):
        kind = "f" if "function" in caps else "c" if "class" in caps else ""
        if not kind:
            continue
        node = caps["function" if kind == "f" else "class"][0]
        name_node = caps["function.name" if kind == "f" else "class.name"][0]
        receiver = caps.get("function.receiver") if kind == "f" else None
        first = node.start_point[0]
        if kind == "f" and node.parent is not None and node.parent.type == "decorated_definition":
            first = node.parent.start_point[0]
        lo = min(first, name_node.start_point[0], *(r.start_point[0] for r in receiver or ()))
        start, end = (
            (node.start_point[0], node.start_point[1]),
            (node.end_point[0], node.end_point[1]),
        )
        out[(start, end, kind)] = (
            start,
            end,
            kind,
            _text(name_node),
            _text(receiver[0]) if receiver else None,
            first + 1,
            lo,
        )
    return list(out.values())


def _nest(scopes: list[Scope]) -> list[FunctionSpan]:
    """Qualified names by nesting, as the code loader's extractor names them."""
    ordered = sorted(scopes, key=lambda s: (s[0], -s[1][0], -s[1][1]))
    stack: list[tuple[tuple[int, int], str]] = []  # (end, qualname)
    out: list[FunctionSpan] = []
    for start, end, kind, name, receiver, first, _lo in ordered:
        while stack and stack[-1][0] <= start:
            stack.pop()
        if stack:
            qual = f"{stack[-1][1]}.{name}"
        elif receiver is not None:
            qual = f"{receiver}.{name}"
        else:
            qual = name
        if kind == "f":
            out.append(FunctionSpan(qual, name, first, end[0] + 1))
        stack.append((end, qual))
    return out


class _Moves:
    """Where a diff's hunks sit on each side, and how far it moves the rows between them."""

    def __init__(self, hunks: list[Hunk]) -> None:
        self.old_rows: list[tuple[int, int]] = []  # touched rows, one row of margin each side
        self.new_rows: list[tuple[int, int]] = []
        self._starts: list[int] = []  # first old row of each hunk
        self._ends: list[int] = []  # first old row after each hunk
        self._shifts: list[int] = []  # rows added minus removed up to and including it
        total = 0
        for h in hunks:
            old0 = h.old_start - 1 if h.old_count else h.old_start
            new0 = h.new_start - 1 if h.new_count else h.new_start
            self.old_rows.append((old0 - 1, old0 + h.old_count))
            self.new_rows.append((new0 - 1, new0 + h.new_count))
            total += h.new_count - h.old_count
            self._starts.append(old0)
            self._ends.append(old0 + h.old_count)
            self._shifts.append(total)

    def shift(self, row: int) -> int | None:
        """Rows an unchanged old row moves by; None when a hunk removed it."""
        i = bisect_right(self._ends, row)
        if i < len(self._starts) and self._starts[i] <= row:
            return None
        return self._shifts[i - 1] if i else 0


class _Rows:
    """Row ranges (inclusive), merged and sorted, for overlap tests by bisection."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        self.ranges: list[tuple[int, int]] = []
        # a changed range of tree-sitter's may end rows before it starts (seen after long
        # chains of edits): the rows between its two ends are queried either way
        for a, b in sorted((min(a, b), max(a, b)) for a, b in ranges):
            if self.ranges and a <= self.ranges[-1][1] + 1:
                self.ranges[-1] = (self.ranges[-1][0], max(self.ranges[-1][1], b))
            else:
                self.ranges.append((a, b))
        self._firsts = [a for a, _ in self.ranges]

    def hits(self, lo: int, hi: int) -> bool:
        i = bisect_right(self._firsts, hi) - 1
        return i >= 0 and self.ranges[i][1] >= lo


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
    return _edit(tree, _line_starts(old), _line_starts(new), hunks)


def _edit(tree: Tree, old_lines: list[int], new_lines: list[int], hunks: list[Hunk]) -> Tree | None:
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
