"""GitHub deployments and deployment statuses, as the REST API returns them, into records."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from loaders.base import LoadReport
from loaders.deployments.records import (
    DeploymentRecord,
    FieldError,
    normalise_sha,
    parse_time,
    text_field,
)

logger = logging.getLogger(__name__)

__all__ = ["json_kind", "parse_github", "statuses_by_deployment"]

# GitHub states -> ours; `inactive` (superseded by a later deployment) never wins.
_STATE = {
    "success": "success",
    "failure": "failure",
    "error": "failure",
    "in_progress": "in_progress",
    "queued": "in_progress",
    "pending": "in_progress",
}
_TERMINAL = frozenset({"success", "failure", "error"})


def json_kind(data: Any) -> str:
    """'deployments', 'statuses' or 'unknown' for one parsed JSON document."""
    if isinstance(data, dict):
        if isinstance(data.get("deployments"), list):
            return "deployments"
        if data and all(isinstance(v, list) for v in data.values()):
            return "statuses"
        return "unknown"
    if isinstance(data, list):
        first = next((x for x in data if isinstance(x, dict)), None)
        if first is None:
            return "deployments" if not data else "unknown"
        if "sha" in first:
            return "deployments"
        if "deployment_url" in first or "state" in first:
            return "statuses"
    return "unknown"


def statuses_by_deployment(
    data: Any, source: str, report: LoadReport
) -> dict[str, list[dict[str, Any]]]:
    """Statuses keyed by deployment id, from `{id: [status]}` or a list with deployment_url."""
    out: dict[str, list[dict[str, Any]]] = {}
    if isinstance(data, dict):
        for key, items in data.items():
            out.setdefault(str(key), []).extend(x for x in items if isinstance(x, dict))
        return out
    for i, item in enumerate(data, start=1):
        url = item.get("deployment_url") if isinstance(item, dict) else None
        if not isinstance(url, str) or "/deployments/" not in url:
            report.skip(source, "status without a deployment_url", f"item {i}")
            continue
        dep_id = url.rstrip("/").rsplit("/", 1)[-1]
        out.setdefault(dep_id, []).append(item)
    return out


def parse_github(
    data: Any,
    source: str,
    statuses: Mapping[str, list[dict[str, Any]]],
    report: LoadReport,
    *,
    service: str | None = None,
    assume_utc: bool = False,
) -> Iterator[DeploymentRecord]:
    """Deployments of one document; status and finished_at come from the latest status."""
    items = data["deployments"] if isinstance(data, dict) else data
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            report.skip(source, "a deployment must be a JSON object", f"item {i}")
            continue
        position = f"item {i}" + (f" (deployment {item['id']})" if "id" in item else "")
        try:
            yield _record(item, source, position, statuses, service, assume_utc)
        except FieldError as e:
            report.skip(source, str(e), position)


def _record(
    item: dict[str, Any],
    source: str,
    position: str,
    statuses: Mapping[str, list[dict[str, Any]]],
    service_option: str | None,
    assume_utc: bool,
) -> DeploymentRecord:
    if item.get("id") in (None, ""):
        raise FieldError("id is missing")
    dep_id = str(item["id"])
    payload = _payload(item.get("payload"))
    repo = _repo_name(item)
    service = text_field(payload, "service", required=False) or service_option or repo
    if not service:
        raise FieldError("no service: set payload.service, the service option, or repository_url")
    if ":" in service:
        raise FieldError(f"service {service!r} must not contain ':' (it is part of the uid)")
    env = text_field(item, "environment", required=False) or text_field(
        item, "original_environment", required=True
    )
    started_at = parse_time(item.get("created_at"), "created_at", assume_utc=assume_utc)
    merged = [*(item.get("statuses") or []), *statuses.get(dep_id, [])]
    status, finished_at = _latest_status(merged, assume_utc)
    version = text_field(payload, "version", required=False) or text_field(
        item, "ref", required=False
    )
    return DeploymentRecord(
        service=service,
        environment=env or "",
        id=dep_id,
        sha=normalise_sha(item.get("sha")),
        version=version,
        started_at=started_at,
        finished_at=finished_at,
        status=status,
        repo=repo,
        source=source,
        position=position,
    )


def _payload(raw: Any) -> dict[str, object]:
    if isinstance(raw, str) and raw.strip():
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return {}
    return raw if isinstance(raw, dict) else {}


def _repo_name(item: dict[str, Any]) -> str | None:
    """'example' from repository_url .../repos/octocat/example (or from the deployment url)."""
    for key in ("repository_url", "url"):
        url = item.get(key)
        if isinstance(url, str) and "/repos/" in url:
            parts = url.split("/repos/", 1)[1].split("/")
            if len(parts) >= 2 and parts[1]:
                return parts[1]
    return None


def _latest_status(statuses: list[dict[str, Any]], assume_utc: bool) -> tuple[str, datetime | None]:
    """The latest non-inactive status; 'in_progress' with no finish when there is none."""
    dated: list[tuple[datetime, int, str]] = []
    for st in statuses:
        state = str(st.get("state", "")).lower()
        if state not in _STATE:
            continue
        try:
            at = parse_time(st.get("created_at"), "status created_at", assume_utc=assume_utc)
        except FieldError:
            continue
        raw_id = st.get("id")
        order = int(str(raw_id)) if str(raw_id).isdigit() else 0
        dated.append((at, order, state))
    if not dated:
        return "in_progress", None
    at, _, state = max(dated)
    return _STATE[state], at if state in _TERMINAL else None
