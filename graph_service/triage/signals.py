"""Candidate suspects and their signals, gathered through the code index and the graph."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from graph_service.store.base import GraphReader
from graph_service.triage.code_index import CodeIndex
from graph_service.triage.frames_at import FramesAsOf
from graph_service.triage.history_index import HistoryIndex, history_index
from graph_service.triage.models import Evidence, ParsedTicket, TicketInput
from graph_service.triage.parse import go_frame_lines
from graph_service.triage.text import tokenize

logger = logging.getLogger(__name__)

__all__ = ["FUNCTION_SIGNALS", "Candidates", "gather", "prose"]

FUNCTION_SIGNALS = (
    "trace",
    "trace_line",
    "raised_in",
    "neighbor",
    "callee",
    "bm25",
    "file_bm25",
    "body_bm25",
    "name_mention",
    "path_mention",
    "recent_change",
    "churn",
    "fix_history",
    "deploy",
    "past_fix",
    "same_error_fix",
    "is_test",
    "non_code",
)

Q_TRACE = "MATCH (f:Function {uid: $uid}) RETURN f.uid, f.path, f.start_line, f.end_line"
Q_FILE = "MATCH (f:File {uid: $uid}) RETURN f.uid, f.path"
Q_TEXT = "MATCH (f:Function {uid: $uid}) RETURN f.name, f.qualname, f.docstring"
Q_CALLS = (
    "MATCH (a:Function {uid: $a}) MATCH (b:Function {uid: $b}) "
    "MATCH p = (a)-[:CALLS]-(b) RETURN a.uid, b.uid, length(p) AS hops"
)
Q_RAISED = (
    "MATCH (e:ErrorSignature {uid: $e})-[r:RAISED_IN]->(f:Function {uid: $uid}) RETURN r.line"
)
Q_MODIFIED = (
    "MATCH (c:Commit {uid: $c})-[m:MODIFIES]->(n {uid: $uid}) "
    "RETURN c.sha, c.authored_at, c.summary, m.lines_added, m.lines_deleted"
)
Q_DEPLOY = (
    "MATCH (d:Deployment {uid: $d})-[:SHIPS]->(h:Commit) MATCH (c:Commit {uid: $c}) "
    "MATCH (c)-[:MODIFIES]->(n {uid: $uid}) RETURN d.started_at, h.sha, c.sha"
)
Q_PAST_FIX = (
    "MATCH (t:Ticket {uid: $t})<-[:FIXES]-(c:Commit {uid: $c})-[:MODIFIES]->(n {uid: $uid}) "
    "RETURN t.title, c.sha, c.summary"
)

# One look-up per node, the node bound by its key at the end of the pattern: on Ladybug 0.22
# an `UNWIND $uids ... MATCH` over a relationship, or the bound node written first, can plan a
# join over the whole table (seconds at 1M nodes) where this form reads the node's edges (<1 ms).
_CALLERS = "MATCH (g:Function)-[:CALLS]->(f:Function {uid: $u}) RETURN g.uid AS dst LIMIT $n"
_CALLEES = "MATCH (g:Function)<-[:CALLS]-(f:Function {uid: $u}) RETURN g.uid AS dst LIMIT $n"
Q_CALLEE = (
    "MATCH (a:Function {uid: $a}) MATCH (b:Function {uid: $b}) "
    "MATCH p = (a)-[:CALLS]->(b) RETURN a.uid, b.uid, length(p) AS hops"
)
_MAX_NEIGHBOURS = 2000
_RAISED = (
    "MATCH (f:Function)<-[r:RAISED_IN]-(e:ErrorSignature {uid: $e}) "
    "RETURN f.uid AS uid, r.line AS line"
)
_DEPLOYS = (
    "MATCH (d:Deployment)-[:OF]->(s:Service {{uid: $svc}}) WHERE d.started_at <= $t "
    "{env}"
    "OPTIONAL MATCH (d)-[:SHIPS]->(c:Commit) "
    "RETURN d.uid AS uid, d.version AS version, d.environment AS env, d.started_at AS started, "
    "d.status AS status, c.uid AS cmt, c.authored_at AS cmt_at, c.repo AS repo "
    "ORDER BY d.started_at DESC LIMIT 2"
)
_SHIPPED = (
    "MATCH (c:Commit) WHERE c.authored_at <= $to AND c.authored_at > $from AND c.repo = $repo "
    "RETURN c.uid AS uid LIMIT 500"
)


@dataclass
class Candidates:
    """Signals per candidate function, file and commit, with the evidence for each signal."""

    fn: dict[int, dict[str, float]] = field(default_factory=dict)
    file: dict[int, dict[str, float]] = field(default_factory=dict)
    commit: dict[str, dict[str, Any]] = field(default_factory=dict)
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    shipped: dict[str, str] = field(default_factory=dict)

    def put(self, table: dict[Any, dict[str, float]], key: Any, signal: str, v: float) -> bool:
        row = table.setdefault(key, {})
        if v > row.get(signal, 0.0):
            row[signal] = v
            return True
        return False

    def cite(self, uid: str, ev: Evidence) -> None:
        lst = self.evidence.setdefault(uid, [])
        for i, old in enumerate(lst):
            if old.signal == ev.signal:
                if ev.value > old.value:
                    lst[i] = ev
                return
        lst.append(ev)


def gather(
    store: GraphReader,
    code: CodeIndex,
    ticket: TicketInput,
    parsed: ParsedTicket,
    now: datetime,
    history_days: float,
) -> Candidates:
    """Every candidate the ticket leads to, with its raw signals (each in [0, 1])."""
    c = Candidates()
    _trace_signals(code, ticket, parsed, c, FramesAsOf(store, code, now))
    _text_signals(code, ticket, parsed, c)
    _neighbour_signals(store, code, c)
    if parsed.fingerprint:
        _raised_in(store, code, parsed.fingerprint, c)
    if ticket.service:
        _deploy_signals(store, code, ticket, c, now)
    _file_text(code, c)
    _limit(c)
    _history_signals(history_index(store), code, c, now, history_days)
    for cu, d in c.shipped.items():
        if cu in c.commit:
            c.commit[cu]["deployed"] = d
    return c


def _trace_signals(
    code: CodeIndex,
    ticket: TicketInput,
    parsed: ParsedTicket,
    c: Candidates,
    asof: FramesAsOf | None = None,
) -> None:
    """Frames mapped by path suffix and line range (the function that held the line at the
    ticket's time, when the clone tells); innermost mapped frames weigh most."""
    mapped = []
    for fr in parsed.frames:
        hit = code.map_frame(fr.path, fr.function, fr.line)
        if hit is None:
            continue
        if asof is not None and fr.line:
            hit = asof.remap(hit, fr.line, fr.function)
        fr.file_uid = code.file_uid[hit.file]
        fr.function_uid = code.fn_uid[hit.function] if hit.function >= 0 else None
        fr.confidence = hit.confidence
        mapped.append((fr, hit))
    # rank mapped frames of the primary trace from the innermost; log references weigh less
    in_trace = sorted((fr.depth, i) for i, (fr, _) in enumerate(mapped) if fr.depth is not None)
    rank_of = {i: r for r, (_, i) in enumerate(in_trace)}
    # a truncated paste's innermost frame is not where the error was raised: trust it less
    trust = 1.0 if parsed.complete_trace else 0.5
    for i, (fr, hit) in enumerate(mapped):
        rank = rank_of.get(i)
        weight = hit.confidence * trust * (0.8 ** min(rank, 12) if rank is not None else 0.5)
        where = f"rank {rank + 1} from the innermost mapped frame" if rank is not None else "log"
        frame_ev = Evidence(
            signal="trace",
            value=round(weight, 4),
            detail=f"frame {fr.path}:{fr.line} in {fr.function or '?'} ({where})",
            path=[u for u in (fr.file_uid, fr.function_uid) if u],
        )
        if c.put(c.file, hit.file, "trace", weight):
            c.cite(
                code.file_uid[hit.file],
                frame_ev.model_copy(update={"cypher": Q_FILE, "params": {"uid": fr.file_uid}}),
            )
        if hit.function >= 0 and c.put(c.fn, hit.function, "trace", weight):
            c.put(c.fn, hit.function, "trace_line", 1.0 if hit.in_range else 0.0)
            c.cite(
                code.fn_uid[hit.function],
                frame_ev.model_copy(update={"cypher": Q_TRACE, "params": {"uid": fr.function_uid}}),
            )
    for p in parsed.paths:
        for fi, shared in code.files_for_path(p)[:3]:
            if c.put(c.file, fi, "path_mention", min(0.5 + 0.25 * shared, 1.0)):
                c.cite(
                    code.file_uid[fi],
                    Evidence(
                        signal="path_mention",
                        value=1.0,
                        detail=f"the ticket names {p}",
                        cypher=Q_FILE,
                        params={"uid": code.file_uid[fi]},
                    ),
                )


def _text_signals(
    code: CodeIndex, ticket: TicketInput, parsed: ParsedTicket, c: Candidates
) -> None:
    """BM25 over identifiers/docstrings (title counted twice) and exact identifier mentions."""
    tokens = tokenize(ticket.title) * 2 + tokenize(prose(ticket.body))
    assert code.fn_bm25 is not None and code.file_bm25 is not None
    for table, bm, uids, k in (
        (c.fn, code.fn_bm25, code.fn_uid, 150),
        (c.file, code.file_bm25, code.file_uid, 60),
    ):
        top = bm.top(tokens, k)
        if not top:
            continue
        best = top[0][1]
        for i, s in top:
            v = s / best
            c.put(table, i, "bm25", v)
            if v >= 0.5:
                c.cite(
                    uids[i],
                    Evidence(
                        signal="bm25",
                        value=round(v, 4),
                        detail="ticket text matches its identifiers/docstring",
                        cypher=Q_TEXT if table is c.fn else Q_FILE,
                        params={"uid": uids[i]},
                    ),
                )
    for ident in parsed.identifiers:
        _mention(code, c, ident, code.by_name.get(ident, []), 1.0)
        _mention(code, c, ident, code.by_class.get(ident, []), 0.5)


def _mention(code: CodeIndex, c: Candidates, ident: str, hits: list[int], scale: float) -> None:
    """Functions named (or whose class is named) in the ticket; files defining them."""
    if not 0 < len(hits) <= 40:
        return
    v = scale / math.sqrt(len(hits))
    files = {int(code.fn_file[fn]) for fn in hits} - {-1}
    for fn in hits:
        if c.put(c.fn, fn, "name_mention", v):
            c.cite(
                code.fn_uid[fn],
                Evidence(
                    signal="name_mention",
                    value=round(v, 4),
                    detail=f"the ticket names `{ident}`",
                    cypher=Q_TEXT,
                    params={"uid": code.fn_uid[fn]},
                ),
            )
    for fi in files:
        c.put(c.file, fi, "name_mention", scale / math.sqrt(len(files)))


def prose(body: str) -> str:
    """The body without traceback frame lines (their paths are mapped separately; Python,
    JavaScript/Java `at ...` and Go call + location lines)."""
    raw = body.splitlines()[:2000]
    go = go_frame_lines(raw)
    lines = [
        ln
        for i, ln in enumerate(raw)
        if not ln.lstrip().startswith(('File "', "at "))
        and "site-packages" not in ln
        and i not in go
    ]
    return "\n".join(lines)[:50_000]


def _neighbour_signals(store: GraphReader, code: CodeIndex, c: Candidates) -> None:
    """Callers and callees (CALLS) of the traced functions: `neighbor` for both, half the
    frame's weight; `callee` for what a frame calls, the frame's full weight (a trace that
    stops in a frame often stops one call above the fault: a truncated paste, an error
    raised in a library the frame called with bad input)."""
    traced = sorted(((s["trace"], fn) for fn, s in c.fn.items() if s.get("trace")), reverse=True)[
        :10
    ]
    if not traced:
        return
    weight = {code.fn_uid[fn]: w for w, fn in traced}
    rows: list[tuple[str, str, bool]] = []
    for u in weight:
        for query, down in ((_CALLEES, True), (_CALLERS, False)):
            n = _MAX_NEIGHBOURS - len(rows)
            if n <= 0:
                break
            rows += [(u, r["dst"], down) for r in store.query(query, {"u": u, "n": n}).rows()]
    for src, dst, down in rows:
        fn = code.fn_pos.get(dst)
        if fn is None or dst == src:
            continue
        v = 0.5 * weight[src]
        if c.put(c.fn, fn, "neighbor", v):
            c.cite(
                dst,
                Evidence(
                    signal="neighbor",
                    value=round(v, 4),
                    detail="calls or is called by a function in the trace",
                    path=[src, dst],
                    cypher=Q_CALLS,
                    params={"a": src, "b": dst},
                ),
            )
        if down and c.put(c.fn, fn, "callee", weight[src]):
            c.cite(
                dst,
                Evidence(
                    signal="callee",
                    value=round(weight[src], 4),
                    detail="called by a function in the trace",
                    path=[src, dst],
                    cypher=Q_CALLEE,
                    params={"a": src, "b": dst},
                ),
            )


def _raised_in(store: GraphReader, code: CodeIndex, fp: str, c: Candidates) -> None:
    e = f"err:{fp}"
    for r in store.query(_RAISED, {"e": e}).rows():
        fn = code.fn_pos.get(r["uid"])
        if fn is not None and c.put(c.fn, fn, "raised_in", 1.0):
            c.cite(
                r["uid"],
                Evidence(
                    signal="raised_in",
                    value=1.0,
                    detail="this error's signature was raised here before",
                    path=[e, r["uid"]],
                    cypher=Q_RAISED,
                    params={"e": e, "uid": r["uid"]},
                ),
            )


def _file_text(code: CodeIndex, c: Candidates) -> None:
    """A function found by any signal also carries its file's text match: the ticket may name
    the module's topic and not the function (passage scores smoothed by their document's)."""
    for fn, sig in c.fn.items():
        fi = int(code.fn_file[fn])
        v = c.file.get(fi, {}).get("bm25", 0.0) if fi >= 0 else 0.0
        if v > 0:
            sig["file_bm25"] = v


def _limit(c: Candidates, n_fn: int = 400, n_file: int = 200) -> None:
    """Keep the strongest candidates before the graph look-ups that cost per node."""
    for table, n in ((c.fn, n_fn), (c.file, n_file)):
        if len(table) > n:
            keep = sorted(table, key=lambda k: -sum(table[k].values()))[:n]
            for k in set(table) - set(keep):
                del table[k]


def _history_signals(
    hist: HistoryIndex, code: CodeIndex, c: Candidates, now: datetime, days: float
) -> None:
    """Commits that changed a candidate before the ticket: recency and churn, commit suspects."""
    uids = [code.fn_uid[i] for i in c.fn] + [code.file_uid[i] for i in c.file]
    for i in list(c.fn):
        fi = int(code.fn_file[i])
        if fi >= 0 and fi not in c.file:
            c.file[fi] = {}
            uids.append(code.file_uid[fi])
    since = now - timedelta(days=days)
    for uid in uids:
        # every earlier change may be a suspect commit (no time window); recency and churn
        # count the last `days` only
        every = hist.changes(uid, None, now)
        for ci in every[:50]:
            cu = hist.commit_uid[ci]
            com = c.commit.setdefault(
                cu,
                {
                    "sha": hist.commit_sha[ci],
                    "at": hist.commit_at[ci],
                    "summary": hist.commit_summary[ci],
                    "nodes": set(),
                },
            )
            com["nodes"].add(uid)
        _fix_history(hist, code, c, uid, every)
        changes = every[hist.commit_ts[every] >= since.timestamp()] if every.size else every
        if changes.size == 0:
            continue
        latest = int(changes[0])
        at = hist.commit_at[latest]
        age = max((now - at).total_seconds() / 86400, 0.0) if at else days
        recency = math.exp(-age / 30.0)
        churn = min(math.log1p(changes.size) / math.log1p(10), 1.0)
        table, key = _locate(code, c, uid)
        if table is None:
            continue
        c.put(table, key, "recent_change", recency)
        c.put(table, key, "churn", churn)
        cu = hist.commit_uid[latest]
        c.cite(
            uid,
            Evidence(
                signal="recent_change",
                value=round(recency, 4),
                detail=f"changed by {hist.commit_sha[latest][:10]} "
                f"({hist.commit_summary[latest]}) {age:.1f} days before; "
                f"{changes.size} change(s) in {int(days)} days",
                path=[cu, uid],
                cypher=Q_MODIFIED,
                params={"c": cu, "uid": uid},
            ),
        )


def _fix_history(hist: HistoryIndex, code: CodeIndex, c: Candidates, uid: str, every: Any) -> None:
    """`fix_history`: how many earlier commits that say they fix something changed the
    candidate (log-scaled, 1.0 at 5): code that needed fixes before tends to need them again."""
    fixes = every[hist.commit_fix[every]] if every.size and hist.commit_fix.size else every[:0]
    if fixes.size == 0:
        return
    table, key = _locate(code, c, uid)
    if table is None:
        return
    v = min(math.log1p(fixes.size) / math.log1p(5), 1.0)
    if c.put(table, key, "fix_history", v):
        latest = int(fixes[0])
        c.cite(
            uid,
            Evidence(
                signal="fix_history",
                value=round(v, 4),
                detail=f"changed by {fixes.size} earlier fix(es), the latest "
                f"{hist.commit_sha[latest][:10]} ({hist.commit_summary[latest]})",
                path=[hist.commit_uid[latest], uid],
                cypher=Q_MODIFIED,
                params={"c": hist.commit_uid[latest], "uid": uid},
            ),
        )


def _locate(
    code: CodeIndex, c: Candidates, uid: str
) -> tuple[dict[Any, dict[str, float]] | None, int]:
    if uid in code.fn_pos:
        return c.fn, code.fn_pos[uid]
    if uid in code.file_pos:
        return c.file, code.file_pos[uid]
    return None, -1


def _deploy_signals(
    store: GraphReader, code: CodeIndex, ticket: TicketInput, c: Candidates, now: datetime
) -> None:
    """Changes shipped by the affected service's latest deployment before the ticket."""
    params: dict[str, Any] = {"svc": f"svc:{ticket.service}", "t": now}
    env = ""
    if ticket.environment:
        env, params["env"] = "AND d.environment = $env ", ticket.environment
    rows = store.query(_DEPLOYS.format(env=env), params).rows()
    c.deployments = rows
    if not rows or not rows[0]["cmt_at"]:
        return
    d = rows[0]
    prev_at = (
        rows[1]["cmt_at"]
        if len(rows) > 1 and rows[1]["cmt_at"]
        else d["cmt_at"] - timedelta(days=7)
    )
    shipped = {
        r["uid"]
        for r in store.query(
            _SHIPPED, {"to": d["cmt_at"], "from": prev_at, "repo": d["repo"]}
        ).rows()
    }
    age_h = max((now - d["started"]).total_seconds() / 3600, 0.0) if d["started"] else 24.0
    v = math.exp(-age_h / 48.0)
    c.shipped = {cu: d["uid"] for cu in shipped}
    hist = history_index(store)
    for prefix, table in (("fn:", c.fn), ("file:", c.file)):
        for r in _shipped_changes(hist, sorted(shipped), prefix):
            _, key = _locate(code, c, r["node"])
            if key < 0:
                continue
            table.setdefault(key, {})
            if c.put(table, key, "deploy", v):
                c.cite(
                    r["node"],
                    Evidence(
                        signal="deploy",
                        value=round(v, 4),
                        detail=f"changed by {r['sha'][:10]}, shipped by "
                        f"{d['uid']} {age_h:.1f} h before the ticket",
                        path=[d["uid"], r["cu"], r["node"]],
                        cypher=Q_DEPLOY,
                        params={"d": d["uid"], "c": r["cu"], "uid": r["node"]},
                    ),
                )


def _shipped_changes(
    hist: HistoryIndex, commits: list[str], prefix: str, cap: int = 5000
) -> list[dict[str, str]]:
    """What the shipped commits changed (nodes whose uid starts with `prefix`), from the history
    index: on Ladybug 0.22 the same read as `UNWIND $commits ... MATCH (c)-[:MODIFIES]->(n)`
    plans a join over every MODIFIES edge (~2 s at 1M nodes)."""
    out: list[dict[str, str]] = []
    for cu in commits:
        ci = hist.commit_pos.get(cu)
        if ci is None:
            continue
        for node in hist.commit_nodes.get(ci, []):
            if node.startswith(prefix):
                out.append({"cu": cu, "sha": hist.commit_sha[ci], "node": node})
                if len(out) >= cap:
                    return out
    return out


def add_past_fixes(
    code: CodeIndex, c: Candidates, fixes: Iterable[tuple[str, float, bool, str, str]]
) -> None:
    """(ticket uid, similarity, same fingerprint, fix commit uid, changed node uid) rows."""
    for t, sim, same_fp, cu, uid in fixes:
        table, key = _locate(code, c, uid)
        if table is None:
            continue
        if key not in table:
            table[key] = {}
        signal = "same_error_fix" if same_fp else "past_fix"
        v = 1.0 if same_fp else min(sim, 1.0)
        if c.put(table, key, signal, v):
            c.cite(
                uid,
                Evidence(
                    signal=signal,
                    value=round(v, 4),
                    detail=f"changed by {cu} which fixed the similar ticket {t}",
                    path=[t, cu, uid],
                    cypher=Q_PAST_FIX,
                    params={"t": t, "c": cu, "uid": uid},
                ),
            )
