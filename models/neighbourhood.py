"""The k-hop neighbourhood of one change, read from the store by primary-key lookups.

Scoring one change needs only: the change, its author and the author's commits, the files and
functions it touches, their callers/callees, every MODIFIES event on those entities, the commits
behind those events, the INDUCED labels on those commits, and production traffic. These few
primary-key queries (`MATCH ... (n:T {uid: $u})`) return exactly the rows of `GraphTables` the
features of that change depend on, so `History` gives the same answer as on the full export.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from graph_service.store.base import GraphReader
from models.dataset import (
    COMMITS_Q,
    INCIDENTS_Q,
    GraphTables,
    commits_frame,
    induced_frame,
    modifies_frame,
    traffic_frame,
)

logger = logging.getLogger(__name__)

__all__ = ["load_neighbourhood", "touched_by_commit"]

_T = 30.0
_PER_UID_MAX = 32
_COMMIT_ROWS = COMMITS_Q.replace("MATCH (c:Commit)", "UNWIND $uids AS u MATCH (c:Commit {uid: u})")
_EVENTS = """
MATCH (c:Commit)-[m:MODIFIES]->(e:{label} {{uid: $u}})
RETURN c.uid AS change_uid, e.uid AS entity, e.path AS path, {name} AS name,
       m.lines_added AS la, m.lines_deleted AS ld, m.change AS change
"""
_TOUCHED = """
MATCH (c:Commit {{uid: $uid}})-[m:MODIFIES]->(e:{label}) RETURN e.uid AS entity
"""
_AUTHOR_FILES = """
MATCH (p:Person {uid: $a})-[:AUTHORED]->(c:Commit)-[m:MODIFIES]->(e:File)
RETURN c.uid AS change_uid, e.uid AS entity, e.path AS path, e.path AS name,
       m.lines_added AS la, m.lines_deleted AS ld, m.change AS change
"""
_CALLEES = "MATCH (a:Function {uid: $u})-[:CALLS]->(b:Function) RETURN a.uid AS src, b.uid AS dst"
_CALLERS = "MATCH (b:Function)-[:CALLS]->(a:Function {uid: $u}) RETURN b.uid AS src, a.uid AS dst"
_INDUCED_FROM = """
UNWIND $uids AS u MATCH (a:Commit {uid: u})-[i:INDUCED]->(b:Commit)
RETURN a.uid AS src, b.uid AS dst, i.fixed_at AS fixed_at, b.committed_at AS fix_time,
       i.method AS method
"""
_INDUCED_TO = _INDUCED_FROM.replace(
    "(a:Commit {uid: u})-[i:INDUCED]->(b:Commit)", "(a:Commit)-[i:INDUCED]->(b:Commit {uid: u})"
)
_TRAFFIC = """
MATCH (o:Operation)-[ib:IMPLEMENTED_BY]->(f:Function {uid: $u})
OPTIONAL MATCH (s:Service)-[e:EXPOSES]->(o)
RETURN f.uid AS function, o.uid AS operation, coalesce(e.first_seen, o.first_seen) AS first_seen,
       coalesce(e.last_seen, o.last_seen) AS last_seen, e.count AS count, e.errors AS errors
"""
_AUTHOR_COMMITS = "MATCH (p:Person {uid: $a})-[:AUTHORED]->(c:Commit) RETURN c.uid AS uid"


def _q(reader: GraphReader, cypher: str, **params: object) -> pd.DataFrame:
    return reader.query(cypher, params, timeout_s=_T).to_pandas()


def _each(reader: GraphReader, cypher: str, uids: Sequence[str]) -> pd.DataFrame:
    """One primary-key query per uid: on Ladybug 0.22 a `UNWIND $uids ... {uid: u}` pattern
    joined to a relationship scans the relationship table (100x slower at 100k nodes)."""
    if len(uids) > _PER_UID_MAX:  # hubs: one batched query (slower, but bounded work)
        batched = "UNWIND $uids AS u " + cypher.replace("{uid: $u}", "{uid: u}")
        return _q(reader, batched, uids=list(uids))
    frames = [_q(reader, cypher, u=u) for u in uids]
    if not frames:
        return _q(reader, cypher, u="")
    return pd.concat(frames, ignore_index=True)


def touched_by_commit(reader: GraphReader, uid: str) -> tuple[list[str], list[str]]:
    """(file uids, function uids) a stored commit modifies."""
    files = _q(reader, _TOUCHED.format(label="File"), uid=uid)["entity"].tolist()
    funcs = _q(reader, _TOUCHED.format(label="Function"), uid=uid)["entity"].tolist()
    return files, funcs


def load_neighbourhood(
    reader: GraphReader,
    commit_uids: Sequence[str],
    files: Sequence[str],
    functions: Sequence[str],
    authors: Sequence[str],
) -> GraphTables:
    """GraphTables restricted to what changes touching `files`/`functions` by `authors` need."""
    callees = _each(reader, _CALLEES, list(functions))
    callers = _each(reader, _CALLERS, list(functions))
    calls = pd.concat([callees, callers], ignore_index=True).drop_duplicates().astype(str)
    all_fns = sorted(set(functions) | set(calls["src"]) | set(calls["dst"]))
    ev_files = _each(reader, _EVENTS.format(label="File", name="e.path"), list(files))
    ev_fns = _each(reader, _EVENTS.format(label="Function", name="e.qualname"), all_fns)
    author_files = (
        pd.concat([_q(reader, _AUTHOR_FILES, a=a) for a in authors], ignore_index=True)
        if authors
        else ev_files.iloc[:0]
    )
    modifies = modifies_frame(
        pd.concat([ev_files, author_files], ignore_index=True).drop_duplicates(
            ["change_uid", "entity"]
        ),
        ev_fns,
    )
    mine = {u for a in authors for u in _q(reader, _AUTHOR_COMMITS, a=a)["uid"]}
    uids = sorted(set(modifies["commit"]) | set(commit_uids) | mine)
    commits = commits_frame(_q(reader, _COMMIT_ROWS, uids=uids))
    induced_raw = pd.concat(
        [_q(reader, _INDUCED_FROM, uids=uids), _q(reader, _INDUCED_TO, uids=uids)],
        ignore_index=True,
    ).drop_duplicates(["src", "dst"])
    incidents = _q(reader, INCIDENTS_Q)
    timeline = commits
    if len(incidents):
        timeline = commits_frame(_q(reader, COMMITS_Q))
    induced = induced_frame(induced_raw, incidents, timeline)
    traffic = traffic_frame(_each(reader, _TRAFFIC, all_fns))
    return GraphTables(
        commits=commits, modifies=modifies, induced=induced, calls=calls, traffic=traffic
    )
