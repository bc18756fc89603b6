"""Value-flow facts kept on disk by content hash: a new process extracts new content only."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from graph_service.batch import EdgeBatch
from loaders.base import LoadReport
from loaders.code import facts_cache, flow_edges
from loaders.code.flow_facts import flow_facts
from loaders.code.loader import CodeConfig, CodeLoader
from tests.loaders.code.code_sample_tree import write_tree
from tests.loaders.code.test_code_callgraph_flow import FLOW_TREE


def _load(root: Path, cache: Path | None) -> tuple[set[tuple], dict[str, object]]:
    """A cold extraction (nothing kept in memory, as in a new process): CALLS rows, stats."""
    flow_edges._FACTS.clear()
    cfg = CodeConfig(root=root, repo="r", use_git=False, workers=1, facts_cache=cache)
    report = LoadReport("code")
    rows: set[tuple] = set()
    for batch in CodeLoader(cfg).extract(report):
        if isinstance(batch, EdgeBatch) and batch.type in ("CALLS", "CALLS_EXTERNAL"):
            rows |= {tuple(sorted(r.items())) for r in batch.table.to_pylist()}
    return rows, report.stats


def test_a_new_process_reads_facts_from_disk_and_gets_the_same_edges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flow_edges, "_FACTS", {})
    root = write_tree(tmp_path / "r", FLOW_TREE)
    python = sum(1 for p in FLOW_TREE if p.endswith(".py"))
    cache = tmp_path / "facts"
    plain, _ = _load(root, None)
    first, stats = _load(root, cache)
    assert first == plain
    assert stats["flow_facts_extracted"] == python and stats["flow_facts_from_disk"] == 0
    assert len(list(cache.rglob(f"*.f{facts_cache.FORMAT}-py*"))) == python
    again, stats = _load(root, cache)
    assert again == plain  # facts from disk: the same edges as extracting them
    assert stats["flow_facts_extracted"] == 0 and stats["flow_facts_from_disk"] == python
    # one file changes: only its new content is extracted, and the edges follow it
    flow = root / "pkg/flow.py"
    flow.write_text(flow.read_text().replace("return on_ok", "return on_err"))
    changed, stats = _load(root, cache)
    assert stats["flow_facts_extracted"] == 1 and stats["flow_facts_from_disk"] == python - 1
    assert changed == _load(root, None)[0] and changed != plain


def test_entries_round_trip_and_damage_reads_as_missing(tmp_path: Path) -> None:
    spec = importlib.util.find_spec("loaders.code.flow")
    assert spec is not None and spec.origin is not None
    source = Path(spec.origin).read_bytes()  # a large real module
    facts = flow_facts(source)
    assert facts is not None
    digest = b"\x01" * 20
    facts_cache.save(tmp_path, digest, facts)
    assert facts_cache.load(tmp_path, digest) == facts
    facts_cache.save(tmp_path, b"\x02" * 20, None)  # Python refused the file: remembered
    assert facts_cache.load(tmp_path, b"\x02" * 20) is None
    assert facts_cache.load(tmp_path, b"\x03" * 20) is facts_cache.MISSING
    (entry,) = [p for p in tmp_path.rglob("0101*")]
    entry.write_bytes(entry.read_bytes()[:50])  # truncated
    assert facts_cache.load(tmp_path, digest) is facts_cache.MISSING
    entry.write_bytes(b"\x00not marshal")
    assert facts_cache.load(tmp_path, digest) is facts_cache.MISSING
