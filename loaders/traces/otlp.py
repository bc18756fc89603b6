"""Decoding OTLP trace exports: protobuf or OTLP/JSON, plain or gzipped, files or bytes."""

from __future__ import annotations

import base64
import glob
import gzip
import hashlib
import json
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans

from graph_service.errors import CallerError

logger = logging.getLogger(__name__)

__all__ = ["Decoded", "OtlpDecodeError", "decode", "digest_of", "expand_paths"]

_SUFFIXES = (".pb", ".bin", ".otlp", ".protobuf", ".json", ".jsonl", ".ndjson", ".gz")
_ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


class OtlpDecodeError(CallerError):
    """An OTLP payload could not be decoded; the message names the input and the position."""

    code = "invalid_otlp"


@dataclass
class Decoded:
    """One decoded request plus the problems met while decoding it (recovered parts load)."""

    name: str
    request: ExportTraceServiceRequest
    problems: list[tuple[str, str]]  # (position, reason)
    has_exceptions: bool = True  # False when the bytes cannot hold an exception event
    warnings: list[tuple[str, str]] = field(default_factory=list)  # loaded anyway


def digest_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:16]


def expand_paths(paths: list[str], suffixes: tuple[str, ...] = _SUFFIXES) -> Iterator[Path]:
    """Files named, found under folders (recursively, by suffix) or matched by globs, sorted."""
    for p in paths:
        matches = sorted(glob.glob(p, recursive=True)) if glob.has_magic(p) else [p]
        for m in matches:
            path = Path(m)
            if path.is_dir():
                for sub in sorted(path.rglob("*")):
                    if sub.is_file() and sub.name.endswith(suffixes):
                        yield sub
            else:
                yield path


def _content_kind(data: bytes, content_type: str | None) -> str:
    ct = (content_type or "").lower()
    if "json" in ct:
        return "json"
    if "protobuf" in ct or "octet-stream" in ct:
        return "protobuf"
    head = data[:64].lstrip()
    return "json" if head[:1] in (b"{", b"[") else "protobuf"


def decode(data: bytes, name: str, content_type: str | None = None) -> Iterator[Decoded]:
    """Requests in `data` (gzip unwrapped). Raises OtlpDecodeError when nothing is usable."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise OtlpDecodeError(f"{name}: broken gzip stream ({e})") from e
    decoded = (
        _decode_json(data, name)
        if _content_kind(data, content_type) == "json"
        else iter([_decode_protobuf(data, name)])
    )
    has_exceptions = b"exception" in data
    for dec in decoded:
        dec.has_exceptions = has_exceptions
        yield dec


def _decode_protobuf(data: bytes, name: str) -> Decoded:
    req = ExportTraceServiceRequest()
    try:
        req.ParseFromString(data)
        return Decoded(name, req, [])
    except DecodeError:
        pass
    return _recover_protobuf(data, name)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 63:
            raise IndexError(pos)
        b = data[pos]
        value |= (b & 0x7F) << shift
        pos += 1
        if not b & 0x80:
            return value, pos
        shift += 7


def _recover_protobuf(data: bytes, name: str) -> Decoded:
    """Walk the top-level fields: keep each intact resource_spans, report where it broke."""
    req = ExportTraceServiceRequest()
    problems: list[tuple[str, str]] = []
    pos, index = 0, 0
    while pos < len(data):
        start = pos
        try:
            tag, pos = _varint(data, pos)
            field, wire = tag >> 3, tag & 7
            if wire != 2:
                raise IndexError(start)
            length, pos = _varint(data, pos)
        except IndexError:
            problems.append((f"byte {start}", "corrupt field header; rest of the input ignored"))
            break
        end = pos + length
        if end > len(data):
            problems.append(
                (
                    f"resource_spans[{index}] at byte {start}",
                    f"truncated: needs {length} bytes, {len(data) - pos} left",
                )
            )
            break
        if field == 1:
            try:
                req.resource_spans.append(ResourceSpans.FromString(data[pos:end]))
            except DecodeError:
                problems.append((f"resource_spans[{index}] at byte {start}", "corrupt message"))
            index += 1
        pos = end
    if not req.resource_spans:
        where = problems[0][0] if problems else "byte 0"
        why = problems[0][1] if problems else "no resource spans"
        raise OtlpDecodeError(
            f"{name}: not a valid OTLP ExportTraceServiceRequest ({where}: {why})"
        )
    return Decoded(name, req, problems)


def _decode_json(data: bytes, name: str) -> Iterator[Decoded]:
    """OTLP/JSON: one request per document, or one per line (collector file exporter)."""
    text = data.decode("utf-8", errors="replace")
    try:
        docs: list[tuple[str, Any]] = [("document", json.loads(text))]
    except json.JSONDecodeError as whole_err:
        docs = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                docs.append((f"line {lineno}", json.loads(line)))
            except json.JSONDecodeError as e:
                if lineno == 1 and len(text.splitlines()) == 1:
                    raise OtlpDecodeError(
                        f"{name}: invalid JSON at line {whole_err.lineno} column "
                        f"{whole_err.colno}: {whole_err.msg}"
                    ) from e
                docs.append((f"line {lineno}", e))
    for where, doc in docs:
        if isinstance(doc, Exception):
            yield Decoded(name, ExportTraceServiceRequest(), [(where, f"invalid JSON: {doc}")])
            continue
        yield _json_request(doc, name, where)


def _json_request(doc: Any, name: str, where: str) -> Decoded:
    warnings: list[tuple[str, str]] = []
    if not isinstance(doc, dict):
        raise OtlpDecodeError(f"{name} ({where}): expected a JSON object with resourceSpans")
    _hex_ids_to_base64(doc)
    req = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(doc, req)
    except json_format.ParseError as e:
        warnings.append((where, f"unknown or invalid field ignored: {e}"))
        req = ExportTraceServiceRequest()
        try:
            json_format.ParseDict(doc, req, ignore_unknown_fields=True)
        except json_format.ParseError as e2:
            raise OtlpDecodeError(f"{name} ({where}): invalid OTLP/JSON: {e2}") from e2
    return Decoded(name, req, [], warnings=warnings)


def _hex_ids_to_base64(node: Any) -> None:
    """OTLP/JSON spells ids in hex; protobuf's JSON mapping expects base64."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in _ID_KEYS and isinstance(v, str) and v and _is_hex(v):
                node[k] = base64.b64encode(bytes.fromhex(v)).decode("ascii")
            elif isinstance(v, (dict, list)):
                _hex_ids_to_base64(v)
    elif isinstance(node, list):
        for item in node:
            _hex_ids_to_base64(item)


def _is_hex(s: str) -> bool:
    return len(s) in (16, 32) and all(c in "0123456789abcdefABCDEF" for c in s)
