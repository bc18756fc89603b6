"""A signature first seen in a ticket has no count, first or last seen, nor services: every
surface that shows it reads those fields as a dash, never as "0 occurrences"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from rich.console import Console

from graph_service.api import create_app
from graph_service.api.auth import hash_key
from graph_service.api.routes.triage import get_triage_config
from graph_service.batch import edges, nodes
from graph_service.store import GraphStore
from graph_service.triage import TicketInput, TriageConfig, seen_before
from graph_service.triage.parse import read_ticket
from graph_service.triage.render import render_seen_before
from tests.conftest import StoreBackend
from tests.graph_service.triage.conftest import T0, _e, _ticket, build_graph
from tests.graph_service.triage.test_frames import PYTHON

FP = read_ticket(TicketInput(body=PYTHON)).fingerprint or ""
W = {"loaded_by": "test", "run_id": "r1"}


def ticket_only_signature(store: GraphStore) -> None:
    """What the ticket loader writes for an error no trace has shown: type, template, frames."""
    build_graph(
        store, [_ticket("ticket:github:7", "Crash on qty", PYTHON, T0 - timedelta(days=4), FP)]
    )
    row = {"uid": f"err:{FP}", "fingerprint": FP, "type": "ValueError", "message_template": "x"}
    store.write(nodes("ErrorSignature", [row]), **W)
    store.write(
        edges("REPORTS", "Ticket", "ErrorSignature", [_e("ticket:github:7", f"err:{FP}")]), **W
    )


def test_cli_panel_reads_unknown_counts_and_times_as_a_dash(store: GraphStore) -> None:
    ticket_only_signature(store)
    seen = seen_before(store, FP)
    assert seen.signature is not None and seen.signature.count is None
    console = Console(record=True, width=300)
    console.print(render_seen_before(seen))
    text = console.export_text()
    assert "0 occurrence" not in text
    assert "(— occurrence(s), first —, last —; seen in —)" in text
    assert "ticket 7: Crash on qty" in text


def test_api_error_history_says_the_count_is_unknown(tmp_path: Path, backend: StoreBackend) -> None:
    store = backend.open()
    ticket_only_signature(store)
    store.close()
    settings = backend.with_settings(
        model_dir=tmp_path / "models", api_keys=[f"reader:{hash_key('k')}"]
    )
    app = create_app(settings)
    app.dependency_overrides[get_triage_config] = lambda: TriageConfig(
        embedder="hashing", learned=False
    )
    with TestClient(app) as client:
        r = client.get(f"/v1/errors/{FP}/history", headers={"Authorization": "Bearer k"})
    assert r.status_code == 200, r.text
    sig = r.json()["signature"]
    assert sig["count"] is None and sig["first_seen"] is None and sig["last_seen"] is None
    assert [t["key"] for t in r.json()["tickets"]] == ["7"]
