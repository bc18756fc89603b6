"""One ASGI middleware: request ids, the request body limit, and request metrics."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_service.api.errors import PayloadTooLarge, error_response
from graph_service.api.metrics import Metrics

logger = logging.getLogger(__name__)

__all__ = ["ServiceMiddleware"]


class ServiceMiddleware:
    """Stamps `X-Request-ID`, refuses bodies over `max_body_bytes`, records route metrics."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        status = 500
        length = _content_length(scope)
        if length is not None and length > self.max_body:
            response = error_response(
                413,
                PayloadTooLarge.code,
                f"request body over {self.max_body} bytes",
                {"limit": self.max_body},
                rid,
            )
            await response(scope, receive, send)
            self._record(scope, 413, start)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise PayloadTooLarge(
                        f"request body over {self.max_body} bytes", {"limit": self.max_body}
                    )
            return message

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
            await self.app(scope, limited_receive, send_with_id)
        finally:
            self._record(scope, status, start)

    def _record(self, scope: Scope, status: int, start: float) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        self.metrics.observe_request(
            scope.get("method", ""), template, status, time.perf_counter() - start
        )


def _incoming_id(scope: Scope) -> str | None:
    for k, v in scope.get("headers", []):
        if k == b"x-request-id":
            value = v.decode("latin-1")[:64]
            if value.replace("-", "").replace("_", "").isalnum():
                return value
    return None


def _content_length(scope: Scope) -> int | None:
    for k, v in scope.get("headers", []):
        if k == b"content-length":
            try:
                return int(v)
            except ValueError:
                return None
    return None
