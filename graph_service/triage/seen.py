"""Seen before: prior occurrences of an error fingerprint, their tickets and fixes, regressions."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from graph_service.store.base import GraphReader
from graph_service.triage.code_index import STAMP_TTL_S, StoreCache, store_stamp
from graph_service.triage.fixes import fixes_from_index
from graph_service.triage.heap import snapshot_built
from graph_service.triage.history_index import history_index
from graph_service.triage.models import (
    SeenBefore,
    SignatureInfo,
    SimilarTicket,
    TicketInput,
    TriageConfig,
)
from graph_service.triage.parse import read_ticket
from graph_service.triage.similar import text_key

logger = logging.getLogger(__name__)

__all__ = ["Q_HISTORY", "seen_before"]

Q_HISTORY = (
    "MATCH (e:ErrorSignature {uid: $e}) OPTIONAL MATCH (t:Ticket)-[:REPORTS]->(e) "
    "OPTIONAL MATCH (c:Commit)-[:FIXES]->(t) "
    "RETURN e.uid, e.first_seen, e.last_seen, t.uid, t.created_at, c.sha, c.authored_at"
)
_SIGNATURE = (
    "MATCH (e:ErrorSignature {uid: $e}) RETURN e.uid AS uid, e.type AS type, "
    "e.message_template AS tpl, e.frames AS frames, e.count AS count, "
    "e.first_seen AS first, e.last_seen AS last"
)
_SEEN_SVC = (
    "MATCH (e:ErrorSignature {uid: $e})-[s:SEEN_IN]->(v:Service) "
    "RETURN v.name AS name, s.first_seen AS first, s.last_seen AS last"
)
_SEEN_DEPLOY = (
    "MATCH (e:ErrorSignature {uid: $e})-[s:SEEN_IN]->(d:Deployment) "
    "RETURN d.uid AS uid, d.started_at AS started, s.first_seen AS first, s.last_seen AS last"
)
# Tickets by fingerprint and by the signature they report, read once per store stamp (the
# ticket loader writes both with its tickets): a scan of the Ticket table per request cost
# ~100 ms at 100,000 tickets.
_TICKETS = (
    "MATCH (t:Ticket) WHERE t.fingerprint IS NOT NULL RETURN t.fingerprint AS fp, "
    "t.uid AS uid, t.key AS key, t.title AS title, t.body AS body, t.status AS status, "
    "t.created_at AS created"
)
_REPORTED = (
    "MATCH (t:Ticket)-[:REPORTS]->(e:ErrorSignature) RETURN e.uid AS e, t.uid AS uid, "
    "t.key AS key, t.title AS title, t.body AS body, t.status AS status, "
    "t.created_at AS created"
)
_SHIPPED_AFTER = (
    "MATCH (d:Deployment)-[:SHIPS]->(c:Commit) WHERE c.authored_at >= $at AND c.repo = $repo "
    "RETURN d.uid AS uid, d.service AS service, d.started_at AS started "
    "ORDER BY d.started_at LIMIT 50"
)
_FIX_COMMIT = "MATCH (c:Commit {uid: $c}) RETURN c.repo AS repo, c.message AS message"
# What every deployment shipped, read once per store stamp and Deployment rows (`_shipments`);
# `_Shipments.after` answers `_SHIPPED_AFTER` from it (that query, per fix, scanned the Commit
# table: 5-20 ms at 1M nodes)
_SHIPMENTS = (
    "MATCH (d:Deployment)-[:SHIPS]->(c:Commit) RETURN c.repo AS repo, c.authored_at AS at, "
    "d.uid AS uid, d.service AS service, d.started_at AS started"
)
_MAX_SHIPPED = 50


@dataclass
class _Shipments:
    """Deployments, and per repository the shipped commits' times with their deployment."""

    deploys: list[dict[str, Any]] = field(default_factory=list)
    by_repo: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    started: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def build(cls, store: GraphReader) -> _Shipments:
        out = cls()
        pos: dict[str, int] = {}
        per: dict[str, tuple[list[float], list[int]]] = {}
        for r in store.query(_SHIPMENTS, {}, row_cap=50_000_000).rows():
            d = pos.setdefault(r["uid"], len(out.deploys))
            if d == len(out.deploys):
                out.deploys.append(
                    {"uid": r["uid"], "service": r["service"], "started": r["started"]}
                )
            ts, ds = per.setdefault(r["repo"], ([], []))
            ts.append(_epoch(_naive(r["at"])))
            ds.append(d)
        out.by_repo = {
            k: (np.array(t, dtype=np.float64), np.array(d, dtype=np.int64))
            for k, (t, d) in per.items()
        }
        out.started = np.array(
            [_epoch(_naive(d["started"])) for d in out.deploys], dtype=np.float64
        )
        snapshot_built(sum(len(t) for t, _ in per.values()))
        return out

    def after(self, repo: str, at: datetime) -> list[dict[str, Any]]:
        """`_SHIPPED_AFTER`: a row per (deployment, shipped commit of `repo` authored at or
        after `at`), by deployment start (unknown starts last), at most 50."""
        ts, ds = self.by_repo.get(repo, (np.zeros(0), np.zeros(0, dtype=np.int64)))
        hit = ds[ts >= _epoch(_naive(at))]
        if hit.size == 0:
            return []
        started = self.started[hit]
        order = np.argsort(np.nan_to_num(started, nan=np.inf), kind="stable")
        return [dict(self.deploys[int(hit[i])]) for i in order[:_MAX_SHIPPED]]


