"""The `prodgraph risk` table on a real store: what a commit's row says."""

from __future__ import annotations

from rich.console import Console

from graph_service.batch import nodes
from graph_service.cli.risk_view import risk_table
from graph_service.store import GraphStore

SUMMARY = "Resolve the pager command once, in `_pager_contextmanager` (#3776)"


def test_a_long_summary_wraps_whole_in_its_cell(embedded_store: GraphStore) -> None:
    """A summary longer than the column is wrapped, not cut mid-identifier
    (`_pager_contextmanage`) with nothing to say it was cut."""
    uid = "commit:" + "9835b0f7" * 5
    embedded_store.write(
        nodes("Commit", [{"uid": uid, "sha": uid[7:], "summary": SUMMARY}]),
        loaded_by="test",
        run_id="r1",
    )
    answer = {"target": uid, "overall": 0.5, "label": None, "explanations": []}
    console = Console(width=80, record=True)
    console.print(risk_table(embedded_store, [answer], "HEAD"))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    cells = [line.split("│")[3].strip() for line in text.splitlines() if line.count("│") == 4]
    assert " ".join(c for c in cells if c) == f"{SUMMARY}"
