"""Evaluation harnesses: triage on real fixed bugs, duplicate detection on real duplicate pairs."""

from __future__ import annotations

import json
import logging
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from graph_service.errors import CallerError
from graph_service.settings import Settings
from graph_service.triage.models import TicketInput, TriageConfig

logger = logging.getLogger(__name__)

__all__ = ["evaluate_duplicates", "evaluate_triage", "rank_metrics"]


def rank_metrics(ranks: Sequence[int | None], prefix: str = "top") -> dict[str, float]:
    """Top-1/5/10 hit rates and MRR from the 1-based rank of the first gold hit (None: miss)."""
    n = max(len(ranks), 1)
    out = {
        f"{prefix}{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in (1, 5, 10)
    }
    out["mrr"] = sum(1.0 / r for r in ranks if r) / n
    return {k: round(v, 4) for k, v in out.items()}


def _first_hit(ranked: Sequence[str], gold: set[str]) -> int | None:
    return next((i + 1 for i, x in enumerate(ranked) if x in gold), None)


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line), ""
        except json.JSONDecodeError as e:
            yield n, None, f"line {n}: bad JSON: {e}"


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


# ---- triage ---------------------------------------------------------------------------------
def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)


def build_graph(repo: Path, sha: str, workdir: Path, history_commits: int) -> Path:
    """The store for (repo, sha), built once: code at `sha` plus git history up to it."""
    import loaders.code as code_loader
    import loaders.git as git_loader
    from graph_service.ingest import ingest
    from graph_service.store import open_store

    name = repo.name
    slot = workdir / "graphs" / f"{name}-{sha[:12]}"
    db = slot / "g.lbug"
    if (slot / "ready").exists():
        return db
    if slot.exists():
        import shutil

        shutil.rmtree(slot)
    tree = slot / "tree"
    tree.mkdir(parents=True)
    archive = _git(repo, "archive", "--format=tar", sha)
    if archive.returncode != 0:
        raise CallerError(f"cannot read {sha} in {repo}: {archive.stderr.decode()[:200]}")
    with tempfile.TemporaryFile() as tmp:
        tmp.write(archive.stdout)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp) as tar:
            tar.extractall(tree, filter="data")
    settings = Settings(db_path=db)
    store = open_store(settings, create=True)
    try:
        ingest(
            store,
            code_loader.make_loader([str(tree)], settings, {"repo": name, "use_git": "false"}),
        )
        opts = {"repo": name, "rev": sha, "max_commits": str(history_commits), "szz": "false"}
        ingest(store, git_loader.make_loader([str(repo)], settings, opts))
    finally:
        store.close()
    (slot / "ready").write_text(sha)
    return db


def _baselines(store: Any, ticket: TicketInput) -> tuple[list[str], list[str], list[str]]:
    """Files in stack-trace order (innermost first), files by BM25 alone, and functions by
    BM25 alone (names, qualified names, docstrings, paths; `path::qualname`)."""
    from graph_service.triage.code_index import code_index
    from graph_service.triage.parse import read_ticket
    from graph_service.triage.text import tokenize

    code = code_index(store)
    order: list[str] = []
    frames = read_ticket(ticket).frames
    traced = sorted((f for f in frames if f.depth is not None), key=lambda f: f.depth or 0)
    for fr in traced + [f for f in frames if f.depth is None]:
        hit = code.map_frame(fr.path, fr.function, fr.line)
        if hit is not None and code.file_path[hit.file] not in order:
            order.append(code.file_path[hit.file])
    assert code.file_bm25 is not None
    tokens = tokenize(ticket.title) * 2 + tokenize(ticket.body)
    bm25 = [code.file_path[i] for i, _ in code.file_bm25.top(tokens, 10)]
    assert code.fn_bm25 is not None
    fns = []
    for i, _ in code.fn_bm25.top(tokens, 10):
        fi = int(code.fn_file[i])
        fns.append(f"{code.file_path[fi] if fi >= 0 else ''}::{code.fn_qual[i]}")
    return order, bm25, fns


