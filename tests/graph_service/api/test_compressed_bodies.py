"""Compressed request bodies are inflated incrementally and stop at the body limit (issue 15,
item 5): a 1 MB gzip or deflate bomb (1 GiB inflated) gets 413 on every endpoint that takes a
body, without the server's memory growing by anything like the inflated size."""

from __future__ import annotations

import gzip
import resource
import struct
import zlib
from collections.abc import Iterator

import httpx
import pytest

from graph_service.api import create_app
from graph_service.api.guards import Inflater
from graph_service.errors import CallerError
from graph_service.settings import Settings
from tests.graph_service.api.conftest import auth
from tests.graph_service.api.otlp_util import otlp_request, running_server

GIB = 1 << 30
WRITER = auth("writer")


def _bomb(wbits: int) -> bytes:
    """1 GiB of zeros, compressed (about 1 MB): gzip for wbits 31, zlib (deflate) for 15.

    Each further MiB of zeros compresses to the same flushed block, so the stream is built by
    repeating it, with the trailer (checksum and size) of the whole GiB: a valid stream.
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, wbits)
    zeros = bytes(1 << 20)
    first = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    assert comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH) == block
    end = comp.flush()
    gzip_format = wbits > 16
    checksum = zlib.crc32 if gzip_format else zlib.adler32
    check = 0 if gzip_format else 1
    for _ in range(GIB >> 20):
        check = checksum(zeros, check)
    trailer = (
        struct.pack("<II", check, GIB & 0xFFFFFFFF) if gzip_format else struct.pack(">I", check)
    )
    return first + block * ((GIB >> 20) - 1) + end[: -len(trailer)] + trailer


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    return _bomb(31)


@pytest.fixture(scope="module")
def deflate_bomb() -> bytes:
    return _bomb(15)


@pytest.fixture
def url(settings: Settings) -> Iterator[str]:
    with running_server(create_app(settings)) as base:
        yield base


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_bombs_stop_at_the_limit_on_every_endpoint(
    url: str, gzip_bomb: bytes, deflate_bomb: bytes
) -> None:
    assert len(gzip_bomb) < 1_100_000 and len(deflate_bomb) < 1_100_000
    targets = [
        ("/v1/traces", {"Content-Type": "application/x-protobuf"}),
        ("/v1/ingest/traces?filename=x.pb", {"Content-Type": "application/octet-stream"}),
        ("/v1/cypher", {"Content-Type": "application/json"}),
        ("/v1/webhooks/github", {"Content-Type": "application/json", "X-GitHub-Event": "issues"}),
    ]
    start = _peak_rss_mb()
    for path, headers in targets:
        for encoding, bomb in (("gzip", gzip_bomb), ("deflate", deflate_bomb)):
            r = httpx.post(
                url + path,
                content=bomb,
                headers={**WRITER, **headers, "Content-Encoding": encoding},
                timeout=120,
            )
            assert r.status_code == 413, (path, encoding, r.text[:300])
            assert "PRODGRAPH_MAX_BODY_BYTES" in r.json()["error"]["message"]
    # 8 bombs of 1 GiB each: inflating any one whole would add ~1 GiB to the peak
    assert _peak_rss_mb() - start < 300


def test_valid_compressed_bodies_still_load(url: str) -> None:
    body = otlp_request("gz-edge").SerializeToString()
    for encoding, data in (("gzip", gzip.compress(body)), ("deflate", zlib.compress(body))):
        r = httpx.post(
            f"{url}/v1/ingest/traces?filename=t-{encoding}.pb",
            content=data,
            headers={
                **WRITER,
                "Content-Type": "application/octet-stream",
                "Content-Encoding": encoding,
            },
        )
        assert r.status_code == 200, r.text
    r = httpx.post(
        f"{url}/v1/cypher",
        content=gzip.compress(
            b'{"query": "MATCH (s:Service {uid: \'svc:gz-edge\'}) RETURN count(s)"}'
        ),
        headers={**auth("reader"), "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 200 and r.json()["rows"] == [[1]], r.text


def test_broken_or_unknown_encodings_are_caller_errors(url: str) -> None:
    body = gzip.compress(otlp_request("broken").SerializeToString())
    headers = {**WRITER, "Content-Type": "application/octet-stream"}
    r = httpx.post(
        f"{url}/v1/ingest/traces?filename=t.pb",
        content=body[: len(body) // 2],
        headers={**headers, "Content-Encoding": "gzip"},
    )
    assert r.status_code == 400 and "not valid gzip" in r.json()["error"]["message"], r.text
    r = httpx.post(
        f"{url}/v1/ingest/traces?filename=t.pb",
        content=b"plain bytes, not gzip",
        headers={**headers, "Content-Encoding": "gzip"},
    )
    assert r.status_code == 400
    for encoding in ("br", "gzip, gzip", "compress"):
        r = httpx.post(
            f"{url}/v1/ingest/traces?filename=t.pb",
            content=body,
            headers={**headers, "Content-Encoding": encoding},
        )
        assert r.status_code == 415, (encoding, r.text)


def test_inflater_is_bounded_chunk_by_chunk(gzip_bomb: bytes) -> None:
    inflater = Inflater("gzip", 10 << 20)
    out = 0
    with pytest.raises(CallerError) as caught:
        for i in range(0, len(gzip_bomb), 65536):
            out += len(inflater.feed(gzip_bomb[i : i + 65536]))
    assert caught.value.status_code == 413
    assert out <= 10 << 20
    # two gzip members in one body are one stream, as gzip itself reads them
    two = Inflater("gzip", 100)
    assert two.feed(gzip.compress(b"ab") + gzip.compress(b"cd")) + two.finish() == b"abcd"
