"""`POST /v1/traces`: the OTLP/HTTP trace receiver (protobuf or JSON, optionally gzipped)."""

from __future__ import annotations

import gzip
import logging
import re
import zlib
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)
from starlette.concurrency import run_in_threadpool

from graph_service.api.deps import StateDep, WriterDep
from graph_service.api.errors import UnsupportedMediaType
from graph_service.api.routes.ingest import run_ingest
from graph_service.api.state import ServiceState
from graph_service.errors import CallerError

logger = logging.getLogger(__name__)

__all__ = ["JSON", "PROTOBUF", "router"]

router = APIRouter(prefix="/v1/traces", tags=["otlp"])

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_INVALID_ARGUMENT = 3  # google.rpc.Code
_COUNTED = re.compile(r"^(\d+) span\(s\)")


def _spans_in(reason: str) -> int:
    """Spans one loader problem stands for (`N span(s) ...`, else one)."""
    m = _COUNTED.match(reason)
    return int(m.group(1)) if m else 1


def _encode(message: object, media: str, status: int = 200) -> Response:
    if media == JSON:
        body = json_format.MessageToJson(message, indent=None).encode()  # type: ignore[arg-type]
    else:
        body = message.SerializeToString()  # type: ignore[attr-defined]
    return Response(body, status_code=status, media_type=media)


def _bad_request(message: str, media: str) -> Response:
    return _encode(status_pb2.Status(code=_INVALID_ARGUMENT, message=message), media, 400)


def _unwrap(body: bytes, encoding: str | None) -> bytes:
    enc = (encoding or "identity").strip().lower()
    try:
        if enc == "gzip":
            return gzip.decompress(body)
        if enc == "deflate":
            return zlib.decompress(body)
    except (OSError, EOFError, zlib.error) as e:
        raise CallerError(f"body is not valid {enc}: {e}") from e
    if enc != "identity":
        raise UnsupportedMediaType(f"unsupported Content-Encoding {encoding!r}")
    return body


def _receive(state: ServiceState, data: bytes, media: str) -> tuple[int, int, str]:
    """Decode eagerly (400 when nothing is usable), then ingest; (spans, rejected, message)."""
    from loaders.traces.loader import TracesConfig, TracesLoader
    from loaders.traces.otlp import decode

    total = 0
    for dec in decode(data, "otlp-http", media):
        for rs in dec.request.resource_spans:
            for ss in rs.scope_spans:
                total += len(ss.spans)
    config = TracesConfig(redact_pii=state.settings.redact_pii)
    report = run_ingest(state, "traces", lambda: TracesLoader(config, [("otlp-http", data, media)]))
    problems = list(report.get("skipped", []))  # type: ignore[call-overload]
    rejected = min(sum(_spans_in(p["reason"]) for p in problems), total)
    message = "; ".join(f"{p['item']}: {p['reason']}" for p in problems[:5])
    return total, rejected, message


@router.post("", responses={200: {"content": {PROTOBUF: {}, JSON: {}}}})
async def export_traces(
    request: Request,
    state: StateDep,
    _: WriterDep,
    content_type: Annotated[str | None, Header()] = None,
    content_encoding: Annotated[str | None, Header()] = None,
) -> Response:
    """Answer with ExportTraceServiceResponse in the request's encoding (OTLP/HTTP spec)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in (PROTOBUF, JSON):
        raise UnsupportedMediaType(
            f"OTLP/HTTP takes {PROTOBUF} or {JSON}, not {content_type!r}",
            {"content_type": content_type},
        )
    try:
        data = _unwrap(await request.body(), content_encoding)
        total, rejected, message = await run_in_threadpool(_receive, state, data, media)
    except CallerError as e:
        if e.status_code != 400:
            raise
        state.metrics.spans.labels("undecodable").inc()
        return _bad_request(e.message, media)
    state.metrics.spans.labels("accepted").inc(total - rejected)
    state.metrics.spans.labels("rejected").inc(rejected)
    response = ExportTraceServiceResponse()
    if rejected:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    return _encode(response, media)
