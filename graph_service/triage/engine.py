"""Triage: from a new ticket to ranked suspect functions, files and commits with evidence."""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime

import numpy as np

from graph_service.schema import CLASS_BODY_CALLER, MODULE_CALLER
from graph_service.settings import Settings
from graph_service.store.base import GraphReader
from graph_service.triage.bodies import body_signals
from graph_service.triage.code_index import CodeIndex, code_index
from graph_service.triage.commits import blame_commits, graph_commits
from graph_service.triage.fixes import fixes_from_index
from graph_service.triage.heap import settle
from graph_service.triage.history_index import HistoryIndex, history_index
from graph_service.triage.models import (
    Owner,
    ParsedTicket,
    SimilarTicket,
    Suspect,
    TicketInput,
    TriageConfig,
    TriageResult,
)
from graph_service.triage.parse import read_ticket
from graph_service.triage.scorer import Scorer, scorer_for
from graph_service.triage.signals import Candidates, add_past_fixes, gather, prose
from graph_service.triage.similar import similar
from graph_service.triage.text import tokenize

logger = logging.getLogger(__name__)

__all__ = ["collect", "triage"]


def _now(ticket: TicketInput) -> datetime:
    """The ticket time as naive UTC (the store's timestamps are naive UTC)."""
    t = ticket.created or datetime.now(UTC)
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def collect(
    store: GraphReader, ticket: TicketInput, config: TriageConfig
) -> tuple[ParsedTicket, CodeIndex, Candidates, list[SimilarTicket]]:
    """Parse, map, gather signals and similar tickets (shared by triage and scorer training)."""
    parsed = read_ticket(ticket)
    code = code_index(store)
    now = _now(ticket)
    cands = gather(store, code, ticket, parsed, now, config.history_days)
    if config.body_text:
        words = tokenize(ticket.title) * 2 + tokenize(prose(ticket.body))
        for uid, ev in body_signals(store, code, cands.fn, cands.file, words, now).items():
            cands.cite(uid, ev)
    nodes = {fr.file_uid for fr in parsed.frames if fr.file_uid}
    nodes |= {fr.function_uid for fr in parsed.frames if fr.function_uid}
    if ticket.service:
        nodes.add(f"svc:{ticket.service}")
    timed = ticket.model_copy(update={"created": now})
    found = similar(store, timed, config.similar_k, config, nodes=nodes)
    if found:
        fixes = fixes_from_index(history_index(store), [s.uid for s in found], before=now)
        by_uid = {s.uid: s for s in found}
        rows = []
        for f in fixes:
            s = by_uid[f.ticket]
            same = bool(parsed.fingerprint) and s.signals.get("fingerprint", 0) > 0
            for uid in f.functions + f.files:
                rows.append((f.ticket, s.score, same, f.uid, uid))
            s.fixes.append(f)
        add_past_fixes(code, cands, rows)
    return parsed, code, cands, found


def _matrix(table: dict[int, dict[str, float]], names: tuple[str, ...]) -> np.ndarray:
    return np.array([[row.get(n, 0.0) for n in names] for row in table.values()], dtype=np.float64)


# signals a file does not take from its functions: what the file is, its own text match, and
# being called by a frame (a frame's own file carries the trace; its callees spread over many)
_STATIC = ("is_test", "non_code", "file_bm25", "body_bm25", "callee")


def file_signals(code: CodeIndex, c: Candidates) -> None:
    """A file inherits, per signal, the strongest value among its functions."""
    for fn, sig in c.fn.items():
        fi = int(code.fn_file[fn])
        if fi < 0:
            continue
        row = c.file.setdefault(fi, {})
        for k, v in sig.items():
            if k not in _STATIC and v > row.get(k, 0.0):
                row[k] = v


def static_signals(code: CodeIndex, c: Candidates) -> None:
    """What a candidate is, whatever the ticket says: test code, and files that hold no code
    (documents, lock files, images: changed often, named like the topic, rarely the fault).
    Files inherit their functions' ticket signals in between."""
    for fn in c.fn:
        c.fn[fn]["is_test"] = float(code.fn_test[fn])
    file_signals(code, c)
    for fi in c.file:
        c.file[fi]["is_test"] = float(code.file_test[fi])
        c.file[fi]["non_code"] = float(not code.file_code[fi])


def _synthetic(uid: str) -> bool:
    """The callers the code loader makes for module-level and class-body code."""
    name = uid.rsplit(":", 1)[-1]
    return name == MODULE_CALLER or name.endswith("." + CLASS_BODY_CALLER)


def _real_or_in_trace(
    table: dict[int, dict[str, float]], code: CodeIndex
) -> dict[int, dict[str, float]]:
    """Module-level and class-body code is a suspect only when a frame of the trace runs in
    it: its text is the whole file's, so word matches alone would rank it above real functions."""
    return {
        fn: sig
        for fn, sig in table.items()
        if not _synthetic(code.fn_uid[fn]) or sig.get("trace", 0.0) > 0
    }


