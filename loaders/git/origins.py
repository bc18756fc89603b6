"""Line origins: the commit that last touched each line, replayed from the history's own diffs.

SZZ asks, for each line a fix deletes or changes, which commit last touched it in the fix's
parent: what `git blame -w` answers. The loader already reads every commit's -U0 diff, parents
before children, so it keeps one origin per line of each file version (keyed by blob id) and
applies each diff hunk by hunk, as blame would walk it backwards:

- lines outside hunks keep their origin; added lines get the commit, except that an added line
  equal (whitespace aside) to a removed line of the same hunk keeps that line's origin (`-w`);
- renames need nothing: a version is keyed by its blob, not its path;
- a merge whose version of a file was already seen on another parent keeps that version's
  origins (blame passes the whole file to that parent); lines a merge adds against its first
  parent are resolved only when a fix asks, against the other parents' versions, as blame's
  later passes do;
- lines of a cosmetic hunk (`loaders.git.cosmetic`: formatting, comments, whitespace) keep the
  origin of the removed line each came from, as blame does for a commit in
  `.git-blame-ignore-revs`;
- other lines added by a commit in `.git-blame-ignore-revs`, and versions whose parent version is
  not known (history before `since`, evicted, truncated commits) are unknown: the caller
  falls back to `git blame` for that file.
"""

from __future__ import annotations

import logging
from array import array
from bisect import bisect_right
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher

from loaders.git.functions import blob_id
from loaders.git.log_parser import CommitRecord, FileChange, Hunk

logger = logging.getLogger(__name__)

__all__ = ["UNKNOWN", "LineOrigins"]

UNKNOWN = -1  # an origin the replay cannot vouch for; values <= -2 are deferred merge lines
_MAX_HOPS = 10_000
_ALIGNMENTS_KEPT = 64


@dataclass(frozen=True)
class _Deferred:
    """Lines a merge added against its first parent: codes `first`.. map to lines `line`.. ."""

    first: int
    merge: int
    parents: tuple[str, ...]
    path: str
    blob: str
    line: int  # 0-based line of the merge's version that code `first` stands for


@dataclass
class _Alignment:
    """Which line of a parent's version each line of a merge's version came from."""

    origins: array  # type: ignore[type-arg]
    lines: dict[int, int]


