"""What configuration files declare, before names are matched: services and what they use."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from loaders.config.classify import ResourceRef, classify_env

logger = logging.getLogger(__name__)

__all__ = ["ConfigFacts", "Use"]

_IDENTITY_KEYS = frozenset({"OTEL_SERVICE_NAME"})


@dataclass(frozen=True)
class Use:
    """Service `service` (as declared) uses `resource`, declared in file `via`."""

    service: str
    resource: ResourceRef
    via: str
    confidence: float = 1.0


@dataclass
class ConfigFacts:
    """Everything collected from all inputs of one run."""

    services: dict[str, str] = field(default_factory=dict)  # declared name -> first file
    uses: list[Use] = field(default_factory=list)

    def declare(self, service: str, via: str) -> None:
        self.services.setdefault(service, via)

    def use(self, service: str, resource: ResourceRef, via: str, confidence: float = 1.0) -> None:
        self.declare(service, via)
        self.uses.append(Use(service, resource, via, confidence))

    def env(self, service: str, key: str, value: str | None, via: str) -> None:
        """Record one environment variable of `service` as the resource it points at."""
        if key in _IDENTITY_KEYS:
            self.declare(service, via)  # names the service itself, not a dependency
            return
        ref = classify_env(key, value)
        guessed = ref.kind not in ("config_key", "feature_flag") and "://" not in (value or "")
        self.use(service, ref, via, 0.9 if guessed else 1.0)
