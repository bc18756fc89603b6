"""The HTTP service: `create_app(settings)` builds it, `serve(settings, host, port)` runs it."""

from __future__ import annotations

import logging

from graph_service.api.app import create_app
from graph_service.api.serve import serve

logger = logging.getLogger(__name__)

__all__ = ["create_app", "serve"]
