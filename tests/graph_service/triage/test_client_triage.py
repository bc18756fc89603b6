"""The Python client's triage on the embedded store: the same answer as the engine's."""

from __future__ import annotations

from pathlib import Path

from graph_service.client import connect
from graph_service.settings import Settings
from graph_service.store import open_store
from tests.graph_service.triage.conftest import T0, build_graph, fn_uid
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
