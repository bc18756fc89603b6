"""The k-hop neighbourhood of one change, read from the store by primary-key lookups.

Scoring one change needs only: the change, its author and the author's commits, the files and
functions it touches, their callers/callees, every MODIFIES event on those entities, the commits
behind those events, the INDUCED labels on those commits, and production traffic. These few
primary-key queries (`MATCH ... (n:T {uid: $u})`) return exactly the rows of `GraphTables` the
features of that change depend on, so `History` gives the same answer as on the full export.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import pandas as pd

from graph_service.store.base import GraphReader
from models.dataset import (
    COMMITS_Q,
    INCIDENTS_Q,
    MODIFIES_Q,
    RENAMES_Q,
    SIGNALS_QS,
    GraphTables,
    calls_frame,
    commits_frame,
    file_of,
    induced_frame,
    modifies_frame,
    renames_frame,
    signals_frame,
    traffic_frame,
)

logger = logging.getLogger(__name__)

__all__ = [
    "follow_renames",
    "load_neighbourhood",
    "other_names",
    "table_renames",
    "touched_by_commit",
    "with_other_names",
]

_T = 30.0
_PER_UID_MAX = 32
_COMMIT_ROWS = COMMITS_Q.replace("MATCH (c:Commit)", "UNWIND $uids AS u MATCH (c:Commit {uid: u})")
_EVENTS = MODIFIES_Q.replace("(e:{label})", "(e:{label} {{uid: $u}})")
_TOUCHED = """
MATCH (c:Commit {{uid: $uid}})-[m:MODIFIES]->(e:{label}) RETURN e.uid AS entity
"""
_AUTHOR_FILES = """
MATCH (p:Person {uid: $a})-[:AUTHORED]->(c:Commit)-[m:MODIFIES]->(e:File)
RETURN c.uid AS change_uid, e.uid AS entity, e.path AS path, e.path AS name,
       m.lines_added AS la, m.lines_deleted AS ld, m.change AS change
"""
_CALLEES = """
MATCH (a:Function {uid: $u})-[r:CALLS]->(b:Function) RETURN a.uid AS src, b.uid AS dst,
       r.since AS since
"""
_CALLERS = """
MATCH (b:Function)-[r:CALLS]->(a:Function {uid: $u}) RETURN b.uid AS src, a.uid AS dst,
       r.since AS since
