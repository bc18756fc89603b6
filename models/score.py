"""Scoring changes: a stored commit, a unified diff, or a set of paths/functions.

Each call reads only the change's k-hop neighbourhood (`models.neighbourhood`), builds its ego
graph as of the change's time, runs the GNN, calibrates, and explains. `write_scores` turns
results into node batches (`risk_score`, `risk_model`) for the caller to write.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, Field

from graph_service.batch import NodeBatch, nodes
from graph_service.errors import CallerError, NotFoundError
from graph_service.store.base import GraphReader
from models.config import torch_threads
from models.dataset import GraphTables
from models.egograph import build_egos
from models.explain import Explanation, score_and_explain
from models.history import COMMIT_FEATURES, History
from models.neighbourhood import _COMMIT_ROWS, load_neighbourhood, touched_by_commit
from models.population import NO_CODE_LABEL, touches_code
from models.registry import ModelSet, RiskModel, resolve
from models.snapshot import neighbourhood

logger = logging.getLogger(__name__)

__all__ = [
    "PROPOSED_UID",
    "NodeScore",
    "RiskResult",
    "parse_diff",
    "score_commit",
    "score_diff",
    "score_in_memory",
    "score_paths",
    "write_scores",
]

PROPOSED_UID = "commit:proposed"
_SHA_TEXT = re.compile(r"[0-9a-fA-F]{4,64}")  # a sha or a prefix; refs need git (the CLI)
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class NodeScore(BaseModel):
    uid: str
    kind: str  # commit | file | function
    name: str = ""
    path: str = ""
    score: float


class RiskResult(BaseModel):
    """A change's calibrated risk, per-node scores, reasons, and the model that produced them.

    A change that is not code-changing (`models.population`: docs, tests, CI, dependency
    bumps, formatting only) gets no probability: `score` is None and `label` says why.
    """

    target: str
    score: float | None = Field(
        description="Calibrated probability that the change introduces a bug; None when the "
        "change touches no code (see `label`)."
    )
    raw_score: float
    model_version: str
    code_change: bool = True
    label: str | None = Field(
        default=None, description=f"Set instead of a score, e.g. {NO_CODE_LABEL!r}."
    )
    nodes: list[NodeScore] = Field(default_factory=list)
    explanations: list[Explanation] = Field(default_factory=list)
    features: dict[str, float] = Field(default_factory=dict)
    elapsed_ms: float = 0.0


def _score(tables: GraphTables, model: RiskModel | ModelSet, uid: str, start: float) -> RiskResult:
    return _score_history(History(tables), model, uid, start)


def score_in_memory(history: History, model: RiskModel | ModelSet, uid: str) -> RiskResult:
    """Score a commit from an already indexed `History` (a warm in-process snapshot of the
    graph, e.g. held by a long-running service and rebuilt after loads): no store reads."""
    if uid not in history.commit_ix:
        raise NotFoundError(f"no commit {uid!r} in this snapshot")
    return _score_history(history, model, uid, time.perf_counter())


def _repo_of(h: History, ci: int) -> str | None:
    """The repository of commit `ci`: its entities' (`file:<repo>:...`), else its own row."""
    for e in h.touched(ci):
        parts = h.ent_uids[int(e)].split(":", 2)
        if len(parts) == 3:
            return parts[1]
    repos = h.tables.commits.get("repo")
    if repos is not None and ci < len(repos) and repos.iloc[ci]:
        return str(repos.iloc[ci])
    return None


def _code_change(h: History, ci: int) -> bool:
    """Whether commit `ci` is code-changing (never a reformatting commit); a proposed change
    given as paths (no line counts) is when it names a code path."""
    if h.cosmetic[ci]:  # a reformatting commit (git loader): no code change
        return False
    lo, hi = h.c_ptr[ci], h.c_ptr[ci + 1]
    lines = h.c_la[lo:hi] + h.c_ld[lo:hi]
    if h.commit_uids[ci] == PROPOSED_UID and not lines.any():
        lines = np.ones_like(lines)
    return touches_code(
        (h.ent_path[int(e)], float(n)) for e, n in zip(h.c_ent[lo:hi], lines, strict=True)
    )


