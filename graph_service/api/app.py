"""`create_app(settings)`: the FastAPI service; the store opens in the lifespan, not at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from graph_service.api.auth import KeyRing
from graph_service.api.errors import ErrorBody, install_error_handler
from graph_service.api.metrics import Metrics
from graph_service.api.middleware import ServiceMiddleware
from graph_service.api.routes import routers
from graph_service.api.state import ServiceState, load_model
from graph_service.errors import ProdgraphError
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store

logger = logging.getLogger(__name__)

__all__ = ["create_app"]


def _load_library(state: ServiceState) -> None:
    try:
        from graph_service.queries import load_library

        state.library = load_library()
    except (ImportError, ProdgraphError) as e:
        state.library_error = getattr(e, "message", None) or str(e)
        logger.error("named queries unavailable: %s", state.library_error)


def create_app(settings: Settings, *, store: GraphStore | None = None) -> FastAPI:
    """The service for `settings`. With `store`, the app uses it and leaves it open at exit."""
    keys = KeyRing(settings.api_keys, disabled=settings.auth_disabled)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = store or open_store(settings, create=True)
        state = ServiceState(settings, opened, keys, metrics, owns_store=store is None)
        _load_library(state)
        try:
            state.model, state.model_status = load_model(settings, opened)
        except ProdgraphError as e:
            state.model_status = f"failed: {e.message}"
        state.start_snapshots()
        logger.info("service ready: backend %s, model %s", opened.backend, state.model_status)
        app.state.service = state
        try:
            yield
        finally:
            app.state.service = None
            if state.snapshots is not None:
                state.snapshots.close()
            if state.owns_store:
                opened.close()

    app = FastAPI(
        title="prodgraph",
        summary="Engineering context graph: read-only Cypher, named queries, risk, ingestion.",
        version="1",
        lifespan=lifespan,
        responses={
            401: {"model": ErrorBody},
            403: {"model": ErrorBody},
            422: {"model": ErrorBody},
        },
    )
    app.state.service = None
    install_error_handler(app)
    for router in routers():
        app.include_router(router)
    app.add_middleware(
        ServiceMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        auth_disabled=settings.auth_disabled,
    )
    return app