class LineOrigins:
    """Per-line origin commits of every tracked file version, kept up to `max_lines` lines.

    Args:
        read: object contents by spec (`sha` or `rev:path`), None when missing.
        last_change: (commit, path) -> the commit that last changed `path` as seen from
            `commit` (what `git rev-list -1 commit -- path` says); asked only for a blob that
            several commits made.
        ignore: commits whose changes blame must look through (`.git-blame-ignore-revs`).
        max_lines: origins kept, in lines over all versions; the least recently used go first.
    """

    def __init__(
        self,
        read: Callable[[str], bytes | None],
        last_change: Callable[[str, str], str | None],
        ignore: set[str] | frozenset[str] = frozenset(),
        max_lines: int = 20_000_000,
    ) -> None:
        self._read = read
        self._last_change = last_change
        self._ignore = ignore
        self._max = max_lines
        self.shas: list[str] = []
        self.times: list[datetime] = []
        self._versions: OrderedDict[str, tuple[int, array]] = OrderedDict()  # type: ignore[type-arg]
        self._others: dict[str, list[tuple[int, array]]] = {}  # type: ignore[type-arg]
        self._lines = 0
        self._deferred: list[_Deferred] = []
        self._starts: list[int] = []
        self._next_code = 0
        self._alignments: OrderedDict[tuple[str, str], _Alignment | None] = OrderedDict()
        self.versions_replayed = 0
        self.versions_unknown = 0

    # ---- replaying history ----------------------------------------------------------------
    def add_commit(self, record: CommitRecord, tracked: Callable[[FileChange], bool]) -> None:
        """Apply one commit's diff (against its first parent) to the tracked files it changes."""
        idx = len(self.shas)
        self.shas.append(record.sha)
        self.times.append(record.committed_at)
        for change in record.files:
            new = change.new_blob
            if new is None or change.binary or change.is_submodule or not tracked(change):
                continue
            if record.is_merge and new in self._versions:
                self._versions.move_to_end(new)
                continue  # the version came whole from another parent
            origins = None if record.line_cap_hit else self._replay(record, idx, change)
            if origins is None:
                self.versions_unknown += 1
                if new in self._versions:  # one more maker, whose origins are unknown
                    self._others.setdefault(new, []).append((idx, array("i")))
            else:
                self.versions_replayed += 1
                self._keep(new, idx, origins)

    def _replay(self, record: CommitRecord, idx: int, change: FileChange) -> array | None:  # type: ignore[type-arg]
        fresh = UNKNOWN if record.sha in self._ignore else idx
        if change.old_blob is None or change.status in "AC":
            out = array("i", [fresh]) * sum(h.new_count for h in change.hunks)
        else:
            base = self._get(change.old_blob, record.parents[0], change.old_path or "")
            if base is None:
                return None
            patched = _apply(base, change.hunks, fresh)
            if patched is None:
                return None
            out, added = patched
            old = change.old_blob
            if not _whitespace_moves(change.hunks, base, out, added, lambda: self._read(old)):
                return None
            _look_through(change.hunks, base, out)
        if record.is_merge:
            self._defer(record, idx, change, out)
        return out

    def _defer(
        self,
        record: CommitRecord,
        idx: int,
        change: FileChange,
        out: array,  # type: ignore[type-arg]
    ) -> None:
        """Lines a merge brings in (origin still the merge): resolved against its other
        parents only when a fix asks."""
        line = 0
        while line < len(out):
            if out[line] != idx:
                line += 1
                continue
            run = line
            while run < len(out) and out[run] == idx:
                run += 1
            first = self._next_code
            self._next_code += run - line
            self._starts.append(first)
            parents = tuple(record.parents[1:])
            path, blob = change.new_path or "", change.new_blob or ""
            self._deferred.append(_Deferred(first, idx, parents, path, blob, line))
            out[line:run] = array("i", range(-first - 2, -first - 2 - (run - line), -1))
            line = run

    def _keep(self, blob: str, idx: int, origins: array) -> None:  # type: ignore[type-arg]
        """Store a version; a second commit making the same blob (a revert, a cherry-pick)
        keeps both, and lookups ask git which of them a given commit sees."""
        held = self._versions.pop(blob, None)
        if held is not None:
            self._others.setdefault(blob, []).append(held)
        self._versions[blob] = (idx, origins)
        self._lines += len(origins)
        while self._lines > self._max and len(self._versions) > 1:
            old, (_, dropped) = self._versions.popitem(last=False)
            self._lines -= len(dropped) + sum(len(a) for _, a in self._others.pop(old, ()))

    def _get(self, blob: str, at: str, path: str) -> array | None:  # type: ignore[type-arg]
        """The origins of `blob` as the file `path` at commit `at` has it."""
        held = self._versions.get(blob)
        if held is None:
            return None
        self._versions.move_to_end(blob)
        others = self._others.get(blob)
        if not others:
            return held[1]
        made_by = self._last_change(at, path)
        for idx, origins in [held, *others]:
            if self.shas[idx] == made_by:
                return origins
        return None

    # ---- answering blame ------------------------------------------------------------------
    def blame(
        self, blob: str | None, at: str, path: str, lines: list[int]
    ) -> tuple[Counter[str], dict[str, datetime]] | None:
        """Lines (1-based) of version `blob` of `path` at commit `at` per origin commit, with
        commit times; None when any of them is unknown (the caller runs `git blame`)."""
        origins = self._get(blob, at, path) if blob else None
        if origins is None:
            return None
        counts: Counter[int] = Counter()
        for line in lines:
            if not 0 < line <= len(origins):
                return None
            value = origins[line - 1]
            if value < UNKNOWN:
                value = self._resolve(value)
            if value == UNKNOWN:
                return None
            counts[value] += 1
        return (
            Counter({self.shas[i]: n for i, n in counts.items()}),
            {self.shas[i]: self.times[i] for i in counts},
        )

    def _resolve(self, value: int) -> int:
        """A deferred merge line -> the origin it has on the parent it came from."""
        for _ in range(_MAX_HOPS):
            if value >= UNKNOWN:
                return value
            code = -value - 2
            rec = self._deferred[bisect_right(self._starts, code) - 1]
            line = rec.line + code - rec.first
            value = rec.merge
            for parent in rec.parents:
                aligned = self._alignment(rec, parent)
                if aligned is None:
                    return UNKNOWN
                if line in aligned.lines:
                    value = aligned.origins[aligned.lines[line]]
                    break
        return UNKNOWN

    def _alignment(self, rec: _Deferred, parent: str) -> _Alignment | None:
        key = (rec.blob, parent)
        if key in self._alignments:
            self._alignments.move_to_end(key)
            return self._alignments[key]
        found = self._align(rec, parent)
        self._alignments[key] = found
        if len(self._alignments) > _ALIGNMENTS_KEPT:
            self._alignments.popitem(last=False)
        return found

    def _align(self, rec: _Deferred, parent: str) -> _Alignment | None:
        theirs = self._read(f"{parent}:{rec.path}")
        ours = self._read(rec.blob)
        if theirs is None or ours is None:
            return None
        origins = self._get(blob_id(theirs), parent, rec.path)
        their_lines, our_lines = _norm_lines(theirs), _norm_lines(ours)
        if origins is None or len(origins) != len(their_lines):
            return None
        return _Alignment(origins, _match(their_lines, our_lines))


def _norm_lines(data: bytes) -> list[bytes]:
    """Lines with every whitespace byte removed (blame -w compares lines this way)."""
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return [b"".join(line.split()) for line in lines]


def _match(theirs: list[bytes], ours: list[bytes]) -> dict[int, int]:
    """Our line -> their line, for the lines a diff of the two keeps."""
    out: dict[int, int] = {}
    head = 0
    while head < min(len(theirs), len(ours)) and theirs[head] == ours[head]:
        out[head] = head
        head += 1
    tail = 0
    while (
        tail < min(len(theirs), len(ours)) - head
        and theirs[len(theirs) - 1 - tail] == ours[len(ours) - 1 - tail]
    ):
        out[len(ours) - 1 - tail] = len(theirs) - 1 - tail
        tail += 1
    a, b = theirs[head : len(theirs) - tail], ours[head : len(ours) - tail]
    if a and b:
        for i, j, n in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
            for k in range(n):
                out[head + j + k] = head + i + k
    return out