def _epoch(t: datetime | None) -> float:
    return t.replace(tzinfo=UTC).timestamp() if t is not None else float("nan")


# the table follows the Deployment rows too (a deployments load need not change the store's
# stamp), re-read at most every STAMP_TTL_S seconds like the stamp
_DEPLOY_STAMP = "MATCH (d:Deployment) RETURN count(d) AS n, max(d.run_id) AS r"
_DEPLOY_STAMPS: weakref.WeakKeyDictionary[Any, tuple[float, tuple[Any, ...]]] = (
    weakref.WeakKeyDictionary()
)
_SHIPPED: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], _Shipments]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def _shipments(store: GraphReader) -> _Shipments:
    """The shipments table of `store`, rebuilt when its stamp or its Deployment rows change."""
    now = time.monotonic()
    hit = _DEPLOY_STAMPS.get(store)
    if hit is not None and now - hit[0] < STAMP_TTL_S:
        deploys = hit[1]
    else:
        rows = store.query(_DEPLOY_STAMP, {}).rows()
        deploys = (rows[0]["n"], rows[0]["r"]) if rows else (0, None)
        _DEPLOY_STAMPS[store] = (now, deploys)
    key = (store_stamp(store), deploys)
    with _LOCK:
        cached = _SHIPPED.get(store)
    if cached is not None and cached[0] == key:
        return cached[1]
    table = _Shipments.build(store)
    with _LOCK:
        _SHIPPED[store] = (key, table)
    return table


