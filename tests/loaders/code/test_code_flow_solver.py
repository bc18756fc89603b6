"""The value-flow solver: the worklist reaches the fixed point of full rounds, edge for edge."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest

from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from loaders.base import LoadReport
from loaders.code import make_loader
from loaders.code.flow import FlowResult, solve_flow
from loaders.code.flow_facts import FlowFacts, flow_facts
from loaders.code.modules import ModuleIndex
from loaders.code.parse import parse_source
from tests.loaders.code.code_sample_tree import write_tree
from tests.loaders.code.conftest import call_edges
from tests.loaders.code.test_code_callgraph_flow import FLOW_TREE


def _facts(root: Path) -> tuple[ModuleIndex, dict[str, FlowFacts]]:
    paths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    facts = {}
    for path in paths:
        found = flow_facts((root / path).read_bytes())
        if found is not None:
            facts[path] = found
    return ModuleIndex(paths, root.name, {}), facts


def _edges(result: FlowResult) -> tuple[dict[str, list[tuple]], list[tuple[str, str]]]:
    rows = {
        path: [(e.caller, e.callee_path, e.callee, e.resolution, e.line, e.fanout) for e in found]
        for path, found in result.edges.items()
    }
    return rows, sorted(result.rebound)


def _installed(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        pytest.skip(f"{name} is not installed in this environment")
    return Path(spec.origin).parent


@pytest.mark.parametrize("package", ["click", "httpx"])
def test_worklist_gives_the_edges_of_full_rounds_on_real_packages(package: str) -> None:
    index, facts = _facts(_installed(package))
    worklist = solve_flow(index, facts)
    rounds = solve_flow(index, facts, worklist=False)
    assert sum(len(v) for v in worklist.edges.values()) > 300  # a real amount of value flow
    assert _edges(worklist) == _edges(rounds)


def test_worklist_gives_the_edges_of_full_rounds_on_the_flow_tree(tmp_path: Path) -> None:
    index, facts = _facts(write_tree(tmp_path / "r", FLOW_TREE))
    worklist = solve_flow(index, facts)
    assert worklist.edges
    assert _edges(worklist) == _edges(solve_flow(index, facts, worklist=False))


def test_edges_do_not_depend_on_set_order(tmp_path: Path) -> None:
    """Each file's edges come sorted (line first), so the first edge of a caller -> callee
    pair, whose line and resolution the stored edge keeps, is the same in every process."""
    index, facts = _facts(_installed("httpx"))
    for found in solve_flow(index, facts).edges.values():
        lines = [e.line for e in found]
        assert lines == sorted(lines)


def test_an_incremental_load_parses_and_extracts_changed_files_only(
    tmp_path: Path, store: GraphStore, load: Callable[..., LoadReport]
) -> None:
    root = write_tree(tmp_path / "shop", FLOW_TREE)
    load(root)
    python = sorted(p for p in FLOW_TREE if p.endswith(".py"))
    # pick() now returns on_err: main's value-flow edge must move with it
    text = (root / "pkg/flow.py").read_text().replace("return on_ok", "return on_err")
    (root / "pkg/flow.py").write_text(f"{text}\n# {tmp_path}\n")  # bytes no test saw before
    report = load(root)
    assert not report.failed_batches
    assert report.stats["flow_facts_extracted"] == 1  # pkg/flow.py; the rest by content hash
    assert report.stats["flow_facts_cached"] == len(python) - 1
    assert report.stats["files_parse_cached"] == len(python) - 1  # parsed again: from memory
    fresh = open_store(Settings(db_path=tmp_path / "fresh.lbug"), create=True)
    ingest(fresh, make_loader([str(root)], Settings(), {"repo": "shop"}))
    assert call_edges(store) == call_edges(fresh)  # cached facts, same edges as a cold load


def test_facts_kept_by_content_hash_stay_bounded_and_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loaders.code import flow_edges

    monkeypatch.setattr(flow_edges, "_FACTS", {})
    monkeypatch.setattr(flow_edges, "_FACTS_MAX", 2)
    root = write_tree(tmp_path / "r", FLOW_TREE)
    _, expected = _facts(root)
    parsed = {p: parse_source(p, (root / p).read_bytes()) for p in expected}
    for _ in range(2):
        stats: dict[str, int] = {}
        got = flow_edges.read_facts(root, {p: f for p, f in parsed.items() if f}, stats)
        assert got == expected
        assert len(flow_edges._FACTS) == 2
        assert stats["flow_facts_extracted"] + stats["flow_facts_cached"] == len(expected)
