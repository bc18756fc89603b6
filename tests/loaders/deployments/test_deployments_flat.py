"""The documented JSONL and CSV formats into a real store: nodes, edges, problems, idempotence."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from graph_service.batch import nodes
from graph_service.errors import CallerError
from graph_service.settings import Settings
from graph_service.store import GraphStore
from loaders.deployments import make_loader
from tests.loaders.deployments.deploy_helpers import commit_uid, load, sha, snapshot

UNKNOWN = "dead" * 10

ROWS: list[dict[str, Any]] = [
    {
        "service": "api",
        "environment": "prod",
        "id": "1",
        "version": "1.0",
        "sha": sha("c2"),
        "started_at": "2024-03-01T10:00:00+02:00",
        "finished_at": "2024-03-01T10:05:00+02:00",
        "status": "success",
        "repo": "shop",
    },
    {
        "service": "api",
        "environment": "prod",
        "id": "2",
        "version": "1.1",
        "sha": sha("c4"),
        "started_at": "2024-03-02T09:00:00Z",
        "finished_at": "2024-03-02T09:04:00Z",
        "status": "Succeeded",
    },
    {
        "service": "api",
        "environment": "prod",
        "version": "1.2",
        "sha": sha("c6"),
        "started_at": "2024-03-03T09:00:00-05:00",
        "finished_at": "2024-03-03T09:30:00-05:00",
        "status": "rolled_back",
    },
    {
        "service": "api",
        "environment": "staging",
        "id": "s1",
        "version": "1.0",
        "sha": sha("c1"),
        "started_at": "2024-02-28T08:00:00Z",
        "finished_at": None,
        "status": "in_progress",
    },
    {
        "service": "web",
        "environment": "prod",
        "id": "w1",
        "version": "7",
        "sha": UNKNOWN,
        "started_at": "2024-03-01T12:00:00Z",
        "finished_at": "2024-03-01T12:01:00Z",
        "status": "failure",
        "repo": "web",
    },
]
BAD_LINES = (
    "{not json",
    json.dumps({**ROWS[0], "id": "x1", "service": ""}),
    json.dumps({**ROWS[0], "id": "x2", "status": "exploded"}),
    json.dumps({**ROWS[0], "id": "x3", "started_at": "2024-03-01T10:00:00"}),
    json.dumps({**ROWS[0], "id": "x4", "sha": "not-a-sha"}),
)
D1, D2 = "deploy:prod:api:1", "deploy:prod:api:2"
D3 = "deploy:prod:api:20240303T140000Z"


def write_jsonl(path: Path, rows: list[dict[str, Any]], bad: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps(r) for r in rows[:2]] + list(bad) + [json.dumps(r) for r in rows[2:]]
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return path


def test_jsonl_builds_deployments_with_utc_times(git_store: GraphStore, tmp_path: Path) -> None:
    report = load(git_store, [str(write_jsonl(tmp_path / "deploys.jsonl", ROWS))])

    assert not report.failed_batches and not report.skipped
    rows = {
        r["uid"]: r
        for r in git_store.query(
            "MATCH (d:Deployment) RETURN d.uid AS uid, d.started_at AS started_at, "
            "d.finished_at AS finished_at, d.status AS status, d.version AS version, d.sha AS sha"
        ).rows()
    }
    assert set(rows) == {D1, D2, D3, "deploy:staging:api:s1", "deploy:prod:web:w1"}
    assert rows[D1]["started_at"] == datetime(2024, 3, 1, 8, 0)
    assert rows[D1]["finished_at"] == datetime(2024, 3, 1, 8, 5)
    assert rows[D2]["status"] == "success"
    assert rows[D3]["started_at"] == datetime(2024, 3, 3, 14, 0)
    assert rows[D3]["status"] == "rolled_back" and rows[D3]["version"] == "1.2"
    assert rows["deploy:staging:api:s1"]["finished_at"] is None


def test_edges_of_ships_precedes(git_store: GraphStore, tmp_path: Path) -> None:
    load(git_store, [str(write_jsonl(tmp_path / "deploys.jsonl", ROWS))])

    of = git_store.query(
        "MATCH (d:Deployment)-[r:OF]->(s:Service) RETURN d.uid AS d, s.uid AS s, "
        "r.source AS source, r.confidence AS confidence"
    ).rows()
    assert {(r["d"], r["s"]) for r in of} == {
        (D1, "svc:api"),
        (D2, "svc:api"),
        (D3, "svc:api"),
        ("deploy:staging:api:s1", "svc:api"),
        ("deploy:prod:web:w1", "svc:web"),
    }
    assert {(r["source"], r["confidence"]) for r in of} == {("deploy", 1.0)}
    services = git_store.query(
        "MATCH (s:Service) RETURN s.uid AS uid, s.name AS name, s.first_seen AS fs"
    ).rows()
    assert sorted((r["uid"], r["name"], r["fs"]) for r in services) == [
        ("svc:api", "api", None),
        ("svc:web", "web", None),
    ]
    ships = git_store.query(
        "MATCH (d:Deployment)-[:SHIPS]->(c:Commit) RETURN d.uid AS d, c.uid AS c"
    ).rows()
    assert {(r["d"], r["c"]) for r in ships} == {
        (D1, commit_uid("c2")),
        (D2, commit_uid("c4")),
        (D3, commit_uid("c6")),
        ("deploy:staging:api:s1", commit_uid("c1")),
        ("deploy:prod:web:w1", f"commit:{UNKNOWN}"),
    }
    precedes = git_store.query(
        "MATCH (a:Deployment)-[:PRECEDES]->(b:Deployment) RETURN a.uid AS a, b.uid AS b"
    ).rows()
    assert sorted((r["a"], r["b"]) for r in precedes) == [(D1, D2), (D2, D3)]


def test_unknown_commit_is_a_warning_and_a_reference_node(
    git_store: GraphStore, tmp_path: Path
) -> None:
    report = load(git_store, [str(write_jsonl(tmp_path / "deploys.jsonl", ROWS))])

    [warning] = [w for w in report.warnings if UNKNOWN in w.reason]
    assert warning.item.endswith("deploys.jsonl") and warning.position == "line 5"
    ref = git_store.query(
        "MATCH (c:Commit {uid: $u}) RETURN c.sha AS sha, c.repo AS repo, "
        "c.authored_at AS at, c.loaded_by AS by",
        {"u": f"commit:{UNKNOWN}"},
    ).rows()
    assert ref == [{"sha": UNKNOWN, "repo": "web", "at": None, "by": "deployments"}]
    # commits the git loader wrote keep their stamps
    assert git_store.query(
        "MATCH (c:Commit) WHERE c.loaded_by = 'git' RETURN count(*) AS n"
    ).rows() == [{"n": 8}]


def test_without_reference_commits_ships_is_not_written(
    git_store: GraphStore, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "deploys.jsonl", ROWS)
    report = load(git_store, [str(path)], reference_commits="false")

    assert any("SHIPS not written" in w.reason for w in report.warnings)
    assert git_store.counts()["nodes"]["Commit"] == 8
    assert git_store.counts()["edges"]["SHIPS"] == 4


def test_bad_lines_are_reported_with_line_numbers(git_store: GraphStore, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "deploys.jsonl", ROWS, BAD_LINES)
    report = load(git_store, [str(path)])

    where = {p.position: p.reason for p in report.skipped}
    assert set(where) == {"line 3", "line 4", "line 5", "line 6", "line 7"}
    assert "invalid JSON" in where["line 3"]
    assert "service is missing" in where["line 4"]
    assert "exploded" in where["line 5"]
    assert "no UTC offset" in where["line 6"]
    assert "not a hex commit id" in where["line 7"]
    assert git_store.counts()["nodes"]["Deployment"] == len(ROWS)


def test_naive_times_accepted_with_assume_utc(git_store: GraphStore, tmp_path: Path) -> None:
    row = {**ROWS[0], "started_at": "2024-03-01T10:00:00", "finished_at": ""}
    path = write_jsonl(tmp_path / "d.jsonl", [row])
    report = load(git_store, [str(path)], assume_utc="true")

    assert not report.skipped
    [got] = git_store.query("MATCH (d:Deployment) RETURN d.started_at AS t").rows()
    assert got["t"] == datetime(2024, 3, 1, 10, 0)


def test_csv_with_a_bad_row(git_store: GraphStore, tmp_path: Path) -> None:
    header = "service,environment,id,version,sha,started_at,finished_at,status,repo"
    lines = [header.replace("service", "Service").replace("sha", " SHA")]
    for r in ROWS:
        lines.append(",".join(str(r.get(k) or "") for k in header.split(",")))
    lines.insert(3, f"api,prod,x9,1,{sha('c1')},yesterday,,success,shop")
    lines.insert(4, "api,prod,too,many,fields,here,,,,,")
    # a spreadsheet export: byte-order mark, header names in any case
    (tmp_path / "deploys.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")

    report = load(git_store, [str(tmp_path)])

    assert {
        (p.position, "ISO 8601" in p.reason or "more fields" in p.reason) for p in report.skipped
    } == {("line 4", True), ("line 5", True)}
    assert git_store.counts()["nodes"]["Deployment"] == len(ROWS)
    assert git_store.counts()["edges"]["PRECEDES"] == 2
    [d1] = git_store.query("MATCH (d:Deployment {uid: $u}) RETURN d.sha AS sha", {"u": D1}).rows()
    assert d1 == {"sha": sha("c2")}


def test_load_twice_changes_nothing(git_store: GraphStore, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "deploys.jsonl", ROWS, BAD_LINES)
    first_report = load(git_store, [str(path)])
    first = snapshot(git_store)
    second_report = load(git_store, [str(path)])

    assert snapshot(git_store) == first
    assert [str(p) for p in second_report.skipped] == [str(p) for p in first_report.skipped]
    assert [str(p) for p in second_report.warnings] == [str(p) for p in first_report.warnings]
    assert first["Deployment"] and first["PRECEDES"]


def test_stdin_and_options(
    git_store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(json.dumps(r) for r in ROWS)))
    report = load(git_store, ["-"])
    assert not report.skipped
    assert git_store.counts()["nodes"]["Deployment"] == len(ROWS)

    with pytest.raises(CallerError, match="colour"):
        make_loader(["-"], Settings(), {"colour": "blue"})
    missing = load(git_store, [str(tmp_path / "nope.jsonl")])
    assert [p.reason for p in missing.skipped] == ["no such file or folder"]


def test_abbreviated_shas_and_references_filled_later(
    git_store: GraphStore, tmp_path: Path
) -> None:
    rows = [
        {**ROWS[0], "id": "a", "sha": sha("c4")[:7]},  # resolves to c4
        {**ROWS[0], "id": "b", "sha": "abcdef1"},  # resolves to nothing: no reference
        {**ROWS[0], "id": "c", "sha": UNKNOWN},  # full sha: a reference node
    ]
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    report = load(git_store, [str(path)])

    ships = git_store.query(
        "MATCH (d:Deployment)-[:SHIPS]->(c:Commit) RETURN d.uid AS d, c.uid AS c"
    ).rows()
    assert sorted((r["d"], r["c"]) for r in ships) == [
        ("deploy:prod:api:a", commit_uid("c4")),
        ("deploy:prod:api:c", f"commit:{UNKNOWN}"),
    ]
    assert sorted((w.position, w.reason.split(";")[1].strip()) for w in report.warnings) == [
        ("line 2", "SHIPS not written"),
        ("line 3", "kept as a reference Commit node (uid+sha) until the git loader fills it"),
    ]
    # the git loader loads the commit later; the next deployments load no longer warns
    git_store.write(
        nodes("Commit", [{"uid": f"commit:{UNKNOWN}", "sha": UNKNOWN, "summary": "late"}]),
        loaded_by="git",
        run_id="git-2",
    )
    again = load(git_store, [str(path)])
    assert [w.position for w in again.warnings] == ["line 2"]
    [late] = git_store.query(
        "MATCH (:Deployment {uid: 'deploy:prod:api:c'})-[:SHIPS]->(c:Commit) "
        "RETURN c.summary AS s, c.loaded_by AS by"
    ).rows()
    assert late == {"s": "late", "by": "git"}


def test_format_is_sniffed_from_content(git_store: GraphStore, tmp_path: Path) -> None:
    odd = tmp_path / "export.json"  # JSON lines under a .json name
    odd.write_text("\n".join(json.dumps(r) for r in ROWS[:2]) + "\n", encoding="utf-8")
    other = tmp_path / "other.json"
    other.write_text(json.dumps([1, 2]), encoding="utf-8")
    report = load(git_store, [str(odd), str(other)])

    assert git_store.counts()["nodes"]["Deployment"] == 2
    assert [(p.item.endswith("other.json"), p.reason) for p in report.skipped] == [
        (True, "neither GitHub deployments nor deployment statuses")
    ]
