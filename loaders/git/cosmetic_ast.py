"""Python hunks judged by meaning: the syntax trees (`ast`) of the statements around a hunk
compare equal before and after, docstrings left out.

This is the check black and ruff make on their own output. Redundant parentheses, trailing
commas, quote style, implicit string concatenation across lines (the parser joins it into one
constant), comments, whitespace and docstring edits leave the `ast` unchanged; so does
nothing that changes behaviour, except `__doc__` (a docstring edit is not a code change
here). A version that does not parse (a syntax error, or syntax newer than this Python) has
no verdict: the caller falls back to comparing tree-sitter tokens.

The comparison is per hunk, so that one commit can mix cosmetic and real hunks, and it parses
only what it compares. On each side the tree-sitter tree (already held) gives the place:
from the module down through the one compound statement whose body (or `else`, `except`...
block) holds all of the hunk's lines. There the statements the lines overlap are parsed alone
(an indented run wrapped in `if 1:`) and compared as `ast` dumps; lines within a compound
statement's header compare that statement with its bodies left out; lines within a docstring
compare as nothing. A side with no code (only blank or comment lines, or no lines) has no
place and nothing to compare. When the two sides sit at different depths (a statement moved
in or out of a block), both are compared at the depth they share.
"""

from __future__ import annotations

import ast
import copy
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from tree_sitter import Node, Tree

from loaders.git.log_parser import Hunk

__all__ = ["AstIndex", "Located", "locate", "same_meaning"]

_BODIES = ("body", "handlers", "orelse", "finalbody", "cases")
_OWNERS = ("function_definition", "class_definition")
_STRINGS = ("string", "concatenated_string")
_NOT_STATEMENTS = ("comment", "line_continuation")


class Located(NamedTuple):
    """Where a hunk's side is (enclosing statement kinds) and what it holds there."""

    place: tuple[str, ...] | None  # None: a side with no code
    dumps: tuple[str, ...]


class Side(NamedTuple):
    """One version: its tree-sitter tree and a parser of byte ranges of its source."""

    tree: Tree
    dump: Callable[[int, int, bool], tuple[str, ...] | None]  # (start, end, header only)


def _rows(node: Node) -> tuple[int, int]:
    end = node.end_point
    last = end[0] - 1 if end[1] == 0 and end[0] > node.start_point[0] else end[0]
    return node.start_point[0], last


def _statements(block: Node) -> list[Node]:
    return [c for c in block.children if c.is_named and c.type not in _NOT_STATEMENTS]


def _docstring(block: Node, statements: list[Node]) -> Node | None:
    """The block's docstring statement (first statement, a lone string, of a module, class
    or function body)."""
    if not statements:
        return None
    parent = block.parent
    if block.type != "module" and (parent is None or parent.type not in _OWNERS):
        return None
    first = statements[0]
    named = first.named_children
    if first.type == "expression_statement" and len(named) == 1 and named[0].type in _STRINGS:
        return first
    return None


def _blocks(node: Node) -> list[tuple[str, Node]]:
    """The statement's bodies: its own blocks and those of its clauses (`elif`, `else`,
    `except`, `finally`, `case`), named by kind."""
    if node.type == "decorated_definition":
        inner = node.child_by_field_name("definition")
        return _blocks(inner) if inner is not None else []
    out: list[tuple[str, Node]] = []
    for child in node.children:
        if child.type == "block":
            out.append((node.type, child))
        elif child.type.endswith("_clause"):
            out.extend((child.type, b) for b in child.children if b.type == "block")
    return out


def locate(side: Side, lo: int, hi: int, limit: int | None = None) -> Located | None:
    """What rows `lo`..`hi` (0-based, inclusive) hold, at their place; at most `limit` bodies
    deep. None when what they hold does not parse alone."""
    place: list[str] = []
    block = side.tree.root_node
    while True:
        statements = _statements(block)
        doc = _docstring(block, statements)
        if doc is not None:
            d0, d1 = _rows(doc)
            if d0 <= lo and hi <= d1:
                return Located((*place, "doc"), ())
            statements = statements[1:]
        over = [s for s in statements if _rows(s)[0] <= hi and _rows(s)[1] >= lo]
        if not over:
            return Located(tuple(place), ())
        first, last = _rows(over[0])[0], _rows(over[-1])[1]
        if (
            len(over) > 1
            or not (first <= lo and hi <= last)
            or (limit is not None and len(place) >= limit)
        ):
            return _held(side, tuple(place), over[0], over[-1], False)
        node = over[0]
        bodies = _blocks(node)
        inner = next(((k, b) for k, b in bodies if _rows(b)[0] <= lo and hi <= _rows(b)[1]), None)
        if inner is None:
            header = bool(bodies) and hi < min(_rows(b)[0] for _, b in bodies)
            return _held(side, tuple(place), node, node, header)
        place.append(inner[0])
        block = inner[1]


