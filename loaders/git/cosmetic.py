"""Cosmetic hunks: edits after which the code reads the same (formatting, comments, whitespace).

A hunk of a file the code loader parses is cosmetic when the tokens on its removed lines, in the
old version's tree, equal those on its added lines in the new version's tree: tree-sitter
leaves, comments dropped, whitespace between them ignored, a string literal one token with its
full text (re-indenting, re-wrapping, comment edits and trailing commas before a closing
bracket are cosmetic; changing quote style is not). A Python hunk is judged by meaning instead
(`loaders.git.cosmetic_ast`: the `ast` of the statements around it is unchanged, docstrings
left out), so redundant parentheses, trailing commas, quote style, joined string literals and
docstring edits are cosmetic too, and a re-indent that moves a statement in or out of a block
is not; code that does not parse falls back to the tokens. In any other file a hunk is
cosmetic when only whitespace changed (its words are the same). A cosmetic hunk comes with a
line map: for each added line, the removed line it keeps the origin of (what `git blame` does
for a commit in `.git-blame-ignore-revs`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from tree_sitter import Node, Point, Tree

from loaders.git.log_parser import CommitRecord, FileChange, Hunk
from loaders.git.syntax_delta import covering

if TYPE_CHECKING:
    from loaders.git.functions import MappedFile

logger = logging.getLogger(__name__)

__all__ = ["CosmeticMap", "classify", "mark_cosmetic", "tokens", "whitespace_only"]

# Per added line of a cosmetic hunk, the removed line (0-based within the hunk) whose origin
# it keeps; -1 when the hunk removed nothing.
CosmeticMap = tuple[int, ...]
Token = tuple[bytes, int]  # text, 0-based row it starts on
_HASH_COMMENT = re.compile(rb"#[^\n]*")
_SLASH_COMMENT = re.compile(rb"//[^\n]*|/\*.*?(\*/|$)|^\s*\*[^\n]*", re.S | re.M)
_SPACE = re.compile(rb"\s+")
_WHITESPACE = b" \t\n\r\f\v"
_HASH_MARKERS = (b"#",)
_SLASH_MARKERS = (b"/", b"*")
_TRAILING_COMMA = re.compile(rb",(?=[)\]}])")
_CLOSERS = frozenset({b")", b"]", b"}"})
_FORMATTER_TOKENS = frozenset({b"(", b")", b",", b"\\"})
_STRING = re.compile(rb"[A-Za-z]{0,3}['\"]")
_PY_STRING = re.compile(
    rb"[A-Za-z]{0,3}"
    rb"""(\"\"\".*?\"\"\"|'''.*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""",
    re.S,
)
_PY_COMMENT = re.compile(rb"#[^\n]*")
_ATOMIC = frozenset({"text_block", "char_literal", "character_literal", "rune_literal", "regex"})


def _atomic(kind: str) -> bool:
    return "string" in kind or kind in _ATOMIC


def _comment(kind: str) -> bool:
    return "comment" in kind


def tokens(tree: Tree, lo: int, hi: int) -> list[Token]:
    """Non-comment leaves (string literals whole) with text on rows `lo`..`hi`, in order."""
    if hi < lo:
        return []
    top = covering(tree, lo, hi)
    up = top.parent
    while up is not None:  # rows inside a literal or a comment: that node is the token
        if _atomic(up.type) or _comment(up.type):
            top = up
        up = up.parent
    out: list[Token] = []
    stack = [top]
    while stack:
        n = stack.pop()
        start, end = n.start_point, n.end_point
        last = end[0] - 1 if end[1] == 0 and end[0] > start[0] else end[0]
        if start[0] > hi or last < lo or _comment(n.type):
            continue
        if n.child_count == 0 or _atomic(n.type):
            text = n.text or b""
            if text or n.is_missing:
                out.append((text or n.type.encode(), start[0]))
        else:
            stack.extend(reversed(n.children))
    return out


def _line_map(old: list[Token], new: list[Token], old_count: int, new_count: int) -> CosmeticMap:
    """Equal token lists (rows relative to each hunk) -> each added line's removed line."""
    first_on: dict[int, int] = {}
    for index, (_, row) in enumerate(new):
        first_on.setdefault(row, index)
    if not old_count:
        return (-1,) * new_count
    out: list[int] = []
    prev = -1
    for i in range(new_count):
        k = first_on.get(i)
        if k is not None:
            prev = min(max(old[k][1], 0), old_count - 1)
        out.append(prev if prev >= 0 else min(i, old_count - 1))
    return tuple(out)


