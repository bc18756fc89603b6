"""Admin routes: store counts and reloading the risk model after training."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from graph_service.api.deps import AdminDep, StateDep

logger = logging.getLogger(__name__)

__all__ = ["router"]

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.get("/counts")
def counts(state: StateDep, _: AdminDep) -> dict[str, dict[str, int]]:
    """Rows per node label and relationship type."""
    return state.read("counts", state.store.counts)


@router.post("/model/reload")
def reload_model(state: StateDep, _: AdminDep) -> dict[str, str]:
    """Load the latest trained risk model (after `prodgraph train`)."""
    return {"model": state.reload_model()}
