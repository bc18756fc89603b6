"""The configuration loader: Service USES Resource from manifests, compose files and `.env`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from graph_service.batch import Batch, DeleteNodes, edges, nodes
from graph_service.store.base import GraphReader
from loaders.base import LoadReport
from loaders.config.classify import ResourceRef
from loaders.config.compose import collect_compose, is_compose_doc
from loaders.config.dotenv import is_dotenv_name, parse_dotenv
from loaders.config.facts import ConfigFacts
from loaders.config.kubernetes import K8sObject, collect_kubernetes, is_k8s_object
from loaders.config.names import match_services
from loaders.config.yaml_docs import load_documents
from loaders.deployments.inputs import InputFile, expand_paths
from loaders.deployments.lookup import nodes_to_write

logger = logging.getLogger(__name__)

__all__ = ["ConfigLoader", "ConfigLoaderConfig"]

_YAML = (".yaml", ".yml")
_COMPOSE_NAMES = ("docker-compose", "compose")


class ConfigLoaderConfig(BaseModel):
    """Options of `prodgraph ingest config PATH... --option key=value`."""

    model_config = ConfigDict(extra="forbid")

    paths: list[str] = Field(description="Files, folders, globs; '-' reads stdin.")
    service: str | None = Field(
        default=None, description="Service of `.env` files (default: the folder's name)."
    )
    repo: str | None = Field(
        default=None, description="Repository the files come from; accepted, not used yet."
    )
    format: Literal["auto", "yaml", "dotenv"] = Field(
        default="auto", description="For stdin or unusual names: yaml (k8s/compose) or dotenv."
    )


def accept(path: Path) -> bool:
    """Files a folder walk picks up: YAML and `.env` files."""
    return path.suffix.lower() in _YAML or is_dotenv_name(path)


class ConfigLoader:
    """Reads configuration; yields Service and Resource nodes, then USES edges."""

    name = "config"

    def __init__(self, config: ConfigLoaderConfig) -> None:
        self.config = config

    def extract(self, report: LoadReport, reader: GraphReader | None = None) -> Iterator[Batch]:
        facts = self.collect(report)
        if not facts.services:
            return
        matches = match_services(facts.services, reader, self.name)
        superseded = _only_used_by_config(
            reader, sorted({u for m in matches.values() for u in m.superseded})
        )
        if superseded:  # our earlier stand-ins for services that traces now name
            yield DeleteNodes("Service", tuple(superseded))
        service_rows = {m.uid: {"uid": m.uid, "name": m.name} for m in matches.values() if m.write}
        if service_rows:
            yield nodes("Service", [service_rows[u] for u in sorted(service_rows)])
        resources: dict[str, ResourceRef] = {u.resource.uid: u.resource for u in facts.uses}
        writable = nodes_to_write(reader, "Resource", resources, self.name)
        if writable:
            yield nodes("Resource", [_resource_row(resources[u]) for u in sorted(writable)])
        rows = _uses_rows(facts, {k: m.uid for k, m in matches.items()})
        if rows:
            yield edges("USES", "Service", "Resource", rows)
        report.stats["services"] = len({m.uid for m in matches.values()})
        report.stats["resources"] = len(resources)

    def collect(self, report: LoadReport) -> ConfigFacts:
        """Parse every input; bad documents and lines are reported, the rest is collected."""
        files = expand_paths(self.config.paths, report, accept)
        explicit = {Path(p).resolve() for p in self.config.paths if Path(p).is_file()}
        facts = ConfigFacts()
        k8s: list[K8sObject] = []
        compose_dirs: set[Path] = set()
        dotenvs: list[InputFile] = []
        ignored = 0
        for f in files:
            if self._is_dotenv(f):
                dotenvs.append(f)
                continue
            for doc in load_documents(f.read_text(), f.name, report):
                if is_k8s_object(doc.data):
                    k8s.append(K8sObject(doc.data, f.name, doc.position))
                elif is_compose_doc(doc.data):
                    base = f.path.parent if f.path is not None else None
                    if base is not None:
                        compose_dirs.add(base.resolve())
                    collect_compose(doc.data, f.name, base, facts, report)
                else:
                    ignored += 1
        collect_kubernetes(k8s, facts, report)
        for f in dotenvs:
            folder = f.path.parent.resolve() if f.path is not None else None
            if folder in compose_dirs and f.path is not None and f.path.resolve() not in explicit:
                continue  # compose's own .env (interpolation or env_file), read with it
            self._dotenv(f, facts, report)
        report.stats["ignored_documents"] = ignored
        return facts

    def _is_dotenv(self, f: InputFile) -> bool:
        if self.config.format != "auto":
            return self.config.format == "dotenv"
        return f.path is not None and is_dotenv_name(f.path) and f.path.suffix.lower() not in _YAML

    def _dotenv(self, f: InputFile, facts: ConfigFacts, report: LoadReport) -> None:
        service = self.config.service
        if service is None and f.path is not None:
            service = f.path.resolve().parent.name
        if not service:
            report.skip(f.name, "no service for this .env file: pass --option service=NAME")
            return
        for key, value, _line in parse_dotenv(f.read_text(), f.name, report):
            facts.env(service, key, value, f.name)


_EDGE_COUNTS = (
    "UNWIND $uids AS u MATCH (s:Service {uid: u}) RETURN s.uid AS uid, "
    "COUNT { MATCH (s)-[]-() } AS edges, COUNT { MATCH (s)-[:USES]->() } AS uses"
)


def _only_used_by_config(reader: GraphReader | None, uids: list[str]) -> list[str]:
    """The Service nodes among `uids` with no relationship but USES (safe to delete)."""
    if reader is None or not uids:
        return []
    rows = reader.query(_EDGE_COUNTS, {"uids": uids}).rows()
    return sorted(r["uid"] for r in rows if r["edges"] == r["uses"])


def _resource_row(ref: ResourceRef) -> dict[str, object]:
    return {"uid": ref.uid, "kind": ref.kind, "name": ref.name, "system": ref.system}


def _uses_rows(facts: ConfigFacts, service_uid: dict[str, str]) -> list[dict[str, object]]:
    """One USES per service and resource; `via` lists every declaring file (sorted)."""
    merged: dict[tuple[str, str], tuple[set[str], float]] = {}
    for use in facts.uses:
        key = (service_uid[use.service], use.resource.uid)
        vias, conf = merged.get(key, (set(), 0.0))
        vias.add(use.via)
        merged[key] = (vias, max(conf, use.confidence))
    return [
        {
            "src": src,
            "dst": dst,
            "via": ", ".join(sorted(vias)),
            "source": "config",
            "confidence": conf,
        }
        for (src, dst), (vias, conf) in sorted(merged.items())
    ]
