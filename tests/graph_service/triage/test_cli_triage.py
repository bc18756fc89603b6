"""`prodgraph triage`: a table by default, `--evidence` adds the Cypher, `--json` the answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import StoreBackend
from tests.graph_service.triage.conftest import build_graph
from tests.graph_service.triage.test_frames import PYTHON

PRODGRAPH = Path(sys.executable).parent / "prodgraph"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run(
        [str(PRODGRAPH), *args], capture_output=True, text=True, timeout=300, env=env
    )


def test_triage_command_table_evidence_and_json(
    tmp_path: Path, backend: StoreBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend.use_env(monkeypatch)
    db = backend.db_args
    store = backend.open()
    build_graph(store)
    store.close()
    ticket = tmp_path / "t.json"
    ticket.write_text(json.dumps({"title": "Crash parsing quantity", "body": PYTHON}))
    table = _run("triage", str(ticket), *db, "--when", "2026-03-01T12:00:00Z")
    assert table.returncode == 0, table.stderr
    assert "parse_qty" in table.stdout and "Suspect commits" in table.stdout
    assert "MATCH" not in table.stdout  # the Cypher only with --evidence
    ev = _run("triage", str(ticket), *db, "--evidence")
    assert ev.returncode == 0, ev.stderr
    assert "MATCH (f:Function {uid: $uid})" in ev.stdout
    out = _run("triage", str(ticket), *db, "--json", "--since-days", "30")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["functions"][0]["name"] == "parse_qty"
    assert answer["as_of"].startswith(answer["as_of"][:4]) and answer["commit_window"]