def _may_be_cosmetic(hunk: Hunk, language: str) -> bool:
    """A cheap necessary condition, from the hunk's text: with comments (by their markers) and
    whitespace taken out, the two sides read the same. Equal tokens leave the text equal once
    comments and whitespace are gone; a marker inside a string, or a hunk within a block
    comment whose lines carry no marker, can make a cosmetic hunk fail it (then it counts as
    a real change)."""
    removed, added = hunk.removed, hunk.added
    if removed is None or added is None:
        return True  # no text kept: compare the trees
    old, new = (
        b"".join(removed).translate(None, _WHITESPACE),
        b"".join(added).translate(None, _WHITESPACE),
    )
    if language != "python":  # a last comma may close a list on the next line
        old = _TRAILING_COMMA.sub(b"", old).rstrip(b",")
        new = _TRAILING_COMMA.sub(b"", new).rstrip(b",")
    if old == new:
        return True
    markers = _HASH_MARKERS if language == "python" else _SLASH_MARKERS
    if not any(m in old or m in new for m in markers):
        return False  # no comment on either side, and the text differs
    if language == "python":
        return _bare(removed, _HASH_COMMENT) == _bare(added, _HASH_COMMENT)
    return _TRAILING_COMMA.sub(b"", _bare(removed, _SLASH_COMMENT)).rstrip(
        b","
    ) == _TRAILING_COMMA.sub(b"", _bare(added, _SLASH_COMMENT)).rstrip(b",")


def _may_be_reformat(hunk: Hunk, old: Tree | None, new: Tree | None) -> bool:
    """The same kind of test for the Python `ast` route: with string literals, comments,
    whitespace, parentheses, commas and line continuations taken out, the two sides read the
    same; or a side starts or ends inside a multi-line string (a docstring edit)."""
    removed, added = hunk.removed, hunk.added
    if removed is None or added is None:
        return True
    if _code_only(removed) == _code_only(added):
        return True
    o0, n0 = hunk.old_start - 1, hunk.new_start - 1
    return (
        old is not None
        and hunk.old_count > 0
        and (_in_string(old, o0) or _in_string(old, o0 + hunk.old_count - 1))
    ) or (
        new is not None
        and hunk.new_count > 0
        and (_in_string(new, n0) or _in_string(new, n0 + hunk.new_count - 1))
    )


def _code_only(lines: list[bytes]) -> bytes:
    text = _PY_COMMENT.sub(b"", _PY_STRING.sub(b"", b"\n".join(lines)))
    return text.translate(None, _WHITESPACE + b"(),\\")


def _in_string(tree: Tree, row: int) -> bool:
    """Whether the start of `row` lies inside a string literal (a multi-line one)."""
    node: Node | None = tree.root_node.descendant_for_point_range(Point(row, 0), Point(row, 0))
    for _ in range(3):
        if node is None:
            return False
        if _atomic(node.type):
            return node.start_point[0] < row
        node = node.parent
    return False


def _bare(lines: list[bytes], comment: re.Pattern[bytes]) -> bytes:
    return _SPACE.sub(b"", comment.sub(b"", b"\n".join(lines)))


def classify(
    old: Tree | None,
    new: Tree | None,
    hunk: Hunk,
    language: str = "",
    meaning: Callable[[Hunk], bool | None] | None = None,
) -> CosmeticMap | None:
    """The hunk's line map when its tokens are unchanged, else None (a real change).

    `old` / `new` are the trees of the two versions; one may be None when its side of the
    hunk is empty. `meaning` (Python: `loaders.git.cosmetic_ast`) judges a hunk whose tokens
    are equal once string literals, parentheses, commas and line continuations are left out
    (unless its tokens are equal line for line at the same indentation): it is the judge when
    it has a verdict (equal tokens with a changed block structure are a real change; a
    re-wrapped string or an edited docstring is not)."""
    o0 = hunk.old_start - 1
    n0 = hunk.new_start - 1
    if (hunk.old_count and old is None) or (hunk.new_count and new is None):
        return None
    if not _may_be_cosmetic(hunk, language) and (
        meaning is None or not _may_be_reformat(hunk, old, new)
    ):
        return None
    a = tokens(old, o0, o0 + hunk.old_count - 1) if old is not None and hunk.old_count else []
    b = tokens(new, n0, n0 + hunk.new_count - 1) if new is not None and hunk.new_count else []
    same = len(a) == len(b) and all(x[0] == y[0] for x, y in zip(a, b, strict=True))
    if meaning is not None and not (same and _same_indents(hunk)):
        # a side with no tokens (blank and comment lines only) has no code to compare
        code = Hunk(
            hunk.old_start, len(a) and hunk.old_count, hunk.new_start, len(b) and hunk.new_count
        )
        if not same:
            a, b = _bare_tokens(a), _bare_tokens(b)
            if len(a) != len(b) or any(x[0] != y[0] for x, y in zip(a, b, strict=True)):
                return None
        verdict = meaning(code)
        if verdict is False or (verdict is None and not same):
            return None
    elif not same and language != "python":
        a = _no_trailing_commas(a, old, o0 + hunk.old_count)
        b = _no_trailing_commas(b, new, n0 + hunk.new_count)
        if len(a) != len(b) or any(x[0] != y[0] for x, y in zip(a, b, strict=True)):
            return None
    elif not same:
        return None
    return _line_map(
        [(t, r - o0) for t, r in a], [(t, r - n0) for t, r in b], hunk.old_count, hunk.new_count
    )