def _rank(
    table: dict[int, dict[str, float]],
    uids: list[str],
    scorer: Scorer,
    k: int,
    repo: str | None,
) -> list[tuple[int, float]]:
    if not table:
        return []
    keys = list(table)
    scores = scorer.score(_matrix(table, scorer.names))
    order = np.argsort(-scores, kind="stable")
    out = []
    for j in order:
        key = keys[j]
        if repo and f":{repo}:" not in uids[key][: len(repo) + 8]:
            continue
        out.append((key, float(scores[j])))
        if len(out) >= k:
            break
    return out


def triage(
    store: GraphReader,
    ticket: TicketInput,
    settings: Settings | None = None,
    config: TriageConfig | None = None,
) -> TriageResult:
    """Ranked suspects (functions, files, commits) for `ticket`, each with signals and evidence.

    The scorer is a logistic regression fitted on past tickets with fixing commits when the
    store holds enough of them (`config.min_training_tickets`), else the documented default
    weighting (`graph_service.triage.scorer.DEFAULT_WEIGHTS`).
    """
    config = config or TriageConfig()
    start = time.perf_counter()
    parsed, code, cands, found = collect(store, ticket, config)
    static_signals(code, cands)
    scorer = scorer_for(store, config)
    real = _real_or_in_trace(cands.fn, code)
    fns = _rank(real, code.fn_uid, scorer, config.top_k, ticket.repo)
    files = _rank(cands.file, code.file_uid, scorer, config.top_k, ticket.repo)
    functions = [_suspect(code, cands, "Function", i, s) for i, s in fns]
    file_sus = [_suspect(code, cands, "File", i, s) for i, s in files]
    hist = history_index(store)
    now = _now(ticket)
    answer = blame_commits(store, code, hist, parsed, functions, now, config)
    if answer is None or not answer.commits:
        scores = {s.uid: s.score for s in functions + file_sus}
        answer = graph_commits(cands.commit, scores, hist, now, config)
    owners = _owners(hist, functions[:3] + file_sus[:3], now)
    from graph_service.triage.seen import seen_before

    timed = ticket.model_copy(update={"created": now})
    seen = seen_before(store, timed, config=config) if parsed.fingerprint else None
    settle()  # a snapshot (re)built by this call leaves the cyclic collector's full passes
    return TriageResult(
        ticket=parsed,
        functions=functions,
        files=file_sus,
        commits=answer.commits,
        commit_method=answer.method,
        commit_window=answer.window,
        commit_blamed=answer.blamed,
        as_of=now,
        deployments=cands.deployments,
        similar=found,
        seen_before=seen,
        owners=owners,
        scorer=scorer.name,
        elapsed_ms=round((time.perf_counter() - start) * 1000, 2),
    )


def _suspect(code: CodeIndex, c: Candidates, label: str, i: int, score: float) -> Suspect:
    if label == "Function":
        uid, name = code.fn_uid[i], code.fn_qual[i]
        fi = int(code.fn_file[i])
        path = code.file_path[fi] if fi >= 0 else ""
        signals = c.fn[i]
    else:
        uid, name, path, signals = code.file_uid[i], code.file_path[i], code.file_path[i], c.file[i]
    return Suspect(
        uid=uid,
        label=label,  # type: ignore[arg-type]
        name=name,
        path=path,
        score=round(score, 4),
        signals={k: round(v, 4) for k, v in signals.items() if v},
        evidence=c.evidence.get(uid, []),
    )


def _owners(hist: HistoryIndex, suspects: list[Suspect], now: datetime) -> list[Owner]:
    """Engineers who changed the top suspects most and most recently, best first.

    Each suspect gets its own owners; the returned list adds them up over the suspects.
    """
    agg: dict[str, Owner] = {}
    for s in suspects:
        per: dict[int, list[int]] = {}
        for ci in hist.changes(s.uid, None, now):
            a = int(hist.commit_author[ci])
            if a >= 0:
                per.setdefault(a, []).append(int(ci))
        for a, commits in per.items():
            uid, name, email = hist.people[a]
            last = hist.commit_at[commits[0]]
            age = max((now - last).total_seconds() / 86400, 0.0) if last else 365.0
            score = math.log1p(len(commits)) + math.exp(-age / 90.0)
            own = Owner(
                uid=uid,
                name=name,
                email=email,
                commits=len(commits),
                last_at=last,
                score=round(score, 4),
            )
            s.owners.append(own)
            o = agg.setdefault(uid, own.model_copy(update={"commits": 0, "score": 0.0}))
            o.commits += own.commits
            o.last_at = max(filter(None, [o.last_at, own.last_at]), default=None)
            o.score = round(o.score + score, 4)
        s.owners.sort(key=lambda o: -o.score)
    return sorted(agg.values(), key=lambda o: -o.score)[:5]
