"""Request guards below the routes: bounded decompression of request bodies, and the rules that
keep an auth-disabled (laptop) service out of reach of web pages (Host, Origin, simple POSTs)."""

from __future__ import annotations

import logging
import zlib

from graph_service.api.auth import is_loopback
from graph_service.api.errors import PayloadTooLarge, UnsupportedMediaType
from graph_service.errors import CallerError

logger = logging.getLogger(__name__)

__all__ = ["CLIENT_HEADER", "ENCODINGS", "Inflater", "body_encoding", "local_mode_problem"]

ENCODINGS = ("gzip", "x-gzip", "deflate")
CLIENT_HEADER = "x-prodgraph-client"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# the content types a cross-site HTML form (or a no-preflight fetch) may send
_SIMPLE_TYPES = ("", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data")


class Inflater:
    """Inflates a gzip or zlib (`deflate`) body chunk by chunk, never past `limit` bytes.

    `zlib.decompressobj(wbits=47)` reads either header; each `decompress` call is bounded by
    what is left of the limit, so a bomb stops at the limit (413) instead of filling memory.
    """

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding = encoding
        self.limit = limit
        self.inflated = 0
        self.seen_input = False
        self._d = zlib.decompressobj(wbits=47)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"request body inflates to over {self.limit} bytes (PRODGRAPH_MAX_BODY_BYTES)",
            {"limit": self.limit, "content_encoding": self.encoding},
        )

    def _invalid(self) -> CallerError:
        return CallerError(
            f"request body is not valid {self.encoding} data (Content-Encoding: {self.encoding})",
            {"content_encoding": self.encoding},
        )

    def feed(self, data: bytes) -> bytes:
        out: list[bytes] = []
        self.seen_input = self.seen_input or bool(data)
        while data:
            try:
                piece = self._d.decompress(data, self.limit - self.inflated + 1)
            except zlib.error as e:
                raise self._invalid() from e
            self.inflated += len(piece)
            if self.inflated > self.limit:
                raise self._too_large()
            out.append(piece)
            data = self._d.unconsumed_tail
            if self._d.eof:  # concatenated gzip members: go on with the next one
                data = self._d.unused_data
                if data:
                    self._d = zlib.decompressobj(wbits=47)
        return b"".join(out)

    def finish(self) -> bytes:
        """At the end of the body: what zlib still holds; a truncated stream is a 400."""
        if not self.seen_input:
            return b""
        rest = b"" if self._d.eof else self._d.flush()
        self.inflated += len(rest)
        if self.inflated > self.limit:
            raise self._too_large()
        if not self._d.eof:
            raise self._invalid()
        return rest


def body_encoding(value: str | None) -> str | None:
    """The one compression to undo (`gzip` or `deflate`), None for identity; 415 otherwise."""
    codings = [c.strip().lower() for c in (value or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ENCODINGS:
        return "gzip" if codings[0] == "x-gzip" else codings[0]
    raise UnsupportedMediaType(
        f"unsupported Content-Encoding {value!r}: send gzip, deflate or identity",
        {"content_encoding": value},
    )


def _host_name(host: str) -> str:
    """`127.0.0.1:8000` -> `127.0.0.1`, `[::1]:8000` -> `::1`, `localhost` -> `localhost`."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, sep, port = host.rpartition(":")
    return name if sep and port.isdigit() else host


def local_mode_problem(method: str, scheme: str, headers: dict[str, str]) -> str | None:
    """Why an auth-disabled service refuses this request, or None when it may go on.

    Only loopback Host names are answered (a DNS-rebinding page sends its own name); an Origin
    other than the service's own is refused; a state-changing request must carry a content
    type a cross-site form cannot send (JSON, protobuf, octet-stream, ...) or the
    `X-Prodgraph-Client` header, which a browser only sends after a CORS preflight.
    """
    host = headers.get("host", "")
    if not host or not is_loopback(_host_name(host).lower()):
        return (
            f"auth is disabled, so only loopback host names are served (got Host {host[:100]!r}):"
            " use http://127.0.0.1:PORT, or configure API keys (PRODGRAPH_API_KEYS)"
        )
    origin = headers.get("origin")
    if origin is not None and origin.lower() != f"{scheme}://{host}".lower():
        return (
            f"auth is disabled, so requests from other web origins are refused "
            f"(Origin {origin[:100]!r})"
        )
    if method not in _SAFE_METHODS and CLIENT_HEADER not in headers:
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media in _SIMPLE_TYPES:
            return (
                "auth is disabled, so a state-changing request needs a JSON, protobuf or "
                "octet-stream body (Content-Type) or an 'X-Prodgraph-Client' header, which a "
                "cross-site form cannot send"
            )
    return None
