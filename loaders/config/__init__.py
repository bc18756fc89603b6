"""Configuration: Kubernetes manifests, docker-compose files and `.env` files -> USES."""

from __future__ import annotations

import logging

from pydantic import ValidationError

from graph_service.errors import CallerError
from graph_service.settings import Settings
from loaders.config.loader import ConfigLoader, ConfigLoaderConfig

logger = logging.getLogger(__name__)

__all__ = ["ConfigLoader", "ConfigLoaderConfig", "make_loader"]


def make_loader(paths: list[str], settings: Settings, options: dict[str, str]) -> ConfigLoader:
    """The CLI entry: `prodgraph ingest config PATH... [--option key=value]`."""
    try:
        config = ConfigLoaderConfig(paths=list(paths), **options)  # type: ignore[arg-type]
    except ValidationError as e:
        raise CallerError(f"config options: {e}", {"options": options}) from e
    return ConfigLoader(config)
