"""Turning parsed commits into graph rows: commits, people, files, functions, tickets, edges."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loaders.git.cosmetic import classify, whitespace_only
from loaders.git.cosmetic_ast import AstIndex
from loaders.git.functions import FunctionChange, FunctionIndex, MappedFile, map_change
from loaders.git.log_parser import CommitRecord, FileChange
from loaders.git.messages import MessageFacts
from loaders.git.syntax_delta import DELTA_PROPS

logger = logging.getLogger(__name__)

__all__ = [
    "CONFIDENCE",
    "HeadTree",
    "Mapper",
    "Rows",
    "add_commit",
    "add_functions",
    "function_mapper",
    "person_uid",
]

Row = dict[str, Any]
Mapper = Callable[[FileChange], MappedFile]
_CHANGE = {
    "A": "added",
    "C": "added",
    "D": "deleted",
    "R": "renamed",
    "M": "modified",
    "T": "modified",
}
# How sure each kind of git-derived edge is.
CONFIDENCE = {
    "history": 1.0,  # PARENT, AUTHORED, MODIFIES Commit->File: git says so
    "function": 0.95,  # MODIFIES Commit->Function: line ranges from the parser
    "keyword": 0.9,  # FIXES from "fixes #N"
    "trailer": 0.95,  # FIXES from a "Fixes: #N" trailer
    "ticket_link": 0.6,  # FIXES from a bare ticket key
    "declared": 0.95,  # INDUCED from a "Fixes: <sha>" trailer
}


def person_uid(email: str, pseudonymise: bool) -> tuple[str, str]:
    """(uid, stored email) for an author; pseudonyms are a stable hash of the email."""
    email = email.strip().lower()
    if pseudonymise:
        email = "anon-" + hashlib.sha256(email.encode()).hexdigest()[:16]
    return f"person:{email}", email


@dataclass
class HeadTree:
    """Which files exist at the loaded head, and their blobs."""

    blobs: dict[str, str]

    def has_file(self, path: str) -> bool:
        return path in self.blobs


@dataclass
class Rows:
    """Rows of one chunk of commits, grouped by the batch they go to."""

    repo: str
    head: HeadTree
    pseudonymise: bool
    persons: dict[str, Row] = field(default_factory=dict)
    commits: list[Row] = field(default_factory=list)
    files: dict[str, Row] = field(default_factory=dict)
    functions: dict[str, Row] = field(default_factory=dict)
    tickets: dict[str, Row] = field(default_factory=dict)
    parent: list[Row] = field(default_factory=list)
    authored: list[Row] = field(default_factory=list)
    modifies_file: list[Row] = field(default_factory=list)
    modifies_fn: list[Row] = field(default_factory=list)
    fixes: list[Row] = field(default_factory=list)
    induced: list[Row] = field(default_factory=list)

    def file_uid(self, path: str) -> str:
        uid = f"file:{self.repo}:{path}"
        if uid not in self.files:
            row: Row = {"uid": uid, "path": path, "repo": self.repo}
            row["deleted"] = not self.head.has_file(path)
            if row["deleted"]:
                row["parse_status"] = "reference"
            self.files[uid] = row
        return uid

    def function_uid(self, fc: FunctionChange) -> str:
        """The function's uid; its row gets `deleted` from `mark_deleted` at the end."""
        uid = f"fn:{self.repo}:{fc.path}:{fc.qualname}"
        if uid not in self.functions:
            self.functions[uid] = {
                "uid": uid,
                "name": fc.name,
                "qualname": fc.qualname,
                "path": fc.path,
            }
        return uid

    def head_paths(self) -> dict[str, str]:
        """path -> head blob of the files whose functions this chunk names."""
        paths = {row["path"] for row in self.functions.values()}
        return {p: self.head.blobs[p] for p in paths if p in self.head.blobs}

    def mark_deleted(self, head_names: dict[str, set[str]]) -> None:
        """A function is deleted when the head version of its file does not define it."""
        for row in self.functions.values():
            row["deleted"] = row["qualname"] not in head_names.get(row["path"], ())


def _edge(src: str, dst: str, confidence: float, **props: Any) -> Row:
    return {"src": src, "dst": dst, "source": "git", "confidence": confidence, **props}


