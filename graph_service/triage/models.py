"""Pydantic models of triage: the ticket asked about, suspects with evidence, similar tickets."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)

__all__ = [
    "Evidence",
    "FixRef",
    "FrameRef",
    "Owner",
    "ParsedTicket",
    "SeenBefore",
    "SignatureInfo",
    "SimilarTicket",
    "Suspect",
    "TicketInput",
    "TriageConfig",
    "TriageResult",
]


class TicketInput(BaseModel):
    """A new ticket: free text (may hold stack traces and logs) plus optional context."""

    model_config = ConfigDict(extra="ignore")

    title: str = ""
    body: str = ""
    service: str | None = None
    environment: str | None = None
    created: datetime | None = Field(default=None, description="Ticket time (UTC); now if unset.")
    uid: str | None = Field(default=None, description="Its own Ticket uid, excluded from results.")
    repo: str | None = Field(default=None, description="Only suspects from this repository.")

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.body}"


class TriageConfig(BaseModel):
    """Knobs of triage and similar-ticket search.

    Args:
        top_k: suspects returned per kind (functions, files, commits).
        similar_k: similar past tickets considered and returned.
        embedder: `minilm` (the packaged all-MiniLM-L6-v2), `hashing` (no model, for tests and
            tiny machines) or `none` (text similarity from BM25 alone).
        history_days: how far back commits count as recent changes.
        learned: fit the scorer on past tickets with FIXES edges when there are enough.
        min_training_tickets: fewer labelled tickets than this: the default weighting.
        duplicate_threshold: `similar` scores at or above this become DUPLICATE_OF suggestions.
        similar_min_score: similar tickets scoring below this are not returned (0 keeps all).
        commit_since_days: suspect commits older than this many days before the ticket are
            left out; None (the default) applies no time limit. When it applies, the result's
            `commit_window` says so.
        blame: blame the frames' lines in the repository's clone when the store knows its path
            (`Repository.path`); otherwise suspect commits come from the graph's MODIFIES edges.
        body_text: match the ticket's words against the source lines of the functions of the
            strongest candidate files (read from the clone as of the ticket; `body_bm25`).
    """

    model_config = ConfigDict(extra="forbid")

    top_k: int = Field(default=10, ge=1, le=200)
    similar_k: int = Field(default=10, ge=1, le=200)
    embedder: Literal["minilm", "hashing", "none"] = "minilm"
    history_days: float = Field(default=180.0, gt=0)
    learned: bool = True
    min_training_tickets: int = Field(default=20, ge=2)
    duplicate_threshold: float = Field(default=0.8, ge=0, le=1.5)
    similar_min_score: float = Field(default=0.1, ge=0, le=2.0)
    commit_since_days: float | None = Field(default=None, gt=0)
    blame: bool = True
    body_text: bool = True


class FrameRef(BaseModel):
    """A parsed frame or file:line reference and the graph node it maps to, when any."""

    path: str
    line: int = 0
    function: str = ""
    in_app: bool = True
    depth: int | None = Field(
        default=None,
        description="0 for the innermost frame of the primary trace; None for log refs.",
    )
    file_uid: str | None = None
    function_uid: str | None = None
    confidence: float = 0.0


class ParsedTicket(BaseModel):
    """What triage read out of the ticket text."""

    error_type: str = ""
    message: str = ""
    language: str = ""
    fingerprint: str | None = None
    complete_trace: bool = Field(
        default=False, description="The frames end in an error line (not a truncated paste)."
    )
    frames: list[FrameRef] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)
    identifiers: list[str] = Field(default_factory=list)


class Evidence(BaseModel):
    """One reason a suspect ranks where it does, with the Cypher that shows it."""

    signal: str
    value: float
    detail: str = ""
    path: list[str] = Field(default_factory=list, description="Node uids along the graph path.")
    cypher: str = ""
    params: dict[str, Any] = Field(default_factory=dict)


class Owner(BaseModel):
    """An engineer who changed a suspect: most and most recently first."""

    uid: str
    name: str = ""
    email: str = ""
    commits: int = 0
    last_at: datetime | None = None
    score: float = 0.0


class Suspect(BaseModel):
    """A ranked Function, File or Commit with the signals and evidence behind its score."""

    uid: str
    label: Literal["Function", "File", "Commit"]
    name: str = ""
    path: str = ""
    score: float
    signals: dict[str, float] = Field(default_factory=dict)
    evidence: list[Evidence] = Field(default_factory=list)
    owners: list[Owner] = Field(default_factory=list)
    reason: str = Field(
        default="",
        description="Commits: why it is a suspect, e.g. 'wrote line 84 of frame 1 (Entry.log) "
        "entry.go:84' or 'wrote 12 of 30 lines of suspect function Entry.log ...'.",
    )


class FixRef(BaseModel):
    """A commit that fixed a past ticket, with what it changed."""

    sha: str
    uid: str
    summary: str = ""
    message: str = ""
    authored_at: datetime | None = None
    ticket: str = ""
    files: list[str] = Field(default_factory=list)
    functions: list[str] = Field(default_factory=list)
    ticket_created_at: datetime | None = None
    days_to_fix: float | None = Field(
        default=None, description="Days from the ticket's creation to the fixing commit."
    )
    deployment: str | None = Field(default=None, description="First deployment shipping it.")
    deployed_at: datetime | None = None
    days_to_deploy: float | None = Field(
        default=None, description="Days from the ticket's creation to that deployment."
    )


class SimilarTicket(BaseModel):
    """A past ticket like the new one, why, and how it was fixed."""

    uid: str
    key: str = ""
    title: str = ""
    status: str = ""
    created_at: datetime | None = None
    score: float
    signals: dict[str, float] = Field(default_factory=dict)
    duplicate_of: str | None = Field(default=None, description="Declared DUPLICATE_OF target.")
    fixes: list[FixRef] = Field(default_factory=list)


class SignatureInfo(BaseModel):
    """An ErrorSignature node as stored."""

    uid: str
    type: str = ""
    message_template: str = ""
    frames: list[str] = Field(default_factory=list)
    count: int | None = Field(
        default=None, description="Occurrences counted from traces; null when none counted it."
    )
    first_seen: datetime | None = None
    last_seen: datetime | None = None


class SeenBefore(BaseModel):
    """Prior occurrences of an error fingerprint, their tickets and fixes; regression or not."""

    fingerprint: str | None
    known: bool = False
    signature: SignatureInfo | None = None
    services: list[str] = Field(default_factory=list)
    tickets: list[SimilarTicket] = Field(default_factory=list)
    fixes: list[FixRef] = Field(default_factory=list)
    regression: bool = False
    regression_detail: str = ""
    summary: str = Field(default="", description="What fixed it before and how long it took.")
    cypher: str = ""


class TriageResult(BaseModel):
    """Ranked suspects, similar past tickets and routing for one ticket."""

    ticket: ParsedTicket
    functions: list[Suspect] = Field(default_factory=list)
    files: list[Suspect] = Field(default_factory=list)
    commits: list[Suspect] = Field(default_factory=list)
    deployments: list[dict[str, Any]] = Field(default_factory=list)
    similar: list[SimilarTicket] = Field(default_factory=list)
    seen_before: SeenBefore | None = None
    owners: list[Owner] = Field(default_factory=list)
    scorer: str = "default"
    commit_method: str = Field(
        default="",
        description="How suspect commits were found: `blame` (git blame of the frames' lines "
        "as of the ticket's time) or `graph` (commits that modified the suspects).",
    )
    commit_window: str = Field(
        default="", description="The time limit applied to suspect commits; empty when none."
    )
    commit_blamed: list[str] = Field(
        default_factory=list,
        description="What `git blame` read for suspect commits (each frame and suspect function "
        "with its lines, as of `as_of`) and how many cosmetic commits it looked through.",
    )
    as_of: datetime | None = Field(default=None, description="The ticket time triaged against.")
    elapsed_ms: float = 0.0
