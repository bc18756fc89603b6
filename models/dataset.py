"""Graph export for the risk model: Arrow queries -> event tables -> torch-geometric `HeteroData`.

Two products, both read through the store's read API only (never Ladybug's own PyG export):

- `load_tables(reader)`: the time-stamped events (commits, MODIFIES, INDUCED, CALLS, traffic,
  production incidents) as pandas frames. `models.history.History` turns them into features
  *as of* any time.
- `export_hetero(reader)`: the whole graph as a `HeteroData` (node features + edge indices per
  relationship type) with the uid of every node, so indices can be mapped back to the graph.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
from torch_geometric.data import HeteroData

from graph_service import schema
from graph_service.store.base import GraphReader

logger = logging.getLogger(__name__)

__all__ = [
    "CONTENT_COLUMNS",
    "HETERO_RELS",
    "GraphTables",
    "export_hetero",
    "load_tables",
    "to_seconds",
]

_TIMEOUT = 600.0

# What a change did to a function (the git loader's tree-sitter comparison of before and after,
# on MODIFIES(Commit->Function)); read when the schema declares them, else 0.
CONTENT_COLUMNS = (
    "conds_added",
    "conds_removed",
    "loops_added",
    "loops_removed",
    "excepts_added",
    "excepts_removed",
    "calls_added",
    "calls_removed",
    "returns_added",
    "returns_removed",
    "signature_changed",
)


def _declared(columns: tuple[str, ...], owner: schema.RelType | schema.NodeType) -> list[str]:
    return [c for c in columns if owner.prop(c) is not None]


def content_returns(var: str = "m") -> str:
    """`, m.conds_added AS conds_added, ...` for the content columns the schema declares."""
    return "".join(
        f", {var}.{c} AS {c}" for c in _declared(CONTENT_COLUMNS, schema.rel("MODIFIES"))
    )


def cosmetic_return(var: str = "c") -> str:
    """`, c.cosmetic AS cosmetic` when the schema declares reformatting commits."""
    return f", {var}.cosmetic AS cosmetic" if schema.node("Commit").prop("cosmetic") else ""


COMMITS_Q = (
    """
MATCH (c:Commit)
OPTIONAL MATCH (p:Person)-[:AUTHORED]->(c)
RETURN c.uid AS uid, c.sha AS sha, c.authored_at AS authored_at, c.committed_at AS committed_at,
       c.lines_added AS la, c.lines_deleted AS ld, c.files_changed AS nf, c.is_fix AS is_fix,
       c.is_merge AS is_merge, c.summary AS summary, c.repo AS repo, p.uid AS author"""
    + cosmetic_return()
    + "\n"
)
MODIFIES_Q = (
    """
MATCH (c:Commit)-[m:MODIFIES]->(e:{label})
RETURN c.uid AS change_uid, e.uid AS entity, e.path AS path, {name} AS name,
       m.lines_added AS la, m.lines_deleted AS ld, m.change AS change"""
    + content_returns().replace("{", "{{").replace("}", "}}")
    + "\n"
)
INDUCED_Q = """
MATCH (a:Commit)-[i:INDUCED]->(b:Commit)
RETURN a.uid AS src, b.uid AS dst, i.fixed_at AS fixed_at, b.committed_at AS fix_time,
       i.method AS method
"""
RENAMES_Q = """
MATCH (c:Commit)-[m:MODIFIES]->(f:File)
WHERE m.change = 'renamed' AND m.old_path IS NOT NULL
RETURN c.uid AS change_uid, f.uid AS new, f.path AS path, m.old_path AS old_path
"""
CALLS_Q = """
MATCH (a:Function)-[r:CALLS]->(b:Function) RETURN a.uid AS src, b.uid AS dst, r.since AS since
"""
TRAFFIC_Q = """
MATCH (o:Operation)-[ib:IMPLEMENTED_BY]->(f:Function)
OPTIONAL MATCH (s:Service)-[e:EXPOSES]->(o)
RETURN f.uid AS function, o.uid AS operation, coalesce(e.first_seen, o.first_seen) AS first_seen,
       coalesce(e.last_seen, o.last_seen) AS last_seen, e.count AS count, e.errors AS errors
