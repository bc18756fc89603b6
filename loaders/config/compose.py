"""docker-compose files: app services, their environment, env files, and depends_on."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from loaders.base import LoadReport
from loaders.config.classify import ResourceRef, classify_image
from loaders.config.dotenv import parse_dotenv
from loaders.config.facts import ConfigFacts

logger = logging.getLogger(__name__)

__all__ = ["collect_compose", "is_compose_doc"]

_DEFAULTED = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def is_compose_doc(doc: Any) -> bool:
    return (
        isinstance(doc, dict) and "apiVersion" not in doc and isinstance(doc.get("services"), dict)
    )


def collect_compose(
    doc: dict[str, Any],
    source: str,
    base_dir: Path | None,
    facts: ConfigFacts,
    report: LoadReport,
) -> None:
    """App services (not infrastructure images) and the resources they use.

    A compose service running a database, queue or cache image is a Resource named after the
    compose service (its host name on the compose network); every reference to that host from
    another service takes the image's kind and system.
    """
    services: dict[str, Any] = doc["services"]
    infra: dict[str, tuple[str, str]] = {}
    for name, svc in services.items():
        image = svc.get("image") if isinstance(svc, dict) else None
        found = classify_image(image) if isinstance(image, str) and "build" not in svc else None
        if found:
            infra[str(name)] = found
    local = ConfigFacts()
    for name, svc in services.items():
        if str(name) in infra:
            continue
        if not isinstance(svc, dict):
            report.skip(source, f"compose service {name!r} is not a mapping")
            continue
        env = _environment(svc.get("environment"))
        service = (env.get("OTEL_SERVICE_NAME") or "").strip() or str(name)
        local.declare(service, source)
        for key, value in env.items():
            local.env(service, key, value, source)
        for env_file in _list(svc.get("env_file")):
            _env_file(env_file, service, source, base_dir, local, report)
        for dep in _depends_on(svc.get("depends_on")):
            dep_kind, dep_system = infra.get(dep, ("host", ""))
            local.use(service, ResourceRef(dep_kind, dep.lower(), dep_system or None), source)
    for declared, via in local.services.items():
        facts.declare(declared, via)
    for use in local.uses:
        ref = use.resource
        if ref.name in infra and ref.kind not in ("config_key", "feature_flag"):
            ref = ResourceRef(infra[ref.name][0], ref.name, infra[ref.name][1])
        facts.use(use.service, ref, use.via, use.confidence)


def _environment(raw: Any) -> dict[str, str | None]:
    """`environment:` as a mapping or a list of KEY=VALUE; `${X:-default}` -> default."""
    pairs: dict[str, str | None] = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            pairs[str(key)] = None if value is None else str(value)
    elif isinstance(raw, list):
        for item in raw:
            key, sep, value = str(item).partition("=")
            pairs[key.strip()] = value if sep else None
    return {k: (_defaults(v) if v is not None else None) for k, v in pairs.items() if k}


def _defaults(value: str) -> str:
    return _DEFAULTED.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(0), value)


def _env_file(
    entry: Any,
    service: str,
    source: str,
    base_dir: Path | None,
    facts: ConfigFacts,
    report: LoadReport,
) -> None:
    raw = entry.get("path") if isinstance(entry, dict) else entry
    required = entry.get("required", True) if isinstance(entry, dict) else True
    if not isinstance(raw, str) or base_dir is None:
        return
    path = base_dir / raw
    if not path.is_file():
        if required:
            report.warn(source, f"env_file {raw!r} of service {service!r} not found")
        return
    via = str(path).replace("\\", "/")
    text = path.read_text(encoding="utf-8", errors="replace")
    for key, value, _line in parse_dotenv(text, via, report):
        facts.env(service, key, value, via)


def _depends_on(raw: Any) -> list[str]:
    if isinstance(raw, dict):
        return [str(k) for k in raw]
    return [str(x) for x in _list(raw)]


def _list(raw: Any) -> list[Any]:
    if raw is None:
        return []
    return raw if isinstance(raw, list) else [raw]
