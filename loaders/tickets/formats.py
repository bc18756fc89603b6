"""Reading ticket exports (GitHub issues JSON, Jira search JSON, CSV) into one plain record."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from loaders.dates import BadTime, implausible, read_time

logger = logging.getLogger(__name__)

__all__ = [
    "RawTicket",
    "TicketFormatError",
    "check_times",
    "detect_format",
    "parse_time",
    "read_tickets",
]

Skip = Callable[[str, str, str], None]  # (item, reason, position)

CSV_COLUMNS = (
    "id",
    "title",
    "body",
    "kind",
    "status",
    "severity",
    "labels",
    "created_at",
    "resolved_at",
    "duplicate_of",
    "services",
    "fixed_by",
)


class TicketFormatError(ValueError):
    """The whole input is unreadable (invalid JSON, unknown shape)."""

    def __init__(self, message: str, position: str | None = None) -> None:
        super().__init__(message)
        self.position = position


@dataclass
class RawTicket:
    """One ticket as read, before links are resolved."""

    system: str
    key: str
    title: str = ""
    body: str = ""
    comments: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    type_name: str = ""
    status: str | None = None
    severity: str | None = None
    created_at: dt.datetime | None = None  # set from the raw values by `check_times`
    resolved_at: dt.datetime | None = None
    created_raw: object = None  # as found in the input
    resolved_raw: object = None
    duplicate_of: list[str] = field(default_factory=list)  # keys in the same system
    duplicated_by: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)  # declared (components, CSV column)
    fixed_by: list[str] = field(default_factory=list)  # commit shas named as the fix
    kind: str | None = None
    position: str = ""

    @property
    def text(self) -> str:
        return "\n".join([self.title, self.body, *self.comments])


def parse_time(value: object) -> dt.datetime | None:
    """ISO 8601 (with Z, +00:00 or Jira's +0000) -> naive UTC; None when empty or unreadable."""
    try:
        return read_time(value)
    except BadTime:
        return None


def check_times(t: RawTicket, now: dt.datetime, warn: Skip) -> None:
    """Set the ticket's times from its raw values; an unreadable or implausible one is left
    empty (the ticket still loads) and reported with the ticket's key and the reason."""
    for name, raw in (("created_at", t.created_raw), ("resolved_at", t.resolved_raw)):
        try:
            when = read_time(raw)
            reason = implausible(when, now) if when is not None else None
        except BadTime as e:
            when, reason = None, str(e)
        if reason:
            warn(f"ticket:{t.system}:{t.key}", f"{name} {reason}: stored without it", t.position)
            when = None
        setattr(t, name, when)


def detect_format(name: str, data: bytes, forced: str = "auto") -> tuple[str, Any]:
    """('csv', text) or ('github'|'jira', parsed JSON); TicketFormatError when unknown.

    `forced` (github, jira, csv) skips the guess but still parses the document.
    """
    text = data.decode("utf-8-sig", errors="replace")
    if forced == "csv" or (forced == "auto" and name.lower().endswith(".csv")):
        return "csv", text
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        if "," in text.split("\n", 1)[0] and text.lstrip()[:1] not in "[{":
            return "csv", text
        raise TicketFormatError(
            f"invalid JSON: {e.msg}", f"line {e.lineno} column {e.colno}"
        ) from e
    return (forced if forced != "auto" else _json_kind(doc)), doc


def _json_kind(doc: Any) -> str:
    if isinstance(doc, dict) and isinstance(doc.get("issues"), list):
        return "jira"
    items = doc if isinstance(doc, list) else [doc]
    first = next((x for x in items if isinstance(x, dict)), None)
    if first is None:
        raise TicketFormatError("no ticket objects found", "document")
    if "fields" in first and "key" in first:
        return "jira"
    if "number" in first or "html_url" in first or ("title" in first and "state" in first):
        return "github"
    raise TicketFormatError(
        "unknown ticket format (neither GitHub issues nor Jira issues)", "document"
    )


def read_tickets(
    fmt: str, doc: Any, system: str | None, skip: Skip, name: str
) -> Iterator[RawTicket]:
    """Tickets of one document; bad entries go to `skip` with their position."""
    if fmt == "github":
        items = doc if isinstance(doc, list) else [doc]
        for i, item in enumerate(items):
            t = _github(item, system or "github", f"[{i}]", skip, name)
            if t:
                yield t
    elif fmt == "jira":
        items = (
            doc["issues"]
            if isinstance(doc, dict) and "issues" in doc
            else (doc if isinstance(doc, list) else [doc])
        )
        for i, item in enumerate(items):
            t = _jira(item, system or "jira", f"issues[{i}]", skip, name)
            if t:
                yield t
    elif fmt == "csv":
        yield from _csv(doc, system or "csv", skip, name)
    else:
        raise TicketFormatError(f"unknown format {fmt!r} (use github, jira or csv)")


def _names(items: Any, key: str = "name") -> list[str]:
    out = []
    for x in items or []:
        v = x.get(key) if isinstance(x, dict) else x
        if isinstance(v, str) and v:
            out.append(v)
    return out


_DUP_TEXT = re.compile(r"(?i)\bduplicate (?:of|to)\s+#(\d+)")
_FIX_COMMIT = re.compile(
    r"(?i)\b(?:fixed|resolved|closed)\s+(?:by|in|via|with)\s+(?:commit\s+)?"
    r"(?:https?://\S+/commit/)?([0-9a-f]{7,40})\b|/commit/([0-9a-f]{7,40})\b"
)


def fixed_by_commits(text: str) -> list[str]:
    return sorted({a or b for a, b in _FIX_COMMIT.findall(text or "")})


def _github(item: Any, system: str, pos: str, skip: Skip, name: str) -> RawTicket | None:
    if not isinstance(item, dict) or item.get("number") in (None, ""):
        skip(name, "issue without a number", pos)
        return None
    if item.get("pull_request"):
        skip(name, f"#{item['number']} is a pull request, not an issue", pos)
        return None
    comments = item.get("comments")
    texts = (
        [c.get("body") or "" for c in comments if isinstance(c, dict)]
        if isinstance(comments, list)
        else []
    )
    body = item.get("body") or ""
    t = RawTicket(
        system=system,
        key=str(item["number"]),
        title=item.get("title") or "",
        body=body,
        comments=texts,
        labels=_names(item.get("labels")),
        status=item.get("state"),
        created_raw=item.get("created_at"),
        resolved_raw=item.get("closed_at"),
        position=pos,
    )
    all_text = "\n".join([body, *texts])
    t.duplicate_of = sorted(set(_DUP_TEXT.findall(all_text)))
    if item.get("state_reason") == "duplicate" and not t.duplicate_of:
        t.labels.append("duplicate")
    t.fixed_by = fixed_by_commits(all_text)
    return t


def _adf_text(node: Any) -> str:
    """Plain text of a Jira document (API v3 Atlassian Document Format) or a plain string."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        sep = "\n" if node.get("type") in ("paragraph", "codeBlock", "heading", "listItem") else ""
        return "".join(_adf_text(c) for c in node.get("content", [])) + sep
    if isinstance(node, list):
        return "".join(_adf_text(c) for c in node)
    return ""


def _jira(item: Any, system: str, pos: str, skip: Skip, name: str) -> RawTicket | None:
    if not isinstance(item, dict) or not item.get("key"):
        skip(name, "issue without a key", pos)
        return None
    f = item.get("fields") or {}
    comment = f.get("comment")
    comments = comment.get("comments", []) if isinstance(comment, dict) else []
    t = RawTicket(
        system=system,
        key=str(item["key"]),
        title=f.get("summary") or "",
        body=_adf_text(f.get("description") or ""),
        comments=[_adf_text(c.get("body")) for c in comments if isinstance(c, dict)],
        labels=[x for x in f.get("labels") or [] if isinstance(x, str)],
        type_name=(f.get("issuetype") or {}).get("name") or "",
        status=((f.get("status") or {}).get("name") or "").lower() or None,
        severity=(f.get("priority") or {}).get("name"),
        created_raw=f.get("created"),
        resolved_raw=f.get("resolutiondate"),
        services=_names(f.get("components")),
        position=pos,
    )
    for link in f.get("issuelinks") or []:
        if (
            not isinstance(link, dict)
            or "duplicate" not in str((link.get("type") or {}).get("name", "")).lower()
        ):
            continue
        if isinstance(link.get("outwardIssue"), dict):
            t.duplicate_of.append(str(link["outwardIssue"].get("key")))
        if isinstance(link.get("inwardIssue"), dict):
            t.duplicated_by.append(str(link["inwardIssue"].get("key")))
    t.fixed_by = fixed_by_commits("\n".join([t.body, *t.comments]))
    return t


def _split(v: str | None) -> list[str]:
    return [x.strip() for x in re.split(r"[;|]", v or "") if x.strip()]


def _csv(text: str, system: str, skip: Skip, name: str) -> Iterator[RawTicket]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "id" not in header:
        raise TicketFormatError("CSV without an 'id' column", "line 1")
    reader.fieldnames = header
    for row in reader:
        pos = f"line {reader.line_num}"
        extra = row.get(None)  # type: ignore[call-overload]
        if extra:
            skip(name, f"{len(extra)} value(s) beyond the header ignored", pos)
        key = (row.get("id") or "").strip()
        if not key:
            skip(name, "row without an id", pos)
            continue
        yield RawTicket(
            system=system,
            key=key,
            title=row.get("title") or "",
            body=row.get("body") or "",
            labels=_split(row.get("labels")),
            kind=(row.get("kind") or "").strip().lower() or None,
            status=(row.get("status") or "").strip() or None,
            severity=(row.get("severity") or "").strip() or None,
            created_raw=row.get("created_at"),
            resolved_raw=row.get("resolved_at"),
            duplicate_of=[x.lstrip("#") for x in _split(row.get("duplicate_of"))],
            services=_split(row.get("services")),
            fixed_by=_split(row.get("fixed_by")) or fixed_by_commits(row.get("body") or ""),
            position=pos,
        )
