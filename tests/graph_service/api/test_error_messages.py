"""400 answers say what was wrong with the input, never the internals that noticed it (issue 15,
item 9): no Python conversion errors, pybind11 cast errors or Arrow type names."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from graph_service.api.errors import public_message
from tests.graph_service.api.conftest import auth

INTERNALS = (
    "invalid literal",
    "could not convert",
    "pybind11",
    "C++",
    "Unable to cast",
    "arrow conversion",
    "Arrow",
    "Traceback",
)

CASES: list[tuple[dict[str, Any], str]] = [
    ({"query": "RETURN $x AS x", "params": {"x": [1, "a"]}}, "'a' is not a whole number"),
    ({"query": "RETURN $x AS x", "params": {"x": [[1], [1.5, "z"]]}}, "'z' is not a number"),
    ({"query": "RETURN $x AS x", "params": {"x": 2**64}}, "fit in 64 bits"),
    (
        {"query": "RETURN $x AS x", "params": {"x": {"a": [1, {"b": 2}]}}},
        "cannot return",
    ),
]


# Ladybug's lists and maps hold values of one type; Neo4j's may mix them (docs/cypher.md), so
# only the 64-bit case is a mistake on both backends
@pytest.mark.parametrize(
    ("body", "says"),
    [c if "64 bits" in c[1] else pytest.param(*c, marks=pytest.mark.embedded_only) for c in CASES],
)
def test_cypher_parameter_mistakes(client: TestClient, body: dict[str, Any], says: str) -> None:
    r = client.post("/v1/cypher", json=body, headers=auth("reader"))
    assert r.status_code == 400, r.text
    message = r.json()["error"]["message"]
    assert says in message, message
    for internal in INTERNALS:
        assert internal not in r.text, (internal, r.text)


def test_csv_of_nested_values_names_the_columns(client: TestClient) -> None:
    r = client.post(
        "/v1/cypher",
        json={"query": "MATCH (f:Function) RETURN f AS node, f.name AS name LIMIT 1"},
        headers={**auth("reader"), "Accept": "text/csv"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["detail"] == {"columns": ["node"]}
    for internal in INTERNALS[:-2]:
        assert internal not in r.text


def test_plain_messages_are_left_alone() -> None:
    assert public_message("option expects key=value, got 'x'") is None
    assert public_message("ask for JSON or Arrow") is None
    assert "whole number" in (public_message("invalid literal for int() with base 10: 'x'") or "")


def test_a_deeply_nested_webhook_payload_is_a_caller_error(client: TestClient) -> None:
    import hashlib
    import hmac

    body = b'{"issue": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    sig = "sha256=" + hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
    r = client.post(
        "/v1/webhooks/github",
        content=body,
        headers={"X-GitHub-Event": "issues", "X-Hub-Signature-256": sig},
    )
    assert r.status_code == 400, r.text
    assert "nested too deeply" in r.json()["error"]["message"]
