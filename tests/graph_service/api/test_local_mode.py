"""Auth disabled (a developer's laptop): web pages cannot reach the service (issue 15, item 2).

Against the real server on loopback: a DNS-rebinding Host, a foreign Origin, and the
cross-site form POSTs a browser sends without a preflight are refused; the service's own page,
JSON clients and the Python client still work.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graph_service.api import create_app
from graph_service.settings import Settings
from tests.graph_service.api.conftest import auth
from tests.graph_service.api.otlp_util import otlp_request, running_server

Q = {"query": "MATCH (f:Function) RETURN count(*) AS n"}


@pytest.fixture
def local_url(settings: Settings) -> Iterator[str]:
    with running_server(create_app(settings.model_copy(update={"auth_disabled": True}))) as url:
        yield url


def _services(url: str) -> int:
    r = httpx.post(f"{url}/v1/cypher", json={"query": "MATCH (s:Service) RETURN count(s)"})
    assert r.status_code == 200, r.text
    return int(r.json()["rows"][0][0])


def test_only_loopback_host_names_are_answered(local_url: str) -> None:
    port = local_url.rsplit(":", 1)[1]
    for host in ("attacker.example", f"attacker.example:{port}", "10.0.0.5", "127.0.0.1.nip.io"):
        for method, path in (("GET", "/v1/schema"), ("GET", "/healthz"), ("POST", "/v1/cypher")):
            r = httpx.request(method, local_url + path, json=Q, headers={"Host": host})
            assert r.status_code == 403, (host, path, r.text)
            assert "loopback" in r.json()["error"]["message"]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", f"[::1]:{port}"):
        r = httpx.post(local_url + "/v1/cypher", json=Q, headers={"Host": host})
        assert r.status_code == 200, (host, r.text)


def test_cross_site_form_posts_are_refused(local_url: str, tmp_path: Path) -> None:
    before = _services(local_url)
    body = otlp_request("csrf-svc").SerializeToString()
    for ctype in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": ctype} if ctype else {}
        r = httpx.post(f"{local_url}/v1/ingest/traces?filename=x.pb", content=body, headers=headers)
        assert r.status_code == 403, (ctype, r.text)
        assert "X-Prodgraph-Client" in r.json()["error"]["message"]
    r = httpx.post(f"{local_url}/v1/ingest/traces", files=[("files", ("x.pb", body, "text/plain"))])
    assert r.status_code == 403  # multipart/form-data is what an HTML form sends
    r = httpx.post(f"{local_url}/v1/traces", content=body, headers={"Content-Type": "text/plain"})
    assert r.status_code == 403
    assert _services(local_url) == before  # nothing was loaded
    # a non-form content type, or the client header, is what scripts and the CLI send
    r = httpx.post(
        f"{local_url}/v1/ingest/traces?filename=x.pb",
        content=body,
        headers={"Content-Type": "application/x-protobuf"},
    )
    assert r.status_code == 200, r.text
    r = httpx.post(
        f"{local_url}/v1/ingest/traces",
        files=[("files", ("y.pb", otlp_request("csrf-ok").SerializeToString(), "text/plain"))],
        headers={"X-Prodgraph-Client": "script"},
    )
    assert r.status_code == 200, r.text
    assert _services(local_url) == before + 2


def test_foreign_origins_are_refused(local_url: str) -> None:
    for origin in ("http://attacker.example", "null", "http://127.0.0.1:1", "https://evil.test"):
        r = httpx.post(f"{local_url}/v1/cypher", json=Q, headers={"Origin": origin})
        assert r.status_code == 403, (origin, r.text)
        assert "origin" in r.json()["error"]["message"].lower()
        r = httpx.get(f"{local_url}/v1/schema", headers={"Origin": origin})
        assert r.status_code == 403
    r = httpx.post(f"{local_url}/v1/cypher", json=Q, headers={"Origin": local_url})
    assert r.status_code == 200, r.text  # the explorer page served by this service


def test_the_python_client_still_works(local_url: str, tmp_path: Path) -> None:
    from graph_service.client import HttpBackend

    spans = tmp_path / "spans.pb"
    spans.write_bytes(otlp_request("client-svc").SerializeToString())
    backend = HttpBackend(local_url)
    try:
        report = backend.ingest("traces", [str(spans)], {})
    finally:
        backend.close()
    assert report["written"]["Service"] == 1


def test_with_keys_the_host_is_not_checked(client) -> None:  # type: ignore[no-untyped-def]
    # behind a proxy with keys: the key, not the host name, guards the service
    r = client.post("/v1/cypher", json=Q, headers={**auth("reader"), "Host": "graph.internal"})
    assert r.status_code == 200, r.text
