"""The Python client's triage on the embedded store: the same answer as the engine's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from graph_service.api import create_app
from graph_service.api.auth import hash_key
from graph_service.client import Client, connect
from graph_service.settings import Settings
from graph_service.store import open_store
from graph_service.triage import TicketInput
from graph_service.triage.parse import read_ticket
from tests.graph_service.api.otlp_util import running_server
from tests.graph_service.triage.conftest import T0, _ticket, build_graph, fn_uid
from tests.graph_service.triage.test_frames import PYTHON


def test_client_triage(tmp_path: Path) -> None:
    db = tmp_path / "g.lbug"
    store = open_store(Settings(db_path=db), create=True)
    build_graph(store)
    store.close()
    with connect(path=db) as client:
        answer = client.triage("Crash parsing quantity", PYTHON, created=T0, commit_since_days=30)
    assert answer["functions"][0]["uid"] == fn_uid("shop/parsing.py", "parse_qty")
    assert answer["commit_window"].startswith("only commits authored after 2026-01-30")
    assert answer["as_of"].startswith("2026-03-01")


@contextmanager
def _client(how: str, db: Path) -> Iterator[Client]:
    if how == "embedded":
        with connect(path=db) as c:
            yield c
        return
    settings = Settings(db_path=db, model_dir=db.parent / "models")
    settings = settings.model_copy(update={"api_keys": [f"reader:{hash_key('k')}"]})
    with running_server(create_app(settings)) as url, connect(url=url, api_key="k") as c:
        yield c


@pytest.mark.parametrize("how", ["embedded", "http"])
def test_client_similar_and_error_history(tmp_path: Path, how: str) -> None:
    """Through the client too: a ticket is never its own similar ticket, placeholders without
    text are left out, and the error history lists the earlier ticket once."""
    fp = read_ticket(TicketInput(body=PYTHON)).fingerprint or ""
    db = tmp_path / "g.lbug"
    store = open_store(Settings(db_path=db), create=True)
    day = timedelta(days=1)
    build_graph(
        store,
        [
            _ticket("ticket:github:7", "Crash on qty", PYTHON, T0 - 4 * day, fp),
            _ticket("ticket:github:8", "", "", T0 - 3 * day, fp),  # "Fixes #8" placeholder
        ],
    )
    store.close()
    with _client(how, db) as client:
        found = client.similar("qty crash again", PYTHON, created=T0)
        own = client.similar("Crash on qty", PYTHON, created=T0, uid="ticket:github:7")
        history = client.error_history(fp)
    assert [s["uid"] for s in found] == ["ticket:github:7"]
    assert found[0]["signals"]["fingerprint"] == 1.0
    assert own == []
    assert [t["key"] for t in history["tickets"]] == ["7"]
    assert history["fingerprint"] == fp


@pytest.mark.parametrize("how", ["embedded", "http"])
def test_client_triage_says_why_each_commit_is_a_suspect(tmp_path: Path, how: str) -> None:
    db = tmp_path / "g.lbug"
    store = open_store(Settings(db_path=db), create=True)
    build_graph(store)
    store.close()
    with _client(how, db) as client:
        answer = client.triage("OrderService.load fails to charge", "", created=T0)
    assert answer["commit_method"] == "graph" and answer["commit_blamed"] == []
    assert answer["commits"]
    assert all(c["reason"].startswith("changed suspect ") for c in answer["commits"])
