"""`GET /v1/risk/recent`: the most recent code-changing commits scored, riskiest first.

Commits that touch no code (docs, tests, CI, dependency bumps, formatting only) get no
probability (`label` instead) and are left out of the list: they never top it.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query

from graph_service.api.deps import ReaderDep, StateDep
from graph_service.api.errors import ErrorBody
from graph_service.api.routes.risk import score
from graph_service.api.schemas import RiskRequest, RiskResponse
from graph_service.api.state import ServiceState
from graph_service.errors import ModelMissingError

logger = logging.getLogger(__name__)

__all__ = ["RECENT_COMMITS", "recent", "router"]

router = APIRouter(prefix="/v1/risk", tags=["risk"])

RECENT_COMMITS = (
    "MATCH (c:Commit) WHERE NOT coalesce(c.is_merge, false) "
    "RETURN c.sha AS sha, c.authored_at AS authored_at "
    "ORDER BY authored_at DESC, sha SKIP $skip LIMIT $limit"
)
LOOK_BACK = 10  # commits examined per one listed, at most (a run of docs-only commits)


def recent(state: ServiceState, limit: int) -> list[RiskResponse]:
    """Score the `limit` most recently authored code-changing commits (looking back at most
    `LOOK_BACK` × `limit` commits); riskiest first, ties by uid."""
    if state.model is None:
        raise ModelMissingError(
            f"no risk model is loaded ({state.model_status}): run `prodgraph train` first",
            {"model": state.model_status},
        )
    scored: list[RiskResponse] = []
    skip = 0
    while len(scored) < limit and skip < LOOK_BACK * limit:
        rows = state.store.query(RECENT_COMMITS, {"skip": skip, "limit": limit}).rows()
        for r in rows:
            answer = score(state, RiskRequest(sha=str(r["sha"])))
            if answer.overall is not None and len(scored) < limit:
                scored.append(answer)
        if len(rows) < limit:
            break
        skip += limit
    return sorted(scored, key=lambda r: (-(r.overall or 0.0), r.target))


@router.get("/recent", response_model=list[RiskResponse], responses={503: {"model": ErrorBody}})
def recent_risk(
    state: StateDep,
    _: ReaderDep,
    limit: Annotated[
        int, Query(ge=1, le=100, description="Recent code-changing commits to list.")
    ] = 20,
) -> list[RiskResponse]:
    """The most recently authored code-changing commits, each with its risk and explanations,
    riskiest first."""
    return state.read("risk", lambda: recent(state, limit), heavy=True)
