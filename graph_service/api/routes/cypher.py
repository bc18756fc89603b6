"""`POST /v1/cypher`: read-only Cypher with parameters, a timeout and a row cap."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from graph_service.api.deps import ReaderDep, StateDep
from graph_service.api.formats import ARROW, CSV, render
from graph_service.api.schemas import CypherRequest, QueryRows

logger = logging.getLogger(__name__)

__all__ = ["router"]

router = APIRouter(prefix="/v1/cypher", tags=["cypher"])

_CONTENT = {
    "content": {ARROW: {}, CSV: {}},
    "description": "JSON rows, or an Arrow IPC stream / CSV on Accept.",
}


@router.post("", response_model=QueryRows, responses={200: _CONTENT})
def run_cypher(
    body: CypherRequest,
    request: Request,
    state: StateDep,
    _: ReaderDep,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Run one read-only statement; any write clause is refused with 403 `read_only`."""
    timeout_s, row_cap = state.limits(body.timeout_s, body.row_cap)
    result = state.read(
        "cypher",
        lambda: state.store.query(body.query, body.params, timeout_s=timeout_s, row_cap=row_cap),
    )
    return render(result, accept, getattr(request.state, "request_id", ""))
