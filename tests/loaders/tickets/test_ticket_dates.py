"""Ticket times that cannot be read or cannot be true are reported per ticket, never stored.

The ticket itself loads (its text, links and fixes are worth having); the bad time is left
empty and the load report's warnings name the ticket, the field, the value and the reason.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore
from loaders.tickets import make_loader

SETTINGS = Settings(db_path=Path("unused"))
HEADER = "id,title,body,kind,status,severity,labels,created_at,resolved_at\n"


def _created(store: GraphStore) -> dict[str, object]:
    rows = store.query(
        "MATCH (t:Ticket) RETURN t.key AS k, t.created_at AS c, t.resolved_at AS r"
    ).rows()
    return {r["k"]: (r["c"], r["r"]) for r in rows}


def test_csv_bad_and_future_dates_are_reported_and_left_empty(
    store: GraphStore, tmp_path: Path
) -> None:
    soon = (datetime.now(UTC) + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (tmp_path / "t.csv").write_text(
        HEADER
        + "T-1,fine,,bug,open,,,2024-01-01T00:00:00Z,2024-01-02T00:00:00+0200\n"
        + "T-2,unreadable,,bug,open,,,notadate,\n"
        + "T-3,far future,,bug,open,,,2999-01-01T00:00:00Z,2024-01-02T00:00:00Z\n"
        + "T-4,naive far future,,bug,closed,,,2024-01-01T00:00:00,2999-06-01T12:00:00\n"
        + f"T-5,clock skew,,bug,open,,,{soon},\n"
        + "T-6,before 1970,,bug,open,,,1901-01-01T00:00:00Z,\n"
        + "T-7,no date,,bug,open,,,,\n"
    )
    report = ingest(store, make_loader([str(tmp_path / "t.csv")], SETTINGS, {}))
    assert report.written["Ticket"] == 7  # every ticket loads
    warned = {(w.item, w.position): w.reason for w in report.warnings}
    where = str(tmp_path / "t.csv")
    assert warned[("ticket:csv:T-2", f"{where} line 3")] == (
        "created_at 'notadate' is not an ISO 8601 time: stored without it"
    )
    assert warned[("ticket:csv:T-3", f"{where} line 4")].startswith(
        "created_at 2999-01-01T00:00:00 is in the future (later than the load time "
    )
    assert warned[("ticket:csv:T-4", f"{where} line 5")].startswith(
        "resolved_at 2999-06-01T12:00:00 is in the future"
    )
    assert warned[("ticket:csv:T-6", f"{where} line 7")] == (
        "created_at 1901-01-01T00:00:00 is before 1970: stored without it"
    )
    assert len(report.warnings) == 4  # T-1, T-5 (within the skew allowance) and T-7 are fine
    stored = _created(store)
    assert stored["T-1"] == (datetime(2024, 1, 1), datetime(2024, 1, 1, 22))
    assert stored["T-2"] == (None, None)
    assert stored["T-3"] == (None, datetime(2024, 1, 2))
    assert stored["T-4"] == (datetime(2024, 1, 1), None)
    assert stored["T-5"][0] is not None
    assert stored["T-6"] == (None, None) and stored["T-7"] == (None, None)


def test_github_and_jira_dates_are_checked_too(store: GraphStore, tmp_path: Path) -> None:
    (tmp_path / "gh.json").write_text(
        json.dumps(
            [
                {"number": 1, "title": "a", "state": "open", "created_at": "2999-01-01T00:00:00Z"},
                {"number": 2, "title": "b", "state": "open", "created_at": 1700000000},
                {"number": 3, "title": "c", "state": "open", "created_at": "2024-05-01T00:00:00Z"},
            ]
        )
    )
    (tmp_path / "jira.json").write_text(
        json.dumps(
            {
                "issues": [
                    {"key": "OPS-1", "fields": {"summary": "x", "created": "yesterday"}},
                    {"key": "OPS-2", "fields": {"created": "2024-05-01T10:00:00.000+0200"}},
                ]
            }
        )
    )
    report = ingest(
        store, make_loader([str(tmp_path / "gh.json"), str(tmp_path / "jira.json")], SETTINGS, {})
    )
    assert report.written["Ticket"] == 5
    reasons = {w.item: w.reason for w in report.warnings}
    assert reasons["ticket:github:1"].startswith("created_at 2999-01-01T00:00:00 is in the future")
    assert reasons["ticket:github:2"] == (
        "created_at 1700000000 is not an ISO 8601 time (a number): stored without it"
    )
    assert reasons["ticket:jira:OPS-1"] == (
        "created_at 'yesterday' is not an ISO 8601 time: stored without it"
    )
    assert set(reasons) == {"ticket:github:1", "ticket:github:2", "ticket:jira:OPS-1"}
    stored = _created(store)
    assert stored["3"][0] == datetime(2024, 5, 1)
    assert stored["OPS-2"][0] == datetime(2024, 5, 1, 8)
    assert stored["1"][0] is None and stored["2"][0] is None and stored["OPS-1"][0] is None