"""
# what an entity has been through outside git: tickets (bugs, incidents) that name it, and error
# signatures whose innermost in-repo frame is in it, each from the time it became known
_TICKETS_Q = """
MATCH (t:Ticket)-[:MENTIONS]->(e:{label})
WHERE t.kind IN ['bug', 'incident']
RETURN e.uid AS entity, t.created_at AS t, 'ticket' AS kind, t.uid AS source
"""
SIGNALS_QS = (
    _TICKETS_Q.format(label="File"),
    _TICKETS_Q.format(label="Function"),
    """
MATCH (s:ErrorSignature)-[:RAISED_IN]->(e:Function)
RETURN e.uid AS entity, s.first_seen AS t, 'error' AS kind, s.uid AS source
""",
)
INCIDENTS_Q = """
MATCH (t:Ticket)-[:AFFECTS]->(d:Deployment)-[:SHIPS]->(c:Commit)
WHERE t.kind = 'incident'
OPTIONAL MATCH (prev:Deployment)-[:PRECEDES]->(d)
OPTIONAL MATCH (prev)-[:SHIPS]->(pc:Commit)
RETURN c.uid AS change_uid, t.created_at AS created_at, pc.uid AS prev_commit
"""


@dataclass
class GraphTables:
    """Time-stamped events of the graph; times are float seconds since the epoch (UTC).

    commits: uid, sha, t, la, ld, nf, is_fix, is_merge, summary, author, repo, cosmetic
    modifies: commit, entity, kind (file|function), path, name, la, ld, change, CONTENT_COLUMNS
    induced: src, dst, known_at, method   (a label exists from `known_at` on)
    calls: src, dst, since (when the call took its current form; -inf: unknown)
    traffic: function, first_seen, rate (req/s), error_rate
    renames: commit, old (file uid), new (file uid): a file renamed by a commit
    signals: entity, t, kind (ticket|error), source: what names an entity, known from `t`
    """

    commits: pd.DataFrame
    modifies: pd.DataFrame
    induced: pd.DataFrame
    calls: pd.DataFrame
    traffic: pd.DataFrame
    renames: pd.DataFrame = field(default_factory=lambda: renames_frame(pd.DataFrame()))
    signals: pd.DataFrame = field(default_factory=lambda: signals_frame(pd.DataFrame()))

    def fingerprint(self) -> str:
        """A stable hash of the training data (sizes, times and labels)."""
        import hashlib

        h = hashlib.sha256()
        for frame in (
            self.commits[["uid", "t"]],
            self.modifies[["commit", "entity"]],
            self.induced[["src", "dst", "known_at"]],
        ):
            rows = frame.sort_values(list(frame.columns), kind="stable")  # order-free
            h.update(pd.util.hash_pandas_object(rows, index=False).values.tobytes())
        return h.hexdigest()[:16]


def to_seconds(col: pa.ChunkedArray | pa.Array | pd.Series) -> np.ndarray:
    """Timestamps (Arrow or pandas, any unit) as float epoch seconds; NaN where missing."""
    s = pd.Series(col.to_pandas() if hasattr(col, "to_pandas") else col)
    s = pd.to_datetime(s, utc=True, errors="coerce")
    delta = (s - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    return delta.to_numpy(dtype=float, na_value=np.nan)


def _frame(reader: GraphReader, cypher: str, params: dict | None = None) -> pd.DataFrame:
    return reader.query(cypher, params or {}, timeout_s=_TIMEOUT).to_pandas()


def commits_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """Normalise a commits query result: time `t` (commit time, else author time), ints, bools."""
    t = to_seconds(raw["committed_at"])
    ta = to_seconds(raw["authored_at"])
    out = pd.DataFrame(
        {
            "uid": raw["uid"].astype(str),
            "sha": raw["sha"].fillna("").astype(str),
            "t": np.where(np.isnan(t), ta, t),
            "la": raw["la"].fillna(0).astype("int64"),
            "ld": raw["ld"].fillna(0).astype("int64"),
            "nf": raw["nf"].fillna(0).astype("int64"),
            "is_fix": raw["is_fix"].fillna(False).astype(bool),
            "is_merge": raw["is_merge"].fillna(False).astype(bool),
            "summary": raw["summary"].fillna("").astype(str),
            "author": raw["author"].fillna("person:unknown").astype(str),
            "cosmetic": (
                raw["cosmetic"] if "cosmetic" in raw.columns else pd.Series([False] * len(raw))
            )
            .fillna(False)
            .astype(bool)
            .to_numpy(),
            "repo": (raw["repo"] if "repo" in raw.columns else pd.Series([""] * len(raw)))
            .fillna("")
            .astype(str)
            .to_numpy(),
        }
    )
    out = out[~np.isnan(out["t"].to_numpy())]
    return out.drop_duplicates("uid").sort_values(["t", "uid"]).reset_index(drop=True)


def modifies_frame(files: pd.DataFrame, functions: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for kind, raw in (("file", files), ("function", functions)):
        if len(raw):
            f = raw.rename(columns={"change_uid": "commit"})
            f["kind"] = kind
            parts.append(f)
    cols = ["commit", "entity", "kind", "path", "name", "la", "ld", "change", *CONTENT_COLUMNS]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    out = pd.concat(parts, ignore_index=True)
    for c in CONTENT_COLUMNS:  # missing (older stores, file rows): nothing known, 0
        values = out[c] if c in out.columns else pd.Series(0, index=out.index)
        out[c] = values.fillna(0).astype("int64")
    out["la"] = out["la"].fillna(0).astype("int64")
    out["ld"] = out["ld"].fillna(0).astype("int64")
    out["path"] = out["path"].fillna("").astype(str)
    out["name"] = out["name"].fillna("").astype(str)
    out["change"] = out["change"].fillna("modified").astype(str)
    # one order whatever the store returned (parallel scans do not keep one)
    return out[cols].sort_values(["commit", "kind", "entity"], kind="stable").reset_index(drop=True)


def induced_frame(
    raw: pd.DataFrame, incidents: pd.DataFrame, commits: pd.DataFrame
) -> pd.DataFrame:
    """INDUCED edges plus production labels, each with the time it became known."""
    known = to_seconds(raw["fixed_at"]) if len(raw) else np.array([])
    if len(raw):
        known = np.where(np.isnan(known), to_seconds(raw["fix_time"]), known)
    rows = pd.DataFrame(
        {
            "src": raw["src"].astype(str) if len(raw) else pd.Series(dtype=str),
            "dst": raw["dst"].astype(str) if len(raw) else pd.Series(dtype=str),
            "known_at": known,
            "method": raw["method"].fillna("szz").astype(str) if len(raw) else pd.Series(dtype=str),
        }
    )
    prod = production_labels(incidents, commits)
    out = pd.concat([rows, prod], ignore_index=True)
    out = out[~np.isnan(out["known_at"].to_numpy(dtype=float))]
    return out.sort_values(["src", "dst", "known_at", "method"], kind="stable").reset_index(
        drop=True
    )


def production_labels(incidents: pd.DataFrame, commits: pd.DataFrame) -> pd.DataFrame:
    """An incident on a deployment labels the commits it shipped: its head commit and those
    committed after the previous deployment's head (by commit time), from the ticket's creation."""
    cols: dict[str, list[object]] = {"src": [], "dst": [], "known_at": [], "method": []}
    if len(incidents) == 0 or len(commits) == 0:
        return pd.DataFrame(cols)
    t_of = dict(zip(commits["uid"], commits["t"], strict=True))
    times = commits["t"].to_numpy()
    created = to_seconds(incidents["created_at"])
    for head, prev, when in zip(
        incidents["change_uid"], incidents["prev_commit"], created, strict=True
    ):
        if head not in t_of or np.isnan(when):
            continue
        lo = t_of.get(prev, t_of[head] - 1e-9) if isinstance(prev, str) else t_of[head] - 1e-9
        sel = commits["uid"].to_numpy()[(times > lo) & (times <= t_of[head])]
        for uid in sel:
            cols["src"].append(uid)
            cols["dst"].append(head)
            cols["known_at"].append(when)
            cols["method"].append("deployment")
    return pd.DataFrame(cols)


def file_of(fn_uid: str) -> str | None:
    """The file uid of a function uid (`fn:<repo>:<path>:<qualname>`, no ':' in the name)."""
    head, sep, q = fn_uid.rpartition(":")
    return "file:" + head[3:] if fn_uid.startswith("fn:") and sep and q else None


def calls_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """CALLS rows: src, dst and `since` (float seconds; -inf when the date is unknown, so the
    edge counts from its functions' births), one row per pair, in one order."""
    if len(raw) == 0:
        return pd.DataFrame(
            {
                "src": pd.Series(dtype=str),
                "dst": pd.Series(dtype=str),
                "since": pd.Series(dtype=float),
            }
        )
    since = to_seconds(raw["since"]) if "since" in raw.columns else np.full(len(raw), np.nan)
    out = pd.DataFrame(
        {
            "src": raw["src"].astype(str).to_numpy(),
            "dst": raw["dst"].astype(str).to_numpy(),
            "since": np.nan_to_num(since, nan=-np.inf),
        }
    )
    out = out.sort_values(["src", "dst", "since"]).drop_duplicates(["src", "dst"])
    return out.reset_index(drop=True)


def renames_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """File renames as (commit, old file uid, new file uid); the old uid is the new one with
    its path replaced (uids are `file:<repo>:<path>`)."""
    if len(raw) == 0:
        return pd.DataFrame({"commit": [], "old": [], "new": []}, dtype=str)
    new = raw["new"].astype(str).tolist()
    path = raw["path"].astype(str).tolist()
    old = [
        u[: len(u) - len(p)] + o if u.endswith(p) else ""
        for u, p, o in zip(new, path, raw["old_path"].astype(str), strict=True)
    ]
    out = pd.DataFrame({"commit": raw["change_uid"].astype(str).tolist(), "old": old, "new": new})
    out = out[(out["old"] != "") & (out["old"] != out["new"])]
    return out.sort_values(["commit", "old", "new"]).reset_index(drop=True)


def signals_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """Signal rows (entity, t, kind, source), one per (entity, source), in one order."""
    cols = ["entity", "t", "kind", "source"]
    if len(raw) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "t" else str) for c in cols})
    out = pd.DataFrame(
        {
            "entity": raw["entity"].astype(str).to_numpy(),
            "t": to_seconds(raw["t"]),
            "kind": raw["kind"].astype(str).to_numpy(),
            "source": raw["source"].astype(str).to_numpy(),
        }
    )
    out = out[~np.isnan(out["t"].to_numpy())].drop_duplicates(["entity", "source"])
    return out.sort_values(cols).reset_index(drop=True)


