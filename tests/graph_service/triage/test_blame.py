"""Suspect commits by `git blame` of the frames' lines as of the ticket's time, on a real repo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import loaders.code as code_loader
import loaders.git as git_loader
from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore
from graph_service.triage import TicketInput, TriageConfig, triage
from tests.conftest import StoreBackend
from tests.fixtures.git import git as _git

V1 = '''"""Quantities."""


def parse_qty(raw):
    """Parse a quantity field."""
    text = raw.strip()
    return float(text)


def handle(raw):
    """Handle a raw request."""
    return parse_qty(raw)
'''
# each step: (date, summary, old text, new text)
STEPS = [
    ("2025-06-01", "Reformat with black", "    text = raw.strip()", "    text = (raw).strip()"),
    ("2025-09-01", "Parse quantities as integers", "return float(text)", "return int(text)"),
    ("2026-02-01", "Accept decimal quantities", "return int(text)", "return int(float(text))"),
]
TRACE = """Traceback (most recent call last):
  File "/srv/app/shop/qty.py", line 12, in handle
    return parse_qty(raw)
  File "/srv/app/shop/qty.py", line 7, in parse_qty
    return int(text)
ValueError: invalid literal for int() with base 10: '2.5'
"""


@pytest.fixture
def blamed(tmp_path: Path, store: GraphStore) -> tuple[GraphStore, dict[str, str]]:
    repo = tmp_path / "shop"
    (repo / "shop").mkdir(parents=True)
    _git(repo, "init", "-q")
    src = repo / "shop" / "qty.py"
    src.write_text(V1)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Add quantity parsing")
    shas = {"Add quantity parsing": _git(repo, "rev-parse", "HEAD")}
    for day, summary, old, new in STEPS:
        src.write_text(src.read_text().replace(old, new))
        _git(repo, "commit", "-q", "-am", summary, date=f"{day}T00:00:00Z")
        shas[summary] = _git(repo, "rev-parse", "HEAD")
    settings = Settings(db_path=tmp_path / "g.lbug")  # the loaders' options only
    ingest(store, code_loader.make_loader([str(repo)], settings, {"repo": "shop"}))
    ingest(store, git_loader.make_loader([str(repo)], settings, {"repo": "shop", "szz": "false"}))
    return store, shas


def test_blame_names_the_commit_that_wrote_the_failing_line(
    blamed: tuple[GraphStore, dict[str, str]],
) -> None:
    store, shas = blamed
    cfg = TriageConfig(embedder="hashing", learned=False)
    ticket = TicketInput(title="qty crash", body=TRACE, created=datetime(2026, 1, 1))
    try:
        r = triage(store, ticket, None, cfg)
        assert r.commit_method == "blame" and r.commit_window == ""
        names = [c.name for c in r.commits]
        assert names[0] == "Parse quantities as integers", names
        # written after the ticket: not a suspect; cosmetic: looked through
        assert "Accept decimal quantities" not in names
        assert "Reformat with black" not in names
        assert r.commits[0].uid == f"commit:{shas['Parse quantities as integers']}"
        top = r.commits[0].evidence[0]
        assert top.detail.startswith("wrote line 7 of frame 1 (parse_qty) shop/qty.py:7")
        assert r.commits[0].reason == "wrote line 7 of frame 1 (parse_qty) shop/qty.py:7"
        assert r.commits[0].signals["innermost_line"] == 1.0
        scores = [c.score for c in r.commits]  # the list reads in score order
        assert scores == sorted(scores, reverse=True), scores
        assert store.query(top.cypher, top.params).rows()
        # the answer says what was blamed, as of the ticket, and what was looked through
        assert r.commit_blamed[:2] == [
            "frame 1 (parse_qty) shop/qty.py:7 (4 lines)",
            "frame 2 (handle) shop/qty.py:12 (3 lines)",
        ], r.commit_blamed
        assert r.commit_blamed[-1] == "looked through 1 cosmetic commit(s)"
        add = next(c for c in r.commits if c.name == "Add quantity parsing")
        assert (
            add.reason
            == "wrote 3 line(s) near line 7 of frame 1 (parse_qty) shop/qty.py:7 (3 of 4)"
        )
        # a visible time limit: the answer says it applied, and older commits are gone
        short = triage(store, ticket, None, cfg.model_copy(update={"commit_since_days": 30.0}))
        assert short.commit_window.startswith("only commits authored after 2025-12-02")
        assert short.commits == []
        # after the decimal change the newer commit wrote the line
        later = ticket.model_copy(update={"created": datetime(2026, 3, 1)})
        r2 = triage(store, later, None, cfg)
        assert r2.commits[0].name == "Accept decimal quantities"
    finally:
        store.close()


def test_without_a_clone_commits_come_from_the_graph_with_no_window(
    blamed: tuple[GraphStore, dict[str, str]],
) -> None:
    store, _ = blamed
    cfg = TriageConfig(embedder="hashing", learned=False, blame=False)
    # three years after the last commit: the old 180-day window would have emptied the table
    ticket = TicketInput(title="qty crash", body=TRACE, created=datetime(2029, 1, 1))
    try:
        r = triage(store, ticket, None, cfg)
        assert r.commit_method == "graph" and r.commit_window == ""
        assert r.commits, "commits older than 180 days are still suspects"
        assert r.commits[0].reason.startswith("changed suspect "), r.commits[0].reason
        assert r.commit_blamed == []
    finally:
        store.close()


def test_without_a_trace_the_top_suspect_functions_are_blamed_whole(
    blamed: tuple[GraphStore, dict[str, str]],
) -> None:
    store, _ = blamed
    cfg = TriageConfig(embedder="hashing", learned=False)
    ticket = TicketInput(title="strip breaks on quantities", created=datetime(2025, 10, 1))
    try:
        r = triage(store, ticket, None, cfg)
        assert r.functions[0].name == "parse_qty" and r.commit_method == "blame"
        assert r.commit_blamed[0] == "suspect function parse_qty shop/qty.py:4-7 (4 lines)"
        by_name = {c.name: c for c in r.commits}
        add = by_name["Add quantity parsing"]
        assert add.reason == "wrote 3 of 4 lines of suspect function parse_qty shop/qty.py:4-7"
        assert by_name["Parse quantities as integers"].reason.startswith("wrote 1 of 4 lines")
        assert r.commits[0].name == "Add quantity parsing"
    finally:
        store.close()


def test_a_frame_whose_line_is_another_functions_then_blames_the_named_function(
    blamed: tuple[GraphStore, dict[str, str]],
) -> None:
    """The reporter ran another version: line 12 held `handle` at the ticket's time, but the
    frame says `parse_qty`; the named function is blamed, and no line of `handle` counts."""
    store, _ = blamed
    cfg = TriageConfig(embedder="hashing", learned=False)
    body = (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/shop/qty.py", line 12, in parse_qty\n'
        "    return int(text)\n"
        "ValueError: invalid literal for int() with base 10: '2.5'\n"
    )
    ticket = TicketInput(title="qty crash", body=body, created=datetime(2026, 1, 1))
    try:
        r = triage(store, ticket, None, cfg)
        assert r.commit_blamed[0] == "frame 1 (parse_qty) shop/qty.py:4-7 (4 lines)"
        assert all("line 12" not in c.reason for c in r.commits), [c.reason for c in r.commits]
    finally:
        store.close()


def test_ticket_words_meet_function_bodies(blamed: tuple[GraphStore, dict[str, str]]) -> None:
    store, _ = blamed
    cfg = TriageConfig(embedder="hashing", learned=False)
    # no trace; only parse_qty's source says strip (as of the ticket, it still used float)
    ticket = TicketInput(title="strip breaks on quantities", created=datetime(2025, 7, 1))
    try:
        r = triage(store, ticket, None, cfg)
        top = r.functions[0]
        assert top.name == "parse_qty" and top.signals["body_bm25"] == 1.0
        ev = next(e for e in top.evidence if e.signal == "body_bm25")
        assert store.query(ev.cypher, ev.params).rows()
        off = triage(store, ticket, None, cfg.model_copy(update={"body_text": False}))
        assert all("body_bm25" not in f.signals for f in off.functions)
    finally:
        store.close()


def test_a_module_level_frame_blames_its_own_line_not_the_whole_file(
    tmp_path: Path, store: GraphStore
) -> None:
    """Module-level code is a function whose lines are the whole file's: blaming them all
    would credit whichever commit wrote most of the file."""
    repo = tmp_path / "shop"
    (repo / "shop").mkdir(parents=True)
    _git(repo, "init", "-q")
    src = repo / "shop" / "qty.py"
    src.write_text(V1 + "\n\nDEFAULT = handle(' 3 ')\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Add quantity parsing")
    src.write_text(src.read_text().replace("' 3 '", "'3'"))
    _git(repo, "commit", "-q", "-am", "Default without spaces", date="2025-03-01T00:00:00Z")
    settings = Settings(db_path=tmp_path / "g.lbug")
    ingest(store, code_loader.make_loader([str(repo)], settings, {"repo": "shop"}))
    ingest(store, git_loader.make_loader([str(repo)], settings, {"repo": "shop", "szz": "false"}))
    body = (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/shop/qty.py", line 15, in <module>\n'
        "    DEFAULT = handle('3')\n"
        '  File "/srv/app/shop/qty.py", line 12, in handle\n'
        "    return parse_qty(raw)\n"
        "ValueError: bad quantity\n"
    )
    cfg = TriageConfig(embedder="hashing", learned=False)
    try:
        ticket = TicketInput(title="qty crash", body=body, created=datetime(2026, 1, 1))
        r = triage(store, ticket, None, cfg)
        details = [e.detail for c in r.commits for e in c.evidence]
        module = [d for d in details if "shop/qty.py:15 " in d]
        assert module, details
        assert all("-L 15,15 " in d for d in module), module
        assert r.commits[0].name == "Add quantity parsing"
    finally:
        store.close()


def test_bodies_are_read_in_files_the_words_point_at_not_only_traced_ones(
    tmp_path: Path, store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trace may stop short of the fault: the files the ticket's words point at have their
    function bodies read too, even when the traced files are the strongest candidates."""
    import graph_service.triage.bodies as bodies

    monkeypatch.setattr(bodies, "_FILES", 1)  # room for the traced file only
    repo = tmp_path / "shop"
    (repo / "shop").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "shop" / "qty.py").write_text(V1)
    (repo / "shop" / "discount.py").write_text(
        '"""Discounts."""\n\n\ndef apply(order, code):\n'
        "    if code.startswith('XMAS') and order.coupon_expired:\n"
        "        raise ValueError('coupon expired')\n    return order\n"
    )
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Shop")
    settings = Settings(db_path=tmp_path / "g.lbug")
    ingest(store, code_loader.make_loader([str(repo)], settings, {"repo": "shop"}))
    ingest(store, git_loader.make_loader([str(repo)], settings, {"repo": "shop", "szz": "false"}))
    body = "XMAS coupon expired though the discount is valid\n" + TRACE
    cfg = TriageConfig(embedder="hashing", learned=False)
    try:
        r = triage(store, TicketInput(title="discount", body=body), None, cfg)
        apply = next(f for f in r.functions if f.name == "apply")
        assert apply.signals.get("body_bm25", 0.0) > 0, apply.signals
    finally:
        store.close()


def test_the_command_line_shows_each_commits_reason_and_what_was_blamed(
    tmp_path: Path,
    backend: StoreBackend,
    blamed: tuple[GraphStore, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, _ = blamed
    store.close()  # the command opens the store itself
    backend.use_env(monkeypatch)
    ticket = tmp_path / "t.json"
    ticket.write_text(json.dumps({"title": "qty crash", "body": TRACE}))
    prodgraph = Path(sys.executable).parent / "prodgraph"
    out = subprocess.run(
        [str(prodgraph), "triage", str(ticket), *backend.db_args, "--when", "2026-01-01"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert out.returncode == 0, out.stderr
    assert "wrote line 7 of frame 1 (parse_qty) shop/qty.py:7" in out.stdout, out.stdout
    assert "blamed: frame 1 (parse_qty) shop/qty.py:7 (4 lines)" in out.stdout