def _no_trailing_commas(found: list[Token], tree: Tree | None, after: int) -> list[Token]:
    """Tokens without the commas that end a list (before `)`, `]` or `}`, also one that
    ends the hunk when row `after` starts with the closer): a formatter adds or drops them,
    and outside Python (where `(a,)` is a tuple) they change nothing."""
    out = [
        t
        for i, t in enumerate(found)
        if not (t[0] == b"," and i + 1 < len(found) and found[i + 1][0] in _CLOSERS)
    ]
    if out and out[-1][0] == b"," and tree is not None:
        following = tokens(tree, after, after)
        if following and following[0][0] in _CLOSERS:
            out.pop()
    return out


def _same_indents(hunk: Hunk) -> bool:
    """Whether the hunk's lines pair up with the same indentation (then equal tokens cannot
    have moved a Python statement in or out of a block)."""
    removed, added = hunk.removed, hunk.added
    if removed is None or added is None or len(removed) != len(added):
        return False
    return all(
        x[: len(x) - len(x.lstrip())] == y[: len(y) - len(y.lstrip())]
        for x, y in zip(removed, added, strict=True)
    )


def _bare_tokens(found: list[Token]) -> list[Token]:
    """Tokens without string literals, parentheses, commas and line continuations: what a
    formatter may add, drop, join or re-quote without changing the code."""
    return [t for t in found if t[0] not in _FORMATTER_TOKENS and not _STRING.match(t[0])]


def whitespace_only(hunk: Hunk) -> CosmeticMap | None:
    """The hunk's line map when only whitespace changed (same words), else None.

    Needs the hunk's full text (None when it was not kept or was cut by the line cap)."""
    removed, added = hunk.removed, hunk.added
    if removed is None or added is None:
        return None
    if len(removed) != hunk.old_count or len(added) != hunk.new_count:
        return None
    a = [(w, i) for i, line in enumerate(removed) for w in line.split()]
    b = [(w, i) for i, line in enumerate(added) for w in line.split()]
    if len(a) != len(b) or any(x[0] != y[0] for x, y in zip(a, b, strict=True)):
        return None
    return _line_map(a, b, hunk.old_count, hunk.new_count)


def mark_cosmetic(
    record: CommitRecord,
    judged: list[FileChange],
    answers: list[MappedFile],
    listed: bool = False,
) -> bool:
    """Mark one commit's cosmetic hunks and take their lines out of its files' counts; True
    for a reformatting commit.

    `judged` are the commit's code files the function mapping compared token by token, with
    its `answers` in the same order; the other files' hunks go by the whitespace rule. A
    commit `listed` in `.git-blame-ignore-revs` counts no line at all. A reformatting commit
    changes at least one code file and every hunk of its code files is cosmetic (or is listed).
    """
    by_change = {id(c): a for c, a in zip(judged, answers, strict=True)}
    code_files = 0
    every = True
    for change in record.files:
        answer = by_change.get(id(change))
        if answer is not None:
            maps = answer.cosmetic
            code_files += 1
            every = every and all(m is not None for m in maps)
        else:
            maps = [whitespace_only(h) for h in change.hunks]
        for hunk, line_map in zip(change.hunks, maps, strict=True):
            hunk.cosmetic = line_map
            if line_map is not None:
                change.lines_added -= hunk.new_count
                change.lines_deleted -= hunk.old_count
        if listed:
            change.lines_added = change.lines_deleted = 0
    return listed or (code_files > 0 and every)
