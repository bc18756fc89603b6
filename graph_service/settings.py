"""Settings: the one place configuration enters (environment prefix PRODGRAPH_)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

logger = logging.getLogger(__name__)

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Every setting of prodgraph; read from `PRODGRAPH_*` variables or passed explicitly."""

    model_config = SettingsConfigDict(env_prefix="PRODGRAPH_", extra="ignore")

    backend: Literal["ladybug", "neo4j"] | None = Field(
        default=None, description="Store backend; neo4j when neo4j_uri is set, else ladybug."
    )
    db_path: Path = Field(default=Path(".prodgraph/graph.lbug"), description="Embedded store.")
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("")
    neo4j_database: str | None = None
    neo4j_batch_size: int = Field(default=5000, ge=1)
    query_timeout_s: float = Field(default=30.0, gt=0)
    query_row_cap: int = Field(default=10_000, ge=1)
    # the read guard's limits (graph_service/store/guard.py; measured in docs/security.md)
    query_max_chars: int = Field(
        default=8_192, ge=64, description="Longest query text accepted (characters)."
    )
    query_max_depth: int = Field(
        default=12, ge=1, le=64, description="Deepest nesting of (), [], {} and CASE."
    )
    query_max_pattern_rels: int = Field(
        default=12, ge=1, le=64, description="Most relationship patterns in one query."
    )
    query_max_result_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="Largest result a request converts."
    )
    prune_cap: float = Field(
        default=0.2, ge=0, le=1, description="Max share of rows a prune may delete."
    )
    model_dir: Path = Field(default=Path(".prodgraph/models"))
    redact_pii: bool = True
    pseudonymise_emails: bool = False
    # service (graph_service.api)
    api_keys: Annotated[list[str | dict[str, str]], NoDecode] = Field(
        default_factory=list,
        description='API keys as "role:sha256" strings or {"name", "sha256", "role"} objects; '
        'in the environment a JSON list or "role:sha256,role:sha256".',
    )
    auth_disabled: bool = Field(default=False, description="No API keys; loopback binds only.")
    allow_server_paths: bool = Field(default=False, description="Ingest may name server paths.")
    server_path_roots: list[Path] = Field(
        default_factory=list,
        description="With allow_server_paths: folders a named server path must resolve under.",
    )
    # limits of loads started through the API (docs/security.md); the CLI is not capped
    ingest_max_upload_files: int = Field(default=10_000, ge=1, description="Files per upload.")
    ingest_max_file_bytes: int = Field(default=2_000_000, ge=1, description="code: per file.")
    ingest_max_files_per_commit: int = Field(default=500, ge=1, description="git: per commit.")
    ingest_max_lines_per_commit: int = Field(default=20_000, ge=1, description="git.")
    ingest_szz_max_lines_per_file: int = Field(default=500, ge=1, description="git: SZZ.")
    ingest_max_pending_spans: int = Field(default=200_000, ge=1, description="traces.")
    webhook_secret: SecretStr = SecretStr("")
    max_body_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1, description="Request body limit, after decompression."
    )
    max_concurrent_queries: int = Field(default=8, ge=1)
    otlp_pending_ttl_s: float = Field(
        default=30.0,
        gt=0,
        description="OTLP receiver: how long an unpaired CLIENT/SERVER half waits for its "
        "partner (sent by another process, in another request) before it becomes an edge to "
        "a virtual peer.",
    )
    otlp_pending_max: int = Field(
        default=200_000, ge=1, description="OTLP receiver: unpaired halves kept at most."
    )
    otlp_flush_interval_s: float = Field(
        default=1.0, gt=0, description="OTLP receiver: seconds between writes of received spans."
    )
    otlp_max_unflushed_spans: int = Field(
        default=500_000,
        ge=1,
        description="OTLP receiver: spans received but not yet written before requests wait.",
    )
    otlp_redact_addresses: bool = Field(
        default=False,
        description="Redact IP addresses that name virtual peers (`<ip>:port`).",
    )
    risk_snapshot: bool = Field(
        default=True,
        description="Score risk from a warm in-memory graph snapshot (rebuilt after writes).",
    )
    risk_snapshot_max_age_s: float = Field(
        default=300.0,
        gt=0,
        description="On Neo4j (written by other processes too), rebuild snapshots this old.",
    )

    def __init__(self, **values: Any) -> None:
        # an embedded path passed in code means the embedded store, whatever PRODGRAPH_NEO4J_URI
        # says (as `--db` does on the command line); the environment alone never forces it
        if values.get("db_path") is not None and values.get("backend") is None:
            values["backend"] = "ladybug"
        super().__init__(**values)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _keys_from_text(cls, value: Any) -> Any:
        """`PRODGRAPH_API_KEYS` as the README writes it (comma-separated) or as a JSON list."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]

    @model_validator(mode="after")
    def _pick_backend(self) -> Settings:
        if self.backend is None:
            self.backend = "neo4j" if self.neo4j_uri else "ladybug"
        if self.backend == "neo4j" and not self.neo4j_uri:
            raise ValueError("backend 'neo4j' needs PRODGRAPH_NEO4J_URI (e.g. neo4j://host:7687)")
        return self
