"""The API's routers, in the order `create_app` includes them (add a router: one line)."""

from __future__ import annotations

import importlib
import importlib.util
import logging

from fastapi import APIRouter

logger = logging.getLogger(__name__)

__all__ = ["ROUTER_MODULES", "routers"]

ROUTER_MODULES: tuple[str, ...] = (
    "graph_service.api.routes.health",
    "graph_service.api.routes.cypher",
    "graph_service.api.routes.queries",
    "graph_service.api.routes.risk",
    "graph_service.api.routes.risk_recent",
    "graph_service.api.routes.ingest",
    "graph_service.api.routes.webhooks",
    "graph_service.api.routes.traces",
    "graph_service.api.routes.admin",
    "graph_service.api.routes.triage",  # /v1/triage, /v1/similar, /v1/errors/...: when present
    "graph_service.api.routes.schema",
    "graph_service.explorer",  # the web page at / and its /assets
)


def routers() -> list[APIRouter]:
    """The `router` of every module in ROUTER_MODULES that exists in this installation."""
    found: list[APIRouter] = []
    for name in ROUTER_MODULES:
        if importlib.util.find_spec(name) is None:
            logger.debug("router module %s not installed", name)
            continue
        found.append(importlib.import_module(name).router)
    return found