def _triage_case(
    case: dict[str, Any], base: Path, workdir: Path, config: TriageConfig, history: int
) -> dict[str, Any]:
    from graph_service.store import open_store
    from graph_service.triage.engine import triage

    repo = Path(case["repo_path"])
    repo = repo if repo.is_absolute() else (base / repo)
    if not (repo / ".git").exists() and not (repo / "HEAD").exists():
        raise CallerError(f"repository not found: {repo}")
    db = build_graph(repo, case["parent_sha"], workdir, history)
    store = open_store(Settings(db_path=db))
    try:
        ticket = TicketInput(
            title=case.get("title", ""),
            body=case.get("body", ""),
            created=_time(case.get("created")),
        )
        result = triage(store, ticket, None, config)
        order, bm25, bm25_fns = _baselines(store, ticket)
    finally:
        store.close()
    gold_files = set(case.get("gold_files", []))
    gold_fns = set(case.get("gold_functions", []))
    commits, recent, n_gold = _commit_ranks(case, repo, ticket, result)
    return {
        "files": _first_hit([s.path for s in result.files], gold_files),
        "functions": _first_hit([f"{s.path}::{s.name}" for s in result.functions], gold_fns),
        "stacktrace_order": _first_hit(order, gold_files),
        "bm25_files": _first_hit(bm25, gold_files),
        "bm25_functions": _first_hit(bm25_fns, gold_fns),
        "commits": commits,
        "recent_commits": recent,
        "gold_commits": n_gold,
        "commit_method": result.commit_method,
        "ms": result.elapsed_ms,
    }


def _commit_ranks(
    case: dict[str, Any], repo: Path, ticket: TicketInput, result: Any
) -> tuple[int | None, int | None, int]:
    """Ranks of the first gold commit among the suspects and in the recency baseline (the
    newest commits touching the frames' files, else the top three suspect files), and how
    many gold commits the case has (0: not counted)."""
    from graph_service.triage.eval_commits import gold_commits, recent_commits

    when = ticket.created or datetime.now(UTC).replace(tzinfo=None)
    if case.get("gold_commits"):
        gold = set(case["gold_commits"])
    elif case.get("fix_sha"):
        gold = gold_commits(repo, case["fix_sha"], case.get("parent_sha"), not_after=when)
    else:
        return None, None, 0
    if not gold:
        return None, None, 0
    ranked = [s.uid.removeprefix("commit:") for s in result.commits]
    traced = sorted(
        (f for f in result.ticket.frames if f.file_uid and f.depth is not None),
        key=lambda f: f.depth or 0,
    )
    files = [str(f.file_uid).split(":", 2)[2] for f in traced]
    files = list(dict.fromkeys(files)) or [s.path for s in result.files[:3]]
    head = case.get("parent_sha") or "HEAD"
    recent = recent_commits(repo, head, when, files)
    return _first_hit(ranked, gold), _first_hit(recent, gold), len(gold)


def evaluate_triage(
    cases_path: str | Path,
    workdir: str | Path,
    settings: Settings | None = None,
    *,
    config: TriageConfig | None = None,
    history_commits: int = 500,
) -> dict[str, Any]:
    """Top-1/5/10 and MRR for files, functions and commits over real cases, with baselines.

    Commits: a case's `gold_commits`, or when absent and it names `fix_sha`, the commits that
    last wrote (at the fix's parent) the lines the fix deleted or changed, less any newer than
    the report; the baseline is the newest commits before the report touching the frames'
    files. Cases without gold commits are left out of the commit figures.

    Each case is triaged on a graph of the repository at `parent_sha` (code + the last
    `history_commits` commits up to it), built once per (repository, sha) under `workdir`.
    A case whose repository or commit cannot be read counts as a miss and is listed in
    `errors`. The same figures are given per value of a case's `split`, `language` and
    `repo` fields under `groups` (e.g. `groups["split=held_out"]`).
    """
    config = config or TriageConfig(top_k=10)
    cases_path, workdir = Path(cases_path), Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    per_case: list[dict[str, Any]] = []
    for n, case, problem in _read_jsonl(cases_path):
        try:
            if case is None:
                raise CallerError(problem)
            got = _triage_case(case, cases_path.parent, workdir, config, history_commits)
        except Exception as e:  # any failure of one case is a reported miss
            logger.warning("triage case %d failed: %s", n, e)
            errors.append(f"case {n}: {e}")
            got = {k: None for k in _RANKED}
        tags = {k: case.get(k) for k in _GROUPS} if case else {}
        per_case.append({"line": n, **tags, **got})
    groups = {
        f"{key}={value}": _summary([r for r in per_case if r.get(key) == value])
        for key in _GROUPS
        for value in sorted({str(r[key]) for r in per_case if r.get(key)})
    }
    return {**_summary(per_case), "groups": groups, "errors": errors, "per_case": per_case}


