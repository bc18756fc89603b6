"""FastAPI dependencies as `Annotated` aliases: the service state and the caller's role."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request

from graph_service.api.auth import Principal, Role
from graph_service.api.state import ServiceState
from graph_service.errors import TransientError

logger = logging.getLogger(__name__)

__all__ = ["AdminDep", "ReaderDep", "StateDep", "WriterDep", "get_state", "presented_key"]


async def get_state(request: Request) -> ServiceState:
    state: ServiceState | None = getattr(request.app.state, "service", None)
    if state is None:
        raise TransientError("the service is starting or stopping: retry shortly")
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]


def presented_key(request: Request) -> str | None:
    """The key from `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key") or None


def _require(role: Role) -> Callable[[Request, ServiceState], Coroutine[Any, Any, Principal]]:
    async def dependency(request: Request, state: StateDep) -> Principal:
        client = request.client.host if request.client else None
        principal = state.keys.authenticate(presented_key(request), client)
        principal.require(role)
        request.state.principal = principal.name
        return principal

    return dependency


ReaderDep = Annotated[Principal, Depends(_require(Role.reader))]
WriterDep = Annotated[Principal, Depends(_require(Role.writer))]
AdminDep = Annotated[Principal, Depends(_require(Role.admin))]
