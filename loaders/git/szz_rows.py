"""SZZ as rows: blame the fixes of a chunk, filter by ticket dates, weigh into INDUCED rows."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph_service.errors import CallerError
from graph_service.store.base import GraphReader
from loaders.base import LoadReport
from loaders.git.config import GitConfig
from loaders.git.gitcli import Git
from loaders.git.origins import LineOrigins
from loaders.git.szz import BlameJob, BlameResult, blame, candidates

logger = logging.getLogger(__name__)

__all__ = ["Fix", "SzzStep", "load_ticket_dates", "ticket_created", "to_utc"]

# Confidence of an SZZ edge: a base by how the fix was identified, raised towards 0.9 by the
# share of the fix's blamed lines that point at this candidate.
_BASE_LINKED = 0.5  # the fix closes a ticket or declares the commit it fixes
_BASE_KEYWORD = 0.3  # only a fix keyword in the message
_TOP = 0.9


@dataclass
class Fix:
    """A fixing commit waiting for its blame results."""

    sha: str
    fixed_at: datetime
    linked: bool
    tickets: list[str] = field(default_factory=list)


def to_utc(value: datetime) -> datetime:
    """Naive UTC (the schema's TIMESTAMP) from an aware or naive datetime."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def load_ticket_dates(path: Path | None) -> dict[str, datetime]:
    """{ticket uid: created_at (naive UTC)} from a JSON file, for SZZ's date filter."""
    if path is None:
        return {}
    try:
        raw = json.loads(path.read_text())
        return {str(k): to_utc(datetime.fromisoformat(str(v))) for k, v in raw.items()}
    except (OSError, ValueError, AttributeError) as e:
        raise CallerError(f"git: cannot read ticket_dates {path}: {e}") from e


def ticket_created(reader: GraphReader | None, uids: list[str]) -> dict[str, datetime | None]:
    """Tickets already in the store among `uids`, with their creation time when known."""
    if reader is None or not uids:
        return {}
    res = reader.query(
        "UNWIND $uids AS u MATCH (t:Ticket {uid: u}) RETURN t.uid AS uid, t.created_at AS at",
        {"uids": uids},
    )
    return {r["uid"]: r["at"] for r in res.rows()}


class SzzStep:
    """Blames fixes in the background while history is parsed; turns candidates into rows.

    With `origins`, a job is answered from the replayed line origins when they know every
    line; the others run `git blame`, each its own git process, `blame_workers` at a time
    beside the parser.
    """

    def __init__(
        self,
        git: Git,
        cfg: GitConfig,
        report: LoadReport,
        reader: GraphReader | None,
        ignore_revs: Path | None,
        head: str,
        origins: LineOrigins | None = None,
    ) -> None:
        self.git, self.cfg, self.report, self.reader = git, cfg, report, reader
        self.ignore_revs = ignore_revs
        self.origins = origins
        self.merges = git.merges(head)
        self.dates = load_ticket_dates(cfg.ticket_dates)
        self._pool = ThreadPoolExecutor(max_workers=cfg.blame_workers)
        self._pending: list[Future[BlameResult] | BlameResult] = []
        self.replayed = 0

    def submit(self, jobs: list[BlameJob]) -> None:
        """Answer each job now from the line origins, or queue a `git blame` for it."""
        for job in jobs:
            known = (
                self.origins.blame(job.blob, job.parent, job.path, job.lines)
                if self.origins
                else None
            )
            if known is not None:
                self.replayed += 1
                self._pending.append(BlameResult(job, known[0], known[1]))
            else:
                self._pending.append(self._pool.submit(blame, self.git, job, self.ignore_revs))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def induced(self, fixes: dict[str, Fix]) -> list[dict[str, Any]]:
        """INDUCED rows from every blame submitted so far (waits for them)."""
        results = [p if isinstance(p, BlameResult) else p.result() for p in self._pending]
        self._pending = []
        if not results:
            return []
        ran = len(results) - self.replayed
        by_fix: dict[str, list[BlameResult]] = defaultdict(list)
        for r in results:
            if r.error:
                self.report.warn(f"commit:{r.job.fix_sha}", f"blame {r.job.path}: {r.error}")
            by_fix[r.job.fix_sha].append(r)
        stats = self.report.stats
        stats["szz_blames"] = stats.get("szz_blames", 0) + ran
        stats["szz_replayed"] = stats.get("szz_replayed", 0) + self.replayed
        self.replayed = 0
        known = self._ticket_dates([t for f in fixes.values() for t in f.tickets])
        rows: list[dict[str, Any]] = []
        for sha, blamed in by_fix.items():
            fix = fixes[sha]
            dates = [known[t] for t in fix.tickets if t in known]
            found = candidates(blamed, merges=self.merges, not_after=min(dates, default=None))
            total = sum(c.lines for c in found)
            base = _BASE_LINKED if fix.linked else _BASE_KEYWORD
            for c in found:
                rows.append(
                    {
                        "src": f"commit:{c.sha}",
                        "dst": f"commit:{sha}",
                        "source": "git",
                        "confidence": round(base + (_TOP - base) * c.lines / total, 3),
                        "method": "szz",
                        "fixed_at": fix.fixed_at,
                        "lines": c.lines,
                    }
                )
        stats["szz_induced"] = stats.get("szz_induced", 0) + len(rows)
        return rows

    def _ticket_dates(self, uids: list[str]) -> dict[str, datetime]:
        out = {u: d for u, d in ticket_created(self.reader, sorted(set(uids))).items() if d}
        out.update({u: self.dates[u] for u in uids if u in self.dates})
        return out
