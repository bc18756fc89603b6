"""Checks that make a Neo4j read refuse what the embedded store refuses: unknown labels and
relationship types (Neo4j only warns), and whole numbers outside 64 bits (the driver raises
a bare OverflowError)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from neo4j import NotificationClassification, NotificationDisabledClassification

from graph_service import schema
from graph_service.errors import QueryError

logger = logging.getLogger(__name__)

__all__ = ["UNRECOGNIZED_ONLY", "check_params", "refuse_unknown_names"]

# read sessions ask the server for its UNRECOGNIZED warnings only (unknown label, type, ...)
UNRECOGNIZED_ONLY = [
    c
    for c in NotificationDisabledClassification
    if c is not NotificationDisabledClassification.UNRECOGNIZED
]
_INT64 = (-(1 << 63), (1 << 63) - 1)
# 5.23+ GQL status descriptions name it in backticks; older notifications "... is: X)"
_NAME = re.compile(r"`([^`]+)` does not exist|(?:name|type) is: ([^)\s]+)\)")
_LABEL_STATUS, _TYPE_STATUS = "01N50", "01N51"


def _kind(status: Any) -> str | None:
    text = status.status_description or ""
    if status.gql_status == _LABEL_STATUS or text.startswith("One of the labels"):
        return "label"
    if status.gql_status == _TYPE_STATUS or text.startswith("One of the relationship types"):
        return "relationship type"
    return None  # unknown property keys: a declared property may simply never have been set


def refuse_unknown_names(statuses: Iterable[Any]) -> None:
    """Raise QueryError when the server warned of a label or relationship type that the schema
    does not declare (the embedded store refuses those as binder errors).

    Declared names Neo4j has not seen yet (a relationship type with no edges so far) are
    fine: the query rightly answers no rows, as on the embedded store.
    """
    known = {
        "label": {n.label for n in schema.NODES} | {schema.META_LABEL},
        "relationship type": {r.type for r in schema.RELS},
    }
    unknown = []
    for status in statuses:
        if not status.is_notification:
            continue
        if status.classification is not NotificationClassification.UNRECOGNIZED:
            continue
        kind, m = _kind(status), _NAME.search(status.status_description or "")
        if kind is None or m is None:
            continue
        name = m.group(1) or m.group(2)
        if name not in known[kind]:
            unknown.append(f"{kind} {name}")
    if unknown:
        raise QueryError(
            f"query: unknown {', '.join(sorted(set(unknown)))}: the graph has no such name "
            "(`prodgraph schema` or GET /v1/schema lists them)",
            {"unknown": sorted(set(unknown))},
        )


def check_params(params: Mapping[str, Any]) -> None:
    """Raise QueryError for a whole number the database cannot hold (outside 64 bits)."""

    def walk(v: Any, where: str) -> None:
        if isinstance(v, bool):
            return
        if isinstance(v, int) and not _INT64[0] <= v <= _INT64[1]:
            raise QueryError(
                f"query: parameter {where} is {v}: whole numbers must fit in 64 bits",
                {"param": where},
            )
        if isinstance(v, Mapping):
            for k, x in v.items():
                walk(x, f"{where}.{k}")
        elif isinstance(v, (list, tuple)):
            for i, x in enumerate(v):
                walk(x, f"{where}[{i}]")

    for name, value in params.items():
        walk(value, name)