def _naive(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def seen_before(
    store: GraphReader,
    fingerprint_or_ticket: str | TicketInput,
    config: TriageConfig | None = None,
) -> SeenBefore:
    """Prior occurrences of the error, their tickets, the commits that fixed them, and whether
    this is a regression: the error occurs again after a deployment that shipped a fix.

    A deployment ships a fix when it deployed a commit of the fix's repository authored at or
    after the fix. A ticket argument counts as an occurrence at its `created` time (now when
    unset) and is left out of the prior tickets.
    """
    own_uid: str | None = None
    own_text = ""
    occurred: datetime | None = None
    if isinstance(fingerprint_or_ticket, TicketInput):
        ticket = fingerprint_or_ticket
        fp = read_ticket(ticket).fingerprint
        own_uid = ticket.uid
        own_text = text_key(ticket.title, ticket.body)
        occurred = _naive(ticket.created) or datetime.now(UTC).replace(tzinfo=None)
    else:
        fp = fingerprint_or_ticket.removeprefix("err:")
    if not fp:
        return SeenBefore(fingerprint=None)
    e = f"err:{fp}"
    sig_rows = store.query(_SIGNATURE, {"e": e}).rows()
    signature = _signature(sig_rows[0]) if sig_rows else None
    tickets = _tickets(store, fp, e, (own_uid, own_text), occurred)
    fixes = fixes_from_index(history_index(store), [t.uid for t in tickets], before=occurred)
    repos: dict[str, str | None] = {}
    for f in fixes:
        rows = store.query(_FIX_COMMIT, {"c": f.uid}).rows()
        repos[f.uid] = rows[0]["repo"] if rows else None
        f.message = (rows[0]["message"] or "") if rows else ""
    created = {t.uid: t.created_at for t in tickets}
    for f in fixes:
        f.ticket_created_at = created.get(f.ticket)
        f.days_to_fix = _days(f.ticket_created_at, f.authored_at)
    for t in tickets:
        t.fixes = [f for f in fixes if f.ticket == t.uid]
    services = sorted({r["name"] for r in store.query(_SEEN_SVC, {"e": e}).rows() if r["name"]})
    result = SeenBefore(
        fingerprint=fp,
        known=bool(signature or tickets),
        signature=signature,
        services=services,
        tickets=tickets,
        fixes=fixes,
        cypher=Q_HISTORY,
    )
    shipped = _shipping(store, result, occurred, repos)
    _regression(store, result, e, occurred, shipped)
    result.summary = _summary(result)
    return result


def _days(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max((end - start).total_seconds(), 0.0) / 86400, 2)


def _summary(result: SeenBefore) -> str:
    """One line a support engineer can read: the earliest prior ticket, its fix, how long."""
    if not result.tickets:
        return "new error: no earlier ticket reports it" if result.fingerprint else ""
    first = result.tickets[0]
    who = first.key or first.uid
    fixes = sorted(result.fixes, key=lambda f: f.authored_at or datetime.max)
    if not fixes:
        return (
            f"seen before in ticket {who} ({len(result.tickets)} earlier ticket(s)); no fix known"
        )
    f = fixes[0]
    out = f"seen before in ticket {f.ticket.rsplit(':', 1)[-1] or who}; fixed by {f.sha[:12]}"
    out += f" ({f.summary})" if f.summary else ""
    if f.days_to_fix is not None:
        out += f" {f.days_to_fix:g} days after it was reported"
    if f.deployment:
        out += f"; shipped by {f.deployment}"
        if f.days_to_deploy is not None:
            out += f" {f.days_to_deploy:g} days after the report"
    else:
        out += "; no deployment shipping it is known"
    return out


def _signature(r: dict[str, Any]) -> SignatureInfo:
    return SignatureInfo(
        uid=r["uid"],
        type=r["type"] or "",
        message_template=r["tpl"] or "",
        frames=r["frames"] or [],
        count=r["count"],
        first_seen=r["first"],
        last_seen=r["last"],
    )


def _tickets(
    store: GraphReader, fp: str, e: str, own: tuple[str | None, str], before: datetime | None
) -> list[SimilarTicket]:
    """Earlier tickets with this fingerprint: never the ticket asked about (by uid, or the same
    text pasted again) nor tickets without text."""
    index = _fingerprints(store)
    rows = {r["uid"]: r for r in index.get(fp, [])}
    rows.update({r["uid"]: r for r in index.get(e, [])})
    out = [
        SimilarTicket(
            uid=r["uid"],
            key=r["key"] or "",
            title=r["title"] or "",
            status=r["status"] or "",
            created_at=r["created"],
            score=1.0,
            signals={"fingerprint": 1.0},
        )
        for r in rows.values()
        if r["uid"] != own[0]
        and r["text_key"]
        and r["text_key"] != own[1]
        and not (before and r["created"] and r["created"] > before)
    ]
    return sorted(out, key=lambda t: t.created_at or datetime.min)


def _rows_by_error(store: GraphReader) -> dict[str, list[dict[str, Any]]]:
    """Ticket rows (with their text key, without the body) by fingerprint and by `err:` uid."""
    out: dict[str, list[dict[str, Any]]] = {}
    for q, key in ((_TICKETS, "fp"), (_REPORTED, "e")):
        for r in store.query(q, {}, row_cap=50_000_000).rows():
            body = r.pop("body")
            r["text_key"] = text_key(r["title"], body)
            out.setdefault(r.pop(key), []).append(r)
    return out


_FINGERPRINTS: StoreCache[dict[str, list[dict[str, Any]]]] = StoreCache()


def _fingerprints(store: GraphReader) -> dict[str, list[dict[str, Any]]]:
    return _FINGERPRINTS.get(store, lambda: _rows_by_error(store))


def _occurrences(
    store: GraphReader, result: SeenBefore, e: str, occurred: datetime | None
) -> list[tuple[datetime, str]]:
    """Every time the error is known to have happened, with where the fact comes from."""
    out: list[tuple[datetime, str]] = []
    if occurred:
        out.append((occurred, "this ticket"))
    if result.signature and result.signature.last_seen:
        out.append((result.signature.last_seen, f"{e} last_seen"))
    for t in result.tickets:
        if t.created_at:
            out.append((t.created_at, f"ticket {t.uid}"))
    for r in store.query(_SEEN_DEPLOY, {"e": e}).rows():
        if r["last"]:
            out.append((r["last"], f"seen in {r['uid']}"))
    return out


def _shipping(
    store: GraphReader,
    result: SeenBefore,
    occurred: datetime | None,
    repos: dict[str, str | None],
) -> dict[str, list[dict[str, Any]]]:
    """Deployments that shipped each fix (first one named on the fix), by fix commit uid."""
    out: dict[str, list[dict[str, Any]]] = {}
    for fix in result.fixes:
        if fix.authored_at is None:
            continue
        repo = repos.get(fix.uid)
        if not repo:
            continue
        deploys = _shipments(store).after(repo, fix.authored_at)
        if occurred is not None:
            deploys = [d for d in deploys if d["started"] is None or d["started"] <= occurred]
        if result.services:
            deploys = [d for d in deploys if d["service"] in result.services] or deploys
        out[fix.uid] = deploys
        first = next((d for d in deploys if d["started"]), None)
        if first is not None:
            fix.deployment, fix.deployed_at = first["uid"], first["started"]
            fix.days_to_deploy = _days(fix.ticket_created_at, first["started"])
    return out


def _regression(
    store: GraphReader,
    result: SeenBefore,
    e: str,
    occurred: datetime | None,
    shipped: dict[str, list[dict[str, Any]]],
) -> None:
    occurrences = _occurrences(store, result, e, occurred)
    for fix in sorted(result.fixes, key=lambda f: f.authored_at or datetime.min):
        for d in shipped.get(fix.uid, []):
            later = [o for o in occurrences if d["started"] and o[0] > d["started"]]
            if later:
                when, what = min(later)
                result.regression = True
                result.regression_detail = (
                    f"fixed by {fix.sha[:12]} ({fix.summary}); shipped by {d['uid']} at "
                    f"{d['started']:%Y-%m-%d %H:%M}; seen again at {when:%Y-%m-%d %H:%M} ({what})"
                )
                return
