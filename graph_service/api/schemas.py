"""Request and response models of the API: the documented, stable JSON shapes."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

logger = logging.getLogger(__name__)

__all__ = [
    "CypherRequest",
    "Explanation",
    "Health",
    "LoadReportBody",
    "NamedQueryInfo",
    "NamedQueryParam",
    "NodeScore",
    "QueryRows",
    "Ready",
    "RiskRequest",
    "RiskResponse",
    "RunNamedRequest",
]


class _Limits(BaseModel):
    timeout_s: float | None = Field(
        default=None, gt=0, description="Lower the query timeout for this request (seconds)."
    )
    row_cap: int | None = Field(
        default=None, ge=1, description="Lower the row cap for this request."
    )


class CypherRequest(_Limits):
    """A read-only Cypher statement with `$parameters`."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=100_000)
    params: dict[str, Any] = Field(default_factory=dict)


class QueryRows(BaseModel):
    """JSON results: column names, then one list of values per row."""

    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool = Field(description="True when the row cap cut the result.")
    elapsed_ms: float


class NamedQueryParam(BaseModel):
    name: str
    type: str
    description: str
    required: bool
    default: Any = None


class NamedQueryInfo(BaseModel):
    name: str
    description: str
    params: list[NamedQueryParam]
    ladybug_variant: bool = False


class RunNamedRequest(_Limits):
    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] = Field(default_factory=dict)


class RiskRequest(BaseModel):
    """Exactly one of: a commit sha, a unified diff, or changed paths / function uids."""

    model_config = ConfigDict(extra="forbid")

    sha: str | None = Field(default=None, min_length=4, max_length=64)
    diff: str | None = Field(default=None, min_length=1)
    paths: list[str] | None = Field(
        default=None, min_length=1, description="Repository paths or fn:/file: uids."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> RiskRequest:
        given = [k for k in ("sha", "diff", "paths") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of sha, diff or paths")
        return self


class Explanation(BaseModel):
    """One reason behind a score: `weight` > 0 raised the risk, < 0 lowered it."""

    text: str
    weight: float | None = None
    kind: str | None = Field(default=None, description="feature, file, function, neighbour, ...")
    uid: str | None = Field(default=None, description="The node the reason is about, if any.")


class NodeScore(BaseModel):
    uid: str
    label: str | None = Field(default=None, description="commit, file or function.")
    name: str = ""
    path: str = ""
    score: float = Field(ge=0, le=1)
    explanation: list[str] = Field(default_factory=list, description="Reasons about this node.")


class RiskResponse(BaseModel):
    """Risk of a change: overall score in [0, 1], per-node scores, why, and which model."""

    target: str = Field(default="", description="The commit uid or a name for the proposed change.")
    overall: float | None = Field(
        ge=0,
        le=1,
        description="Calibrated probability of a bug; null for a change that touches no code "
        "(`label` says so).",
    )
    label: str | None = Field(
        default=None,
        description="Set instead of a probability: 'no code change: docs/tests/CI only'.",
    )
    code_change: bool = Field(
        default=True, description="Touches non-test, non-vendored source with a real change."
    )
    nodes: list[NodeScore]
    explanations: list[Explanation]
    model_version: str
    features: dict[str, float] = Field(default_factory=dict)


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    ready: bool
    backend: str | None = None
    checks: dict[str, str]


class LoadReportBody(BaseModel):
    """`LoadReport.to_dict()` of one ingest run."""

    source: str
    extracted: dict[str, int]
    written: dict[str, int]
    missing_endpoints: dict[str, int]
    skipped: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    failed_batches: list[dict[str, Any]]
    stats: dict[str, Any]
