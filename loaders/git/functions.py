"""Mapping diff hunks onto the functions of a file as it was on each side of a commit."""

from __future__ import annotations

import hashlib
import logging
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from tree_sitter import Point

from loaders.git.cosmetic import CosmeticMap
from loaders.git.log_parser import FileChange, Hunk
from loaders.git.spans import FunctionSpan
from loaders.git.syntax_delta import RowKinds, definition_node, row_kinds, signature

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

    from loaders.git.spans import ParsedSpans, Scope

logger = logging.getLogger(__name__)

__all__ = [
    "BlobFunctions",
    "FunctionChange",
    "FunctionIndex",
    "FunctionSpan",
    "MappedFile",
    "Trees",
    "apply_hunks",
    "blob_id",
    "map_change",
]


@dataclass
class BlobFunctions:
    """The functions of one blob and, per line, the innermost function holding it (-1: none)."""

    functions: list[FunctionSpan]
    line_owner: array

    @property
    def qualnames(self) -> set[str]:
        return {f.qualname for f in self.functions}

    def owner(self, line: int) -> FunctionSpan | None:
        if 0 < line < len(self.line_owner):
            idx = self.line_owner[line]
            return self.functions[idx] if idx >= 0 else None
        return None


class Trees(NamedTuple):
    """The trees of a change's two versions (None where its hunks remove, or add, nothing),
    their language, and the definitions the span parse found in each (when it made the tree)."""

    old: Tree | None
    new: Tree | None
    language: str
    old_scopes: list[Scope]
    new_scopes: list[Scope]


SpanParser = Callable[[str, bytes, "Tree | None"], "tuple[list[FunctionSpan], Tree] | None"]


def _index(functions: list[FunctionSpan]) -> BlobFunctions:
    last = max((f.end_line for f in functions), default=0)
    owner = array("i", [-1]) * (last + 1)
    # Outer functions first, inner ones overwrite: each line ends up owned by the innermost.
    order = sorted(
        range(len(functions)), key=lambda i: (functions[i].start_line, -functions[i].end_line)
    )
    for i in order:
        f = functions[i]
        owner[f.start_line : f.end_line + 1] = array("i", [i]) * (f.end_line - f.start_line + 1)
    return BlobFunctions(functions, owner)