_RANKED = ("files", "functions", "stacktrace_order", "bm25_files", "bm25_functions")
# case fields the figures are also split by (a tuning / held-out split, the language, ...)
_GROUPS = ("split", "language", "repo")


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Files, functions and commits with their baselines over `rows` (per-case ranks); cases
    without gold commits are left out of the commit figures."""
    ranks = {k: [r.get(k) for r in rows] for k in _RANKED}
    with_commits = [r for r in rows if r.get("gold_commits")]
    return {
        "cases": len(rows),
        "files": rank_metrics(ranks["files"]),
        "functions": rank_metrics(ranks["functions"]),
        "commits": {
            **rank_metrics([r["commits"] for r in with_commits]),
            "cases": len(with_commits),
        },
        "baselines": {
            "stacktrace_order": {"files": rank_metrics(ranks["stacktrace_order"])},
            "bm25_files": {"files": rank_metrics(ranks["bm25_files"])},
            "bm25_functions": {"functions": rank_metrics(ranks["bm25_functions"])},
            "recent_commits": {
                "commits": rank_metrics([r["recent_commits"] for r in with_commits])
            },
        },
    }


# ---- duplicates -----------------------------------------------------------------------------
def _pool_uid(repo: str, number: Any) -> str:
    return f"ticket:github:{repo}#{number}"


def evaluate_duplicates(
    pairs_path: str | Path,
    pool_path: str | Path,
    settings: Settings | None = None,
    *,
    config: TriageConfig | None = None,
) -> dict[str, Any]:
    """Recall@1/5/10 and MRR of `similar` at finding each duplicate's original in the pool,
    with TF-IDF cosine as the baseline. Only pool tickets of the same repository created
    before the duplicate count. The pool is loaded into a scratch embedded store."""
    from graph_service.batch import nodes
    from graph_service.store import open_store
    from graph_service.triage.similar import similar
    from graph_service.triage.text import TfidfIndex, tokenize

    config = config or TriageConfig()
    pool = [p for _, p, _ in _read_jsonl(Path(pool_path)) if p]
    pairs = list(_read_jsonl(Path(pairs_path)))
    rows = [
        {
            "uid": _pool_uid(p["repo"], p["number"]),
            "key": f"{p['repo']}#{p['number']}",
            "system": "github",
            "title": p.get("title", ""),
            "body": p.get("body", ""),
            "created_at": _time(p.get("created")),
        }
        for p in pool
    ]
    tfidf = TfidfIndex([tokenize(r["title"]) * 2 + tokenize(r["body"]) for r in rows])
    created = np.array([r["created_at"].timestamp() if r["created_at"] else 0.0 for r in rows])
    repos = np.array([p["repo"] for p in pool])
    ours: list[int | None] = []
    base: list[int | None] = []
    pair_repos: list[str] = []
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Settings(db_path=Path(tmp) / "pool.lbug"), create=True)
        try:
            if rows:
                store.write(nodes("Ticket", rows), loaded_by="eval", run_id="eval")
            for _, pair, problem in pairs:
                if pair is None:
                    errors.append(problem)
                    ours.append(None)
                    base.append(None)
                    pair_repos.append("")
                    continue
                pair_repos.append(str(pair["repo"]))
                dup = pair["dup"]
                gold = {_pool_uid(pair["repo"], pair["orig_number"])}
                ticket = TicketInput(
                    title=dup.get("title", ""),
                    body=dup.get("body", ""),
                    created=_time(dup.get("created")),
                )
                found = similar(store, ticket, 50, config)
                prefix = _pool_uid(pair["repo"], "")
                ranked = [s.uid for s in found if s.uid.startswith(prefix)]
                ours.append(_first_hit(ranked, gold))
                cutoff = ticket.created.timestamp() if ticket.created else np.inf
                s = tfidf.scores(tokenize(ticket.title) * 2 + tokenize(ticket.body))
                s = np.where((repos == pair["repo"]) & (created < cutoff), s, -1.0)
                order = np.argsort(-s, kind="stable")[:50]
                base.append(_first_hit([rows[i]["uid"] for i in order if s[i] >= 0], gold))
        finally:
            store.close()

    def recall(r: list[int | None]) -> dict[str, float]:
        m = rank_metrics(r, prefix="recall_at_")
        return {
            "recall_at_1": m["recall_at_1"],
            "recall_at_5": m["recall_at_5"],
            "recall_at_10": m["recall_at_10"],
            "mrr": m["mrr"],
        }

    per_repo = {
        repo: {
            "pairs": sum(1 for r in pair_repos if r == repo),
            "prodgraph": recall([x for x, r in zip(ours, pair_repos, strict=True) if r == repo]),
            "tfidf": recall([x for x, r in zip(base, pair_repos, strict=True) if r == repo]),
        }
        for repo in sorted(set(pair_repos) - {""})
    }
    return {
        "pairs": len(pairs),
        "prodgraph": recall(ours),
        "tfidf": recall(base),
        "per_repo": per_repo,
        "errors": errors,
    }