def traffic_frame(raw: pd.DataFrame) -> pd.DataFrame:
    if len(raw) == 0:
        return pd.DataFrame({"function": [], "first_seen": [], "rate": [], "error_rate": []})
    first, last = to_seconds(raw["first_seen"]), to_seconds(raw["last_seen"])
    span = np.maximum(np.nan_to_num(last - first, nan=0.0), 1.0)
    count = raw["count"].fillna(0).to_numpy(dtype=float)
    errors = raw["errors"].fillna(0).to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "function": raw["function"].astype(str),
            "first_seen": np.nan_to_num(first, nan=np.inf),
            "rate": count / span,
            "error_rate": errors / np.maximum(count, 1.0),
        }
    )


def load_tables(reader: GraphReader) -> GraphTables:
    """Read every event the risk model uses from the store (a few Arrow queries)."""
    commits = commits_frame(_frame(reader, COMMITS_Q))
    files = _frame(reader, MODIFIES_Q.format(label="File", name="e.path"))
    funcs = _frame(reader, MODIFIES_Q.format(label="Function", name="e.qualname"))
    induced = induced_frame(_frame(reader, INDUCED_Q), _frame(reader, INCIDENTS_Q), commits)
    return GraphTables(
        commits=commits,
        modifies=modifies_frame(files, funcs),
        induced=induced,
        calls=calls_frame(_frame(reader, CALLS_Q)),
        traffic=traffic_frame(_frame(reader, TRAFFIC_Q)),
        renames=renames_frame(_frame(reader, RENAMES_Q)),
        signals=signals_frame(
            pd.concat(
                [_frame(reader, q) for q in SIGNALS_QS],
                ignore_index=True,
            )
        ),
    )