def _score_history(h: History, models: RiskModel | ModelSet, uid: str, start: float) -> RiskResult:
    ci = h.commit_ix[uid]
    model = resolve(models, _repo_of(h, ci))
    cfg = model.config
    egos = build_egos(h, [ci], cfg.max_neighbours, cfg.max_entities)
    with torch_threads(cfg.threads):
        logits, node_logits, reasons = score_and_explain(h, model.inference_net, egos)
    raw = float(torch.sigmoid(logits[0]))
    scored = []
    for kind, lg in node_logits.items():
        probs = torch.sigmoid(lg).numpy()
        for row in np.flatnonzero(egos.touched[kind]):
            e = int(egos.entity[kind][row])
            scored.append(
                NodeScore(
                    uid=h.ent_uids[e],
                    kind=kind,
                    name=h.ent_name[e],
                    path=h.ent_path[e],
                    score=float(probs[row]),
                )
            )
    scored.sort(key=lambda n: -n.score)
    score = float(model.calibrator(np.array([raw]))[0])
    code = _code_change(h, ci)
    commit_node = NodeScore(uid=uid, kind="commit", score=score if code else 0.0)
    return RiskResult(
        target=uid,
        score=score if code else None,
        raw_score=raw,
        model_version=model.version,
        code_change=code,
        label=None if code else NO_CODE_LABEL,
        # no probability, so no per-node scores or reasons either: a docs-only change listed
        # with "▲ ... usually change together" under "no code change" reads as a contradiction
        nodes=[commit_node, *scored] if code else [commit_node],
        explanations=reasons if code else [],
        features=dict(zip(COMMIT_FEATURES, map(float, egos.raw["commit"][0]), strict=True)),
        elapsed_ms=(time.perf_counter() - start) * 1000,
    )


def _resolve(reader: GraphReader, sha: str) -> pd.DataFrame:
    bare = sha.removeprefix("commit:")
    if not _SHA_TEXT.fullmatch(bare):
        # `HEAD`, `main~3`, `main..feature`: git's names, which only the CLI resolves
        raise CallerError(
            f"{sha!r} is not a commit sha: give a sha or its first 6+ hex digits "
            f"(`git rev-parse {bare}`), or run `prodgraph risk {bare}`, which asks git"
        )
    uid = f"commit:{bare}"
    row = reader.query(_COMMIT_ROWS, {"uids": [uid]}).to_pandas()
    if len(row) == 0 and len(bare) >= 6:
        hits = reader.query(
            "MATCH (c:Commit) WHERE c.sha STARTS WITH $p RETURN c.uid AS uid LIMIT 2",
            {"p": bare.lower()},
        ).rows()
        if len(hits) > 1:
            raise CallerError(f"{sha!r} starts several commits' shas: give more of the sha")
        if len(hits) == 1:
            row = reader.query(_COMMIT_ROWS, {"uids": [hits[0]["uid"]]}).to_pandas()
    if len(row) == 0:
        raise NotFoundError(f"no commit {sha!r} in the graph (load its repository first)")
    return row


def score_commit(
    store: GraphReader, model: RiskModel | ModelSet, sha: str, *, history: History | None = None
) -> RiskResult:
    """Score a stored commit as of its own time (from `history`, a warm snapshot of the same
    store, when it holds the commit; otherwise from the store)."""
    start = time.perf_counter()
    if history is not None:
        uid = sha if sha.startswith("commit:") else f"commit:{sha}"
        if uid in history.commit_ix:
            return _score_history(history, model, uid, start)
    row = _resolve(store, sha)
    uid, author = str(row["uid"][0]), row["author"][0]
    files, funcs = touched_by_commit(store, uid)
    authors = [author] if isinstance(author, str) else []
    tables = load_neighbourhood(store, [uid], files, funcs, authors)
    return _score(tables, model, uid, start)


def parse_diff(text: str) -> dict[str, dict[str, list[int]]]:
    """Per path (old side, or new side for added files): added/deleted counts and old lines."""
    out: dict[str, dict[str, list[int]]] = {}
    cur: dict[str, list[int]] | None = None
    old_path = ""
    old_line = 0
    for line in text.splitlines():
        if line.startswith("--- "):
            old_path = line[4:].strip().removeprefix("a/")
        elif line.startswith("+++ "):
            new = line[4:].strip().removeprefix("b/")
            path = new if old_path == "/dev/null" else old_path
            cur = out.setdefault(path, {"added": [0], "deleted": [0], "lines": []})
        elif (m := _HUNK.match(line)) and cur is not None:
            old_line = int(m.group(1))
        elif cur is not None and line.startswith("+"):
            cur["added"][0] += 1
            cur["lines"].append(old_line)
        elif cur is not None and line.startswith("-"):
            cur["deleted"][0] += 1
            cur["lines"].append(old_line)
            old_line += 1
        elif cur is not None and line.startswith(" "):
            old_line += 1
    return out


_FILES_BY_PATH = (
    "UNWIND $paths AS p MATCH (f:File) WHERE f.path = p RETURN f.uid AS uid, f.path AS path"
)
_FNS_BY_PATH = (
    "UNWIND $paths AS p MATCH (f:Function) WHERE f.path = p "
    "RETURN f.uid AS uid, f.path AS path, f.start_line AS lo, f.end_line AS hi"
)


