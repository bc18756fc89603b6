"""The `prodgraph` command line: one typer app, commands grouped by job."""

from __future__ import annotations

import logging

from graph_service.cli.app import app, main

logger = logging.getLogger(__name__)

__all__ = ["app", "main"]