def _apply(
    base: array,  # type: ignore[type-arg]
    hunks: list[Hunk],
    fresh: int,
) -> tuple[array, bytearray] | None:  # type: ignore[type-arg]
    """The new version's origins (added lines: `fresh`) and which of its lines were added."""
    out: array = array("i")  # type: ignore[type-arg]
    added = bytearray()
    pos = 0
    for h in hunks:
        start = h.old_start - 1 if h.old_count else h.old_start
        end = start + h.old_count
        if start < pos or end > len(base):
            return None  # hunks that do not fit the version we hold
        out.extend(base[pos:start])
        if len(out) != (h.new_start - 1 if h.new_count else h.new_start):
            return None
        added.extend(bytes(start - pos))
        out.extend(array("i", [fresh]) * h.new_count)
        added.extend(b"\x01" * h.new_count)
        pos = end
    out.extend(base[pos:])
    added.extend(bytes(len(base) - pos))
    return out, added


def _whitespace_moves(
    hunks: list[Hunk],
    base: array,  # type: ignore[type-arg]
    out: array,  # type: ignore[type-arg]
    added: bytearray,
    old: Callable[[], bytes | None],
) -> bool:
    """Added lines that only re-indent removed ones keep their origin, as `git blame -w`
    sees no change in them. Only a change holding such a pair can align differently from the
    diff itself: within one hunk its own lines are aligned again; when the pair spans hunks (a
    re-indented block), the whole changed span is, with the unchanged lines between hunks read
    from the old version (`old()`). False: hunk text is missing."""
    removed: list[list[bytes]] = []
    new: list[list[bytes]] = []
    seen: dict[bytes, dict[bytes, set[int]]] = {}
    for i, h in enumerate(hunks):
        if (h.old_count and h.removed is None) or (h.new_count and h.added is None):
            return False
        removed.append([b"".join(x.split()) for x in h.removed or ()])
        for raw, line in zip(h.removed or (), removed[-1], strict=True):
            if line:
                seen.setdefault(line, {}).setdefault(raw, set()).add(i)
    local: set[int] = set()
    spans: list[tuple[int, int]] = []  # hunks a re-indented line moved across
    for j, h in enumerate(hunks):
        new.append([b"".join(x.split()) for x in h.added or ()])
        for raw, line in zip(h.added or (), new[-1], strict=True):
            for other, where in seen.get(line, {}).items():
                if other != raw:
                    local.update(where & {j})
                    spans.extend((min(i, j), max(i, j)) for i in where if i != j)
    text = old() if spans else None
    old_lines = _norm_lines(text) if text is not None else []
    if len(old_lines) == len(base) and spans:
        for lo, hi in _merge(spans):
            _align_span(hunks, lo, hi, old_lines, new, base, out, added)
            local.difference_update(range(lo, hi + 1))
    for j in sorted(local):
        h, rem, add = hunks[j], removed[j], new[j]
        start, at = h.old_start - 1, h.new_start - 1
        for i, k, n in SequenceMatcher(None, rem, add, autojunk=False).get_matching_blocks():
            out[at + k : at + k + n] = base[start + i : start + i + n]
    return True


def _look_through(
    hunks: list[Hunk],
    base: array,  # type: ignore[type-arg]
    out: array,  # type: ignore[type-arg]
) -> None:
    """Lines of a cosmetic hunk keep the origin of the removed line they came from."""
    for h in hunks:
        if h.cosmetic is None or not h.old_count:
            continue
        start, at = h.old_start - 1, h.new_start - 1
        for i, src in enumerate(h.cosmetic):
            if src >= 0:
                out[at + i] = base[start + src]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _align_span(
    hunks: list[Hunk],
    lo: int,
    hi: int,
    old_lines: list[bytes],
    new: list[list[bytes]],
    base: array,  # type: ignore[type-arg]
    out: array,  # type: ignore[type-arg]
    added: bytearray,
) -> None:
    """Align the old and new text of hunks `lo`..`hi` and the lines between them, ignoring
    whitespace."""
    first = hunks[lo].old_start - 1 if hunks[lo].old_count else hunks[lo].old_start
    at = first + sum(h.new_count - h.old_count for h in hunks[:lo])  # where it starts now
    pos = first
    span: list[bytes] = []
    for h, add in zip(hunks[lo : hi + 1], new[lo : hi + 1], strict=True):
        start = h.old_start - 1 if h.old_count else h.old_start
        span.extend(old_lines[pos:start])
        span.extend(add)
        pos = start + h.old_count
    theirs = old_lines[first:pos]
    for i, j, n in SequenceMatcher(None, theirs, span, autojunk=False).get_matching_blocks():
        for k in range(n):
            if added[at + j + k]:
                out[at + j + k] = base[first + i + k]
