"""bench/callgraph_speed.py's graph check: two extracts of the same tree compare equal, and a
speed change that moves one edge property is caught."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from loaders.base import LoadReport
from loaders.code.loader import CodeConfig, CodeLoader
from tests.loaders.code.code_sample_tree import write_tree

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_callgraph_speed", BENCH / "callgraph_speed.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_callgraph_speed"] = module
    spec.loader.exec_module(module)
    return module


def _extract(root: Path) -> list[object]:
    cfg = CodeConfig(root=root, repo="shop", use_git=False, incremental=False, workers=1)
    return list(CodeLoader(cfg).extract(LoadReport("code"), None))


def test_two_extracts_of_a_tree_give_the_same_rows_and_a_moved_edge_is_caught(
    tmp_path: Path,
) -> None:
    bench = _module()
    root = write_tree(tmp_path / "shop")
    first = bench.graph_rows(_extract(root))
    second = bench.graph_rows(_extract(root))
    assert len(first["CALLS Function->Function"]) > 5
    assert bench.compare_graphs(first, second) == []

    changed = {k: list(v) for k, v in second.items()}
    calls = changed["CALLS Function->Function"]
    calls[0] = calls[0].replace('"confidence": ', '"confidence": 0.01 + ', 1)
    assert bench.compare_graphs(changed, first) == [
        "  CALLS Function->Function: 1 rows only now, 1 only before"
    ]
    changed["CALLS Function->Function"] = calls[1:] + calls[1:2]  # a row lost, one doubled
    assert bench.compare_graphs(changed, first) == [
        "  CALLS Function->Function: 0 rows only now, 1 only before"
    ]