"""
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
_FILE_SIGNALS, *_FUNCTION_SIGNALS = (
    q.replace("(e:File)", "(e:File {uid: $u})").replace("(e:Function)", "(e:Function {uid: $u})")
    for q in SIGNALS_QS
)
# the files/functions one earlier commit modified (the co-change hop)
_COMMIT_EVENTS = MODIFIES_Q.replace("MATCH (c:Commit)", "MATCH (c:Commit {{uid: $u}})")
_AUTHOR_COMMITS = "MATCH (p:Person {uid: $a})-[:AUTHORED]->(c:Commit) RETURN c.uid AS uid"
_RENAMED_INTO = RENAMES_Q.replace("(f:File)", "(f:File {uid: $u})")
_FILE_GONE = "MATCH (f:File {uid: $u}) WHERE f.deleted = true RETURN f.uid AS uid, f.path AS path"
# no index on relationship properties: a scan, run only for files deleted at head
_RENAMED_FROM = RENAMES_Q.replace(
    "m.old_path IS NOT NULL", "m.old_path = $p AND f.uid STARTS WITH $prefix"
)


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


def other_names(
    functions: Sequence[str], renames: pd.DataFrame, forward: Sequence[str] = ()
) -> set[str]:
    """The uids `functions` had under earlier paths of their files (by `renames`, as
    `renames_frame` gives them) and, for those in `forward`, under later paths."""
    back: dict[str, list[str]] = {}
    ahead: dict[str, list[str]] = {}
    for old, new in zip(renames["old"], renames["new"], strict=True):
        back.setdefault(new, []).append(old)
        ahead.setdefault(old, []).append(new)
    out: set[str] = set()
    later = set(forward)
    for u in functions:
        f = file_of(u)
        if f is None:
            continue
        q = u.rpartition(":")[2]
        for links in (back, ahead) if u in later else (back,):
            seen, todo = {f}, [f]
            while todo:
                for g in links.get(todo.pop(), ()):
                    if g not in seen:
                        seen.add(g)
                        todo.append(g)
                        out.add(f"fn:{g[5:]}:{q}")
    return out - set(functions)


RenameReader = Callable[[list[str]], pd.DataFrame]


def follow_renames(
    functions: Sequence[str], into: RenameReader, out_of: RenameReader | None
) -> pd.DataFrame:
    """Rename rows linking the files of `functions` to their earlier paths (`into(files)`: the
    renames that produced those files) and, with `out_of`, to the paths they were renamed to
    (`out_of(files)`: the renames away from them)."""
    start = sorted({f for u in functions if (f := file_of(u))})
    frames: list[pd.DataFrame] = [renames_frame(pd.DataFrame())]
    for read, went in ((into, "old"), (out_of, "new")):
        if read is None:
            continue
        seen, frontier = set(start), start
        while frontier:  # one level of renames per round
            rows = read(frontier)
            frames.append(rows)
            frontier = sorted(set(rows[went]) - seen)
            seen.update(frontier)
    both = pd.concat(frames, ignore_index=True).drop_duplicates()
    return both.sort_values(["commit", "old", "new"]).reset_index(drop=True)


def table_renames(renames: pd.DataFrame) -> tuple[RenameReader, RenameReader]:
    """`follow_renames` readers over an in-memory renames table."""
    return (
        lambda files: renames[renames["new"].isin(files)],
        lambda files: renames[renames["old"].isin(files)],
    )


def _store_renames(reader: GraphReader) -> tuple[RenameReader, RenameReader]:
    def into(files: list[str]) -> pd.DataFrame:
        return renames_frame(_each(reader, _RENAMED_INTO, files))

    def out_of(files: list[str]) -> pd.DataFrame:
        gone = _each(reader, _FILE_GONE, files)  # only a file deleted at head was renamed away
        found = [
            renames_frame(_q(reader, _RENAMED_FROM, p=p, prefix=u[: len(u) - len(p)]))
            for u, p in zip(gone["uid"], gone["path"], strict=True)
            if u.endswith(p)
        ]
        return pd.concat(found, ignore_index=True) if found else renames_frame(pd.DataFrame())

    return into, out_of


def with_other_names(
    functions: Sequence[str],
    calls_of: Callable[[list[str]], pd.DataFrame],
    readers: tuple[RenameReader, RenameReader],
) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """(the CALLS rows of `functions` under all their names, every function whose events
    matter, the rename rows used): the one recipe for the store and the snapshot. `calls_of`
    gives rows as `calls_frame` does."""
    into, out_of = readers
    own = follow_renames(functions, into, out_of)
    touched = sorted(set(functions) | other_names(functions, own, forward=functions))
    calls = calls_of(touched).drop_duplicates(["src", "dst"])
    calls = calls.sort_values(["src", "dst"]).reset_index(drop=True)
    nbrs = sorted((set(calls["src"]) | set(calls["dst"])) - set(touched))
    theirs = follow_renames(nbrs, into, None)
    renames = pd.concat([own, theirs], ignore_index=True).drop_duplicates()
    renames = renames.sort_values(["commit", "old", "new"]).reset_index(drop=True)
    all_fns = sorted(set(touched) | set(nbrs) | other_names(nbrs, theirs))
    return calls, all_fns, renames


def _hop(reader: GraphReader, label: str, name: str, commits: Sequence[str]) -> pd.DataFrame:
    """What each of `commits` modified of `label`, at most `COCHANGE_MAX_TOUCHED` + 1 rows per
    commit: a sweeping commit (a first commit adding every file, a mass rename) is recognised
    as one by its row count without reading all of its rows (the first commit of a 1M-function
    history modifies every function). Which rows a sweeping commit keeps is unspecified: the
    features read none of them."""
    from models.context import COCHANGE_MAX_TOUCHED

    cypher = _COMMIT_EVENTS.format(label=label, name=name) + f"LIMIT {COCHANGE_MAX_TOUCHED + 1}\n"
    frames = [_q(reader, cypher, u=u) for u in commits] or [_q(reader, cypher, u="")]
    return pd.concat(frames, ignore_index=True)


def _cochanged(
    reader: GraphReader,
    commit_uids: Sequence[str],
    follow: Sequence[str],
    ev_files: pd.DataFrame,
    ev_fns: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[list[str], list[str]]]:
    """The events behind `models.context`'s co-change features: what the latest
    `COCHANGE_RECENT` earlier commits of each changed file/function (`follow`) modified (their
    partners), and every event of those partners (their fixes and known bugs), added to
    `ev_files` and `ev_fns`; and the partners (files, functions). For a proposed change (no
    stored commit) every earlier commit is read."""
    from models.context import COCHANGE_MAX_TOUCHED, COCHANGE_RECENT

    own = set(ev_files["entity"]) | set(ev_fns["entity"])
    mine = [f[f["entity"].isin(set(follow))] for f in (ev_files, ev_fns)]
    past = sorted((set(mine[0]["change_uid"]) | set(mine[1]["change_uid"])) - set(commit_uids))
    if not past:
        return ev_files, ev_fns, ([], [])
    times = commits_frame(_q(reader, _COMMIT_ROWS, uids=sorted(set(past) | set(commit_uids))))
    t_of = dict(zip(times["uid"], times["t"], strict=True))
    scored = [t_of[u] for u in commit_uids if u in t_of]
    until = max(scored) if scored else float("inf")
    recent: set[str] = set()
    for frame in mine:
        ev = frame[["change_uid", "entity"]].drop_duplicates()
        ev = ev.assign(t=ev["change_uid"].map(t_of)).dropna(subset=["t"])
        ev = ev[ev["t"] <= until].sort_values(["entity", "t"])
        # a proposed change (no stored commit) may be scored as of any time: every earlier
        # commit then, not only the latest ones
        keep = ev.groupby("entity").tail(COCHANGE_RECENT + 2) if scored else ev
        recent |= set(keep["change_uid"])
    commits = sorted(recent)
    hop_files = _hop(reader, "File", "e.path", commits)
    hop_fns = _hop(reader, "Function", "e.qualname", commits)
    # sweeping commits are skipped by the features: some of their rows stay (so they are
    # recognised as sweeping), their entities are not partners and need no events
    sizes = pd.concat([hop_files["change_uid"], hop_fns["change_uid"]]).value_counts()
    narrow = set(sizes.index[sizes <= COCHANGE_MAX_TOUCHED])
    partners_f = sorted(set(hop_files["entity"][hop_files["change_uid"].isin(narrow)]) - own)
    partners_fn = sorted(set(hop_fns["entity"][hop_fns["change_uid"].isin(narrow)]) - own)
    more_f = _each(reader, _EVENTS.format(label="File", name="e.path"), partners_f)
    more_fn = _each(reader, _EVENTS.format(label="Function", name="e.qualname"), partners_fn)
    return (
        pd.concat([ev_files, hop_files, more_f], ignore_index=True).drop_duplicates(
            ["change_uid", "entity"]
        ),
        pd.concat([ev_fns, hop_fns, more_fn], ignore_index=True).drop_duplicates(
            ["change_uid", "entity"]
        ),
        (partners_f, partners_fn),
    )


def load_neighbourhood(
    reader: GraphReader,
    commit_uids: Sequence[str],
    files: Sequence[str],
    functions: Sequence[str],
    authors: Sequence[str],
) -> GraphTables:
    """GraphTables restricted to what changes touching `files`/`functions` by `authors` need.

    Functions are followed through file renames: the calls of a touched function under every
    name it had (the head's call graph names the newest), and the earlier names of each
    caller/callee, whose events date its birth.
    """

    def calls_of(fns: list[str]) -> pd.DataFrame:
        return calls_frame(
            pd.concat(
                [_each(reader, _CALLEES, fns), _each(reader, _CALLERS, fns)], ignore_index=True
            )
        )

    calls, all_fns, renames = with_other_names(functions, calls_of, _store_renames(reader))
    ev_files = _each(reader, _EVENTS.format(label="File", name="e.path"), list(files))
    ev_fns = _each(reader, _EVENTS.format(label="Function", name="e.qualname"), all_fns)
    ev_files, ev_fns, (partners_f, partners_fn) = _cochanged(
        reader, commit_uids, [*files, *functions], ev_files, ev_fns
    )
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
    # the renaming commits too: their times link a function's names into one lineage
    uids = sorted(set(modifies["commit"]) | set(commit_uids) | mine | set(renames["commit"]))
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
    signals = signals_frame(
        pd.concat(
            [
                _each(reader, _FILE_SIGNALS, sorted({*files, *partners_f})),
                *(_each(reader, q, sorted({*all_fns, *partners_fn})) for q in _FUNCTION_SIGNALS),
            ],
            ignore_index=True,
        )
    )
    return GraphTables(
        commits=commits,
        modifies=modifies,
        induced=induced,
        calls=calls,
        traffic=traffic,
        renames=renames,
        signals=signals,
    )
