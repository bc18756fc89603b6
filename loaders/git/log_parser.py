"""Parsing the streamed `git log --raw -p -U0` output into commit records with their hunks."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

logger = logging.getLogger(__name__)

__all__ = ["LOG_ARGS", "CommitRecord", "FileChange", "Hunk", "parse_log", "unquote_path"]

MARK = b"\x00\x00C\n"
# One header per commit: marker, sha, parents, author, email, raw author date, committer time,
# then the message up to a NUL byte (git never emits NUL in text diffs).
LOG_FORMAT = "%x00%x00C%n%H%n%P%n%an%n%ae%n%ad%n%ct%n%B%x00"
LOG_ARGS = (
    "log",
    "--no-walk=unsorted",
    "--stdin",
    "--raw",
    "--no-abbrev",
    "-p",
    "-U0",
    "-M",
    "--no-ext-diff",
    "--no-textconv",
    "--diff-merges=first-parent",
    "--date=raw",
    f"--format={LOG_FORMAT}",
)
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {
    b"n": b"\n",
    b"t": b"\t",
    b'"': b'"',
    b"\\": b"\\",
    b"a": b"\a",
    b"b": b"\b",
    b"f": b"\f",
    b"r": b"\r",
    b"v": b"\v",
}


@dataclass
class Hunk:
    """One -U0 hunk: `old_count` lines removed at `old_start`, `new_count` added at `new_start`."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    removed: list[bytes] | None = None
    added: list[bytes] | None = None
    # Set once the hunk is judged cosmetic (`loaders.git.cosmetic`): for each added line, the
    # removed line (0-based in the hunk) whose origin it keeps, -1 for none. None: a real change.
    cosmetic: tuple[int, ...] | None = None


@dataclass
class FileChange:
    """One file of a commit's diff against its first parent."""

    status: str
    old_path: str | None
    new_path: str | None
    old_blob: str | None
    new_blob: str | None
    old_mode: str
    new_mode: str
    similarity: int = 100
    lines_added: int = 0
    lines_deleted: int = 0
    binary: bool = False
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""

    @property
    def is_submodule(self) -> bool:
        return self.old_mode == "160000" or self.new_mode == "160000"


@dataclass
class CommitRecord:
    """A commit as `git log` printed it."""

    sha: str
    parents: list[str]
    author_name: str
    author_email: str
    authored_at: datetime
    tz_offset_min: int
    committed_at: datetime
    message: str
    files: list[FileChange] = field(default_factory=list)
    line_cap_hit: bool = False

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


def unquote_path(raw: bytes) -> str:
    """A path as git prints it (C-quoted when it holds odd characters) -> str."""
    if raw.startswith(b'"') and raw.endswith(b'"'):
        body, out, i = raw[1:-1], bytearray(), 0
        while i < len(body):
            c = body[i : i + 1]
            if c == b"\\" and i + 1 < len(body):
                nxt = body[i + 1 : i + 2]
                if nxt.isdigit():
                    out.append(int(body[i + 1 : i + 4], 8))
                    i += 4
                    continue
                out += _ESCAPES.get(nxt, nxt)
                i += 2
                continue
            out += c
            i += 1
        raw = bytes(out)
    return raw.decode("utf-8", "surrogateescape")


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _tz_minutes(tz: str) -> int:
    sign = -1 if tz.startswith("-") else 1
    digits = tz.lstrip("+-").rjust(4, "0")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4]))


def _raw_change(line: bytes) -> FileChange:
    meta, *paths = line.rstrip(b"\n").split(b"\t")
    old_mode, new_mode, old_blob, new_blob, status = meta[1:].decode().split(" ")
    letter = status[0]
    names = [unquote_path(p) for p in paths]
    null = "0" * len(old_blob)
    return FileChange(
        status=letter,
        old_path=None if letter == "A" else names[0],
        new_path=None if letter == "D" else names[-1],
        old_blob=None if old_blob == null else old_blob,
        new_blob=None if new_blob == null else new_blob,
        old_mode=old_mode,
        new_mode=new_mode,
        similarity=int(status[1:]) if len(status) > 1 else 100,
    )


