"""Settings from the environment: the forms the README documents parse."""

from __future__ import annotations

import pytest

from graph_service.api.auth import KeyRing, hash_key
from graph_service.settings import Settings


def test_api_keys_as_the_readme_writes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    reader, admin = hash_key("r-secret"), hash_key("a-secret")
    monkeypatch.setenv("PRODGRAPH_API_KEYS", f"reader:{reader}, admin:{admin}")
    keys = KeyRing(Settings().api_keys).keys
    assert [(k.role.name, k.sha256) for k in keys] == [("reader", reader), ("admin", admin)]
    monkeypatch.setenv("PRODGRAPH_API_KEYS", f'["writer:{reader}"]')
    assert Settings().api_keys == [f"writer:{reader}"]
    monkeypatch.setenv("PRODGRAPH_API_KEYS", "")
    assert Settings().api_keys == []
