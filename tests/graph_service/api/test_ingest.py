"""`POST /v1/ingest/{source}`: multipart and raw uploads, server paths, load twice unchanged."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from google.protobuf import json_format

from graph_service.api import create_app
from graph_service.settings import Settings
from tests.graph_service.api.conftest import auth
from tests.graph_service.api.otlp_util import otlp_request

WRITER = auth("writer")


def _counts(client: TestClient) -> dict[str, dict[str, int]]:
    return client.get("/v1/admin/counts", headers=auth("admin")).json()


def test_multipart_upload_loads_and_reloads_unchanged(client: TestClient) -> None:
    files = [
        (
            "files",
            ("a/spans.pb", otlp_request("up-a").SerializeToString(), "application/octet-stream"),
        ),
        (
            "files",
            (
                "b.json",
                json_format.MessageToJson(otlp_request("up-b")).encode(),
                "application/json",
            ),
        ),
    ]
    before = _counts(client)
    r = client.post("/v1/ingest/traces", files=files, headers=WRITER)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["source"] == "traces"
    assert report["written"]["Service"] == 2
    assert report["skipped"] == [] and report["failed_batches"] == []
    after = _counts(client)
    assert after["nodes"]["Service"] == before["nodes"]["Service"] + 2
    again = client.post("/v1/ingest/traces", files=files, headers=WRITER)
    assert again.status_code == 200
    assert _counts(client) == after


def test_raw_body_with_filename(client: TestClient) -> None:
    body = otlp_request("raw-svc").SerializeToString()
    r = client.post("/v1/ingest/traces?filename=raw.pb", content=body, headers=WRITER)
    assert r.status_code == 200, r.text
    assert r.json()["written"]["Service"] == 1
    metrics = client.get("/metrics").text
    assert 'prodgraph_ingest_runs_total{outcome="ok",source="traces"} 1.0' in metrics


def test_bad_input_lands_in_the_report(client: TestClient) -> None:
    r = client.post(
        "/v1/ingest/traces?filename=bad.pb", content=b"\xff\xfe garbage", headers=WRITER
    )
    assert r.status_code == 200
    assert r.json()["skipped"] and r.json()["skipped"][0]["item"].endswith("bad.pb")


def test_caller_mistakes(client: TestClient) -> None:
    r = client.post("/v1/ingest/nosuch?filename=x", content=b"x", headers=WRITER)
    assert r.status_code == 400 and "unknown source" in r.json()["error"]["message"]
    assert client.post("/v1/ingest/traces", headers=WRITER).status_code == 400
    r = client.post("/v1/ingest/traces?filename=../x.pb", content=b"x", headers=WRITER)
    assert r.status_code == 400 and "climbs out" in r.json()["error"]["message"]
    r = client.post("/v1/ingest/traces?option=novalue&filename=x.pb", content=b"x", headers=WRITER)
    assert r.status_code == 400


def test_server_paths_only_when_allowed(settings: Settings, tmp_path: Path) -> None:
    spans = tmp_path / "server-spans.pb"
    spans.write_bytes(otlp_request("server-svc").SerializeToString())
    url = f"/v1/ingest/traces?path={spans}"
    with TestClient(create_app(settings)) as c:
        r = c.post(url, headers=WRITER)
        assert r.status_code == 403 and "PRODGRAPH_ALLOW_SERVER_PATHS" in r.text
    allowed = settings.model_copy(
        update={"allow_server_paths": True, "server_path_roots": [tmp_path]}
    )
    with TestClient(create_app(allowed)) as c:
        r = c.post(url, headers=WRITER)
        assert r.status_code == 200, r.text
        assert r.json()["written"]["Service"] == 1