def score_diff(
    store: GraphReader,
    model: RiskModel | ModelSet,
    unified_diff_text: str,
    *,
    author: str | None = None,
    at: float | None = None,
    history: History | None = None,
) -> RiskResult:
    """Score a proposed change given as a unified diff against the loaded head."""
    start = time.perf_counter()
    diff = parse_diff(unified_diff_text)
    if not diff:
        raise CallerError("the diff names no files (expected `--- a/path` / `+++ b/path` lines)")
    paths = sorted(diff)
    files = {r["uid"]: r["path"] for r in store.query(_FILES_BY_PATH, {"paths": paths}).rows()}
    touched: dict[str, tuple[int, int]] = {
        uid: (diff[p]["added"][0], diff[p]["deleted"][0]) for uid, p in files.items()
    }
    for r in store.query(_FNS_BY_PATH, {"paths": paths}).rows():
        lines = [x for x in diff[r["path"]]["lines"] if (r["lo"] or 0) <= x <= (r["hi"] or 0)]
        if lines:
            touched[r["uid"]] = (len(lines), 0)
    return _proposed(store, model, touched, author, at, start, history)


def score_paths(
    store: GraphReader,
    model: RiskModel | ModelSet,
    paths_or_function_uids: Sequence[str],
    *,
    author: str | None = None,
    at: float | None = None,
    history: History | None = None,
) -> RiskResult:
    """Score a change that would touch these files (paths or `file:` uids) or `fn:` functions."""
    start = time.perf_counter()
    items = list(paths_or_function_uids)
    uids = [x for x in items if x.startswith(("fn:", "file:"))]
    paths = [x for x in items if not x.startswith(("fn:", "file:"))]
    if paths:
        uids += [r["uid"] for r in store.query(_FILES_BY_PATH, {"paths": paths}).rows()]
    if not uids:
        raise NotFoundError(f"none of {items!r} is a file or function in the graph")
    return _proposed(store, model, dict.fromkeys(uids, (0, 0)), author, at, start, history)


def _proposed(
    store: GraphReader,
    model: RiskModel | ModelSet,
    touched: dict[str, tuple[int, int]],
    author: str | None,
    at: float | None,
    start: float,
    history: History | None = None,
) -> RiskResult:
    if not touched:
        raise NotFoundError("the change touches no file or function known to the graph")
    files = [u for u in touched if u.startswith("file:")]
    funcs = [u for u in touched if u.startswith("fn:")]
    person = f"person:{author}" if author and not author.startswith("person:") else author
    la = sum(v[0] for u, v in touched.items() if u.startswith("file:")) or sum(
        v[0] for v in touched.values()
    )
    ld = sum(v[1] for u, v in touched.items() if u.startswith("file:"))
    if history is not None:  # a view of the warm snapshot with the change added: no rebuild
        when = at if at is not None else max(time.time(), float(history.t.max(initial=0)) + 1)
        view = history.with_change(PROPOSED_UID, when, person, touched, (la, ld, float(len(files))))
        if view is not None:
            return _score_history(view, model, PROPOSED_UID, start)
    people = [person] if person else []
    tables = (
        neighbourhood(history, [], files, funcs, people)
        if history is not None
        else load_neighbourhood(store, [], files, funcs, people)
    )
    when = (
        at
        if at is not None
        else max(time.time(), float(tables.commits["t"].max() if len(tables.commits) else 0) + 1)
    )
    row = {
        "uid": PROPOSED_UID,
        "sha": "",
        "t": when,
        "la": la,
        "ld": ld,
        "nf": len(files),
        "is_fix": False,
        "is_merge": False,
        "summary": "",
        "author": person or "person:unknown",
    }
    commits = pd.concat([tables.commits, pd.DataFrame([row])], ignore_index=True)
    mods = pd.DataFrame(
        [
            {
                "commit": PROPOSED_UID,
                "entity": u,
                "kind": "file" if u.startswith("file:") else "function",
                "path": _path_of(u),
                "name": u.rsplit(":", 1)[-1],
                "la": a,
                "ld": d,
                "change": "modified",
            }
            for u, (a, d) in touched.items()
        ]
    )
    tables.commits = commits.sort_values(["t", "uid"]).reset_index(drop=True)
    tables.modifies = pd.concat([tables.modifies, mods], ignore_index=True)
    return _score(tables, model, PROPOSED_UID, start)


def _path_of(uid: str) -> str:
    parts = uid.split(":")
    return parts[2] if len(parts) > 2 else ""


def write_scores(results: Sequence[RiskResult]) -> list[NodeBatch]:
    """Node batches that set `risk_score`/`risk_model` on scored commits, files and functions."""
    rows: dict[str, dict[str, dict[str, object]]] = {"Commit": {}, "File": {}, "Function": {}}
    label = {"commit": "Commit", "file": "File", "function": "Function"}
    for r in results:
        for n in r.nodes:
            if n.uid == PROPOSED_UID:
                continue
            if n.kind == "commit" and r.score is None:
                continue  # no probability for a change that touches no code
            rows[label[n.kind]][n.uid] = {
                "uid": n.uid,
                "risk_score": n.score,
                "risk_model": r.model_version,
            }
    return [nodes(lbl, list(v.values())) for lbl, v in rows.items() if v]
