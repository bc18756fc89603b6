"""Frames map to the function that held their line at the ticket's time (a real git repo)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import loaders.code as code_loader
import loaders.git as git_loader
from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore
from graph_service.triage import TicketInput, TriageConfig, triage
from tests.fixtures.git import git as _git

V1 = '''"""Quantities."""


def parse_qty(raw):
    """Parse a quantity field."""
    text = raw.strip()
    return int(text)


def handle(raw):
    """Handle a raw request."""
    return parse_qty(raw)
'''
BANNER = '''

def banner(title):
    """A banner line."""
    line = "=" * 10
    width = len(title)
    pad = " " * width
    return line + pad + title
'''
# lines as the reporter's code had them (V1): parse_qty line 7, handle line 12
TRACE = """Traceback (most recent call last):
  File "/srv/app/shop/qty.py", line 12, in handle
    return parse_qty(raw)
  File "/srv/app/shop/qty.py", line 7, in parse_qty
    return int(text)
ValueError: invalid literal for int() with base 10: '2.5'
"""


def test_frame_lines_are_read_in_the_file_as_it_was_at_the_ticket(
    tmp_path: Path, store: GraphStore
) -> None:
    repo = tmp_path / "shop"
    (repo / "shop").mkdir(parents=True)
    _git(repo, "init", "-q")
    src = repo / "shop" / "qty.py"
    src.write_text(V1)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Add quantity parsing", date="2025-01-01T00:00:00Z")
    # after the ticket, a new function above shifts every line by 9
    src.write_text(V1.replace('"""Quantities."""\n', '"""Quantities."""\n' + BANNER))
    _git(repo, "commit", "-q", "-am", "Add banners", date="2025-06-01T00:00:00Z")
    settings = Settings(db_path=tmp_path / "g.lbug")
    ingest(store, code_loader.make_loader([str(repo)], settings, {"repo": "shop"}))
    ingest(store, git_loader.make_loader([str(repo)], settings, {"repo": "shop", "szz": "false"}))
    cfg = TriageConfig(embedder="hashing", learned=False)
    try:
        ticket = TicketInput(title="qty crash", body=TRACE, created=datetime(2025, 3, 1))
        r = triage(store, ticket, None, cfg)
        trace = {f.name: f.signals.get("trace", 0.0) for f in r.functions}
        # at the head, line 7 is inside banner and line 12 inside parse_qty
        assert trace.get("banner", 0.0) == 0.0
        assert trace["parse_qty"] > trace["handle"] > 0
        assert r.functions[0].name == "parse_qty"
        assert [f.function_uid for f in r.ticket.frames if f.depth == 0] == [
            "fn:shop:shop/qty.py:parse_qty"
        ]
    finally:
        store.close()
