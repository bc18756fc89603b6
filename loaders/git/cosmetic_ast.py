"""Python hunks judged by meaning: the syntax trees (`ast`) of the code around a hunk compare
equal before and after, docstrings left out.

This is the check black and ruff make on their own output. Redundant parentheses, trailing
commas, quote style, implicit string concatenation across lines (the parser joins it into one
constant), comments, whitespace and docstring edits leave the `ast` unchanged; so does
nothing that changes behaviour, except `__doc__` (a docstring edit is not a code change
here). A version that does not parse (a syntax error, or syntax newer than this Python) has
no verdict: the caller falls back to comparing tree-sitter tokens.

The comparison is per hunk, not per file, so that one commit can mix cosmetic and real
hunks: on each side, the statements the hunk's lines overlap, found by descending from the
module through the one compound statement (and its body, `else`, handlers...) that holds all
of them, compare equal as dumps, at the same place (the path of enclosing statement kinds).
A hunk inside a docstring has no statements; one side of a hunk that is empty (lines only
added, or only removed) has none either and no place.
"""

from __future__ import annotations

import ast
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from loaders.git.log_parser import Hunk

__all__ = ["AstIndex", "Located", "locate", "parse_module", "same_meaning"]

_BODIES = ("body", "handlers", "orelse", "finalbody")
_OWNERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


class Module(NamedTuple):
    """A parsed version with its docstrings taken out of their bodies (their lines kept)."""

    tree: ast.Module
    docs: dict[int, tuple[int, int]]  # id(owner node) -> its docstring's lines (1-based)


class Located(NamedTuple):
    """Where a hunk's side is (enclosing statement kinds and fields) and what it holds."""

    place: tuple[str, ...] | None  # None: an empty side (no lines)
    dumps: tuple[str, ...]


def parse_module(source: bytes) -> Module | None:
    """The version's tree without docstrings, or None when it does not parse here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    docs: dict[int, tuple[int, int]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, _OWNERS) or not node.body:
            continue
        first = node.body[0]
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            docs[id(node)] = (first.lineno, first.end_lineno or first.lineno)
            del node.body[0]
    return Module(tree, docs)


def _start(node: ast.AST) -> int:
    line: int = node.lineno  # type: ignore[attr-defined]
    for d in getattr(node, "decorator_list", ()):
        line = min(line, d.lineno)
    return line


def _end(node: ast.AST) -> int:
    end = getattr(node, "end_lineno", None)
    return end if end is not None else node.lineno  # type: ignore[attr-defined,no-any-return]


def _lined(nodes: object) -> bool:
    return isinstance(nodes, list) and bool(nodes) and all(hasattr(n, "lineno") for n in nodes)


def locate(module: Module, lo: int, hi: int, limit: int | None = None) -> Located:
    """The statements lines `lo`..`hi` (1-based, inclusive) overlap, at their place; at most
    `limit` statement bodies deep (then the statement holding them is the one compared)."""
    place: list[str] = []
    owner: ast.AST = module.tree
    nodes: list[ast.AST] = list(module.tree.body)
    while True:
        doc = module.docs.get(id(owner))
        if doc is not None and doc[0] <= lo and hi <= doc[1]:
            return Located((*place, "doc"), ())
        over = [n for n in nodes if _start(n) <= hi and _end(n) >= lo]
        if (
            len(over) != 1
            or not (_start(over[0]) <= lo and hi <= _end(over[0]))
            or (limit is not None and len(place) >= limit)
        ):
            return Located(tuple(place), tuple(ast.dump(n) for n in over))
        node = over[0]
        doc = module.docs.get(id(node))
        if doc is not None and doc[0] <= lo and hi <= doc[1]:
            return Located((*place, f"{type(node).__name__}.body", "doc"), ())
        for name in _BODIES:
            child = getattr(node, name, None)
            if _lined(child) and _start(child[0]) <= lo and hi <= _end(child[-1]):  # type: ignore[index]
                place.append(f"{type(node).__name__}.{name}")
                owner, nodes = node, child  # type: ignore[assignment]
                break
        else:
            return Located(tuple(place), (ast.dump(node),))


def _side(module: Module | None, start: int, count: int, limit: int | None) -> Located | None:
    if not count:
        return Located(None, ())
    if module is None:
        return None
    return locate(module, start, start + count - 1, limit)


def same_meaning(old: Module | None, new: Module | None, hunk: Hunk) -> bool | None:
    """Whether the hunk leaves the code's meaning unchanged; None when a side it has lines on
    does not parse (no verdict).

    When the two sides sit at different depths (a comment added above a block's first
    statement widens one side to the whole block), both are compared at the depth they share."""
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
        a = _side(old, hunk.old_start, hunk.old_count, shared) or a
        b = _side(new, hunk.new_start, hunk.new_count, shared) or b
    if a.dumps != b.dumps:
        return False
    return a.place is None or b.place is None or a.place == b.place


class AstIndex:
    """Parsed versions by blob id, parsed at most once while they stay in a small LRU."""

    def __init__(self, read: Callable[[str], bytes | None], size: int = 64) -> None:
        self._read = read
        self._size = size
        self._held: OrderedDict[str, Module | None] = OrderedDict()
        self.parsed = 0

    def module(self, blob: str | None) -> Module | None:
        if blob is None:
            return None
        if blob in self._held:
            self._held.move_to_end(blob)
            return self._held[blob]
        source = self._read(blob)
        module = parse_module(source) if source is not None else None
        self.parsed += 1
        self._held[blob] = module
        if len(self._held) > self._size:
            self._held.popitem(last=False)
        return module

    def judge(self, old_blob: str | None, new_blob: str | None) -> Callable[[Hunk], bool | None]:
        """A verdict per hunk of one change, each side parsed only when a hunk needs it."""

        def verdict(hunk: Hunk) -> bool | None:
            old = self.module(old_blob) if hunk.old_count else None
            new = self.module(new_blob) if hunk.new_count else None
            return same_meaning(old, new, hunk)

        return verdict
