"""`prodgraph risk`: git refs and ranges to stored commits, the recent riskiest list, the table."""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path
from typing import Any

from rich.table import Table

from graph_service.errors import CallerError, NotFoundError
from graph_service.store.base import GraphReader

logger = logging.getLogger(__name__)

__all__ = ["merged_commits", "recent_code_commits", "resolve_revs", "risk_table", "to_answers"]

_HEX = re.compile(r"(commit:)?[0-9a-f]{4,40}", re.IGNORECASE)
_MAX_RANGE = 500  # commits one range may score
_REPOS = "MATCH (r:Repository) RETURN r.name AS name, r.path AS path ORDER BY name"
_KNOWN = "UNWIND $uids AS u MATCH (c:Commit {uid: u}) RETURN c.uid AS uid"
_RECENT = (
    "MATCH (c:Commit) WHERE NOT coalesce(c.is_merge, false) "
    "RETURN c.uid AS uid ORDER BY c.committed_at DESC, uid SKIP $skip LIMIT $limit"
)
_SUMMARIES = "UNWIND $uids AS u MATCH (c:Commit {uid: u}) RETURN c.uid AS uid, c.summary AS s"


def _repo_dir(store: GraphReader, repo: str | None, repo_path: Path | None) -> Path:
    """Where to ask git: `repo_path`, else the loaded repository (`repo` when several), else
    the current directory."""
    if repo_path is not None:
        return repo_path
    rows = [r for r in store.query(_REPOS).rows() if r.get("path")]
    if repo is not None:
        rows = [r for r in rows if r["name"] == repo]
        if not rows:
            raise NotFoundError(f"no repository {repo!r} loaded in the graph")
    if len(rows) == 1 and Path(rows[0]["path"]).is_dir():
        return Path(rows[0]["path"])
    if len(rows) > 1:
        names = ", ".join(r["name"] for r in rows)
        raise CallerError(f"the graph holds several repositories ({names}): give --repo NAME")
    return Path.cwd()


def _git(where: Path, *args: str) -> list[str]:
    try:
        out = subprocess.run(
            ["git", "-C", str(where), *args], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise CallerError(f"cannot run git in {where}: {e}") from e
    if out.returncode != 0:
        raise CallerError(f"git {' '.join(args)} in {where}: {out.stderr.strip()}")
    return out.stdout.split()


def resolve_revs(
    store: GraphReader, rev: str, repo: str | None = None, repo_path: Path | None = None
) -> list[str]:
    """Commit shas for a sha (or prefix) in the graph, a git ref (`HEAD`, `main~3`) or a range
    (`main..feature`, merges left out, oldest first), asked of the repository's own git."""
    if ".." not in rev and _HEX.fullmatch(rev):
        uid = rev if rev.startswith("commit:") else f"commit:{rev}"
        if store.query(_KNOWN, {"uids": [uid]}).rows() or len(rev) < 40:
            return [rev]  # a stored sha, or a prefix `score_commit` resolves
    where = _repo_dir(store, repo, repo_path)
    if ".." in rev:
        shas = _git(where, "rev-list", "--no-merges", "--reverse", rev)
        if len(shas) > _MAX_RANGE:
            raise CallerError(f"{rev} holds {len(shas)} commits; score at most {_MAX_RANGE}")
        return shas
    return _git(where, "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}")


def merged_commits(
    store: GraphReader, sha: str, repo: str | None = None, repo_path: Path | None = None
) -> list[str] | None:
    """The commits a merge brought in (`sha^1..sha`, merges left out, oldest first), or None
    when `sha` is not a merge (or git cannot tell). The model is trained without merges, so a
    merge's own score says nothing: `risk main~3` on a pull-request history scores its commits."""
    try:
        where = _repo_dir(store, repo, repo_path)
        parents = _git(where, "rev-list", "--parents", "-n", "1", "--end-of-options", sha)
        if len(parents) < 3:
            return None
        merged = _git(where, "rev-list", "--no-merges", "--reverse", f"{parents[0]}^1..{sha}")
    except CallerError as e:
        logger.info("cannot tell whether %s is a merge: %s", sha, e)
        return None
    if not merged or len(merged) > _MAX_RANGE:
        return None
    return merged


def recent_code_commits(
    store: GraphReader, model: Any, n: int, history: Any, look_back: int = 10
) -> list[Any]:
    """The `n` riskiest of the most recent code-changing commits (looking back at most
    `look_back` × `n` commits); docs/tests/CI-only commits are never listed."""
    from models.score import score_commit

    found: list[Any] = []
    skip = 0
    while len(found) < n and skip < look_back * n:
        rows = store.query(_RECENT, {"skip": skip, "limit": n}).rows()
        for r in rows:
            result = score_commit(store, model, r["uid"], history=history)
            if result.score is not None and len(found) < n:
                found.append(result)
        if len(rows) < n:
            break
        skip += n
    return sorted(found, key=lambda r: (-r.score, r.target))


def to_answers(results: list[Any], model: Any) -> list[dict[str, Any]]:
    """The API's response shape (`overall`, `label`, `explanations`...) for each result."""
    from graph_service.api.routes.risk import to_response

    return [to_response(r, model).model_dump(mode="json") for r in results]


def risk_table(store: GraphReader, answers: list[dict[str, Any]], title: str) -> Table:
    """One row per change: commit, risk (or the label), summary and top factors, in 80 columns."""
    uids = [a["target"] for a in answers]
    summaries = {r["uid"]: r["s"] or "" for r in store.query(_SUMMARIES, {"uids": uids}).rows()}
    table = Table(title=title, show_lines=True)
    table.add_column("commit", no_wrap=True, max_width=10)
    table.add_column("risk", no_wrap=True, justify="right")
    table.add_column("change and why", overflow="fold", max_width=56)
    for a in answers:
        risk = f"{a['overall']:.1%}" if a["overall"] is not None else "no code"
        lines = [summaries.get(a["target"], "")]  # whole: the cell wraps it
        if a["label"]:
            lines.append(a["label"])
        for x in a["explanations"][:4]:
            mark = "▲" if (x.get("weight") or 0) > 0 else "▼"
            lines.append(f"{mark} {x['text']}")
        table.add_row(a["target"].removeprefix("commit:")[:10], risk, "\n".join(lines))
    return table
