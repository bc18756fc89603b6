"""Property-based fuzzing of the OpenAPI schema (schemathesis) with an admin key: no 5xx.

Every operation of `/openapi.json` gets generated requests (valid and invalid bodies, query
strings and headers) against the fixture graph on a real Ladybug store, with the admin key so
that every route is reached past authentication. The one 5xx allowed is the documented 503
`model_missing` of /v1/risk and /v1/risk/recent on a store with no trained model (an operator
must train one). The slow tier runs a few hundred cases (`pytest -m slow`); the default tier a
short derandomised smoke run.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from graph_service.api.app import create_app  # noqa: E402
from graph_service.api.auth import hash_key  # noqa: E402
from graph_service.settings import Settings  # noqa: E402
from graph_service.store import open_store  # noqa: E402
from tests.fixtures.graph import build_fixture_graph  # noqa: E402

# the first triage or risk call loads models (seconds on a busy machine): time, not a failure
ADMIN_KEY = "fuzz-admin-secret"
HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}"}


def _app():  # type: ignore[no-untyped-def]
    root = Path(tempfile.mkdtemp(prefix="prodgraph-fuzz-"))
    atexit.register(shutil.rmtree, root, True)
    cfg = Settings(
        db_path=root / "g.lbug",
        model_dir=root / "models",
        api_keys=[f"admin:{hash_key(ADMIN_KEY)}"],
        webhook_secret="fuzz-secret",
        query_timeout_s=5.0,
    )
    store = open_store(cfg, create=True)
    build_fixture_graph(store)
    return create_app(cfg, store=store)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


def _check(case, response) -> None:  # type: ignore[no-untyped-def]
    if response.status_code == 503 and case.path in ("/v1/risk", "/v1/risk/recent"):
        assert response.json()["error"]["code"] == "model_missing"
        return
    assert response.status_code < 500, (case.method, case.path, response.text[:500])


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case) -> None:  # type: ignore[no-untyped-def]
    _check(case, case.call(headers=HEADERS, timeout=120))


@schema.parametrize()
@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors_smoke(case) -> None:  # type: ignore[no-untyped-def]
    _check(case, case.call(headers=HEADERS, timeout=120))
