"""Liveness, readiness (store, schema version, model) and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import Response

from graph_service.api.deps import StateDep
from graph_service.api.metrics import CONTENT_TYPE
from graph_service.api.schemas import Health, Ready
from graph_service.errors import OperatorError, ProdgraphError

logger = logging.getLogger(__name__)

__all__ = ["NotReady", "router"]

router = APIRouter(tags=["health"])


class NotReady(OperatorError):
    code = "not_ready"


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up (no dependency is touched)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Ready)
def readyz(state: StateDep) -> Ready:
    """Ready when the store answers, its schema version matches, and the model is settled."""
    checks: dict[str, str] = {}
    failed: list[str] = []
    try:
        state.store.ping()
        checks["store"] = "ok"
    except Exception as e:  # any driver error means: not reachable
        checks["store"] = f"unreachable: {type(e).__name__}: {e}"
        failed.append("store")
    if not failed:
        try:
            state.store.check_schema()
            checks["schema"] = "ok"
        except ProdgraphError as e:
            checks["schema"] = e.message
            failed.append("schema")
    checks["model"] = state.model_status
    if state.snapshots is not None:  # informational: scoring falls back to the store meanwhile
        checks["risk_snapshot"] = state.snapshots.status()
    if state.model_status.startswith("failed"):
        failed.append("model")
    checks["queries"] = state.library_error or f"ok: {len(state.library)} named queries"
    if state.library_error:
        failed.append("queries")
    if failed:
        reasons = "; ".join(f"{k}: {checks[k]}" for k in failed)
        raise NotReady(f"not ready: {reasons}", checks)
    return Ready(ready=True, backend=state.store.backend, checks=checks)


@router.get("/metrics", include_in_schema=False)
def metrics(state: StateDep) -> Response:
    """Prometheus text exposition of this app's registry."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)
