"""Suspect commits: blame of the frames' lines as of the ticket's time, else the graph's history."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from graph_service.schema import CLASS_BODY_CALLER, MODULE_CALLER
from graph_service.store.base import GraphReader
from graph_service.triage.blame import (
    BlameLine,
    BlameRequest,
    RepoClone,
    blame_requests,
    repo_clones,
    revision_at,
)
from graph_service.triage.code_index import CodeIndex
from graph_service.triage.frames_at import short_name, spans_at
from graph_service.triage.history_index import HistoryIndex
from graph_service.triage.models import Evidence, FrameRef, ParsedTicket, Suspect, TriageConfig

logger = logging.getLogger(__name__)

__all__ = ["Q_BLAMED", "CommitAnswer", "blame_commits", "graph_commits"]

Q_BLAMED = "MATCH (c:Commit {uid: $c}) RETURN c.sha, c.authored_at, c.summary, c.risk_score"
_MAX_FRAMES = 8  # in-repository frames blamed, innermost first
_MAX_CHANGED = 5  # top suspect functions outside the trace whose whole bodies are blamed
_RECENCY_DAYS = 180.0
_DECAY = 0.5  # a frame's weight per step outwards from the innermost
_SHARE = 0.3  # weight of a commit's share of the blamed function's lines (the line itself: 1)
_NEAR = 1.0  # weight of the lines a commit wrote near a frame's line, exp(-distance / _NEAR_LINES)
_NEAR_LINES = 5.0


@dataclass
class CommitAnswer:
    """Ranked suspect commits, how they were found, what was blamed, and any time limit."""

    commits: list[Suspect]
    method: str
    window: str
    blamed: list[str] = field(default_factory=list)


@dataclass
class _Target:
    request: BlameRequest
    weight: float
    frame: bool
    label: str  # "frame 1 (Entry.log) entry.go:84" or "suspect function Entry.log"


def _repo_of(uid: str, names: list[str]) -> str | None:
    for n in names:
        if uid.startswith(f"file:{n}:") or uid.startswith(f"fn:{n}:"):
            return n
    return None


def _span_then(
    repo: RepoClone, rev: str | None, path: str, qual: str, line: int
) -> tuple[int, int] | None:
    """Lines of the function `qual` of `path` at `rev` (the ticket's time): later edits move
    functions, so the graph's lines (as of its load) may not be those blamed then."""
    if rev is None:
        return None
    spans = [sp for sp in spans_at(repo, rev, path) if sp[2] == qual]
    held = [sp for sp in spans if sp[0] <= line <= sp[1]]
    best = (held or spans)[:1]
    return (best[0][0], best[0][1]) if best else None


def _named_then(
    repo: RepoClone, rev: str | None, path: str, name: str
) -> tuple[int, int, str] | None:
    """The one function of `path` at `rev` whose short name is `name`, if exactly one."""
    if rev is None or not name or name.startswith("<"):
        return None
    found = [sp for sp in spans_at(repo, rev, path) if short_name(sp[2]) == name]
    return found[0] if len(found) == 1 else None


def _frame_target(
    code: CodeIndex, fr: FrameRef, repo: RepoClone, rev: str | None, rank: int
) -> _Target:
    """A frame's line and its function's lines as of the ticket's time. When the frame names
    another function than the one holding its line then (the reporter ran another version),
    the named function is blamed, without a line."""
    path = code.file_path[code.file_pos[fr.file_uid or ""]]
    fi = code.fn_pos.get(fr.function_uid or "", -1)
    qual = code.fn_qual[fi] if fi >= 0 else ""
    line, span = fr.line, None
    if fi >= 0 and code.fn_name[fi] not in (MODULE_CALLER, CLASS_BODY_CALLER):
        span = _span_then(repo, rev, path, qual, line) or (
            int(code.fn_start[fi]),
            int(code.fn_end[fi]),
        )
        named = short_name(fr.function)
        if named and named != short_name(qual) and (other := _named_then(repo, rev, path, named)):
            line, span, qual = 0, (other[0], other[1]), other[2]
    else:
        qual = ""  # module-level or class-body code: its "lines" are the whole file's
    if span and not span[0] <= line <= span[1]:
        line = 0  # the line is another function's at that time: the function alone is blamed
    start, end = span or (line, line)
    at = f"{path}:{line}" if line else f"{path}:{start}-{end}"
    label = f"frame {rank + 1}" + (f" ({qual})" if qual else "") + f" {at}"
    return _Target(BlameRequest(repo, path, line, start, end), _DECAY**rank, True, label)


def _targets(
    store: GraphReader, code: CodeIndex, parsed: ParsedTicket, top_fns: list[Suspect], now: datetime
) -> list[_Target]:
    """Frames in repositories with a clone (innermost first), then the whole bodies of the top
    suspect functions outside the trace, all as of the ticket's time."""
    clones = repo_clones(store)
    if not clones:
        return []
    names = sorted(clones, key=len, reverse=True)
    revs = {n: revision_at(clones[n], now) for n in names}
    out: list[_Target] = []
    framed = sorted(
        (fr for fr in parsed.frames if fr.file_uid and fr.depth is not None and fr.line > 0),
        key=lambda fr: fr.depth or 0,
    )
    seen: set[tuple[str, int]] = set()
    for fr in framed:
        repo = _repo_of(fr.file_uid or "", names)
        if repo is None or (fr.file_uid, fr.line) in seen:
            continue
        seen.add((fr.file_uid or "", fr.line))
        out.append(_frame_target(code, fr, clones[repo], revs[repo], len(out)))
        if len(out) >= _MAX_FRAMES:
            break
    traced = {fr.function_uid for fr in framed}
    best = top_fns[0].score if top_fns and top_fns[0].score > 0 else 1.0
    n = 0
    for s in top_fns:
        fi = code.fn_pos.get(s.uid, -1)
        repo = _repo_of(s.uid, names)
        if s.uid in traced or fi < 0 or repo is None or s.score <= 0:
            continue
        qual = code.fn_qual[fi]
        span = _span_then(clones[repo], revs[repo], s.path, qual, 0)
        start, end = span or (int(code.fn_start[fi]), int(code.fn_end[fi]))
        if start <= 0 or end < start:
            continue
        req = BlameRequest(clones[repo], s.path, 0, start, end)
        w = 0.5 * min(s.score / best, 1.0)
        out.append(_Target(req, w, False, f"suspect function {qual} {s.path}:{start}-{end}"))
        n += 1
        if n >= _MAX_CHANGED:
            break
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
    of the function's lines + the lines written near the frame's line, each exp(-distance/5)),
    where a frame weighs 0.5^rank from the innermost and a top suspect function outside the
    trace (whole body) up to 0.5 by its score; then x (1 + 0.25 recency + 0.25 risk score).
    None when no frame or suspect lies in a cloned repository.
    """
    targets = _targets(store, code, parsed, top_fns, now) if config.blame else []
    if not targets:
        return None
    blames, ignored = blame_requests([t.request for t in targets], now)
    if not blames:
        return None
    by_req = {b.request: b for b in blames}  # equal requests share one (cached) blame
    score: dict[str, float] = {}
    info: dict[str, dict[str, Any]] = {}
    blamed = []
    for t in targets:
        b = by_req.get(t.request)
        if b is None or b.error:
            continue
        blamed.append(f"{t.label} ({sum(b.counts.values())} lines)")
        _add(t, b, score, info)
    since = now - timedelta(days=config.commit_since_days) if config.commit_since_days else None
    out = []
    for sha, raw in score.items():
        at = info[sha]["at"]
        if since is not None and at is not None and at < since:
            continue
        out.append(_suspect(sha, raw, info[sha], hist, now))
    out.sort(key=lambda s: -s.score)
    _innermost_first(out, targets, by_req)
    if ignored:
        blamed.append(f"looked through {len(ignored)} cosmetic commit(s)")
    return CommitAnswer(out[: config.top_k], "blame", _window(since, config), blamed)


def _innermost_first(
    out: list[Suspect], targets: list[_Target], by_req: dict[BlameRequest, BlameLine]
) -> None:
    """The commit that wrote the innermost blamed frame's line comes first (what a user of
    suspect commits expects: the author of the failing line), whatever the others score; its
    score is raised to the best one's, so the list reads in score order (the signal
    `innermost_line` says why)."""
    for t in targets:
        b = by_req.get(t.request)
        if t.frame and b is not None and not b.error and b.line_commit:
            pos = next((i for i, s in enumerate(out) if s.uid == f"commit:{b.line_commit}"), None)
            if pos is not None:
                top = out[0].score
                out.insert(0, out.pop(pos))
                out[0].score = max(out[0].score, top)
                out[0].signals["innermost_line"] = 1.0
            return


def _reason(t: _Target, b: BlameLine, sha: str, n: int, near: int) -> str:
    total = sum(b.counts.values())
    if t.frame and sha == b.line_commit:
        head = f"wrote line {b.request.line} of {t.label}"
        return head + (f" and {n - 1} more of its {total} lines" if n > 1 else "")
    if near:
        return f"wrote {near} line(s) near line {b.request.line} of {t.label} ({n} of {total})"
    return f"wrote {n} of {total} lines of {t.label}"


def _add(
    t: _Target, b: BlameLine, score: dict[str, float], info: dict[str, dict[str, Any]]
) -> None:
    total = sum(b.counts.values()) or 1
    line = b.request.line
    close: dict[str, float] = {}
    near: dict[str, int] = {}
    if t.frame and line > 0:
        for n, sha in b.lines.items():
            if n != line and abs(n - line) <= 2 * _NEAR_LINES:
                close[sha] = close.get(sha, 0.0) + math.exp(-abs(n - line) / _NEAR_LINES)
                near[sha] = near.get(sha, 0) + 1
    for sha, n in b.counts.items():
        hit = 1.0 if t.frame and sha == b.line_commit else 0.0
        v = t.weight * (hit + _SHARE * n / total + _NEAR * close.get(sha, 0.0))
        score[sha] = score.get(sha, 0.0) + v
        row = info.setdefault(
            sha, {"at": b.time.get(sha), "summary": b.summary.get(sha, ""), "why": []}
        )
        row["why"].append((v, _reason(t, b, sha, n, near.get(sha, 0)), t.request))


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
        lo, hi = req.span
        ev.append(
            Evidence(
                signal="blame",
                value=round(v, 4),
                detail=f"{detail} (git blame -w -M -C -L {lo},{hi} -- {req.path})",
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
        reason=why[0][1] if why else "",
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
                reason=f"changed suspect {node.split(':')[-1]}"
                + (f" and {len(touched) - 1} more suspect(s)" if len(touched) > 1 else "")
                + (", shipped by the latest deployment" if row.get("deployed") else ""),
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
