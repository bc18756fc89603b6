"""Source templates of the sample shop's shared library (telemetry, transport, database)."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

__all__ = ["PLATFORM_FILES"]

_INIT = '''"""Shared building blocks of the shop services."""
'''

_ERRORS = '''"""Errors shared by every service; each maps to an HTTP status."""


class ShopError(Exception):
    """A request the service refuses on purpose."""

    status = 500


class ValidationError(ShopError):
    status = 400


class Unauthorized(ShopError):
    status = 401


class PaymentDeclined(ShopError):
    status = 402


class NotFound(ShopError):
    status = 404


class OutOfStock(ShopError):
    status = 409


class UpstreamRejected(ShopError):
    """A downstream service refused the request (4xx)."""

    def __init__(self, service, status, message):
        super().__init__(f"{service} rejected the request ({status}): {message}")
        self.status = status


class UpstreamError(Exception):
    """A downstream service failed (5xx)."""

    def __init__(self, service, status, message):
        super().__init__(f"{service} answered {status}: {message}")
        self.service = service
        self.status = status
'''

_CLOCK = '''"""Wall clock of the services; tests and replays install their own source."""

import time
from datetime import datetime, timezone

_source = time.time_ns


def install(source):
    global _source
    _source = source or time.time_ns


def now_ns():
    return _source()


def now():
    return datetime.fromtimestamp(_source() / 1e9, tz=timezone.utc)
'''

_TELEMETRY = '''"""Tracing helpers: one tracer provider per service, spans with code attributes."""

import functools
import linecache
import traceback
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from . import clock
from .errors import ShopError

_providers = {}
_source_root = ""


def configure(providers, source_root=""):
    global _source_root
    _providers.clear()
    _providers.update(providers)
    _source_root = source_root.rstrip("/") + "/" if source_root else ""


def repo_path(filename):
    if _source_root and filename.startswith(_source_root):
        return filename[len(_source_root):]
    return filename


def get_tracer(module_name):
    service = module_name.split(".")[0]
    return trace.get_tracer(module_name, tracer_provider=_providers.get(service))


def format_exception(exc):
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text.replace(_source_root, "") if _source_root else text


def record_error(span, exc):
    span.record_exception(
        exc,
        attributes={"exception.stacktrace": format_exception(exc)},
        timestamp=clock.now_ns(),
    )
    span.set_attribute("error.type", type(exc).__name__)
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))


def url_path(route, params):
    try:
        return route.format(**params)
    except (KeyError, IndexError):
        return route


def code_attributes(fn):
    code = fn.__code__
    line = code.co_firstlineno
    while linecache.getline(code.co_filename, line).lstrip().startswith("@"):
        line += 1
    return {
        "code.function.name": f"{fn.__module__}.{fn.__qualname__}",
        "code.file.path": repo_path(code.co_filename),
        "code.line.number": line,
    }


@contextmanager
def span(module_name, name, kind=SpanKind.INTERNAL, attributes=None):
    tracer = get_tracer(module_name)
    current = tracer.start_span(name, kind=kind, attributes=attributes, start_time=clock.now_ns())
    with trace.use_span(current, record_exception=False, set_status_on_exception=False):
        try:
            yield current
        except Exception as exc:
            if not isinstance(exc, ShopError):
                record_error(current, exc)
            raise
        finally:
            current.end(end_time=clock.now_ns())


def traced(name=None):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with span(fn.__module__, name or fn.__qualname__, attributes=code_attributes(fn)):
                return fn(*args, **kwargs)

        return wrapper

    return decorate


def server(method, route):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(request):
            attributes = {
                "http.request.method": method,
                "http.route": route,
                "url.path": url_path(route, request.get("params", {})),
                "url.scheme": "http",
                **code_attributes(fn),
            }
            agent = request.get("headers", {}).get("User-Agent")
            if agent:
                attributes["user_agent.original"] = agent
            tracer = get_tracer(fn.__module__)
            current = tracer.start_span(
                f"{method} {route}", kind=SpanKind.SERVER, attributes=attributes,
                start_time=clock.now_ns(),
            )
            with trace.use_span(current, record_exception=False, set_status_on_exception=False):
                try:
                    response = {"status": 200, "body": fn(request)}
                except ShopError as exc:
                    response = {"status": exc.status, "error": str(exc)}
                except Exception as exc:
                    record_error(current, exc)
                    response = {"status": 500, "error": "internal server error"}
                current.set_attribute("http.response.status_code", response["status"])
                current.end(end_time=clock.now_ns())
            return response

        return wrapper

    return decorate


def client(peer, method, route, address=None, port=8080):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            host = address or f"{peer}.internal"
            attributes = {
                "peer.service": peer,
                "server.address": host,
                "server.port": port,
                "http.request.method": method,
                "url.full": f"http://{host}:{port}{route}",
                **code_attributes(fn),
            }
            with span(fn.__module__, f"{method} {route}", SpanKind.CLIENT, attributes) as current:
                try:
                    result = fn(*args, **kwargs)
                except ShopError as exc:
                    current.set_attribute("http.response.status_code", exc.status)
                    current.set_attribute("error.type", str(exc.status))
                    raise
                current.set_attribute("http.response.status_code", 200)
                return result

        return wrapper

    return decorate
'''

_TRANSPORT = '''"""In-cluster request transport; the deployment installs the real dispatcher."""

from .errors import UpstreamError, UpstreamRejected

_dispatch = None


def install(dispatch):
    global _dispatch
    _dispatch = dispatch


def request(service, method, route, body=None, params=None, query=None, headers=None):
    if _dispatch is None:
        raise RuntimeError("transport is not installed")
    message = {
        "body": body or {},
        "params": params or {},
        "query": query or {},
        "headers": headers or {},
    }
    response = _dispatch(service, method, route, message)
    status = response.get("status", 500)
    if status >= 500:
        raise UpstreamError(service, status, response.get("error", "unknown error"))
    if status >= 400:
        raise UpstreamRejected(service, status, response.get("error", "rejected"))
    return response.get("body")
'''

_DB = '''"""Database access with client spans; the deployment installs the driver."""

import sys

from opentelemetry.trace import SpanKind

from . import telemetry

_driver = None


def install(driver):
    global _driver
    _driver = driver


class Database:
    """One logical database of a service."""

    def __init__(self, name, system="postgresql", host="db.internal", port=5432):
        self.name = name
        self.system = system
        self.host = host
        self.port = port

    def fetch_one(self, table, key):
        return self._run("SELECT", table, f"SELECT * FROM {table} WHERE id = %s", {"key": key})

    def fetch_all(self, table, **where):
        clause = " AND ".join(f"{column} = %s" for column in sorted(where)) or "TRUE"
        statement = f"SELECT * FROM {table} WHERE {clause}"
        return self._run("SELECT", table, statement, {"where": where})

    def insert(self, table, row):
        statement = f"INSERT INTO {table} ({', '.join(sorted(row))}) VALUES (...)"
        return self._run("INSERT", table, statement, {"row": row})

    def update(self, table, key, changes):
        assignments = ", ".join(f"{column} = %s" for column in sorted(changes))
        statement = f"UPDATE {table} SET {assignments} WHERE id = %s"
        return self._run("UPDATE", table, statement, {"key": key, "changes": changes})

    def next_value(self, sequence):
        return self._run("SELECT", sequence, f"SELECT nextval('{sequence}')", {})

    def _run(self, operation, table, statement, params):
        caller = sys._getframe(2)
        module = caller.f_globals.get("__name__", "")
        attributes = {
            "db.system": self.system,
            "db.system.name": self.system,
            "db.namespace": self.name,
            "db.operation.name": operation,
            "db.collection.name": table,
            "db.query.text": statement,
            "server.address": self.host,
            "server.port": self.port,
            "code.function.name": f"{module}.{caller.f_code.co_qualname}",
            "code.file.path": telemetry.repo_path(caller.f_code.co_filename),
            "code.line.number": caller.f_lineno,
        }
        with telemetry.span(module, f"{operation} {table}", SpanKind.CLIENT, attributes):
            return _driver(self.name, operation, table, params)
'''

PLATFORM_FILES: dict[str, str] = {
    "libs/shopkit/shopkit/__init__.py": _INIT,
    "libs/shopkit/shopkit/errors.py": _ERRORS,
    "libs/shopkit/shopkit/clock.py": _CLOCK,
    "libs/shopkit/shopkit/telemetry.py": _TELEMETRY,
    "libs/shopkit/shopkit/transport.py": _TRANSPORT,
    "libs/shopkit/shopkit/db.py": _DB,
}
