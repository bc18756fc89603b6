"""The HTTP service: `create_app(settings)` builds it, `serve(settings, host, port)` runs it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graph_service.api.app import create_app
    from graph_service.api.serve import serve

logger = logging.getLogger(__name__)

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> Any:
    """Import lazily, so `python -m graph_service.api.auth` runs without importing the app."""
    if name == "create_app":
        from graph_service.api.app import create_app

        return create_app
    if name == "serve":
        from graph_service.api.serve import serve

        return serve
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
