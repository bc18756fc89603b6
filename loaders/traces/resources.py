"""Resource nodes named by span attributes: databases, caches, queues and virtual peer hosts."""

from __future__ import annotations

import logging

from loaders.redact import Redactor

logger = logging.getLogger(__name__)

__all__ = ["ResourceNames"]

_CACHE_SYSTEMS = frozenset({"redis", "memcached", "hazelcast", "ignite"})
_MAX_CACHED = 100_000  # (kind, name) pairs remembered


class ResourceNames:
    """Resource uids by kind and name, and the resources met (uid -> kind, name, system)."""

    def __init__(self, redactor: Redactor, redact_addresses: bool = False) -> None:
        self.redactor = redactor
        self.redact_addresses = redact_addresses
        self.resources: dict[str, tuple[str, str, str | None]] = {}
        self._uids: dict[tuple[str, str], str] = {}

    def of(self, attrs: dict[str, object]) -> str | None:
        """The database, cache or queue a span's attributes name (None for other spans)."""
        system = attrs.get("db.system.name") or attrs.get("db.system")
        if isinstance(system, str) and system:
            name = (
                attrs.get("db.namespace")
                or attrs.get("db.name")
                or attrs.get("server.address")
                or system
            )
            kind = "cache" if system in _CACHE_SYSTEMS else "database"
            return self.uid(kind, str(name), system)
        msys = attrs.get("messaging.system")
        if isinstance(msys, str) and msys:
            dest = attrs.get("messaging.destination.name") or attrs.get("messaging.destination")
            return self.uid("queue", str(dest or msys), msys)
        return None

    def uid(self, kind: str, name: str, system: str | None) -> str:
        """Resource uid; names are redacted (an IP address becomes `<ip>`) when PII is.

        Host names and addresses of virtual peers are redacted only with `redact_addresses`.
        """
        uid = self._uids.get((kind, name))
        if uid is not None:
            return uid
        redact = kind != "host" or self.redact_addresses
        clean = (self.redactor.text(name) or name) if redact else name
        uid = f"res:{kind}:{clean}"
        if len(self._uids) < _MAX_CACHED:
            self._uids[(kind, name)] = uid
        if uid not in self.resources:
            self.resources[uid] = (kind, clean, system)
        return uid