def _held(side: Side, place: tuple[str, ...], a: Node, b: Node, header: bool) -> Located | None:
    dumps = side.dump(a.start_byte, b.end_byte, header)
    return Located(place, dumps) if dumps is not None else None


def _side(side: Side | None, start: int, count: int, limit: int | None) -> Located | None:
    if not count:
        return Located(None, ())
    if side is None:
        return None
    return locate(side, start - 1, start + count - 2, limit)


def same_meaning(old: Side | None, new: Side | None, hunk: Hunk) -> bool | None:
    """Whether the hunk leaves the code's meaning unchanged; None when what it has lines on
    does not parse (no verdict). A side whose count is 0 has no code."""
    a = _side(old, hunk.old_start, hunk.old_count, None)
    b = _side(new, hunk.new_start, hunk.new_count, None)
    if a is None or b is None:
        return None
    if a.place is not None and b.place is not None and a.place != b.place:
        shared = 0
        for x, y in zip(a.place, b.place, strict=False):
            if x != y:
                break
            shared += 1
        a = _side(old, hunk.old_start, hunk.old_count, shared)  # type: ignore[assignment]
        b = _side(new, hunk.new_start, hunk.new_count, shared)  # type: ignore[assignment]
        if a is None or b is None:
            return None
    if a.dumps != b.dumps:
        return False
    return a.place is None or b.place is None or a.place == b.place


def parse_statements(source: bytes, start: int, end: int, header: bool) -> tuple[str, ...] | None:
    """The `ast` dumps of the statements in `source[start:end]` (whole lines from `start`'s,
    parsed alone), docstrings inside them left out; with `header`, each statement's bodies are
    left out too. None when they do not parse alone."""
    line = source.rfind(b"\n", 0, start) + 1
    if source[line:start].strip():
        return None  # shares its line with other code (`if x: y`)
    text = source[line:end]
    wrapped = start > line
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            tree = ast.parse(b"if 1:\n" + text if wrapped else text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    body: list[ast.stmt] = tree.body[0].body if wrapped else tree.body  # type: ignore[attr-defined]
    for node in body:
        _drop_docstrings(node)
    try:
        return tuple(ast.dump(_header(n) if header else n) for n in body)
    except RecursionError:  # `ast.dump` recurses: a very deep expression gets no verdict
        return None


def _drop_docstrings(node: ast.AST) -> None:
    stack = [node]
    while stack:
        n = stack.pop()
        inner = getattr(n, "body", None)
        if (
            isinstance(n, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and inner
            and isinstance(inner[0], ast.Expr)
            and isinstance(inner[0].value, ast.Constant)
            and isinstance(inner[0].value.value, str)
        ):
            del inner[0]
        for name in _BODIES:
            for child in getattr(n, name, None) or ():
                if isinstance(child, ast.stmt | ast.excepthandler | ast.match_case):
                    stack.append(child)


def _header(node: ast.stmt) -> ast.stmt:
    bare = copy.copy(node)
    for name in _BODIES:
        if isinstance(getattr(bare, name, None), list):
            setattr(bare, name, [])
    return bare


class AstIndex:
    """Parsed statement runs by (blob, byte range), kept in a small LRU."""

    def __init__(self, read: Callable[[str], bytes | None], size: int = 256) -> None:
        self._read = read
        self._size = size
        self._held: OrderedDict[tuple[str, int, int, bool], tuple[str, ...] | None] = OrderedDict()
        self._sources: OrderedDict[str, bytes | None] = OrderedDict()
        self.parsed = 0

    def _source(self, blob: str) -> bytes | None:
        if blob in self._sources:
            self._sources.move_to_end(blob)
            return self._sources[blob]
        source = self._read(blob)
        self._sources[blob] = source
        if len(self._sources) > 8:
            self._sources.popitem(last=False)
        return source

    def side(self, tree: Tree | None, blob: str | None) -> Side | None:
        if tree is None or blob is None:
            return None

        def dump(start: int, end: int, header: bool) -> tuple[str, ...] | None:
            key = (blob, start, end, header)
            if key in self._held:
                self._held.move_to_end(key)
                return self._held[key]
            source = self._source(blob)
            found = parse_statements(source, start, end, header) if source is not None else None
            self.parsed += 1
            self._held[key] = found
            if len(self._held) > self._size:
                self._held.popitem(last=False)
            return found

        return Side(tree, dump)

    def judge(
        self, old: Tree | None, old_blob: str | None, new: Tree | None, new_blob: str | None
    ) -> Callable[[Hunk], bool | None]:
        """A verdict per hunk of one change."""
        a, b = self.side(old, old_blob), self.side(new, new_blob)
        return lambda hunk: same_meaning(a, b, hunk)
