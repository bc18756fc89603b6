"""Incremental loads: only changed files are parsed, and the result equals a fresh load."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from graph_service import schema
from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from loaders.base import LoadReport
from loaders.code import make_loader
from tests.loaders.code.conftest import _VOLATILE, call_edges, snapshot

UTIL_V2 = """\
def normalize(s):
    return s.strip().lower()


def helper(s):
    return normalize(s)


def extra():
    return helper("x")
"""


def _live(store: GraphStore) -> dict[str, list[tuple[object, ...]]]:
    """The snapshot without rows kept only for history (deleted files and functions)."""
    snap = snapshot(store)

    def deleted_at(label: str) -> int:
        names = [p.name for p in schema.node(label).all_props if p.name not in _VOLATILE]
        return names.index("deleted")

    deleted_files = {r[0] for r in snap.get("File", []) if r[deleted_at("File")] is True}
    out = {}
    for key, rows in snap.items():
        if key in ("File", "Function"):
            rows = [r for r in rows if r[deleted_at(key)] is not True]
        if key == "CONTAINS":
            rows = [r for r in rows if r[1] not in deleted_files]
        out[key] = rows
    return out


def _fresh(tmp_path: Path, root: Path) -> GraphStore:
    fresh = open_store(Settings(db_path=tmp_path / "fresh.lbug"), create=True)
    ingest(fresh, make_loader([str(root)], Settings(), {"repo": "shop"}))
    return fresh


def _deleted_flags(store: GraphStore, label: str) -> dict[str, bool]:
    rows = store.query(f"MATCH (n:{label}) RETURN n.uid AS u, n.deleted AS d").rows()
    return {r["u"]: bool(r["d"]) for r in rows}


def test_unchanged_tree_parses_nothing_and_yields_nothing(
    store: GraphStore, sample_root: Path, load: Callable[..., LoadReport]
) -> None:
    load(sample_root)
    loader = make_loader([str(sample_root)], Settings(), {"repo": "shop"})
    report = LoadReport("code")
    assert list(loader.extract(report, store)) == []
    assert report.stats["files_parsed"] == 0
    assert report.stats["files_unchanged"] == 19


def test_changed_and_deleted_files_match_a_fresh_load(
    store: GraphStore, sample_root: Path, tmp_path: Path, load: Callable[..., LoadReport]
) -> None:
    load(sample_root)
    (sample_root / "app" / "util.py").write_text(UTIL_V2)
    (sample_root / "app" / "base.py").unlink()
    (sample_root / "pkg" / "store" / "helpers.go").write_text(
        "package store\n\nfunc clean(s string) string { return s }\n"
    )
    report = load(sample_root)
    assert report.stats["files_deleted"] == 1
    # util.py and helpers.go changed; importers/callers and same-package files re-resolved,
    # and every Python file (value flow is whole-program), but no other file
    assert report.stats["files_parsed"] == 2 + report.stats["dependents_reparsed"]
    python = len(list(sample_root.rglob("*.py"))) - 1  # util.py is parsed as changed
    assert 5 < report.stats["dependents_reparsed"] <= python + 2
    assert not report.failed_batches

    calls = call_edges(store)
    assert ("app/models.py:User.validate", "app/util.py:check", "alias") not in calls
    assert ("app/models.py:User.greet", "app/base.py:Base.save", "class_hierarchy") not in calls
    assert ("pkg/store/store.go:Store.Add", "pkg/store/helpers.go:Store.log", "self") not in calls
    assert ("app/util.py:extra", "app/util.py:helper", "same_module") in calls
    assert ("app/util.py:helper", "app/util.py:normalize", "same_module") in calls

    fns = _deleted_flags(store, "Function")
    assert fns["fn:shop:app/util.py:check"] is True
    assert fns["fn:shop:app/base.py:Base.save"] is True
    assert fns["fn:shop:app/util.py:normalize"] is False
    assert _deleted_flags(store, "File")["file:shop:app/base.py"] is True
    classes = {r["u"] for r in store.query("MATCH (c:Class) RETURN c.uid AS u").rows()}
    assert "class:shop:app/base.py:Base" not in classes

    fresh = _fresh(tmp_path, sample_root)
    try:
        assert _live(store) == _live(fresh)
    finally:
        fresh.close()


def test_restored_file_comes_back(
    store: GraphStore, sample_root: Path, load: Callable[..., LoadReport]
) -> None:
    load(sample_root)
    text = (sample_root / "app" / "base.py").read_text()
    (sample_root / "app" / "base.py").unlink()
    load(sample_root)
    (sample_root / "app" / "base.py").write_text(text)
    load(sample_root)
    assert _deleted_flags(store, "File")["file:shop:app/base.py"] is False
    assert _deleted_flags(store, "Function")["fn:shop:app/base.py:Base.save"] is False
    assert ("app/models.py:User.greet", "app/base.py:Base.save", "class_hierarchy") in call_edges(
        store
    )


def test_new_callee_is_picked_up_by_unchanged_caller(
    store: GraphStore, sample_root: Path, load: Callable[..., LoadReport]
) -> None:
    """A caller whose call did not resolve before resolves once the callee appears."""
    (sample_root / "app" / "late.py").write_text(
        "from app.util import later\n\n\ndef use():\n    return later()\n"
    )
    load(sample_root)
    assert not any(c[0] == "app/late.py:use" for c in call_edges(store))
    with (sample_root / "app" / "util.py").open("a") as f:
        f.write("\n\ndef later():\n    return 1\n")
    load(sample_root)
    assert ("app/late.py:use", "app/util.py:later", "import") in call_edges(store)
