"""Tickets: GitHub issues, Jira issues and CSV exports into Ticket nodes and their links."""

from __future__ import annotations

import logging

from pydantic import ValidationError

from graph_service.errors import CallerError
from graph_service.settings import Settings
from loaders.tickets.formats import CSV_COLUMNS, RawTicket
from loaders.tickets.loader import TicketsConfig, TicketsLoader, classify

logger = logging.getLogger(__name__)

__all__ = ["CSV_COLUMNS", "RawTicket", "TicketsConfig", "TicketsLoader", "classify", "make_loader"]


def make_loader(paths: list[str], settings: Settings, options: dict[str, str]) -> TicketsLoader:
    """CLI entry: `prodgraph ingest tickets PATH... [--option format=jira] [--option system=x]`."""
    try:
        config = TicketsConfig.model_validate(
            {"paths": list(paths), "redact_pii": settings.redact_pii, **options}
        )
    except ValidationError as e:
        err = e.errors()[0]
        raise CallerError(f"tickets: bad option {err['loc'][0]!s}: {err['msg']}", options) from e
    return TicketsLoader(config)
