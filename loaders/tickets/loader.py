"""The tickets loader: GitHub/Jira/CSV exports -> Tickets and what they mention, fix, duplicate."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from graph_service.batch import Batch, DeleteEdgesFrom, edges, nodes
from graph_service.store.base import GraphReader
from loaders import stacktrace
from loaders.base import LoadReport
from loaders.dates import load_clock
from loaders.redact import RedactConfig, Redactor
from loaders.tickets.formats import (
    RawTicket,
    TicketFormatError,
    check_times,
    detect_format,
    read_tickets,
)
from loaders.tickets.links import Lookups, TextRefs, scan_text
from loaders.traces.otlp import expand_paths
from loaders.traces.resolve import safe_query

logger = logging.getLogger(__name__)

__all__ = ["TicketsConfig", "TicketsLoader", "classify"]

_SRC = {"source": "ticket"}
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("incident", re.compile(r"(?i)\b(incident|outage|sev[ -]?[0-2]|postmortem|post-mortem|p0)\b")),
    ("bug", re.compile(r"(?i)\b(bug|defect|crash|regression|error|broken|fault)\b")),
    ("feature", re.compile(r"(?i)\b(feature|enhancement|story|improvement|epic|new feature)\b")),
    ("question", re.compile(r"(?i)\b(question|support|help|how[- ]to|discussion)\b")),
)
_SEVERITY = re.compile(
    r"(?i)^(?:severity|sev|priority|prio)[:/ _-]*(.+)$|^(p[0-4]|sev[0-4]|critical|"
    r"blocker|major|minor|trivial)$"
)
_SERVICE_LABEL = re.compile(r"(?i)^(?:service|svc|component|area)[:/](.+)$")
_KIND_VALUES = {"bug", "incident", "question", "feature", "reference"}


class TicketsConfig(BaseModel):
    """Inputs and options of a ticket load (`--option format=jira --option system=acme`)."""

    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(default_factory=list)
    format: Literal["auto", "github", "jira", "csv"] = "auto"
    system: str | None = Field(default=None, description="Overrides the system in ticket uids.")
    redact_pii: bool = True


def _warner(report: LoadReport, name: str) -> Callable[[str, str, str], None]:
    """A row-level warning of file `name` (the row's position follows the file name)."""

    def warn(item: str, reason: str, position: str) -> None:
        report.warn(item, reason, f"{name} {position}".strip())

    return warn


def classify(t: RawTicket, has_trace: bool) -> str | None:
    """bug / incident / question / feature from the declared kind, issue type, then labels."""
    if t.kind in _KIND_VALUES:
        return t.kind
    for source in ([t.type_name], t.labels):
        for kind, rx in _KINDS:
            if any(rx.search(x) for x in source if x):
                return kind
    return "bug" if has_trace else None


def _severity(t: RawTicket) -> str | None:
    if t.severity:
        return t.severity
    for label in t.labels:
        m = _SEVERITY.match(label.strip())
        if m:
            return (m.group(1) or m.group(2)).strip().lower()
    return None


class TicketsLoader:
    """Reads every input, resolves mentions with a few read queries, yields batches."""

    name = "tickets"

    def __init__(self, config: TicketsConfig) -> None:
        self.config = config

    def _read(self, report: LoadReport) -> list[RawTicket]:
        tickets: dict[tuple[str, str], RawTicket] = {}
        now = load_clock()
        for path in expand_paths(self.config.paths, (".json", ".csv")):
            name = str(path)
            try:
                data = Path(path).read_bytes()
                fmt, doc = detect_format(name, data, self.config.format)
                for t in read_tickets(fmt, doc, self.config.system, report.skip, name):
                    check_times(t, now, _warner(report, name))
                    tickets[(t.system, t.key)] = t
            except TicketFormatError as e:
                report.skip(name, str(e), e.position)
            except OSError as e:
                report.skip(name, f"cannot read: {e.strerror or e}")
            except (KeyError, TypeError, AttributeError) as e:
                report.skip(name, f"unexpected document shape: {e!r}", "document")
        return list(tickets.values())

    def extract(self, report: LoadReport, reader: GraphReader | None = None) -> Iterator[Batch]:
        tickets = self._read(report)
        if not tickets:
            return
        redactor = Redactor(RedactConfig(enabled=self.config.redact_pii))
        refs = [scan_text(t.text) for t in tickets]
        for t, r in zip(tickets, refs, strict=True):
            r.shas |= set(t.fixed_by)
        look = Lookups(reader, refs)
        yield nodes(
            "Ticket", [self._row(t, r, redactor) for t, r in zip(tickets, refs, strict=True)]
        )
        yield from self._signatures(refs, look, redactor)
        uids = tuple(_uid(t) for t in tickets)
        for rel in ("MENTIONS", "REPORTS", "AFFECTS"):
            yield DeleteEdgesFrom(rel, "Ticket", uids)
        yield from self._mentions(tickets, refs, look)
        yield from self._links(tickets, refs, look, report)
        report.stats["tickets"] = len(tickets)

    def _row(self, t: RawTicket, r: TextRefs, redactor: Redactor) -> dict[str, Any]:
        return {
            "uid": _uid(t),
            "key": t.key,
            "system": t.system,
            "title": redactor.text(t.title),
            "body": redactor.text(t.body),
            "kind": classify(t, r.trace is not None),
            "status": t.status,
            "severity": _severity(t),
            "labels": t.labels,
            "created_at": t.created_at,
            "resolved_at": t.resolved_at,
            "fingerprint": r.fingerprint,
        }

    def _signatures(
        self, refs: list[TextRefs], look: Lookups, redactor: Redactor
    ) -> Iterator[Batch]:
        """ErrorSignatures first seen in a ticket (existing ones are left as traces wrote them)."""
        rows: dict[str, dict[str, Any]] = {}
        for r in refs:
            fp, trace = r.fingerprint, r.trace
            if not fp or not trace or f"err:{fp}" in look.errors:
                continue
            frames = trace.in_app_frames or trace.frames
            rows[fp] = {
                "uid": f"err:{fp}",
                "fingerprint": fp,
                "type": trace.error_type,
                "message_template": redactor.text(
                    stacktrace.message_template(trace.message, trace.error_type)
                ),
                "frames": [stacktrace.frame_key(f) for f in frames],
            }
            look.errors.add(f"err:{fp}")
        if rows:
            yield nodes("ErrorSignature", list(rows.values()))

    def _mentions(
        self, tickets: list[RawTicket], refs: list[TextRefs], look: Lookups
    ) -> Iterator[Batch]:
        by_label: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}

        def add(label: str, src: str, dst: str | None, how: str, conf: float) -> None:
            if dst and (src, dst) not in by_label.setdefault(label, {}):
                by_label[label][(src, dst)] = {
                    "src": src,
                    "dst": dst,
                    **_SRC,
                    "confidence": conf,
                    "how": how,
                }

        reports = []
        for t, r in zip(tickets, refs, strict=True):
            src = _uid(t)
            for f in r.frames:
                if f.function:
                    hit = look.functions.match(f.path, f.function, f.line)
                    add(
                        "Function",
                        src,
                        hit[0].uid if hit else None,
                        "frame",
                        hit[1] if hit else 0.0,
                    )
                add("File", src, look.file_for(f.path) if f.path else None, "frame", 0.9)
            for p in sorted(r.paths):
                add("File", src, look.file_for(p), "path", 0.8)
            for n in sorted(r.names):
                add("Function", src, look.function_for_name(n), "name", 0.6)
            for s in sorted(r.shas):
                add("Commit", src, look.commits.get(s), "sha", 1.0 if len(s) == 40 else 0.9)
            for svc in sorted(look.service_names(t.text)):
                add("Service", src, svc, "name", 0.6)
            fp = r.fingerprint
            if fp and f"err:{fp}" in look.errors:
                add("ErrorSignature", src, f"err:{fp}", "fingerprint", 1.0)
                reports.append({"src": src, "dst": f"err:{fp}", **_SRC, "confidence": 1.0})
        for label, rows in by_label.items():
            yield edges("MENTIONS", "Ticket", label, list(rows.values()))
        if reports:
            yield edges("REPORTS", "Ticket", "ErrorSignature", reports)

    def _links(
        self, tickets: list[RawTicket], refs: list[TextRefs], look: Lookups, report: LoadReport
    ) -> Iterator[Batch]:
        dups, affects, fixes = [], [], []
        for t in tickets:
            src = _uid(t)
            for k in t.duplicate_of:
                dups.append(
                    {"src": src, "dst": f"ticket:{t.system}:{k}", **_SRC, "confidence": 1.0}
                )
            for k in t.duplicated_by:
                dups.append(
                    {"src": f"ticket:{t.system}:{k}", "dst": src, **_SRC, "confidence": 1.0}
                )
            declared = list(t.services) + [
                m.group(1) for x in t.labels if (m := _SERVICE_LABEL.match(x))
            ]
            declared += [x for x in t.labels if x in look.services]
            for name in dict.fromkeys(declared):
                if name in look.services:
                    affects.append(
                        {"src": src, "dst": look.services[name], **_SRC, "confidence": 1.0}
                    )
                else:
                    report.warn(src, f"affected service {name!r} is not in the graph", t.position)
            for sha in t.fixed_by:
                if sha in look.commits:
                    fixes.append(
                        {
                            "src": look.commits[sha],
                            "dst": src,
                            **_SRC,
                            "confidence": 0.9,
                            "how": "ticket_link",
                        }
                    )
        if dups:
            yield edges("DUPLICATE_OF", "Ticket", "Ticket", dups)
        if affects:
            yield edges("AFFECTS", "Ticket", "Service", affects)
        fixes = _not_claimed(look.reader, fixes)
        if fixes:
            yield edges("FIXES", "Commit", "Ticket", fixes)


def _not_claimed(reader: GraphReader | None, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """FIXES rows minus pairs another source (git trailers, keywords) already recorded."""
    if not rows:
        return rows
    q = (
        "UNWIND $pairs AS p MATCH (c:Commit {uid: p.s})-[r:FIXES]->(t:Ticket {uid: p.d}) "
        "WHERE r.source <> 'ticket' RETURN p.s AS s, p.d AS d"
    )
    pairs = [{"s": r["src"], "d": r["dst"]} for r in rows]
    taken = {(r["s"], r["d"]) for r in safe_query(reader, q, {"pairs": pairs})}
    return [r for r in rows if (r["src"], r["dst"]) not in taken]


def _uid(t: RawTicket) -> str:
    return f"ticket:{t.system}:{t.key}"
