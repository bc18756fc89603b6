"""The deployments loader: Deployment nodes, OF Service, SHIPS Commit, PRECEDES chains."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from graph_service.batch import Batch, DeleteEdgesFrom, edges, nodes
from graph_service.store.base import GraphReader
from loaders.base import LoadReport
from loaders.deployments.chain import plan_precedes
from loaders.deployments.flat import parse_csv, parse_jsonl
from loaders.deployments.github import json_kind, parse_github, statuses_by_deployment
from loaders.deployments.inputs import InputFile, expand_paths
from loaders.deployments.lookup import existing_nodes, nodes_to_write
from loaders.deployments.records import DeploymentRecord

logger = logging.getLogger(__name__)

__all__ = ["DeploymentsConfig", "DeploymentsLoader", "config_from_options"]

Format = Literal["auto", "jsonl", "csv", "github"]
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".json": "github"}
_EDGE = {"source": "deploy", "confidence": 1.0}
_SHORT_SHA_QUERY = (
    "MATCH (c:Commit) WHERE c.sha STARTS WITH $prefix RETURN c.uid AS uid, "
    "c.loaded_by AS loaded_by LIMIT 2"
)


class DeploymentsConfig(BaseModel):
    """Options of `prodgraph ingest deployments PATH... --option key=value`."""

    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(description="Files, folders, globs; '-' reads stdin.")
    format: Format = Field(default="auto", description="auto picks by extension and content.")
    service: str | None = Field(
        default=None, description="GitHub format: service when payload.service is absent."
    )
    reference_commits: bool = Field(
        default=True,
        description="Create a Commit node with only uid+sha for a shipped commit that is not "
        "loaded yet, so SHIPS is kept (the git loader fills it in later).",
    )
    assume_utc: bool = Field(default=False, description="Accept times without an offset as UTC.")
    repo: str | None = Field(
        default=None, description="Repository of rows without a `repo` field (reference commits)."
    )


class DeploymentsLoader:
    """Reads deployment events; yields Service, Commit, Deployment nodes then OF/SHIPS/PRECEDES."""

    name = "deployments"

    def __init__(self, config: DeploymentsConfig) -> None:
        self.config = config

    def extract(self, report: LoadReport, reader: GraphReader | None = None) -> Iterator[Batch]:
        records = self._dedupe(self.read(report), report)
        if not records:
            return
        shipped, refs = self._resolve_commits(records, report, reader)
        plan = plan_precedes(records, reader)
        services = {f"svc:{r.service}": r.service for r in records}
        to_write = nodes_to_write(reader, "Service", services, self.name)
        if to_write:
            yield nodes("Service", [{"uid": u, "name": services[u]} for u in sorted(to_write)])
        if refs:
            yield nodes("Commit", refs)
        yield nodes("Deployment", [r.node_row() for r in records])
        yield edges(
            "OF",
            "Deployment",
            "Service",
            [{"src": r.uid, "dst": f"svc:{r.service}", **_EDGE} for r in records],
        )
        ships = [
            {"src": r.uid, "dst": shipped[r.uid], **_EDGE} for r in records if shipped.get(r.uid)
        ]
        if ships:
            yield edges("SHIPS", "Deployment", "Commit", ships)
        if plan.delete_from:
            yield DeleteEdgesFrom("PRECEDES", "Deployment", tuple(plan.delete_from))
        if plan.links:
            yield edges(
                "PRECEDES",
                "Deployment",
                "Deployment",
                [{"src": a, "dst": b, **_EDGE} for a, b in plan.links],
            )

    # ---- reading ------------------------------------------------------------------------
    def read(self, report: LoadReport) -> list[DeploymentRecord]:
        """Every valid record of every input, in input order; bad rows land in `report`."""
        files = expand_paths(self.config.paths, report, lambda p: p.suffix.lower() in _SUFFIXES)
        github_docs: list[tuple[str, Any]] = []
        statuses: dict[str, list[dict[str, Any]]] = {}
        records: list[DeploymentRecord] = []
        opts = {"assume_utc": self.config.assume_utc}
        for f in files:
            text = f.read_text()
            fmt, doc = self._detect(f, text)
            if fmt == "jsonl":
                records.extend(parse_jsonl(text, f.name, report, **opts))
            elif fmt == "csv":
                records.extend(parse_csv(text, f.name, report, **opts))
            elif doc is None:
                report.skip(f.name, "not valid JSON (GitHub format expected)")
            elif json_kind(doc) == "statuses":
                for dep_id, items in statuses_by_deployment(doc, f.name, report).items():
                    statuses.setdefault(dep_id, []).extend(items)
            elif json_kind(doc) == "deployments":
                github_docs.append((f.name, doc))
            else:
                report.skip(f.name, "neither GitHub deployments nor deployment statuses")
        for name, doc in github_docs:
            records.extend(
                parse_github(doc, name, statuses, report, service=self.config.service, **opts)
            )
        report.stats["deployments_read"] = len(records)
        return records

    def _detect(self, f: InputFile, text: str) -> tuple[str, Any]:
        """The format of one input and, for GitHub JSON, the parsed document."""
        forced = self.config.format != "auto"
        fmt: str = self.config.format
        if not forced and f.path is not None:
            fmt = _SUFFIXES.get(f.path.suffix.lower(), "auto")
        if fmt in ("jsonl", "csv"):
            return fmt, None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            doc = None
        head = text.lstrip()[:1]
        if forced or (doc is not None and json_kind(doc) != "unknown"):
            return "github", doc
        if head == "{":
            return "jsonl", None  # JSON lines (or one flat object), whatever the extension
        if fmt == "github":
            return fmt, doc  # a .json file that is neither: reported by the caller
        return "csv", None

    @staticmethod
    def _dedupe(records: list[DeploymentRecord], report: LoadReport) -> list[DeploymentRecord]:
        by_uid: dict[str, DeploymentRecord] = {}
        for rec in records:
            if rec.uid in by_uid:
                report.warn(rec.source, f"{rec.uid} appears again; this row wins", rec.position)
            by_uid[rec.uid] = rec
        return sorted(by_uid.values(), key=lambda r: (r.started_at, r.uid))

    # ---- commits ------------------------------------------------------------------------
    def _resolve_commits(
        self, records: list[DeploymentRecord], report: LoadReport, reader: GraphReader | None
    ) -> tuple[dict[str, str], list[dict[str, object]]]:
        """SHIPS targets (deployment uid -> Commit uid) and the reference Commit rows to write.

        A commit counts as loaded when a Commit node exists that another loader (git) wrote;
        otherwise the deployment is reported as a warning with its position.
        """
        full = {f"commit:{r.sha}" for r in records if r.sha and len(r.sha) in (40, 64)}
        stored = existing_nodes(reader, "Commit", full)
        short = {sha: self._by_prefix(reader, sha) for sha in {r.sha for r in records if r.sha}}
        for uid, loaded_by in short.values():
            stored[uid] = loaded_by
        shipped: dict[str, str] = {}
        references: dict[str, str | None] = {}
        for r in records:
            uid = f"commit:{r.sha}" if len(r.sha) in (40, 64) else short[r.sha][0]
            if uid and uid in stored and stored[uid] != self.name:
                shipped[r.uid] = uid
                continue
            if uid and self.config.reference_commits:
                shipped[r.uid] = uid
                references[uid] = references.get(uid) or r.repo or self.config.repo
                what = "kept as a reference Commit node (uid+sha) until the git loader fills it"
            else:
                what = "SHIPS not written"
            report.warn(
                r.source,
                f"commit {r.sha} is not loaded (load git history first); {what}",
                r.position,
            )
        rows: list[dict[str, object]] = [
            {"uid": u, "sha": u.removeprefix("commit:"), "repo": repo}
            for u, repo in sorted(references.items())
        ]
        return shipped, rows

    def _by_prefix(self, reader: GraphReader | None, sha: str) -> tuple[str, str | None]:
        """The unique stored commit (uid, loaded_by) whose sha starts with `sha`, else ''."""
        if reader is None or len(sha) in (40, 64):
            return "", None
        rows = reader.query(_SHORT_SHA_QUERY, {"prefix": sha}).rows()
        return (rows[0]["uid"], rows[0]["loaded_by"]) if len(rows) == 1 else ("", None)


def config_from_options(paths: list[str], options: dict[str, str]) -> DeploymentsConfig:
    """Build the config from CLI strings (pydantic turns 'true'/'false' into booleans)."""
    return DeploymentsConfig(paths=list(paths), **options)  # type: ignore[arg-type]
