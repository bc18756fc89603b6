"""Suspect commits: blame of the frames' lines as of the ticket's time, else the graph's history."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from graph_service.schema import CLASS_BODY_CALLER, MODULE_CALLER
from graph_service.store.base import GraphReader
from graph_service.triage.blame import BlameLine, BlameRequest, blame_requests, repo_clones
from graph_service.triage.code_index import CodeIndex
from graph_service.triage.history_index import HistoryIndex
from graph_service.triage.models import Evidence, ParsedTicket, Suspect, TriageConfig

logger = logging.getLogger(__name__)

__all__ = ["Q_BLAMED", "CommitAnswer", "blame_commits", "graph_commits"]

Q_BLAMED = "MATCH (c:Commit {uid: $c}) RETURN c.sha, c.authored_at, c.summary, c.risk_score"
_MAX_FRAMES = 8  # in-repository frames blamed, innermost first
_MAX_CHANGED = 3  # top suspect functions outside the trace also blamed
_RECENCY_DAYS = 180.0
_DECAY = 0.5  # a frame's weight per step outwards from the innermost
_SHARE = 0.3  # weight of a commit's share of the blamed function's lines (the line itself: 1)


@dataclass
class CommitAnswer:
    """Ranked suspect commits, how they were found, and the time limit applied (if any)."""

    commits: list[Suspect]
    method: str
    window: str


@dataclass
class _Target:
    request: BlameRequest
    weight: float
    frame: bool
    label: str


def _repo_of(uid: str, names: list[str]) -> str | None:
    for n in names:
        if uid.startswith(f"file:{n}:") or uid.startswith(f"fn:{n}:"):
            return n
    return None


def _targets(
    store: GraphReader, code: CodeIndex, parsed: ParsedTicket, top_fns: list[Suspect]
) -> list[_Target]:
    """Frames in repositories with a clone (innermost first), then changed top suspects."""
    clones = repo_clones(store)
    if not clones:
        return []
    names = sorted(clones, key=len, reverse=True)
    out: list[_Target] = []
    framed = sorted(
        (fr for fr in parsed.frames if fr.file_uid and fr.depth is not None and fr.line > 0),
        key=lambda fr: fr.depth or 0,
    )
    seen: set[tuple[str, int]] = set()
    for fr in framed:
        repo = _repo_of(fr.file_uid or "", names)
        if repo is None:
            continue
        path = code.file_path[code.file_pos[fr.file_uid or ""]]
        if (path, fr.line) in seen:
            continue
        seen.add((path, fr.line))
        fi = code.fn_pos.get(fr.function_uid or "", -1)
        if fi >= 0 and code.fn_name[fi] in (MODULE_CALLER, CLASS_BODY_CALLER):
            fi = -1  # module-level or class-body code: its "lines" are the whole file's
        start, end = (
            (int(code.fn_start[fi]), int(code.fn_end[fi])) if fi >= 0 else (fr.line, fr.line)
        )
        rank = len(out)
        req = BlameRequest(clones[repo], path, fr.line, start, end)
        out.append(_Target(req, _DECAY**rank, True, f"frame {rank + 1} {path}:{fr.line}"))
        if len(out) >= _MAX_FRAMES:
            break
    traced = {fr.function_uid for fr in framed}
    best = top_fns[0].score if top_fns and top_fns[0].score > 0 else 1.0
    for s in top_fns:
        if len([t for t in out if not t.frame]) >= _MAX_CHANGED:
            break
        fi = code.fn_pos.get(s.uid, -1)
        repo = _repo_of(s.uid, names)
        if s.uid in traced or fi < 0 or repo is None or s.score <= 0:
            continue
        start, end = int(code.fn_start[fi]), int(code.fn_end[fi])
        if start <= 0 or end < start:
            continue
        req = BlameRequest(clones[repo], s.path, start, start, end)
        w = 0.5 * min(s.score / best, 1.0)
        out.append(_Target(req, w, False, f"suspect {s.name} ({s.path}:{start}-{end})"))
    return out


def blame_commits(
    store: GraphReader,
    code: CodeIndex,
    hist: HistoryIndex,
    parsed: ParsedTicket,
    top_fns: list[Suspect],
    now: datetime,
    config: TriageConfig,
) -> CommitAnswer | None:
    """Commits that wrote the frames' lines (and the top suspects' lines) as of `now`.

    Score = sum over blamed targets of weight x (1 for the frame's own line + 0.3 x the share
    of the function's lines), where a frame weighs 0.5^rank from the innermost and a top
    suspect outside the trace up to 0.5; then x (1 + 0.25 recency + 0.25 risk score).
    None when no frame or suspect lies in a cloned repository.
    """
    targets = _targets(store, code, parsed, top_fns) if config.blame else []
    if not targets:
        return None
    blames, ignored = blame_requests([t.request for t in targets], now)
    if not blames:
        return None
    by_req = {b.request: b for b in blames}  # equal requests share one (cached) blame
    score: dict[str, float] = {}
    info: dict[str, dict[str, Any]] = {}
    for t in targets:
        b = by_req.get(t.request)
        if b is None or b.error:
            continue
        _add(t, b, score, info)
    since = now - timedelta(days=config.commit_since_days) if config.commit_since_days else None
    out = []
    for sha, raw in score.items():
        at = info[sha]["at"]
        if since is not None and at is not None and at < since:
            continue
        out.append(_suspect(sha, raw, info[sha], hist, now))
    out.sort(key=lambda s: -s.score)
    window = _window(since, config)
    if ignored:
        logger.debug("triage blame looked through %d cosmetic commit(s)", len(ignored))
    return CommitAnswer(out[: config.top_k], "blame", window)


def _add(
    t: _Target, b: BlameLine, score: dict[str, float], info: dict[str, dict[str, Any]]
) -> None:
    total = sum(b.counts.values()) or 1
    for sha, n in b.counts.items():
        hit = 1.0 if t.frame and sha == b.line_commit else 0.0
        v = t.weight * (hit + _SHARE * n / total)
        score[sha] = score.get(sha, 0.0) + v
        row = info.setdefault(
            sha, {"at": b.time.get(sha), "summary": b.summary.get(sha, ""), "why": []}
        )
        what = "wrote the frame's line and " if t.frame and sha == b.line_commit else "wrote "
        row["why"].append((v, f"{what}{n} of {total} blamed line(s) at {t.label}", t.request))


def _suspect(
    sha: str, raw: float, row: dict[str, Any], hist: HistoryIndex, now: datetime
) -> Suspect:
    pos = hist.commit_pos.get(f"commit:{sha}")
    risk = float(hist.commit_risk[pos]) if pos is not None else 0.0
    at = row["at"]
    age = max((now - at).total_seconds() / 86400, 0.0) if at else _RECENCY_DAYS
    recency = math.exp(-age / _RECENCY_DAYS)
    total = raw * (1 + 0.25 * recency + 0.25 * risk)
    why = sorted(row["why"], key=lambda w: -w[0])[:3]
    ev = []
    for v, detail, req in why:
        lo, hi = min(req.start, req.line), max(req.end, req.line)
        ev.append(
            Evidence(
                signal="blame",
                value=round(v, 4),
                detail=f"{detail} (git blame -w -L {lo},{hi} -- {req.path})",
                path=[f"commit:{sha}"],
                cypher=Q_BLAMED if pos is not None else "",
                params={"c": f"commit:{sha}"} if pos is not None else {},
            )
        )
    return Suspect(
        uid=f"commit:{sha}",
        label="Commit",
        name=row["summary"] or sha[:12],
        path=f"{at:%Y-%m-%d}" if at else "",
        score=round(total, 4),
        signals={
            "blame": round(raw, 4),
            "recency": round(recency, 4),
            "risk": round(risk, 4),
        },
        evidence=ev,
    )


def _window(since: datetime | None, config: TriageConfig) -> str:
    if since is None:
        return ""
    return (
        f"only commits authored after {since:%Y-%m-%d %H:%M} "
        f"(commit_since_days={config.commit_since_days:g})"
    )


def graph_commits(
    cands_commit: dict[str, dict[str, Any]],
    node_scores: dict[str, float],
    hist: HistoryIndex,
    now: datetime,
    config: TriageConfig,
) -> CommitAnswer:
    """Commits that modified the suspects (the graph's MODIFIES edges), when nothing can be
    blamed: ranked by the best suspect they touched, recency and risk score."""
    from graph_service.triage.signals import Q_MODIFIED

    since = now - timedelta(days=config.commit_since_days) if config.commit_since_days else None
    out = []
    for cu, row in cands_commit.items():
        at = row.get("at")
        if since is not None and at is not None and at < since:
            continue
        touched = [(node_scores[n], n) for n in row["nodes"] if n in node_scores]
        if not touched:
            continue
        best, node = max(touched)
        pos = hist.commit_pos.get(cu)
        risk = float(hist.commit_risk[pos]) if pos is not None else 0.0
        age = max((now - at).total_seconds() / 86400, 0.0) if at else _RECENCY_DAYS
        recency = math.exp(-age / _RECENCY_DAYS)
        score = (best + 0.1 * (len(touched) - 1)) * (1 + 0.25 * recency + 0.25 * risk)
        score += 0.5 if row.get("deployed") else 0.0
        ev = Evidence(
            signal="modified_suspect",
            value=round(best, 4),
            detail=f"modified {len(touched)} suspect(s), best {node}",
            path=[cu, node],
            cypher=Q_MODIFIED,
            params={"c": cu, "uid": node},
        )
        out.append(
            Suspect(
                uid=cu,
                label="Commit",
                name=row["summary"] or row["sha"][:12],
                path=f"{at:%Y-%m-%d}" if at else "",
                score=round(score, 4),
                signals={
                    "suspects": float(len(touched)),
                    "deployed": float(bool(row.get("deployed"))),
                    "recency": round(recency, 4),
                    "risk": round(risk, 4),
                },
                evidence=[ev],
            )
        )
    out.sort(key=lambda s: -s.score)
    return CommitAnswer(out[: config.top_k], "graph", _window(since, config))
