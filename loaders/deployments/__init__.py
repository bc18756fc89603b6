"""Deployments: documented JSONL/CSV events and GitHub deployments into the graph."""

from __future__ import annotations

import logging

from pydantic import ValidationError

from graph_service.errors import CallerError
from graph_service.settings import Settings
from loaders.deployments.loader import DeploymentsConfig, DeploymentsLoader, config_from_options

logger = logging.getLogger(__name__)

__all__ = ["DeploymentsConfig", "DeploymentsLoader", "make_loader"]


def make_loader(paths: list[str], settings: Settings, options: dict[str, str]) -> DeploymentsLoader:
    """The CLI entry: `prodgraph ingest deployments PATH... [--option key=value]`."""
    try:
        config = config_from_options(paths, options)
    except ValidationError as e:
        raise CallerError(f"deployments options: {e}", {"options": options}) from e
    return DeploymentsLoader(config)
