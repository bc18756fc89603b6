"""Query results on the wire: JSON rows with column names, Arrow IPC stream, or CSV."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import logging
import math
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from fastapi.responses import JSONResponse, Response

from graph_service.api.errors import error_response
from graph_service.errors import CallerError
from graph_service.store import QueryResult

logger = logging.getLogger(__name__)

__all__ = ["ARROW", "CSV", "JSON", "jsonable", "pick_format", "render"]

ARROW = "application/vnd.apache.arrow.stream"
CSV = "text/csv"
JSON = "application/json"


def pick_format(accept: str | None) -> str:
    """The first of JSON, Arrow or CSV the Accept header names (JSON when none or `*/*`)."""
    for part in (accept or "").split(","):
        media = part.split(";")[0].strip().lower()
        if media in (ARROW, "application/vnd.apache.arrow.file", "application/x-arrow"):
            return ARROW
        if media == CSV:
            return CSV
        if media in (JSON, "*/*", "application/*", ""):
            return JSON
    return JSON if not accept else "unsupported"


def jsonable(value: Any) -> Any:
    """Arrow Python values made JSON-safe (times as ISO text, bytes as base64, NaN as null)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


def _json_column(column: pa.ChunkedArray) -> list[Any]:
    """A column's values made JSON-safe; strings, whole numbers and booleans already are (a
    10,000-row answer renders ~10x faster, and holds the GIL that much less)."""
    t = column.type
    if pa.types.is_string(t) or pa.types.is_integer(t) or pa.types.is_boolean(t):
        return column.to_pylist()
    return [jsonable(v) for v in column.to_pylist()]


def _headers(result: QueryResult) -> dict[str, str]:
    return {
        "X-Prodgraph-Row-Count": str(result.table.num_rows),
        "X-Prodgraph-Truncated": "true" if result.truncated else "false",
        "X-Prodgraph-Elapsed-Ms": f"{result.elapsed_ms:.2f}",
    }


def render(result: QueryResult, accept: str | None, request_id: str = "") -> Response:
    """The response for `result` in the format the client asked for (406 when none fits)."""
    fmt = pick_format(accept)
    if fmt == ARROW:
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, result.table.schema) as writer:
            writer.write_table(result.table)
        return Response(sink.getvalue(), media_type=ARROW, headers=_headers(result))
    if fmt == CSV:
        sink = io.BytesIO()
        try:
            pacsv.write_csv(result.table, sink)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            nested = [
                f.name
                for f in result.table.schema
                if pa.types.is_nested(f.type) or pa.types.is_dictionary(f.type)
            ]
            raise CallerError(
                "these results hold nested values (lists, maps, nodes) that CSV cannot carry: "
                "ask for JSON or Arrow, or return plain properties",
                {"columns": nested},
            ) from e
        return Response(sink.getvalue(), media_type=CSV, headers=_headers(result))
    if fmt == JSON:
        columns = result.columns
        data = [_json_column(result.table.column(i)) for i in range(len(columns))]
        rows = [list(r) for r in zip(*data, strict=True)] if data else []
        body = {
            "columns": columns,
            "rows": rows,
            "row_count": len(rows),
            "truncated": result.truncated,
            "elapsed_ms": round(result.elapsed_ms, 3),
        }
        return JSONResponse(body, headers=_headers(result))
    return error_response(
        406,
        "not_acceptable",
        f"cannot answer in {accept!r}: use {JSON}, {ARROW} or {CSV}",
        {"accept": accept},
        request_id,
    )
