"""Named queries: list, describe, and run with validated parameters."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from graph_service.api.deps import ReaderDep, StateDep
from graph_service.api.formats import ARROW, CSV, render
from graph_service.api.schemas import NamedQueryInfo, QueryRows, RunNamedRequest
from graph_service.api.state import ServiceState
from graph_service.errors import NotFoundError, OperatorError

logger = logging.getLogger(__name__)

__all__ = ["router"]

router = APIRouter(prefix="/v1/queries", tags=["queries"])


def _query(state: ServiceState, name: str) -> Any:
    if state.library_error:
        raise OperatorError(f"the named query library failed to load: {state.library_error}")
    if name not in state.library:
        raise NotFoundError(
            f"no named query {name!r} (known: {', '.join(sorted(state.library)) or 'none'})",
            {"query": name},
        )
    return state.library[name]


@router.get("", response_model=list[NamedQueryInfo])
def list_queries(state: StateDep, _: ReaderDep) -> list[NamedQueryInfo]:
    """Every named query with its parameters."""
    return [NamedQueryInfo.model_validate(q.describe()) for _, q in sorted(state.library.items())]


@router.get("/{name}", response_model=NamedQueryInfo)
def describe_query(name: str, state: StateDep, _: ReaderDep) -> NamedQueryInfo:
    return NamedQueryInfo.model_validate(_query(state, name).describe())


@router.post(
    "/{name}",
    response_model=QueryRows,
    responses={200: {"content": {ARROW: {}, CSV: {}}}},
)
def run_query(
    name: str,
    body: RunNamedRequest,
    request: Request,
    state: StateDep,
    _: ReaderDep,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Bind the parameters (400 naming the bad one) and run the query read-only."""
    from graph_service.queries import run_named

    _query(state, name)
    timeout_s, row_cap = state.limits(body.timeout_s, body.row_cap)
    result = state.read(
        "named",
        lambda: run_named(
            state.store,
            name,
            body.params,
            timeout_s=timeout_s,
            row_cap=row_cap,
            library=state.library,
        ),
    )
    return render(result, accept, getattr(request.state, "request_id", ""))
