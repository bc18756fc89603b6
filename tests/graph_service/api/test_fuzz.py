"""Property-based fuzzing of the OpenAPI schema (schemathesis): no request may produce a 5xx.

The one 5xx allowed is the documented 503 `model_missing` of /v1/risk and /v1/risk/recent on a
store with no trained model (an operator must train one); anything else at or above 500 fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from graph_service.api.app import create_app  # noqa: E402
from graph_service.settings import Settings  # noqa: E402
from graph_service.store import open_store  # noqa: E402


def _app():  # type: ignore[no-untyped-def]
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="prodgraph-fuzz-"))
    cfg = Settings(
        db_path=root / "g.lbug",
        model_dir=root / "models",
        auth_disabled=True,
        webhook_secret="fuzz-secret",
    )
    store = open_store(cfg, create=True)
    return create_app(cfg, store=store)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case) -> None:  # type: ignore[no-untyped-def]
    response = case.call()
    if response.status_code == 503 and case.path in ("/v1/risk", "/v1/risk/recent"):
        assert response.json()["error"]["code"] == "model_missing"
        return
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
