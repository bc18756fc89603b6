"""Time-respecting ego graphs: each change with the neighbourhood that existed at its time.

For a commit at time `t` the ego graph holds the commit, its author, the files and functions it
touches, the files' DEFINES links to those functions, and the callers/callees (CALLS) of each
touched function that existed at `t`. Every node carries its state *as of `t`*
(`History.entity_state`), so a node shared by two commits appears once per commit with the
state each of them could see. Many egos are batched into one disjoint `HeteroData` for
full-batch training; scoring a single change builds one ego (its k-hop subgraph).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch_geometric.data import HeteroData

from models.history import (
    COMMIT_FEATURES,
    ENTITY_FEATURES,
    PERSON_FEATURES,
    V2_ENTITY_FEATURES,
    V2_FEATURES,
    History,
)

logger = logging.getLogger(__name__)

__all__ = [
    "EDGE_TYPES",
    "NODE_DIMS",
    "EgoBatch",
    "build_egos",
    "log_features",
    "subset",
    "without_v2",
]

EDGE_TYPES: tuple[tuple[str, str, str], ...] = (
    ("file", "touches", "commit"),
    ("commit", "touched_by", "file"),
    ("function", "touches", "commit"),
    ("commit", "touched_by", "function"),
    ("person", "authored", "commit"),
    ("function", "calls", "function"),
    ("function", "called_by", "function"),
    ("file", "defines", "function"),
)
NODE_DIMS = {
    "commit": len(COMMIT_FEATURES),
    "file": len(ENTITY_FEATURES),
    "function": len(ENTITY_FEATURES),
    "person": len(PERSON_FEATURES),
}


def log_features(x: np.ndarray) -> np.ndarray:
    """Signed log1p: counts, lines and days become comparable scales."""
    return np.sign(x) * np.log1p(np.abs(x))


@dataclass
class EgoBatch:
    """A batch of ego graphs; `nodes[type]` rows say which commit and entity each node copies."""

    data: HeteroData
    commits: np.ndarray  # commit index per commit node
    raw: dict[str, np.ndarray] = field(default_factory=dict)  # raw features per node type
    owner: dict[str, np.ndarray] = field(default_factory=dict)  # commit position per node
    entity: dict[str, np.ndarray] = field(default_factory=dict)  # History entity index per node
    touched: dict[str, np.ndarray] = field(default_factory=dict)


class _Builder:
    def __init__(self) -> None:
        self.rows: dict[str, list[np.ndarray]] = {k: [] for k in NODE_DIMS}
        self.owner: dict[str, list[int]] = {k: [] for k in NODE_DIMS}
        self.entity: dict[str, list[int]] = {k: [] for k in NODE_DIMS}
        self.edges: dict[tuple[str, str, str], list[tuple[int, int]]] = {k: [] for k in EDGE_TYPES}

    def add(self, kind: str, row: np.ndarray, owner: int, entity: int) -> int:
        self.rows[kind].append(row)
        self.owner[kind].append(owner)
        self.entity[kind].append(entity)
        return len(self.rows[kind]) - 1


def _ego(h: History, ci: int, pos: int, b: _Builder, max_nbr: int, max_ent: int) -> None:
    t, a = h.t[ci], int(h.author[ci])
    c = b.add("commit", h.commit_features(ci), pos, ci)
    p = b.add("person", h.person_state(a, t), pos, a)
    b.edges["person", "authored", "commit"].append((p, c))
    lo, hi = h.c_ptr[ci], h.c_ptr[ci + 1]
    ents, la, ld = h.c_ent[lo:hi], h.c_la[lo:hi], h.c_ld[lo:hi]
    content = h.c_content[lo:hi]
    keep = np.argsort(-(la + ld), kind="stable")[:max_ent]
    file_node: dict[str, int] = {}
    fn_nodes: list[tuple[int, int]] = []
    for i in sorted(keep.tolist()):
        e = int(ents[i])
        kind = "function" if h.ent_kind[e] else "file"
        n = b.add(kind, h.entity_state(e, t, a, la[i], ld[i], content=content[i]), pos, e)
        b.edges[kind, "touches", "commit"].append((n, c))
        b.edges["commit", "touched_by", kind].append((c, n))
        if kind == "file":
            file_node[h.ent_path[e]] = n
        else:
            fn_nodes.append((e, n))
    for e, n in fn_nodes:
        if h.ent_path[e] in file_node:
            b.edges["file", "defines", "function"].append((file_node[h.ent_path[e]], n))
        callees, callers = h.neighbours(e, t, max_nbr)
        for rel, group in (("called_by", callees), ("calls", callers)):
            for m in group:
                state = h.entity_state(m, t, a, touched=False)
                state[ENTITY_FEATURES.index("fan_in")] = 0.0
                state[ENTITY_FEATURES.index("fan_out")] = 0.0
                k = b.add("function", state, pos, m)
                b.edges["function", rel, "function"].append((k, n))


def build_egos(
    h: History,
    commit_ixs: Sequence[int] | np.ndarray | np.ndarray,
    max_neighbours: int = 8,
    max_entities: int = 64,
) -> EgoBatch:
    """One disjoint `HeteroData` holding the ego graph of every commit in `commit_ixs`."""
    b = _Builder()
    for pos, ci in enumerate(commit_ixs):
        _ego(h, int(ci), pos, b, max_neighbours, max_entities)
    data = HeteroData()
    batch = EgoBatch(data, np.asarray(commit_ixs, dtype=np.int64))
    for kind, dim in NODE_DIMS.items():
        raw = np.stack(b.rows[kind]) if b.rows[kind] else np.zeros((0, dim))
        batch.raw[kind] = raw
        batch.owner[kind] = np.asarray(b.owner[kind], dtype=np.int64)
        batch.entity[kind] = np.asarray(b.entity[kind], dtype=np.int64)
        data[kind].x = torch.tensor(log_features(raw), dtype=torch.float32)
        data[kind].num_nodes = raw.shape[0]
        if kind in ("file", "function"):
            col = ENTITY_FEATURES.index("touched")
            batch.touched[kind] = raw[:, col] > 0 if len(raw) else np.zeros(0, bool)
    for et, pairs in b.edges.items():
        ei = (
            torch.tensor(pairs, dtype=torch.long).t()
            if pairs
            else torch.zeros((2, 0), dtype=torch.long)
        )
        data[et].edge_index = ei.contiguous()
    return batch


def subset(batch: EgoBatch, commit_ixs: Sequence[int] | np.ndarray) -> EgoBatch:
    """The egos of `commit_ixs` (a subset of `batch.commits`), in that order, re-indexed."""
    pos_of = {int(c): p for p, c in enumerate(batch.commits)}
    wanted = np.array([pos_of[int(c)] for c in commit_ixs], dtype=np.int64)
    new_pos = np.full(len(batch.commits), -1, dtype=np.int64)
    new_pos[wanted] = np.arange(len(wanted))
    data = HeteroData()
    out = EgoBatch(data, np.asarray(commit_ixs, dtype=np.int64))
    remap: dict[str, np.ndarray] = {}
    for kind in NODE_DIMS:
        owner = batch.owner[kind]
        keep = np.flatnonzero(new_pos[owner] >= 0) if len(owner) else np.zeros(0, np.int64)
        if kind == "commit":  # commit nodes follow the requested order
            keep = wanted
        ix = np.full(len(owner), -1, dtype=np.int64)
        ix[keep] = np.arange(len(keep))
        remap[kind] = ix
        out.raw[kind] = batch.raw[kind][keep]
        out.owner[kind] = new_pos[owner[keep]]
        out.entity[kind] = batch.entity[kind][keep]
        if kind in batch.touched:
            out.touched[kind] = batch.touched[kind][keep]
        data[kind].x = batch.data[kind].x[torch.from_numpy(keep)]
        data[kind].num_nodes = len(keep)
    for et in EDGE_TYPES:
        ei = batch.data[et].edge_index.numpy()
        s, d = remap[et[0]][ei[0]], remap[et[2]][ei[1]]
        ok = (s >= 0) & (d >= 0)
        data[et].edge_index = torch.from_numpy(np.stack([s[ok], d[ok]]))
    return out


def without_v2(batch: EgoBatch) -> EgoBatch:
    """The same egos with the features risk v2 added (`V2_FEATURES` on commits,
    `V2_ENTITY_FEATURES` on files and functions) set to 0: the with/without ablation on the
    same graphs. A constant column standardises to 0, so the model cannot use it."""
    drop = {
        "commit": [COMMIT_FEATURES.index(k) for k in V2_FEATURES],
        "file": [ENTITY_FEATURES.index(k) for k in V2_ENTITY_FEATURES],
        "function": [ENTITY_FEATURES.index(k) for k in V2_ENTITY_FEATURES],
    }
    data = HeteroData()
    out = EgoBatch(data, batch.commits, dict(batch.raw), batch.owner, batch.entity, batch.touched)
    for kind in NODE_DIMS:
        x = batch.data[kind].x.clone()
        if kind in drop and len(x):
            x[:, drop[kind]] = 0.0
            raw = batch.raw[kind].copy()
            raw[:, drop[kind]] = 0.0
            out.raw[kind] = raw
        data[kind].x = x
        data[kind].num_nodes = x.shape[0]
    for et in EDGE_TYPES:
        data[et].edge_index = batch.data[et].edge_index
    return out
