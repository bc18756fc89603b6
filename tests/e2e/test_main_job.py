"""The main job end to end: `prodgraph demo` on the sample system, checked against its truth.

One demo run (the real console command, in a subprocess) feeds every check: the risk model
ranks the injected bug-introducing commits above chance, each bug ticket with a stack trace has
a gold function in its triage top 5, declared duplicates are found, and the HTTP service answers
the same as the CLI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store

PRODGRAPH = Path(sys.executable).parent / "prodgraph"


@pytest.fixture(scope="module", params=["small", pytest.param("medium", marks=pytest.mark.slow)])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "PRODGRAPH_MODEL_DIR": str(work / "models"), "COLUMNS": "80"}
    proc = subprocess.run(
        [str(PRODGRAPH), "demo", "--workdir", str(work), "--size", request.param],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    truth = json.loads((work / "sample" / "ground_truth.json").read_text())
    settings = Settings(db_path=work / "graph.lbug", model_dir=work / "models")
    return {
        "work": work,
        "out": proc.stdout,
        "truth": truth,
        "settings": settings,
        "env": env,
        "size": request.param,
    }


@pytest.fixture
def store(demo: dict[str, Any]) -> Iterator[GraphStore]:
    s = open_store(demo["settings"], read_only=True)
    yield s
    s.close()


def test_demo_prints_every_section(demo: dict[str, Any]) -> None:
    out = demo["out"]
    for needle in (
        "the context graph",
        "backtest: the model's top 5",
        "riskiest of the",
        "triage of ticket",
        "hotspots_bugs",
        "where to go next",
    ):
        assert needle in out, needle


def _backtest_rows(out: str) -> list[tuple[str, str]]:
    """(short sha, what happened) per row of the demo's backtest table."""
    section = out[out.index("backtest: the model's top 5") : out.index("Of the window's")]
    rows: list[list[str]] = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("│").split("│")]
        if len(cells) != 5 or not line.startswith("│"):
            continue
        if cells[0]:
            rows.append([cells[1], cells[4]])
        elif rows:
            rows[-1][1] += " " + cells[4]
    return [(a, b) for a, b in rows]


def _baseline_counts(out: str) -> tuple[int, int, int]:
    words = " ".join(out[out.index("Of the window's") :].split()[:30])
    m = re.search(
        r"window's (\d+) real bugs, the model's top 5 holds (\d+); the top 5 by "
        r"lines added \(the baseline\) holds (\d+)",
        words,
    )
    assert m, words
    return int(m[1]), int(m[2]), int(m[3])


def test_demo_backtest_shows_real_bugs_and_what_happened(demo: dict[str, Any]) -> None:
    out = demo["out"]
    assert max(len(line) for line in out.splitlines()) <= 80  # tables and text in 80 columns
    bugs = {b["introducing_commit"][:8]: b for b in demo["truth"]["bugs"]}
    rows = _backtest_rows(out)
    assert len(rows) == 5
    hits = 0
    for sha, happened in rows:
        b = bugs.get(sha)
        if b is None:
            assert happened == "no bug found", (sha, happened)
            continue
        hits += 1
        assert happened.startswith(f"introduced bug {b['key']}: ticket #{b['primary_ticket']}")
        assert f"fixed by {b['fixing_commit'][:8]}" in happened
        assert f"shipped in {b['shipped_by_deployments'][0]}" in happened
        assert re.search(r"found [\d.]+ days later", happened), happened
    assert hits >= 1  # the story shows at least one real bug among the model's top 5
    window_bugs, model_hits, lines_hits = _baseline_counts(out)
    assert model_hits == hits and window_bugs >= model_hits and window_bugs >= lines_hits
    assert window_bugs >= 2  # the window holds a fair share of the history's bugs


def test_risk_model_ranks_bug_introducing_commits_above_chance(
    demo: dict[str, Any], store: GraphStore
) -> None:
    from models.registry import require_latest
    from models.score import score_commit

    model = require_latest(demo["settings"], store=store)
    bad = {b["introducing_commit"] for b in demo["truth"]["bugs"]}
    shas = [r["sha"] for r in store.query("MATCH (c:Commit) RETURN c.sha AS sha").rows()]
    assert bad <= set(shas)
    results = {sha: score_commit(store, model, sha) for sha in shas}
    # changes that touch no code (the sample's changelog-only commits) get a label, no score
    code = [sha for sha in shas if results[sha].score is not None]
    assert all(results[s].label for s in shas if s not in code)
    scores = np.array([results[sha].score for sha in code], dtype=float)
    labels = np.array([sha in bad for sha in code])
    assert np.all((scores >= 0) & (scores <= 1))
    assert roc_auc_score(labels, scores) > 0.7


