"""Parsing in worker processes: the same graph as in-process, in order, failures recovered."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from graph_service.errors import CallerError
from graph_service.settings import Settings
from graph_service.store import GraphStore
from loaders.base import LoadReport
from loaders.code import make_loader, parse_source, workers
from tests.loaders.code.conftest import snapshot

_STDLIB = Path(shutil.__file__).parent


def _real_tree(root: Path) -> Path:
    """Real Python code to parse: a few standard-library packages (~1 MB, ~80 files)."""
    for name in ("json", "email", "logging", "importlib"):
        shutil.copytree(_STDLIB / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _sources(root: Path) -> list[tuple[str, bytes]]:
    return [(p.relative_to(root).as_posix(), p.read_bytes()) for p in sorted(root.rglob("*.py"))]


@pytest.mark.parametrize("tree", ["sample", "stdlib"])
def test_two_workers_build_the_same_graph_as_one(
    store: GraphStore,
    sample_root: Path,
    tmp_path: Path,
    load: Callable[..., LoadReport],
    tree: str,
) -> None:
    root = sample_root if tree == "sample" else _real_tree(tmp_path / "lib")
    one = load(root, workers="1", incremental="false")
    first = snapshot(store)
    two = load(root, workers="2", parallel_min_bytes="0", incremental="false")
    assert one.stats["parse_workers"] == 0 and two.stats["parse_workers"] == 2
    assert two.stats["parse_worker_peak_rss_mb"] > 0
    assert snapshot(store) == first
    assert two.stats["files_parsed"] == one.stats["files_parsed"] > 15
    assert [str(p) for p in two.warnings] == [str(p) for p in one.warnings]
    assert [str(p) for p in two.skipped] == [str(p) for p in one.skipped]
    for key in ("call_sites", "call_sites_resolved", "syntax_errors"):
        assert two.stats.get(key) == one.stats.get(key)


def test_records_come_back_in_input_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "_CHUNK_BYTES", 20_000)  # many chunks over both workers
    items = _sources(_real_tree(tmp_path / "lib"))
    stats: dict[str, float] = {}
    got = list(workers.parse_files(items, workers=2, min_parallel_bytes=0, stats=stats))
    assert stats["parse_workers"] == 2
    assert [p for p, _ in got] == [p for p, _ in items]
    assert [r for _, r in got] == [parse_source(p, d) for p, d in items]


def test_small_inputs_are_parsed_in_process(tmp_path: Path) -> None:
    items = _sources(_real_tree(tmp_path / "lib"))[:5]
    stats: dict[str, float] = {}
    got = list(workers.parse_files(items, workers=2, min_parallel_bytes=10**9, stats=stats))
    assert stats["parse_workers"] == 0
    assert got == [(p, parse_source(p, d)) for p, d in items]


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[workers._Pool]]:
    """Every pool `parse_files` creates, to reach its worker processes."""
    made: list[workers._Pool] = []

    class Recorded(workers._Pool):
        def __init__(self, size: int, window: int) -> None:
            super().__init__(size, window)
            made.append(self)

    monkeypatch.setattr(workers, "_Pool", Recorded)
    yield made


def test_dead_workers_files_are_parsed_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pools: list[workers._Pool]
) -> None:
    monkeypatch.setattr(workers, "_CHUNK_BYTES", 20_000)
    items = _sources(_real_tree(tmp_path / "lib"))
    results = workers.parse_files(items, workers=2, min_parallel_bytes=0)
    got = [next(results)]
    procs = [w.proc for w in pools[0].workers]
    for proc in procs:  # a crash in the parser (e.g. a grammar bug) mid-load
        proc.kill()
    got += list(results)
    assert [p for p, _ in got] == [p for p, _ in items]
    assert [r for _, r in got] == [parse_source(p, d) for p, d in items]
    assert all(proc.poll() is not None for proc in procs)


def test_abandoned_parse_stops_its_workers(tmp_path: Path, pools: list[workers._Pool]) -> None:
    items = _sources(_real_tree(tmp_path / "lib"))
    results = workers.parse_files(items, workers=2, min_parallel_bytes=0)
    assert isinstance(results, Generator)
    next(results)
    procs = [w.proc for w in pools[0].workers]
    results.close()  # e.g. the store failed and the load stopped
    assert len(procs) == 2 and all(proc.poll() is not None for proc in procs)


def test_workers_option_is_validated(sample_root: Path) -> None:
    with pytest.raises(CallerError, match="workers"):
        make_loader([str(sample_root)], Settings(), {"workers": "0"})
    assert workers.default_workers() >= 1
