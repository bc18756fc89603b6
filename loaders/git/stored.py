"""What the store already holds of a repository's history: the git loader's watermark.

A commit counts as loaded only when its load finished (`Commit.history_complete`), so a load
killed part-way is redone by the next run (see `_History.complete` in `loaders.git.loader`).
"""

from __future__ import annotations

import logging

from graph_service.store.base import GraphReader

logger = logging.getLogger(__name__)

__all__ = ["interrupted", "loaded_shas", "stored_head"]


def loaded_shas(reader: GraphReader, repo: str) -> set[str]:
    """Commits whose load finished (see `_History.complete`); the rest are (re)done.

    Commits the git loader wrote before `history_complete` existed count as loaded; reference
    rows other loaders wrote (a deployment's sha) do not.
    """
    res = reader.query(
        "MATCH (c:Commit) WHERE c.repo = $repo "
        "AND coalesce(c.history_complete, c.loaded_by = 'git') RETURN c.sha AS sha",
        {"repo": repo},
        timeout_s=120,
    )
    return set(res.table.column("sha").to_pylist()) if res.table.num_rows else set()


def interrupted(reader: GraphReader | None, repo: str) -> int:
    """How many stored commits an unfinished load left (`history_complete = false`)."""
    if reader is None:
        return 0
    res = reader.query(
        "MATCH (c:Commit) WHERE c.repo = $repo AND c.history_complete = false RETURN count(c) AS n",
        {"repo": repo},
        timeout_s=120,
    )
    return int(res.rows()[0]["n"])


def stored_head(reader: GraphReader | None, repo: str) -> str | None:
    """The head the last finished load recorded on the Repository node."""
    if reader is None:
        return None
    res = reader.query(
        "MATCH (r:Repository {uid: $uid}) RETURN r.head AS head", {"uid": f"repo:{repo}"}
    )
    rows = res.rows()
    return rows[0]["head"] if rows else None
