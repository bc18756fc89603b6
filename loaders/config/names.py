"""Matching declared service names to the Service nodes traces (or others) already created."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from graph_service.store.base import GraphReader

logger = logging.getLogger(__name__)

__all__ = ["ServiceMatch", "candidates", "match_services"]

_SUFFIXES = ("-service", "-svc", "_service", "_svc")
_ALL_SERVICES = "MATCH (s:Service) RETURN s.uid AS uid, s.name AS name, s.loaded_by AS loaded_by"
_ROW_CAP = 1_000_000


@dataclass(frozen=True)
class ServiceMatch:
    """The Service node a declared name maps to; `write` when this loader should (re)write it.

    `superseded` lists Service nodes this loader created for the same name in an earlier run
    before another loader (traces) created the matching one; they can be deleted.
    """

    uid: str
    name: str
    write: bool
    superseded: tuple[str, ...] = ()


def candidates(declared: str) -> list[str]:
    """The lowercase name, then the name without a -service/-svc suffix."""
    low = declared.strip().lower()
    out = [low]
    for suffix in _SUFFIXES:
        if low.endswith(suffix) and len(low) > len(suffix):
            out.append(low.removesuffix(suffix))
    return out


def match_services(
    declared: Iterable[str], reader: GraphReader | None, loaded_by: str
) -> dict[str, ServiceMatch]:
    """Map each declared name to a stored Service (ignoring case, a -service suffix) or a new one.

    A Service some other loader wrote (traces, deployments) wins over one this loader created
    earlier, so config attaches to traced names once traces arrive.
    """
    stored: dict[str, list[tuple[str, str, str | None]]] = {}
    if reader is not None:
        for row in reader.query(_ALL_SERVICES, row_cap=_ROW_CAP).rows():
            name = row["name"] or row["uid"].removeprefix("svc:")
            stored.setdefault(name.lower(), []).append((row["uid"], name, row["loaded_by"]))
    out: dict[str, ServiceMatch] = {}
    for name in sorted(set(declared)):
        out[name] = _match(name, stored, loaded_by)
    return out


def _match(
    declared: str, stored: dict[str, list[tuple[str, str, str | None]]], loaded_by: str
) -> ServiceMatch:
    names = candidates(declared)
    found = [(uid, name, by) for cand in names for uid, name, by in sorted(stored.get(cand, []))]
    own = [uid for uid, _, by in found if by == loaded_by]
    for uid, name, by in found:
        if by != loaded_by:
            return ServiceMatch(uid, name, write=False, superseded=tuple(own))
    for uid, name, _ in found:
        return ServiceMatch(uid, name, write=True)
    return ServiceMatch(f"svc:{names[0]}", names[0], write=True)
