"""One error shape for every failure: `{"error": {"code", "message", "detail"}}`, one handler."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph_service.errors import CallerError, ProdgraphError

logger = logging.getLogger(__name__)

__all__ = [
    "BodyError",
    "ErrorBody",
    "ErrorInfo",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "error_response",
    "install_error_handler",
    "public_message",
]

_HTTP_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


# internal wording (Python conversions, pybind11, Arrow) that reached 4xx messages, each phrase
# replaced in place by what was wrong with the input; the original goes to the log
_QUOTED = r"('[^']{0,60}'|\"[^\"]{0,60}\"|[^\s)]{1,60})"
_ONE_TYPE = " where a number is expected (a list or map parameter holds values of one type)"
_INTERNALS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"invalid literal for int\(\) with base \d+: " + _QUOTED),
        lambda m: f"{m.group(1)} is not a whole number{_ONE_TYPE}",
    ),
    (
        re.compile(r"could not convert string to float: " + _QUOTED),
        lambda m: f"{m.group(1)} is not a number{_ONE_TYPE}",
    ),
    (
        re.compile(r"Unable to cast Python instance.*|[^\n]*PYBIND11[^\n]*", re.DOTALL),
        lambda m: (
            "a parameter value cannot be passed to the database: whole numbers must fit "
            "in 64 bits, and a list or map must hold values of one type"
        ),
    ),
    (
        re.compile(r"Unsupported type: \w+ for arrow conversion\.?"),
        lambda m: (
            "the result holds a value the service cannot return (a parameter or map "
            "mixing value types?): return plain values or properties instead"
        ),
    ),
    (
        re.compile(r"\w*Arrow\w*(Invalid|Error)\b:?[^\n)]*|pyarrow[\w.]*|arrow::\w+"),
        lambda m: "a value does not have the type its column or parameter needs",
    ),
]


def public_message(message: str) -> str | None:
    """`message` with each phrase that names internals replaced by what was wrong with the
    input, or None when it names none."""
    out = message
    for pattern, explain in _INTERNALS:
        out = pattern.sub(explain, out)
    return None if out == message else out


class BodyError(StarletteHTTPException):
    """A project error raised while the body is read (too large, badly compressed).

    FastAPI turns any other exception from its body parsing into a bare 400; HTTP exceptions
    pass through, so the error travels inside one and the handler answers with it.
    """

    def __init__(self, error: ProdgraphError) -> None:
        super().__init__(error.status_code, error.message)
        self.error = error


class PayloadTooLarge(CallerError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(CallerError):
    status_code = 415
    code = "unsupported_media_type"


class ErrorInfo(BaseModel):
    code: str
    message: str
    detail: Any = None


class ErrorBody(BaseModel):
    """Every non-2xx answer of the API (except OTLP, which answers as its spec says)."""

    error: ErrorInfo


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


def error_response(status: int, code: str, message: str, detail: Any, request_id: str) -> Response:
    body = {"error": {"code": code, "message": message, "detail": detail}}
    headers = {"X-Request-ID": request_id} if request_id else None
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body, status_code=status, headers=headers)


async def _handle(request: Request, exc: Exception) -> Response:
    """The one handler: project errors, validation errors, HTTP errors, and everything else."""
    rid = _request_id(request)
    if isinstance(exc, BodyError):
        exc = exc.error
    if isinstance(exc, ProdgraphError):
        if exc.status_code >= 500:
            logger.warning("%s %s -> %s: %s", request.method, request.url.path, exc.code, exc)
            return error_response(exc.status_code, exc.code, exc.message, exc.detail, rid)
        message, detail = exc.message, exc.detail
        public = public_message(message)
        if public is not None:
            logger.info("request %s: %s (answered as: %s)", rid, message, public)
            message = public
        if detail is not None and public_message(str(detail)) is not None:
            detail = None
        return error_response(exc.status_code, exc.code, message, detail, rid)
    if isinstance(exc, RequestValidationError):
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return error_response(
            422, "validation_error", "request does not match the schema", detail, rid
        )
    if isinstance(exc, StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), None, rid)
    logger.exception("unhandled error in %s %s (request %s)", request.method, request.url.path, rid)
    return error_response(
        500, "internal", f"internal error (request id {rid})", {"request_id": rid}, rid
    )


def install_error_handler(app: FastAPI) -> None:
    """Route every error class through `_handle`."""
    for exc_class in (ProdgraphError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(exc_class, _handle)
