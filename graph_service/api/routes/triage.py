"""`POST /v1/triage`, `POST /v1/similar`, `GET /v1/errors/{fingerprint}/history`."""

from __future__ import annotations

import logging
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import Field

from graph_service.api.deps import ReaderDep, StateDep
from graph_service.errors import CallerError
from graph_service.triage.engine import triage
from graph_service.triage.models import (
    SeenBefore,
    SimilarTicket,
    TicketInput,
    TriageConfig,
    TriageResult,
)
from graph_service.triage.seen import seen_before
from graph_service.triage.similar import similar

logger = logging.getLogger(__name__)

__all__ = ["SimilarRequest", "TriageRequest", "get_triage_config", "router"]

router = APIRouter(prefix="/v1", tags=["triage"])

_FINGERPRINT = re.compile(r"^(err:)?[0-9a-f]{8,64}$")


def get_triage_config() -> TriageConfig:
    """The triage configuration (override this dependency to change it)."""
    return TriageConfig()


ConfigDep = Annotated[TriageConfig, Depends(get_triage_config)]


class TriageRequest(TicketInput):
    """A ticket to triage, and how many suspects of each kind to return."""

    top_k: int = Field(default=10, ge=1, le=100)
    commit_since_days: float | None = Field(
        default=None,
        gt=0,
        le=36_500,
        description="Only suspect commits this many days before the ticket; none by default. "
        "The answer's `commit_window` says when a limit applied.",
    )


class SimilarRequest(TicketInput):
    """A ticket, and how many similar past tickets to return."""

    k: int = Field(default=10, ge=1, le=100)


@router.post("/triage", response_model=TriageResult)
def triage_ticket(
    body: TriageRequest, state: StateDep, _: ReaderDep, config: ConfigDep
) -> TriageResult:
    """Ranked suspect functions, files and commits with evidence, similar tickets, owners."""
    cfg = config.model_copy(
        update={"top_k": body.top_k, "commit_since_days": body.commit_since_days}
    )
    ticket = TicketInput.model_validate(body.model_dump(exclude={"top_k", "commit_since_days"}))
    return state.read("triage", lambda: triage(state.store, ticket, state.settings, cfg))


@router.post("/similar", response_model=list[SimilarTicket])
def similar_tickets(
    body: SimilarRequest, state: StateDep, _: ReaderDep, config: ConfigDep
) -> list[SimilarTicket]:
    """Past tickets most like this one, best first, with the signals that matched."""
    ticket = TicketInput.model_validate(body.model_dump(exclude={"k"}))
    return state.read("similar", lambda: similar(state.store, ticket, body.k, config))


@router.get("/errors/{fingerprint}/history", response_model=SeenBefore)
def error_history(
    fingerprint: Annotated[str, Path(description="Error fingerprint (hex), `err:` optional.")],
    state: StateDep,
    _: ReaderDep,
    config: ConfigDep,
) -> SeenBefore:
    """Prior occurrences of the error, their tickets and fixes, and whether it regressed."""
    if not _FINGERPRINT.match(fingerprint):
        raise CallerError(f"not an error fingerprint: {fingerprint!r}")
    return state.read("seen_before", lambda: seen_before(state.store, fingerprint, config))