# (src label, rel type, dst label, Cypher relationship) exported into HeteroData
HETERO_RELS: tuple[tuple[str, str, str], ...] = (
    ("Person", "AUTHORED", "Commit"),
    ("Commit", "MODIFIES", "File"),
    ("Commit", "MODIFIES", "Function"),
    ("File", "DEFINES", "Function"),
    ("Function", "CALLS", "Function"),
    ("Commit", "PARENT", "Commit"),
    ("Commit", "INDUCED", "Commit"),
)
_NODE_FEATURES = {
    "Commit": ("lines_added", "lines_deleted", "files_changed"),
    "File": ("loc",),
    "Function": ("loc", "complexity"),
    "Person": (),
}


def export_hetero(reader: GraphReader) -> HeteroData:
    """The whole graph as `HeteroData`: `data[label].uid` lists the uid of every index.

    Node features are the numeric properties in `_NODE_FEATURES` (nulls as 0); edge indices
    come from Arrow queries joined to the uid order, so `edge_index[:, k]` names real uids.
    """
    data = HeteroData()
    index: dict[str, dict[str, int]] = {}
    for label, props in _NODE_FEATURES.items():
        cols = ", ".join(["n.uid AS uid", *[f"n.{p} AS {p}" for p in props]])
        t = reader.query(
            f"MATCH (n:{label}) RETURN {cols} ORDER BY n.uid", timeout_s=_TIMEOUT
        ).table
        uids = t.column("uid").to_pylist()
        index[label] = {u: i for i, u in enumerate(uids)}
        feats = [
            np.nan_to_num(t.column(p).to_numpy(zero_copy_only=False).astype(float)) for p in props
        ]
        x = np.stack(feats, 1) if feats else np.zeros((len(uids), 0))
        data[label].x = torch.tensor(x, dtype=torch.float32)
        data[label].uid = uids
        data[label].num_nodes = len(uids)
    for src, rel, dst in HETERO_RELS:
        t = reader.query(
            f"MATCH (a:{src})-[:{rel}]->(b:{dst}) RETURN a.uid AS s, b.uid AS d", timeout_s=_TIMEOUT
        ).to_pandas()
        si = t["s"].map(index[src]).to_numpy(dtype=float)
        di = t["d"].map(index[dst]).to_numpy(dtype=float)
        ok = ~(np.isnan(si) | np.isnan(di))
        ei = np.stack([si[ok], di[ok]]).astype(np.int64) if ok.any() else np.zeros((2, 0), np.int64)
        ei = ei[:, np.lexsort((ei[1], ei[0]))]  # stable order, whatever the query returned
        data[src, rel, dst].edge_index = torch.from_numpy(ei)
    return data
