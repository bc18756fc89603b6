"""`GET /v1/risk/recent`: the most recent commits scored by the risk model, riskiest first."""

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
    "MATCH (c:Commit) RETURN c.sha AS sha, c.authored_at AS authored_at "
    "ORDER BY authored_at DESC, sha LIMIT $limit"
)


def recent(state: ServiceState, limit: int) -> list[RiskResponse]:
    """Score the `limit` most recently authored commits; riskiest first, ties by uid."""
    if state.model is None:
        raise ModelMissingError(
            f"no risk model is loaded ({state.model_status}): run `prodgraph train` first",
            {"model": state.model_status},
        )
    rows = state.store.query(RECENT_COMMITS, {"limit": limit}).rows()
    scored = [score(state, RiskRequest(sha=str(r["sha"]))) for r in rows]
    return sorted(scored, key=lambda r: (-r.overall, r.target))


@router.get("/recent", response_model=list[RiskResponse], responses={503: {"model": ErrorBody}})
def recent_risk(
    state: StateDep,
    _: ReaderDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Recent commits to score.")] = 20,
) -> list[RiskResponse]:
    """The most recently authored commits, each with its risk and explanations, riskiest first."""
    return state.read("risk", lambda: recent(state, limit), heavy=True)