def test_bug_tickets_with_traces_have_a_gold_function_in_the_top_5(
    demo: dict[str, Any], store: GraphStore
) -> None:
    from graph_service.triage import TicketInput, triage

    cases = [
        t
        for b in demo["truth"]["bugs"]
        for t in b["tickets"]
        if t["has_trace"] and t["kind"] == "bug"
    ]
    assert cases
    misses = []
    for case in cases:
        row = store.query(
            "MATCH (t:Ticket {uid: $uid}) RETURN t.title AS title, t.body AS body, "
            "t.created_at AS created",
            {"uid": f"ticket:github:{case['number']}"},
        ).rows()[0]
        result = triage(
            store, TicketInput(uid=f"ticket:github:{case['number']}", **row), demo["settings"]
        )
        top = {f"{s.path}::{s.name}" for s in result.functions[:5]}
        top |= {f"{s.path}::{s.uid.rsplit(':', 1)[-1]}" for s in result.functions[:5]}
        if not top & set(case["gold_functions"]):
            misses.append((case["number"], case["gold_functions"], sorted(top)))
    # At `small` every such ticket is found. Larger samples contain bugs whose cause is not on
    # the stack at all (a helper returns a naive datetime, the subtraction two frames up raises):
    # there the raise site ranks first and the gold helper may fall outside the top 5.
    allowed = 0 if demo["size"] == "small" else int(0.1 * len(cases))
    assert len(misses) <= allowed, misses


def test_declared_duplicates_are_found(demo: dict[str, Any], store: GraphStore) -> None:
    from graph_service.triage import TicketInput, similar

    pairs = demo["truth"]["duplicates"]["declared"] + demo["truth"]["duplicates"]["undeclared"]
    found = 0
    for dup, orig in pairs:
        uid = f"ticket:github:{dup}"
        row = store.query(
            "MATCH (t:Ticket {uid: $uid}) RETURN t.title AS title, t.body AS body, "
            "t.created_at AS created",
            {"uid": uid},
        ).rows()[0]
        hits = similar(store, TicketInput(uid=uid, **row), 5)
        found += f"ticket:github:{orig}" in {h.uid for h in hits}
    for dup, orig in demo["truth"]["duplicates"]["declared"]:
        linked = store.query(
            "MATCH (a:Ticket {uid: $a})-[:DUPLICATE_OF]->(b:Ticket {uid: $b}) RETURN count(*) AS n",
            {"a": f"ticket:github:{dup}", "b": f"ticket:github:{orig}"},
        ).rows()[0]["n"]
        assert linked == 1
    assert found / len(pairs) >= 0.8, (found, len(pairs))


def test_service_answers_the_same_as_the_cli(demo: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    from graph_service.api.app import create_app

    db = str(demo["settings"].db_path)
    cli = subprocess.run(
        [str(PRODGRAPH), "run", "service_map", "--db", db, "--format", "json"],
        capture_output=True,
        text=True,
        env=demo["env"],
        check=True,
    )
    cli_rows = json.loads(cli.stdout)["rows"]
    settings = demo["settings"].model_copy(update={"auth_disabled": True})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        resp = client.post("/v1/queries/service_map", json={"params": {}})
        assert resp.status_code == 200, resp.text
        body = resp.json()
    api_rows = [dict(zip(body["columns"], row, strict=True)) for row in body["rows"]]
    assert cli_rows and _canon(api_rows) == _canon(cli_rows)


def _canon(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)


def test_cleanup_leaves_no_lock(demo: dict[str, Any]) -> None:
    # the demo's store can be reopened for writing: nothing holds it after the command ends
    s = open_store(demo["settings"], create=True)
    s.close()
    shutil.rmtree(demo["work"] / "sample" / "repo" / ".git" / "index.lock", ignore_errors=True)


def test_up_ends_with_a_summary_in_80_columns(demo: dict[str, Any], tmp_path: Path) -> None:
    sample = demo["work"] / "sample"
    proc = subprocess.run(
        [
            str(PRODGRAPH),
            "up",
            str(sample / "repo"),
            "--tickets",
            str(sample / "tickets.json"),
            "--deployments",
            str(sample / "deployments.jsonl"),
            "--no-serve",
            "--db",
            str(tmp_path / "up.lbug"),
        ],
        cwd=tmp_path,
        env={**demo["env"], "PRODGRAPH_MODEL_DIR": str(tmp_path / "models")},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    summary = out[out.index(" summary ─") :]
    commits = summary.split("loaded repo: ")[1].split()[0]
    assert int(commits.replace(",", "")) >= 150
    for needle in ("backtest: the model's top 5", "riskiest of the", "serve it: prodgraph serve"):
        assert needle in summary, needle
    # without the answer key, `up` says what the graph knows: the fix that found each bug
    rows = _backtest_rows(summary)
    bugs = {b["introducing_commit"][:8]: b for b in demo["truth"]["bugs"]}
    found = [(sha, text) for sha, text in rows if text != "no bug found"]
    assert found and all(sha in bugs for sha, _ in found)
    for sha, text in found:
        assert f"introduced a bug: fix {bugs[sha]['fixing_commit'][:8]}" in text
    window_bugs, model_hits, _ = _baseline_counts(summary)
    assert model_hits == len(found) and window_bugs >= 2
