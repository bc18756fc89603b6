"""bench/code_options.py and bench/callgraph_downstream.py: code-loader options reach loaders made
by library entry points (a real load into a Ladybug store in tmp_path), and the risk A/B pairs
two runs' predictions by commit."""

from __future__ import annotations

import csv
import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import open_store

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _module(name: str, as_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(as_name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[as_name] = module
    spec.loader.exec_module(module)
    return module


# the bench scripts import their sibling as a top-level module (the script's folder is on the path)
options = _module("code_options", "code_options")
ab = _module("callgraph_downstream", "_bench_callgraph_downstream")

SOURCE = """
    def target():
        return 1

    def make():
        return target

    def caller():
        fn = make()
        return fn()
"""


def _load(tmp_path: Path, name: str, extra: dict[str, str]) -> Path:
    root = tmp_path / "src" / "shop"
    if not root.exists():
        root.mkdir(parents=True)
        (root / "app.py").write_text(textwrap.dedent(SOURCE))
    db = tmp_path / f"{name}.lbug"
    store = open_store(Settings(db_path=db), create=True)
    try:
        with options.code_options(extra):
            import loaders.code as code  # looked up at call time, as the library entry points do

            ingest(store, code.make_loader([str(root)], Settings(), {"repo": "shop"}))
    finally:
        store.close()
    return db


def test_code_options_reach_the_loader_and_value_flow_off_drops_its_edges(tmp_path: Path) -> None:
    on = ab.graph_calls(_load(tmp_path, "on", {}))
    off = ab.graph_calls(_load(tmp_path, "off", {"value_flow": "false"}))
    # caller -> make by name in both; caller -> target only through the returned value
    assert on["by_resolution"].get("value_flow") == 1
    assert "value_flow" not in off["by_resolution"]
    assert on["total"] == off["total"] + 1
    import loaders.code as code

    assert code.make_loader.__module__ == "loaders.code"  # restored after the block


def test_parse_options_says_what_to_write() -> None:
    assert options.parse_options(["value_flow=false", " a = 1 "]) == {
        "value_flow": "false",
        "a": "1",
    }
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        options.parse_options(["value_flow"])


def _predictions(path: Path, rows: list[tuple[str, str, int, float]]) -> Path:
    path.mkdir()
    with (path / "predictions.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sha", "window", "population", "label", *ab.MODELS])
        for sha, window, label, score in rows:
            w.writerow([sha, window, "code", label, *[score] * len(ab.MODELS)])
    return path


def test_risk_pairs_by_commit_and_refuses_different_commits(tmp_path: Path) -> None:
    rows = [(f"s{i}", str(i % 2), i % 3 == 0, i / 10) for i in range(12)]
    on = _predictions(tmp_path / "r-on", [(s, w, int(y), x) for s, w, y, x in rows])
    # the same commits in another order, the scores reversed: paired by sha, not by line
    flipped = [(s, w, int(y), 1 - x) for s, w, y, x in reversed(rows)]
    off = _predictions(tmp_path / "r-off", flipped)
    windows = ab.paired_windows(on, off, "code", "gnn")
    for a, b, _ in windows:
        assert a + b == pytest.approx([1.0] * len(a))
    table = ab.risk_table([(on, off)], "code", resamples=200)
    assert "| r | 12 | 0.333 |" in table
    assert ab._auc(windows, 0) == pytest.approx(1 - ab._auc(windows, 1))
    # every model scored alike in each arm: message passing adds nothing in either
    assert ab.graph_gain_change(on, off, "code", 50)[0] == pytest.approx(0.0)
    other = _predictions(tmp_path / "x-off", [(s + "x", w, int(y), x) for s, w, y, x in rows])
    with pytest.raises(SystemExit, match="different commits"):
        ab.paired_windows(on, other, "code", "gnn")
