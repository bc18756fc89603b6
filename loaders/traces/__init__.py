"""OpenTelemetry traces: OTLP protobuf/JSON files and request bodies into the context graph."""

from __future__ import annotations

import logging

from pydantic import ValidationError

from graph_service.errors import CallerError
from graph_service.settings import Settings
from loaders.traces.loader import TracesConfig, TracesLoader, extract_from_bytes
from loaders.traces.otlp import OtlpDecodeError

logger = logging.getLogger(__name__)

__all__ = [
    "OtlpDecodeError",
    "TracesConfig",
    "TracesLoader",
    "extract_from_bytes",
    "make_loader",
]


def make_loader(paths: list[str], settings: Settings, options: dict[str, str]) -> TracesLoader:
    """CLI entry: `prodgraph ingest traces PATH... [--option max_pending=N]`."""
    try:
        config = TracesConfig.model_validate(
            {"paths": list(paths), "redact_pii": settings.redact_pii, **options}
        )
    except ValidationError as e:
        raise CallerError(f"traces: bad option: {e.errors()[0]['msg']}", options) from e
    return TracesLoader(config)
