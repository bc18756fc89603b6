"""`prodgraph train` and `prodgraph risk` on a store of two real repositories: git refs and
ranges, --recent (code-changing commits only), the table and the API's field names in JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKEND_PARAMS, make_backend
from tests.models.real_repos import load_repos, make_repo

PRODGRAPH = Path(sys.executable).parent / "prodgraph"


@pytest.fixture(scope="module", params=BACKEND_PARAMS)
def env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("cli-risk")
    backend = make_backend(request.param, root)  # the Neo4j leg skips without its server
    shas = {name: make_repo(root, name) for name in ("alpha", "beta")}
    db = root / "g.lbug"
    load_repos(db, [root / "alpha", root / "beta"], backend.settings).close()
    variables = {
        **os.environ,
        "PRODGRAPH_MODEL_DIR": str(root / "models"),
        **backend.env,
        "COLUMNS": "80",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PRODGRAPH), *args, *backend.db_args],
            capture_output=True,
            text=True,
            timeout=300,
            env=variables,
        )

    out = run("train")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("model written to") == 2  # one model per repository
    yield {"run": run, "shas": shas, "root": root}


def _json(out: subprocess.CompletedProcess[str]) -> Any:
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_git_refs_and_ranges(env: dict[str, Any]) -> None:
    run, root = env["run"], env["root"]
    head = subprocess.run(
        ["git", "-C", str(root / "alpha"), "rev-parse", "HEAD~2"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    one = _json(run("risk", "HEAD~2", "--repo", "alpha", "--json"))
    assert one["target"] == f"commit:{head}"
    assert set(one) >= {"overall", "label", "code_change", "explanations", "model_version"}
    many = _json(run("risk", "HEAD~4..HEAD", "--repo", "alpha", "--json"))
    assert isinstance(many, list) and len(many) == 4
    assert many[-1]["target"].endswith(
        subprocess.run(
            ["git", "-C", str(root / "alpha"), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    short = _json(run("risk", env["shas"]["beta"]["code"][:10], "--json"))
    assert short["overall"] is not None and "beta" in short["model_version"]
    several = run("risk", "HEAD")  # two repositories: which HEAD?
    assert several.returncode != 0 and "--repo" in several.stderr
    bad = run("risk", "no-such-branch", "--repo", "alpha")
    assert bad.returncode != 0 and "no-such-branch" in bad.stderr


def test_docs_only_commit_gets_the_label(env: dict[str, Any]) -> None:
    docs = _json(env["run"]("risk", env["shas"]["alpha"]["docs"], "--json"))
    assert docs["overall"] is None and docs["code_change"] is False
    assert docs["label"] == "no code change: docs/tests/CI only"
    assert docs["explanations"] == [] and len(docs["nodes"]) == 1  # no reasons for no score


def test_recent_lists_code_changes_only_riskiest_first(env: dict[str, Any]) -> None:
    answers = _json(env["run"]("risk", "--recent", "6", "--json"))
    assert len(answers) == 6
    assert all(a["code_change"] and a["overall"] is not None for a in answers)
    risks = [a["overall"] for a in answers]
    assert risks == sorted(risks, reverse=True)
    docs = {env["shas"][r][k] for r in ("alpha", "beta") for k in ("docs", "tests")}
    assert not docs & {a["target"].removeprefix("commit:") for a in answers}


def test_table_fits_80_columns(env: dict[str, Any]) -> None:
    out = env["run"]("risk", "--recent", "3")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "riskiest of the 3 most recent code changes" in out.stdout
    assert max(len(line) for line in lines) <= 80
    assert any("%" in line for line in lines)


def test_eval_risk_writes_predictions_and_the_json(tmp_path: Path) -> None:
    repo_root = tmp_path / "repos"
    repo_root.mkdir()
    make_repo(repo_root, "gamma", rounds=36)
    out_dir = tmp_path / "eval"
    out = subprocess.run(
        [
            str(PRODGRAPH),
            "eval",
            "risk",
            "--repo",
            str(repo_root / "gamma"),
            "--out",
            str(out_dir),
            "--cutoffs",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PRODGRAPH_MODEL_DIR": str(tmp_path / "models")},
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["default_model"] == "gnn" and set(result["populations"]) == {"all", "code"}
    code = result["populations"]["code"]
    assert code["commits"] < result["commits"]  # docs and tests commits are not code
    assert set(code["models"]["gnn"]) >= {"roc_auc", "precision_at_10pct", "recall_at_20pct_effort"}
    assert json.loads((out_dir / "risk_eval.json").read_text())["commits"] == result["commits"]
    header = (out_dir / "predictions.csv").read_text().splitlines()[0]
    assert header == "sha,window,population,label," + ",".join(
        [
            "gnn",
            "gnn_no_edges",
            "flat_lr",
            "lapredict",
            "kamei_lr",
            "kamei_gb",
            "largest_first",
            "prior_lr",
            "random",
        ]
    )
