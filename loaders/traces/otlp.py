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
_ID_LENGTHS = {
    "traceId": 16,
    "trace_id": 16,
    "spanId": 8,
    "span_id": 8,
    "parentSpanId": 8,
    "parent_span_id": 8,
}
_REQUIRED_IDS = (("traceId", "trace_id"), ("spanId", "span_id"))
# OTLP/JSON nests about ten deep (request, resource spans, scope spans, span, attribute,
# value); nested AnyValue arrays and maps add three levels each. Deeper documents are refused
# before anything walks them (Python's json and protobuf's ParseDict recurse).
MAX_JSON_DEPTH = 64


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


def decode(
    data: bytes, name: str, content_type: str | None = None, max_inflated: int | None = None
) -> Iterator[Decoded]:
    """Requests in `data` (gzip unwrapped). Raises OtlpDecodeError when nothing is usable.

    `max_inflated` bounds what a gzipped payload may inflate to (a request body's limit).
    """
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, name, max_inflated)
    decoded = (
        _decode_json(data, name)
        if _content_kind(data, content_type) == "json"
        else iter([_decode_protobuf(data, name)])
    )
    has_exceptions = b"exception" in data
    for dec in decoded:
        dec.has_exceptions = has_exceptions
        yield dec


def _gunzip(data: bytes, name: str, limit: int | None) -> bytes:
    if limit is None:
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise OtlpDecodeError(f"{name}: broken gzip stream ({e})") from e
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as e:
        raise OtlpDecodeError(f"{name}: broken gzip stream ({e})") from e
    if len(out) > limit:
        raise OtlpDecodeError(f"{name}: gzip payload inflates past {limit} bytes")
    return out


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
        docs: list[tuple[str, Any]] = [("document", _loads(text, name))]
    except json.JSONDecodeError as whole_err:
        docs = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                docs.append((f"line {lineno}", _loads(line, name)))
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


def _loads(text: str, name: str) -> Any:
    """`json.loads` with nesting bounded: too deep a document is a caller error, never a crash."""
    try:
        doc = json.loads(text)
    except RecursionError as e:
        raise OtlpDecodeError(
            f"{name}: JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)"
        ) from e
    depth = _depth(doc)
    if depth > MAX_JSON_DEPTH:
        raise OtlpDecodeError(
            f"{name}: JSON nested {depth} levels deep (at most {MAX_JSON_DEPTH} are accepted)"
        )
    return doc


def _depth(doc: Any) -> int:
    """Nesting depth of a parsed JSON document, walked without recursion (stops past the max)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > MAX_JSON_DEPTH:
                break
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return deepest


def _json_request(doc: Any, name: str, where: str) -> Decoded:
    warnings: list[tuple[str, str]] = []
    if not isinstance(doc, dict):
        raise OtlpDecodeError(f"{name} ({where}): expected a JSON object with resourceSpans")
    problems = _check_ids(doc, where)
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
    return Decoded(name, req, problems, warnings=warnings)


def _items(node: Any, *keys: str) -> list[Any]:
    """The list under the first of `keys` present in `node` (empty when absent or not a list)."""
    if not isinstance(node, dict):
        return []
    for k in keys:
        if k in node:
            v = node[k]
            return v if isinstance(v, list) else []
    return []


def _check_ids(doc: dict[str, Any], where: str) -> list[tuple[str, str]]:
    """Validate and convert ids in place; spans with unusable ids are removed and reported.

    OTLP/JSON spells ids in hex (protobuf's own JSON mapping, base64, is accepted too); a
    trace id is 16 bytes, a span id 8, neither all zeros. A span without valid ids cannot be
    paired nor told apart, so it is rejected (`N span(s) rejected: ...`), never invented.
    """
    problems: list[tuple[str, str]] = []
    for ri, rs in enumerate(_items(doc, "resourceSpans", "resource_spans")):
        for si, ss in enumerate(_items(rs, "scopeSpans", "scope_spans")):
            spans = _items(ss, "spans")
            keep = []
            for i, sp in enumerate(spans):
                why = _span_ids(sp)
                if why:
                    pos = f"{where}: resource_spans[{ri}].scope_spans[{si}].spans[{i}]"
                    problems.append((pos, f"1 span(s) rejected: {why}"))
                    continue
                if _items(sp, "links"):  # a link without valid ids is dropped, the span kept
                    sp["links"] = [ln for ln in sp["links"] if _span_ids(ln, False) is None]
                keep.append(sp)
            if isinstance(ss, dict) and "spans" in ss:
                ss["spans"] = keep
    return problems


def _span_ids(sp: Any, parent: bool = True) -> str | None:
    """Why a span's ids are unusable (None when they are fine; converted to base64 in place)."""
    if not isinstance(sp, dict):
        return None  # ParseDict reports what is wrong with it
    for names in _REQUIRED_IDS:
        if not any(sp.get(k) for k in names):
            return f"no {names[0]}"
    for key, size in _ID_LENGTHS.items():
        if key not in sp or (not parent and "parent" in key.lower()):
            continue
        value = sp[key]
        if value in ("", None) and "parent" in key.lower():
            continue
        raw = _id_bytes(value, size)
        if raw is None:
            return f"{key} {str(value)[:40]!r} is not {2 * size} hex digits"
        if not any(raw):
            return f"{key} is all zeros"
        sp[key] = base64.b64encode(raw).decode("ascii")
    return None


def _id_bytes(value: Any, size: int) -> bytes | None:
    if not isinstance(value, str):
        return None
    if len(value) == 2 * size:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        return None
    return raw if len(raw) == size else None
