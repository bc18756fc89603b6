"""Batches: what loaders yield and stores write, validated against the schema first."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph_service import schema
from graph_service.errors import BatchValidationError

logger = logging.getLogger(__name__)

__all__ = [
    "Batch",
    "DeleteEdgesFrom",
    "DeleteNodes",
    "EdgeBatch",
    "NodeBatch",
    "edges",
    "nodes",
    "validate",
]


@dataclass(frozen=True)
class NodeBatch:
    """Rows of one node label; column `uid` plus any declared properties.

    `purpose` names a bookkeeping update of rows already written in the run (a load marking
    its commits complete): load reports count it apart from the rows themselves.
    """

    label: str
    table: pa.Table
    validated: bool = field(default=False, compare=False, repr=False)
    purpose: str = field(default="", compare=False)

    def __len__(self) -> int:
        return self.table.num_rows


@dataclass(frozen=True)
class EdgeBatch:
    """Relationships of one type between one endpoint pair; columns `src`, `dst` + properties."""

    type: str
    src_label: str
    dst_label: str
    table: pa.Table
    validated: bool = field(default=False, compare=False, repr=False)

    def __len__(self) -> int:
        return self.table.num_rows


@dataclass(frozen=True)
class DeleteNodes:
    """Remove these nodes and their relationships (e.g. a file deleted from the tree)."""

    label: str
    uids: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.uids)


@dataclass(frozen=True)
class DeleteEdgesFrom:
    """Remove every `type` relationship leaving these nodes (before re-adding current ones)."""

    type: str
    src_label: str
    uids: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.uids)


Batch = NodeBatch | EdgeBatch | DeleteNodes | DeleteEdgesFrom


def nodes(label: str, rows: Sequence[Mapping[str, Any]] | pa.Table) -> NodeBatch:
    """Build a node batch from dict rows (or an Arrow table) and validate it."""
    schema.node(label)
    table = (
        rows if isinstance(rows, pa.Table) else _table_from_rows(label, rows, _node_types(label))
    )
    validated = validate(NodeBatch(label, table))
    assert isinstance(validated, NodeBatch)
    return validated


def edges(
    type_: str, src_label: str, dst_label: str, rows: Sequence[Mapping[str, Any]] | pa.Table
) -> EdgeBatch:
    """Build an edge batch from dict rows with `src`/`dst` uids and validate it."""
    schema.rel(type_)
    types = {"src": pa.string(), "dst": pa.string(), **_rel_types(type_)}
    table = rows if isinstance(rows, pa.Table) else _table_from_rows(type_, rows, types)
    validated = validate(EdgeBatch(type_, src_label, dst_label, table))
    assert isinstance(validated, EdgeBatch)
    return validated


def _node_types(label: str) -> dict[str, pa.DataType]:
    return {p.name: p.type.arrow for p in schema.node(label).all_props}


def _rel_types(type_: str) -> dict[str, pa.DataType]:
    return {p.name: p.type.arrow for p in schema.rel(type_).all_props}


def _table_from_rows(
    what: str, rows: Sequence[Mapping[str, Any]], types: Mapping[str, pa.DataType]
) -> pa.Table:
    columns: dict[str, list[Any]] = {}
    for i, row in enumerate(rows):
        for key in row:
            if key not in columns:
                if key not in types:
                    raise BatchValidationError(
                        f"{what}: row {i} has unknown property {key!r}",
                        {"label": what, "row": i, "field": key},
                    )
                columns[key] = [None] * i
        for key, values in columns.items():
            values.append(row.get(key))
    arrays = {}
    for key, values in columns.items():
        try:
            arrays[key] = pa.array(values, type=types[key])
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as e:
            bad = _first_bad_row(values, types[key])
            raise BatchValidationError(
                f"{what}: row {bad} field {key!r} is not {types[key]}: {values[bad]!r}",
                {"label": what, "row": bad, "field": key},
            ) from e
    return pa.table(arrays) if arrays else pa.table({"uid": pa.array([], pa.string())})


def _first_bad_row(values: list[Any], type_: pa.DataType) -> int:
    for i, v in enumerate(values):
        try:
            pa.array([v], type=type_)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            return i
    return 0


def validate(batch: Batch) -> Batch:
    """Check a batch against the schema; return it with columns cast and keys de-duplicated.

    Raises BatchValidationError naming the label, row and field of the first problem.
    """
    if isinstance(batch, (DeleteNodes, DeleteEdgesFrom)):
        _check_label(batch)
        return batch
    if batch.validated:  # built by nodes()/edges() or validated before: nothing to redo
        return batch
    if isinstance(batch, NodeBatch):
        try:
            types = _node_types(batch.label)
        except KeyError as e:
            raise BatchValidationError(str(e), {"label": batch.label}) from None
        table = _cast(batch.label, batch.table, types, keys=("uid",))
        return NodeBatch(batch.label, _dedupe(table, ("uid",)), True, batch.purpose)
    try:
        rel_type = schema.rel(batch.type)
    except KeyError as e:
        raise BatchValidationError(str(e), {"type": batch.type}) from None
    if (batch.src_label, batch.dst_label) not in rel_type.pairs:
        allowed = ", ".join(f"{a}->{b}" for a, b in rel_type.pairs)
        raise BatchValidationError(
            f"{batch.type}: endpoints {batch.src_label}->{batch.dst_label} are not allowed "
            f"(allowed: {allowed})",
            {"type": batch.type, "field": "endpoints"},
        )
    types = {"src": pa.string(), "dst": pa.string(), **_rel_types(batch.type)}
    table = _cast(batch.type, batch.table, types, keys=("src", "dst"))
    return EdgeBatch(
        batch.type, batch.src_label, batch.dst_label, _dedupe(table, ("src", "dst")), validated=True
    )


def _check_label(batch: DeleteNodes | DeleteEdgesFrom) -> None:
    try:
        if isinstance(batch, DeleteNodes):
            schema.node(batch.label)
        else:
            schema.rel(batch.type)
            schema.node(batch.src_label)
    except KeyError as e:
        raise BatchValidationError(str(e)) from None


def _cast(
    what: str, table: pa.Table, types: Mapping[str, pa.DataType], keys: Iterable[str]
) -> pa.Table:
    columns = {}
    for name in table.column_names:
        if name not in types:
            raise BatchValidationError(
                f"{what}: unknown property {name!r}", {"label": what, "row": 0, "field": name}
            )
        col = table.column(name)
        if col.type != types[name]:
            try:
                col = col.cast(types[name])
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
                bad = _first_bad_row(col.to_pylist(), types[name])
                raise BatchValidationError(
                    f"{what}: row {bad} field {name!r} is not {types[name]}",
                    {"label": what, "row": bad, "field": name},
                ) from e
        columns[name] = col
    for key in keys:
        if key not in columns:
            raise BatchValidationError(
                f"{what}: missing key column {key!r}", {"label": what, "field": key}
            )
        col = columns[key]
        nulls = pc.or_kleene(pc.is_null(col), pc.equal(col, ""))
        if pc.any(nulls).as_py():
            bad = pc.index(nulls, True).as_py()
            raise BatchValidationError(
                f"{what}: row {bad} has an empty key {key!r}",
                {"label": what, "row": bad, "field": key},
            )
    return pa.table(columns)


def _dedupe(table: pa.Table, keys: tuple[str, ...]) -> pa.Table:
    """Keep the last row for each key (later facts win), in first-seen order of those rows.

    Keys are dictionary-encoded to integer codes so the common case (no duplicates) costs one
    integer sort instead of a group-by over strings.
    """
    n = table.num_rows
    if n < 2:
        return table
    codes: np.ndarray | None = None
    for key in keys:
        enc = pc.dictionary_encode(table.column(key)).combine_chunks()
        idx = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        codes = idx if codes is None else codes * len(enc.dictionary) + idx
    assert codes is not None
    ordered = np.sort(codes)
    if not (ordered[1:] == ordered[:-1]).any():
        return table
    _, first_in_reversed = np.unique(codes[::-1], return_index=True)
    last = np.sort(n - 1 - first_in_reversed)
    return table.take(pa.array(last))
