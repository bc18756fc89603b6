"""`POST /v1/traces`: the OTLP/HTTP trace receiver (protobuf or JSON, optionally gzipped).

Requests are aggregated into one open window (`loaders.traces.live.LiveTraces`) that a writer
thread writes every `otlp_flush_interval_s`, so halves of a call sent in different requests
pair up; the app's shutdown writes what is still open.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request
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
from graph_service.errors import CallerError, TransientError

if TYPE_CHECKING:
    from loaders.traces.live import LiveTraces

logger = logging.getLogger(__name__)

__all__ = ["JSON", "PROTOBUF", "live_receiver", "router"]

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_INVALID_ARGUMENT = 3  # google.rpc.Code


def live_receiver(state: ServiceState) -> LiveTraces:
    """The receiver of `state`'s settings, writing through the ingest runner."""
    from loaders.traces.build import known_inputs
    from loaders.traces.live import LiveConfig, LiveTraces

    st = state.settings
    config = LiveConfig(
        ttl_s=st.otlp_pending_ttl_s,
        max_pending=st.otlp_pending_max,
        flush_interval_s=st.otlp_flush_interval_s,
        max_unflushed_spans=st.otlp_max_unflushed_spans,
        max_inflated_bytes=st.max_body_bytes,
        redact_pii=st.redact_pii,
        redact_addresses=st.otlp_redact_addresses,
    )
    published = {"paired": 0, "expired": 0, "dropped": 0, "flushed": 0}

    def write(loader: Any) -> dict[str, Any]:
        report = run_ingest(state, "traces", lambda: loader)
        counts, waiting = receiver.counts()
        for outcome, seen in published.items():
            now = getattr(counts, outcome)
            state.metrics.pending_halves.labels(outcome).inc(now - seen)
            published[outcome] = now
        state.metrics.pending_waiting.set(waiting)
        return report

    receiver = LiveTraces(config, write, known=lambda: known_inputs(state.store))
    return receiver


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the writer with the service; at shutdown write everything, waiting halves too."""
    state: ServiceState | None = getattr(app.state, "service", None)
    receiver = live_receiver(state) if state is not None else None
    app.state.live_traces = receiver
    if receiver is not None:
        receiver.start()
    try:
        yield
    finally:
        app.state.live_traces = None
        if receiver is not None:
            await run_in_threadpool(receiver.close)


router = APIRouter(prefix="/v1/traces", tags=["otlp"], lifespan=_lifespan)


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


def _receive(receiver: LiveTraces, data: bytes, media: str) -> tuple[int, int, str]:
    """Decode (400 when nothing is usable) and aggregate; (spans, rejected, message)."""
    got = receiver.receive(data, media)
    return got.spans, got.rejected, got.message


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
    receiver = getattr(request.app.state, "live_traces", None)
    if receiver is None:
        raise TransientError("the OTLP receiver is starting or stopping: retry shortly")
    try:
        data = _unwrap(await request.body(), content_encoding)
        total, rejected, message = await run_in_threadpool(_receive, receiver, data, media)
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
