"""One ASGI middleware: request ids, the body limit (after decompression), the auth-disabled
guards, and request metrics."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_service.api.errors import BodyError, PayloadTooLarge, error_response
from graph_service.api.guards import Inflater, body_encoding, local_mode_problem
from graph_service.api.metrics import Metrics
from graph_service.errors import ForbiddenError, ProdgraphError

logger = logging.getLogger(__name__)

__all__ = ["ServiceMiddleware"]


class ServiceMiddleware:
    """Stamps `X-Request-ID`, refuses bodies over `max_body_bytes` (gzip and deflate bodies are
    inflated here, bounded by the same limit), applies the auth-disabled guards, records route
    metrics."""

    def __init__(
        self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int, auth_disabled: bool = False
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body_bytes
        self.auth_disabled = auth_disabled

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, e: ProdgraphError, start: float
    ) -> None:
        rid = scope["state"]["request_id"]
        response = error_response(e.status_code, e.code, e.message, e.detail, rid)
        await response(scope, receive, send)
        self._record(scope, e.status_code, start)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        status = 500
        headers = _headers(scope)
        length = _content_length(headers.get("content-length"))
        try:
            if self.auth_disabled:
                problem = local_mode_problem(scope["method"], scope["scheme"], headers)
                if problem:
                    raise ForbiddenError(problem)
            if length is not None and length > self.max_body:
                raise PayloadTooLarge(
                    f"request body over {self.max_body} bytes (PRODGRAPH_MAX_BODY_BYTES)",
                    {"limit": self.max_body},
                )
            encoding = body_encoding(headers.get("content-encoding"))
        except ProdgraphError as e:
            await self._refuse(scope, receive, send, e, start)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyError(
                        PayloadTooLarge(
                            f"request body over {self.max_body} bytes (PRODGRAPH_MAX_BODY_BYTES)",
                            {"limit": self.max_body},
                        )
                    )
            return message

        app_receive: Receive = limited_receive  # counts the bytes on the wire
        if encoding is not None:  # the routes see the inflated body and no Content-Encoding
            scope = {**scope, "headers": _without(scope, (b"content-encoding", b"content-length"))}
            app_receive = _inflating(limited_receive, Inflater(encoding, self.max_body))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, app_receive, send_with_id)
        finally:
            self._record(scope, status, start)

    def _record(self, scope: Scope, status: int, start: float) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        self.metrics.observe_request(
            scope.get("method", ""), template, status, time.perf_counter() - start
        )


def _inflating(receive: Receive, inflater: Inflater) -> Receive:
    async def inflating_receive() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            try:
                body = inflater.feed(message.get("body", b""))
                if not message.get("more_body", False):
                    body += inflater.finish()
            except ProdgraphError as e:
                raise BodyError(e) from e
            message = {**message, "body": body}
        return message

    return inflating_receive


def _headers(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name (the first of repeated ones)."""
    out: dict[str, str] = {}
    for k, v in scope.get("headers", []):
        out.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
    return out


def _without(scope: Scope, names: tuple[bytes, ...]) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in scope.get("headers", []) if k.lower() not in names]


def _incoming_id(scope: Scope) -> str | None:
    for k, v in scope.get("headers", []):
        if k == b"x-request-id":
            value = v.decode("latin-1")[:64]
            if value.replace("-", "").replace("_", "").isalnum():
                return value
    return None


def _content_length(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