def add_commit(
    rows: Rows, record: CommitRecord, facts: MessageFacts, truncated: bool, cosmetic: bool = False
) -> None:
    """Add one commit's node, author, parents, file changes and ticket links (function
    changes come later, from `add_functions`). Line counts are the files' own: the loader
    has already taken cosmetic hunks out of them; `cosmetic` marks a reformatting commit."""
    uid = f"commit:{record.sha}"
    p_uid, email = person_uid(record.author_email, rows.pseudonymise)
    name = email if rows.pseudonymise else record.author_name
    rows.persons[p_uid] = {"uid": p_uid, "name": name, "email": email}
    added = deleted = 0
    for change in record.files:
        if change.is_submodule:
            change.lines_added = change.lines_deleted = 0
        added += change.lines_added
        deleted += change.lines_deleted
    rows.commits.append(
        {
            "uid": uid,
            "sha": record.sha,
            "repo": rows.repo,
            "authored_at": record.authored_at,
            "committed_at": record.committed_at,
            "tz_offset_min": record.tz_offset_min,
            "message": record.message,
            "summary": record.message.split("\n", 1)[0],
            "lines_added": added,
            "lines_deleted": deleted,
            "files_changed": len(record.files),
            "is_merge": record.is_merge,
            "is_fix": facts.is_fix,
            "truncated": truncated,
            "cosmetic": cosmetic,
            "history_complete": False,  # set true after every row the load derives from it
        }
    )
    ok = CONFIDENCE["history"]
    rows.authored.append(_edge(p_uid, uid, ok))
    for pos, parent in enumerate(record.parents):
        rows.parent.append(_edge(uid, f"commit:{parent}", ok, position=pos))
    for change in record.files:
        old = change.old_path if change.status in "RC" else None
        rows.modifies_file.append(
            _edge(
                uid,
                rows.file_uid(change.path),
                ok,
                lines_added=change.lines_added,
                lines_deleted=change.lines_deleted,
                change=_CHANGE.get(change.status, "modified"),
                old_path=old,
            )
        )
        if change.status in "RD" and change.old_path:
            rows.file_uid(change.old_path)
    for ref in facts.tickets:
        rows.tickets.setdefault(ref.uid, {"uid": ref.uid, "key": ref.key, "system": ref.system})
        rows.fixes.append(_edge(uid, ref.uid, CONFIDENCE[ref.how], how=ref.how))


def add_functions(rows: Rows, commit: str, changes: list[FunctionChange]) -> None:
    """MODIFIES edges from one commit (its uid) to the functions it touched."""
    for fc in changes:
        rows.modifies_fn.append(
            _edge(
                commit,
                rows.function_uid(fc),
                CONFIDENCE["function"],
                lines_added=fc.lines_added,
                lines_deleted=fc.lines_deleted,
                change=fc.change,
                old_path=fc.old_path,
                signature_changed=fc.signature_changed,
                **{p: fc.deltas.get(p, 0) for p in DELTA_PROPS},
            )
        )


def function_mapper(index: FunctionIndex) -> Mapper:
    """The per-file function mapping of one commit, parsing both sides of the change: which
    hunks are cosmetic, and what the others did to which functions."""
    meanings = AstIndex(index.source)

    def mapped(change: FileChange) -> MappedFile:
        if change.is_submodule or not change.hunks:
            return MappedFile([], [None] * len(change.hunks))
        try:
            old = index.get(change.old_path, change.old_blob) if change.old_path else None
            new = None
            if change.new_path:
                base = (change.old_path, change.old_blob, change.hunks) if change.old_blob else None
                new = index.get(change.new_path, change.new_blob, base)  # type: ignore[arg-type]
            trees = index.trees(change)
        except (ValueError, RuntimeError) as e:  # one unparseable version: its file still counts
            logger.warning(
                "git: functions of %s (blob %s) not mapped: %s",
                change.path,
                (change.new_blob or change.old_blob or "?")[:12],
                e,
            )
            return MappedFile([], [whitespace_only(h) for h in change.hunks])
        if trees is None:
            cosmetic = [whitespace_only(h) for h in change.hunks]
        else:
            meaning = (
                meanings.judge(trees.old, change.old_blob, trees.new, change.new_blob)
                if trees.language == "python"
                else None
            )
            cosmetic = [
                classify(trees.old, trees.new, h, trees.language, meaning) for h in change.hunks
            ]
        if old is None and new is None:
            return MappedFile([], cosmetic)
        return MappedFile(map_change(change, old, new, cosmetic, trees), cosmetic)

    return mapped