class FunctionIndex:
    """Parses blobs (by sha) with the code loader's parser, keeping recent results in an LRU."""

    def __init__(self, read_blob: Callable[[str], bytes | None], cache_size: int = 4096) -> None:
        self._read = read_blob
        self._cache: OrderedDict[tuple[str, str], BlobFunctions | None] = OrderedDict()
        self._size = cache_size
        self._trees: OrderedDict[tuple[str, str], tuple[ParsedSpans, bytes]] = OrderedDict()
        self._tree_cache = max(16, cache_size // 8)
        self._sources: OrderedDict[str, bytes] = OrderedDict()
        self.parsed = 0
        self.incremental = 0
        self.patched = 0
        self.unmatched = 0  # changes whose hunks did not give the new version
        self.reparsed = 0  # versions parsed again (incrementally) for a change's syntax
        self._parse, self._language_for = _code_parser()

    def language_for(self, path: str) -> str | None:
        """The code parser's language for `path`, or None when it cannot parse it."""
        return self._language_for(path) if self._language_for is not None else None

    @property
    def available(self) -> bool:
        return self._parse is not None

    def supports(self, path: str) -> bool:
        return self.language_for(path) is not None

    def get(
        self, path: str, blob: str | None, base: tuple[str, str, list[Hunk]] | None = None
    ) -> BlobFunctions | None:
        """Functions of `blob` parsed as the language of `path`; None when not parseable.

        `base` = (old path, old blob, hunks) lets the parser reuse the old blob's tree.
        """
        language = self.language_for(path)
        if blob is None or self._parse is None or language is None:
            return None
        key = (blob, language)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        source, patched = self._source(blob, base)
        result = None
        if source is not None:
            _put(self._sources, blob, source, self._size // 4)
            parsed = self._spans(path, language, source, base, patched)
            self.parsed += 1
            if parsed is not None:
                result = _index(parsed.spans)
                _put(self._trees, key, (parsed, source), self._tree_cache)
        _put(self._cache, key, result, self._size)
        return result

    def trees(self, change: FileChange) -> Trees | None:
        """Both versions' trees, as the last `get` calls for this change left them; a version
        whose tree is no longer held is reparsed incrementally from the other one's tree.
        None when the two sides are not one parseable language or neither tree is held."""
        old_lang = self.language_for(change.old_path) if change.old_path else None
        new_lang = self.language_for(change.new_path) if change.new_path else None
        language = new_lang or old_lang
        need_old = any(h.old_count for h in change.hunks)
        need_new = any(h.new_count for h in change.hunks)
        if (
            language is None
            or (need_old and (old_lang != language or change.old_blob is None))
            or (need_new and (new_lang != language or change.new_blob is None))
        ):
            return None
        old = self._trees.get((change.old_blob or "", language)) if old_lang == language else None
        new = self._trees.get((change.new_blob or "", language)) if new_lang == language else None
        if need_old and old is None and new is not None:
            back = [Hunk(h.new_start, h.new_count, h.old_start, h.old_count) for h in change.hunks]
            old = self._reparse(change.path, new, change.old_blob, back)
        elif need_new and new is None and old is not None:
            new = self._reparse(change.path, old, change.new_blob, change.hunks)
        if (need_old and old is None) or (need_new and new is None):
            return None
        return Trees(
            old[0].tree if old is not None else None,
            new[0].tree if new is not None else None,
            language,
            old[0].scopes if old is not None else [],
            new[0].scopes if new is not None else [],
        )

    def _reparse(
        self, path: str, held: tuple[ParsedSpans, bytes], blob: str | None, hunks: list[Hunk]
    ) -> tuple[ParsedSpans, bytes] | None:
        """The other version of a held tree, by editing a copy of it with the hunks."""
        from loaders.git.spans import ParsedSpans, reparse_tree

        source = self.source(blob) if blob is not None else None
        if source is None:
            return None
        tree = reparse_tree(path, held[0].tree, held[1], source, hunks)
        if tree is None:
            return None
        self.reparsed += 1
        return ParsedSpans([], tree, []), source

    def source(self, blob: str) -> bytes | None:
        """The blob's bytes from the recently parsed ones, else from git."""
        held = self._sources.get(blob)
        return held if held is not None else self._read(blob)

    def _source(
        self, blob: str, base: tuple[str, str, list[Hunk]] | None
    ) -> tuple[bytes | None, bool]:
        """The blob's bytes: the old side patched with the hunks when that gives the same
        object id (no git round trip), else read from git; and whether the patch gave them."""
        old = self._sources.get(base[1]) if base is not None else None
        if old is not None and base is not None:
            new = apply_hunks(old, base[2])
            if new is not None and blob_id(new) == blob:
                self.patched += 1
                return new, True
        return self._read(blob), False

    def _spans(
        self,
        path: str,
        language: str,
        source: bytes,
        base: tuple[str, str, list[Hunk]] | None,
        patched: bool,
    ) -> ParsedSpans | None:
        """Parse from the old version's tree and definitions when they are at hand and the
        hunks are known to turn the old version into this one (`patched`, or checked here)."""
        from loaders.git.spans import parse_spans, reparse_spans

        held = None
        if base is not None and self.language_for(base[0]) == language:
            held = self._trees.get((base[1], language))
        if held is None or base is None:
            return parse_spans(path, source)
        if not patched and apply_hunks(held[1], base[2]) != source:
            self.unmatched += 1  # hunks that do not describe this change: never edit with them
            return parse_spans(path, source)
        self.incremental += 1
        try:
            return reparse_spans(path, source, held[0], held[1], base[2])
        except ValueError as e:  # an edit tree-sitter refuses: parse this version in full
            logger.debug("%s: incremental parse failed (%s), parsing in full", path, e)
            return parse_spans(path, source)


def blob_id(content: bytes) -> str:
    """Git's object id of a blob with this content (SHA-1 repositories)."""
    digest = hashlib.sha1(b"blob %d\0" % len(content), usedforsecurity=False)
    digest.update(content)
    return digest.hexdigest()


def apply_hunks(old: bytes, hunks: list[Hunk]) -> bytes | None:
    """The new side of a -U0 diff from the old side and the hunks' added lines (None if unkept)."""
    parts = old.split(b"\n")
    lines = [p + b"\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    out: list[bytes] = []
    pos = 0
    for h in hunks:
        if h.added is None:
            return None
        start = h.old_start - 1 if h.old_count else h.old_start
        out.extend(lines[pos:start])
        out.extend(h.added)
        pos = start + h.old_count
    out.extend(lines[pos:])
    return b"".join(out)


def _put(cache: OrderedDict, key: Any, value: Any, size: int) -> None:  # type: ignore[type-arg]
    cache[key] = value
    cache.move_to_end(key)
    if len(cache) > size:
        cache.popitem(last=False)


def _code_parser() -> tuple[SpanParser | None, Callable[[str], str | None] | None]:
    try:
        from loaders.code import language_for
        from loaders.git.spans import function_spans
    except ImportError:  # pragma: no cover - the code loader is part of the package
        logger.warning("loaders.code is unavailable: function-level history is skipped")
        return None, None
    return function_spans, language_for


@dataclass
class FunctionChange:
    """How one commit touched one function."""

    path: str
    qualname: str
    name: str
    lines_added: int = 0
    lines_deleted: int = 0
    change: str = "modified"
    old_path: str | None = None
    deleted_lines: list[int] = field(default_factory=list)
    # syntax_delta.DELTA_PROPS -> nodes of that kind its changed lines add or remove
    deltas: dict[str, int] = field(default_factory=dict)
    signature_changed: bool = False


@dataclass
class MappedFile:
    """What one file change did: its functions' changes and, per hunk, the line map of a
    cosmetic hunk (None for a real change)."""

    functions: list[FunctionChange]
    cosmetic: list[CosmeticMap | None]


def map_change(
    change: FileChange,
    old: BlobFunctions | None,
    new: BlobFunctions | None,
    cosmetic: list[CosmeticMap | None] | None = None,
    trees: Trees | None = None,
) -> list[FunctionChange]:
    """Functions a file change touched: removed lines on the old side, added on the new side.

    A function present on the old side only is `deleted` (keyed by the old path), one on the
    new side only is `added`; functions of a renamed file follow it to the new path. Hunks
    whose `cosmetic` entry is a line map are left out: a function only they touch is not
    changed. With `trees`, each function gets its syntax deltas and `signature_changed`.
    """
    old_names = old.qualnames if old else set()
    new_names = new.qualnames if new else set()
    new_path = change.new_path or change.old_path or ""
    old_path = change.old_path or new_path
    out: dict[tuple[str, str], FunctionChange] = {}
    spans: dict[tuple[str, str], tuple[FunctionSpan | None, FunctionSpan | None]] = {}
    first: dict[tuple[str, str], int] = {}  # offset of a function's first changed line

    def touch(fn: FunctionSpan, path: str, side: int, line: int) -> FunctionChange:
        key = (path, fn.qualname)
        fc = out.get(key)
        if fc is None:
            fc = out[key] = FunctionChange(path, fn.qualname, fn.name)
            if fn.qualname not in old_names:
                fc.change = "added"
            elif fn.qualname not in new_names:
                fc.change = "deleted"
            if path != old_path:
                fc.old_path = old_path
        pair = spans.get(key, (None, None))
        spans[key] = (fn, pair[1]) if side == 0 else (pair[0], fn)
        offset = line - fn.start_line
        if offset < first.get(key, offset + 1):
            first[key] = offset
        return fc

    real = change.hunks
    if cosmetic is not None:
        real = [h for h, c in zip(change.hunks, cosmetic, strict=True) if c is None]
    removed_kinds, added_kinds = _kinds(real, trees, old, new)
    for hunk in real:
        if old is not None:
            for line in range(hunk.old_start, hunk.old_start + hunk.old_count):
                fn = old.owner(line)
                if fn is not None:
                    path = new_path if fn.qualname in new_names else old_path
                    fc = touch(fn, path, 0, line)
                    fc.lines_deleted += 1
                    fc.deleted_lines.append(line)
                    _count(fc, removed_kinds.get(line - 1), "_removed")
        if new is not None:
            for line in range(hunk.new_start, hunk.new_start + hunk.new_count):
                fn = new.owner(line)
                if fn is not None:
                    fc = touch(fn, new_path, 1, line)
                    fc.lines_added += 1
                    _count(fc, added_kinds.get(line - 1), "_added")
    if trees is not None:
        _signatures(out, spans, first, old, new, trees)
    return list(out.values())


def _kinds(
    hunks: list[Hunk],
    trees: Trees | None,
    old: BlobFunctions | None,
    new: BlobFunctions | None,
) -> tuple[RowKinds, RowKinds]:
    """Categorised nodes per row on the removed (old tree) and added (new tree) lines that a
    function owns (the others are counted for no function)."""
    if trees is None:
        return {}, {}
    removed = [(h.old_start, h.old_count) for h in hunks if h.old_count]
    added = [(h.new_start, h.new_count) for h in hunks if h.new_count]
    return (
        row_kinds(trees.old, trees.language, _owned(removed, old))
        if trees.old is not None and old is not None and removed
        else {},
        row_kinds(trees.new, trees.language, _owned(added, new))
        if trees.new is not None and new is not None and added
        else {},
    )


def _owned(lines: list[tuple[int, int]], functions: BlobFunctions) -> list[tuple[int, int]]:
    """0-based inclusive row ranges of the lines (start, count) that some function owns."""
    owner = functions.line_owner
    out: list[tuple[int, int]] = []
    for start, count in lines:
        run = -1
        for line in range(start, min(start + count, len(owner))):
            if owner[line] >= 0:
                if run < 0:
                    run = line
            elif run >= 0:
                out.append((run - 1, line - 2))
                run = -1
        if run >= 0:
            out.append((run - 1, min(start + count, len(owner)) - 2))
    return out


def _count(fc: FunctionChange, kinds: Counter[str] | None, suffix: str) -> None:
    if kinds:
        for category, n in kinds.items():
            key = category + suffix
            fc.deltas[key] = fc.deltas.get(key, 0) + n


def _signatures(
    out: dict[tuple[str, str], FunctionChange],
    spans: dict[tuple[str, str], tuple[FunctionSpan | None, FunctionSpan | None]],
    first: dict[tuple[str, str], int],
    old: BlobFunctions | None,
    new: BlobFunctions | None,
    trees: Trees,
) -> None:
    """`signature_changed` of the functions present on both sides. The lines of a function
    above its first changed line (`first`: offset from its start) are the same text on both
    sides, so a signature that ends above it is unchanged without looking at the new side."""
    old_tree, new_tree, language = trees.old, trees.new, trees.language
    if old is None or new is None or old_tree is None or new_tree is None:
        return
    old_by = {f.qualname: f for f in old.functions}
    new_by = {f.qualname: f for f in new.functions}
    old_defs = _Definitions(old_tree, language, trees.old_scopes)
    new_defs = _Definitions(new_tree, language, trees.new_scopes)
    for key, fc in out.items():
        if fc.change != "modified":
            continue
        a = spans[key][0] or old_by.get(fc.qualname)
        b = spans[key][1] or new_by.get(fc.qualname)
        if a is None or b is None:
            continue
        before_node = old_defs.node(a)
        if before_node is None:
            continue
        before, last = signature(before_node)
        if last < a.start_line - 1 + first.get(key, 0):
            continue
        after_node = new_defs.node(b)
        fc.signature_changed = after_node is not None and signature(after_node)[0] != before


class _Definitions:
    """Definition nodes of one tree by their lines: from the span parse's scopes when it made
    the tree (one lookup by position), else from the definition query."""

    def __init__(self, tree: Tree, language: str, scopes: list[Scope]) -> None:
        self.tree, self.language, self.scopes = tree, language, scopes
        self._by_lines: dict[tuple[int, int], Scope] | None = None

    def node(self, fn: FunctionSpan) -> Node | None:
        if self._by_lines is None:
            self._by_lines = {(sc[5], sc[1][0] + 1): sc for sc in self.scopes if sc[2] == "f"}
        sc = self._by_lines.get((fn.start_line, fn.end_line))
        if sc is not None:
            found = self.tree.root_node.descendant_for_point_range(Point(*sc[0]), Point(*sc[1]))
            if found is not None and (
                found.child_by_field_name("parameters") is not None
                or found.child_by_field_name("parameter") is not None
            ):
                return found
        return definition_node(self.tree, self.language, fn.start_line, fn.end_line)
