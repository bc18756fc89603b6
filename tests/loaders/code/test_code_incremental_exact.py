"""Incremental loads after an edit, a deletion and a rename give exactly a fresh load's graph.

Value flow is whole-program: a changed file can move edges in files that import it, or that
it imports. These tests load a tree, change it, load it again into the same store and compare
every live node and edge (properties included) with a load of the new tree into a new store.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from loaders.base import LoadReport
from loaders.code import make_loader
from tests.loaders.code.conftest import call_edges
from tests.loaders.code.test_code_incremental import _live


def _fresh_snapshot(tmp_path: Path, root: Path) -> dict[str, list[tuple[object, ...]]]:
    fresh = open_store(Settings(db_path=tmp_path / "fresh.lbug"), create=True)
    try:
        report = ingest(fresh, make_loader([str(root)], Settings(), {"repo": "shop"}))
        assert not report.failed_batches
        return _live(fresh)
    finally:
        fresh.close()


def _rename(root: Path, old: str, new: str, importers: dict[str, tuple[str, str]]) -> None:
    """Move `old` to `new` and rewrite one import line in each importer."""
    (root / new).parent.mkdir(parents=True, exist_ok=True)
    (root / old).rename(root / new)
    for path, (before, after) in importers.items():
        text = (root / path).read_text()
        assert before in text, (path, before)
        (root / path).write_text(text.replace(before, after))


def test_renamed_module_and_its_importer_match_a_fresh_load(
    store: GraphStore, sample_root: Path, tmp_path: Path, load: Callable[..., LoadReport]
) -> None:
    load(sample_root)
    assert ("app/models.py:User.greet", "app/base.py:Base.save", "class_hierarchy") in (
        call_edges(store)
    )
    _rename(
        sample_root,
        "app/base.py",
        "app/core/base_model.py",
        {"app/models.py": ("from .base import Base", "from .core.base_model import Base")},
    )
    report = load(sample_root)
    assert report.stats["files_deleted"] == 1
    assert not report.failed_batches
    calls = call_edges(store)
    assert ("app/models.py:User.greet", "app/core/base_model.py:Base.save", "class_hierarchy") in (
        calls
    )
    assert not any("app/base.py" in c[1] for c in calls)  # nothing stale points at the old path
    assert _live(store) == _fresh_snapshot(tmp_path, sample_root)


def test_deleted_module_leaves_no_edge_into_it(
    store: GraphStore, sample_root: Path, tmp_path: Path, load: Callable[..., LoadReport]
) -> None:
    load(sample_root)
    assert any(c[1].startswith("app/util.py:") for c in call_edges(store))
    (sample_root / "app" / "util.py").unlink()
    report = load(sample_root)
    assert report.stats["files_deleted"] == 1
    assert not any(c[1].startswith("app/util.py:") for c in call_edges(store))
    assert _live(store) == _fresh_snapshot(tmp_path, sample_root)


def _installed(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        pytest.skip(f"{name} is not installed in this environment")
    return Path(spec.origin).parent


def test_real_package_after_edit_delete_and_rename_matches_a_fresh_load(
    store: GraphStore, tmp_path: Path, load: Callable[..., LoadReport]
) -> None:
    """pallets/click as installed: one module edited (a new function calling into two other
    modules, a changed body), one deleted (imported by another), one renamed (its importers
    rewritten), all before the same incremental load."""
    root = tmp_path / "repo"
    shutil.copytree(_installed("click"), root / "click", ignore=shutil.ignore_patterns("*.pyc"))
    first = load(root)
    assert first.stats["call_edges_value_flow"] > 50  # value flow ran on real code
    before = call_edges(store)

    utils = root / "click" / "utils.py"
    text = utils.read_text()
    assert "def echo(" in text
    utils.write_text(
        text.replace("def echo(", "def _echo_before(", 1) + "\n\ndef added_for_test(value):\n"
        "    from .formatting import wrap_text\n"
        "    from .termui import style\n"
        "    return style(wrap_text(value))\n"
    )
    (root / "click" / "_textwrap.py").unlink()  # formatting.py imports it
    _rename(
        root,
        "click/globals.py",
        "click/state/context_globals.py",
        {
            f"click/{name}.py": ("from .globals import", "from .state.context_globals import")
            for name in ("__init__", "core", "decorators", "exceptions", "termui", "utils")
        },
    )
    report = load(root)
    assert not report.failed_batches
    assert report.stats["files_deleted"] == 2  # _textwrap.py and globals.py
    after = call_edges(store)
    assert ("click/utils.py:added_for_test", "click/formatting.py:wrap_text", "import") in after
    assert not any(c[1].startswith(("click/_textwrap.py:", "click/globals.py:")) for c in after)
    assert any(c[1].startswith("click/state/context_globals.py:") for c in after)
    assert after != before
    assert _live(store) == _fresh_snapshot(tmp_path, root)


CHAIN = {
    "chain/__init__.py": "",
    "chain/a.py": "def f():\n    return None\n",
    "chain/b.py": "from chain.a import f\n\n\ndef h():\n    return f()\n",
    "chain/c.py": "from chain.b import h\n\n\ndef use():\n    fn = h()\n    return fn()\n",
    "chain/d.py": "def k():\n    return 2\n",
}
A_V2 = "from chain.d import k\n\n\ndef f():\n    return k\n"


def test_value_flow_edges_of_a_file_that_does_not_import_the_changed_one(
    store: GraphStore, tmp_path: Path, load: Callable[..., LoadReport]
) -> None:
    """c.py calls what b.h() returns, which is what a.f() returns: a change of a.py gives c.py
    an edge though c.py neither imports a.py nor had any edge into it."""
    from tests.loaders.code.code_sample_tree import write_tree

    root = write_tree(tmp_path / "repo", CHAIN)
    load(root)
    assert not any(
        c[0] == "chain/c.py:use" and c[1].startswith("chain/d.py") for c in call_edges(store)
    )
    (root / "chain" / "a.py").write_text(A_V2)
    load(root)
    assert ("chain/c.py:use", "chain/d.py:k", "value_flow") in call_edges(store)
    assert _live(store) == _fresh_snapshot(tmp_path, root)