class _Parser:
    """A line-driven state machine; `keep_text(record)` says whose hunk text to keep (SZZ)."""

    def __init__(self, keep_text: Callable[[CommitRecord], bool], line_cap: int) -> None:
        self.keep_text = keep_text
        self.line_cap = line_cap

    def commit(self, lines: Iterator[bytes]) -> tuple[CommitRecord, bytes | None]:
        """Read one commit after its marker; return it and the next marker (None at the end)."""
        head = [next(lines).rstrip(b"\n") for _ in range(6)]
        body: list[bytes] = []
        for line in lines:
            if b"\0" in line:
                body.append(line.split(b"\0", 1)[0])
                break
            body.append(line)
        date, _, tz = head[4].decode().partition(" ")
        record = CommitRecord(
            sha=head[0].decode(),
            parents=head[1].decode().split(),
            author_name=head[2].decode("utf-8", "replace"),
            author_email=head[3].decode("utf-8", "replace"),
            authored_at=_utc(int(date)),
            tz_offset_min=_tz_minutes(tz),
            committed_at=_utc(int(head[5])),
            message=b"".join(body).decode("utf-8", "replace").strip(),
        )
        return record, self._changes(record, lines, self.keep_text(record))

    def _changes(
        self, record: CommitRecord, lines: Iterator[bytes], keep_text: bool
    ) -> bytes | None:
        patch_index = -1
        sections_left = 0  # diff sections still to come for `current`
        current: FileChange | None = None
        hunk: Hunk | None = None
        budget = self.line_cap
        for line in lines:
            first = line[:1]
            if first == b"+" or first == b"-":
                if hunk is None or current is None:
                    continue  # the ---/+++ header lines
                if first == b"+":
                    current.lines_added += 1
                    if hunk.added is not None and budget > 0:
                        hunk.added.append(line[1:])
                else:
                    current.lines_deleted += 1
                    if hunk.removed is not None and budget > 0:
                        hunk.removed.append(line[1:])
                budget -= 1
                continue
            if first == b"@":
                m = _HUNK.match(line)
                if m and current is not None and current.status != "T":
                    hunk = _hunk(m, keep_text and budget > 0)
                    if budget > 0:
                        current.hunks.append(hunk)
                continue
            if first == b":":
                record.files.append(_raw_change(line))
            elif line.startswith(b"diff --git "):
                hunk = None
                sections_left -= 1
                if sections_left > 0:
                    continue  # the second section of a type change: the same file
                patch_index += 1
                current = record.files[patch_index] if patch_index < len(record.files) else None
                # a type change (file <-> symlink or submodule) prints as a deletion then a
                # creation of the same path: two sections for one raw line. Its hunks and line
                # counts are not kept (they describe two different objects, not an edit).
                sections_left = 2 if current is not None and current.status == "T" else 1
            elif line.startswith(b"Binary files ") and current is not None:
                current.binary = True
            elif line == MARK:
                record.line_cap_hit = budget < 0
                return line
        record.line_cap_hit = budget < 0
        return None


def _hunk(m: re.Match[bytes], keep_text: bool) -> Hunk:
    old_count = 1 if m.group(2) is None else int(m.group(2))
    new_count = 1 if m.group(4) is None else int(m.group(4))
    return Hunk(
        int(m.group(1)),
        old_count,
        int(m.group(3)),
        new_count,
        removed=[] if keep_text else None,
        added=[] if keep_text else None,
    )


def parse_log(
    lines: Iterable[bytes],
    *,
    keep_text: Callable[[CommitRecord], bool] = lambda record: True,
    line_cap: int = 50_000,
) -> Iterator[CommitRecord]:
    """Commit records from `git log` output made with LOG_ARGS, in output order.

    Hunk text is kept (for SZZ) up to `line_cap` diff lines per commit; past the cap the
    record says `line_cap_hit` and later hunks are counted but not kept.
    """
    parser = _Parser(keep_text, line_cap)
    it = iter(lines)
    marker: bytes | None = next((line for line in it if line == MARK), None)
    while marker is not None:
        record, marker = parser.commit(it)
        yield record
