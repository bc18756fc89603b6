"""Triage: ranked suspects for a new ticket, similar past tickets, and "seen before" checks.

`triage(store, ticket, settings)`, `similar(store, ticket, k)` and `seen_before(store, fp)` are
the entry points; `graph_service.triage.evaluate` holds the evaluation harnesses.
"""

from __future__ import annotations

import logging

from graph_service.triage.engine import triage
from graph_service.triage.models import (
    Evidence,
    FixRef,
    Owner,
    ParsedTicket,
    SeenBefore,
    SimilarTicket,
    Suspect,
    TicketInput,
    TriageConfig,
    TriageResult,
)
from graph_service.triage.seen import seen_before
from graph_service.triage.similar import duplicate_batches, similar

logger = logging.getLogger(__name__)

__all__ = [
    "Evidence",
    "FixRef",
    "Owner",
    "ParsedTicket",
    "SeenBefore",
    "SimilarTicket",
    "Suspect",
    "TicketInput",
    "TriageConfig",
    "TriageResult",
    "duplicate_batches",
    "seen_before",
    "similar",
    "triage",
]
