"""Value flow through container slots: straight-line overwrites, `update`, slices."""

from __future__ import annotations

from pathlib import Path

from graph_service.batch import EdgeBatch
from loaders.base import LoadReport
from loaders.code.loader import CodeConfig, CodeLoader
from tests.loaders.code.code_sample_tree import write_tree

FUNCS = "def f1():\n    pass\n\n\ndef f2():\n    pass\n\n\ndef f3():\n    pass\n\n\n"


def _callees(tmp_path: Path, body: str, caller: str = "<module>") -> set[str]:
    """In-repository callees of `caller` in m.py (f1, f2, f3 and `helper` are defined)."""
    root = write_tree(tmp_path / "r", {"m.py": FUNCS + body})
    loader = CodeLoader(CodeConfig(root=root, repo="r", use_git=False, workers=1))
    out = set()
    for batch in loader.extract(LoadReport("code")):
        if isinstance(batch, EdgeBatch) and batch.type == "CALLS":
            for row in batch.table.to_pylist():
                if row["src"] == f"fn:r:m.py:{caller}":
                    out.add(row["dst"].removeprefix("fn:r:m.py:"))
    return out


def test_a_straight_line_overwrite_replaces_the_slot(tmp_path: Path) -> None:
    assert _callees(tmp_path, 'd = {"a": f1}\nd["a"] = f2\nd["a"]()\n') == {"f2"}


def test_a_nested_slot_and_a_function_scope(tmp_path: Path) -> None:
    body = 'def run():\n    d = {"a": {"b": f1}}\n    d["a"]["b"] = f2\n    d["a"]["b"]()\n'
    assert _callees(tmp_path, body, "run") == {"f2"}


def test_update_with_a_literal(tmp_path: Path) -> None:
    assert _callees(tmp_path, 'd = {"a": f1}\nd.update({"a": f2})\nd["a"]()\n') == {"f2"}
    # the keyword form, and a slot update never wrote keeps its value
    body = 'd = {"a": f1, "b": f3}\nd.update(a=f2)\nd["a"]()\nd["b"]()\n'
    assert _callees(tmp_path / "kw", body) == {"f2", "f3"}


def test_a_read_before_the_overwrite_still_sees_every_value(tmp_path: Path) -> None:
    body = 'd = {"a": f1}\ng = d["a"]\nd["a"] = f2\ng()\n'
    assert _callees(tmp_path, body) == {"f1", "f2"}  # flow-insensitive store: sound


def test_where_the_order_is_unknown_every_value_stays(tmp_path: Path) -> None:
    loop = 'd = {"a": f1}\nfor _ in range(3):\n    d["a"]()\n    d["a"] = f2\n'
    assert _callees(tmp_path / "loop", loop) == {"f1", "f2"}
    branch = 'import sys\nd = {"a": f1}\nif sys.argv:\n    d["a"] = f2\nd["a"]()\n'
    assert _callees(tmp_path / "branch", branch) == {"f1", "f2"}
    both = branch.replace('\nd["a"]()', '\nelse:\n    d["a"] = f3\nd["a"]()')
    assert _callees(tmp_path / "both", both) == {"f2", "f3"}
    # an alias may write the container: the slot is no longer known
    alias = 'd = {"a": f1}\nd["a"] = f2\ne = d\ne["a"] = f3\nd["a"]()\n'
    assert _callees(tmp_path / "alias", alias) == {"f1", "f2", "f3"}
    # a call may write it (here through the module's global)
    call = 'def put():\n    d["a"] = f3\n\n\nd = {"a": f1}\nd["a"] = f2\nput()\nd["a"]()\n'
    assert _callees(tmp_path / "call", call) == {"put", "f1", "f2", "f3"}


def test_slices_keep_a_literal_list_s_indices(tmp_path: Path) -> None:
    body = "ls = [f1, f2, f3]\nls2 = ls[1:3]\nls2[0]()\nls[-1:][0]()\n"
    assert _callees(tmp_path, body) == {"f2", "f3"}
    # a slice of a list built elsewhere: any of its values
    body = "def make():\n    return [f1, f2]\n\n\nfor g in make()[1:]:\n    g()\n"
    assert _callees(tmp_path / "other", body) >= {"f1", "f2"}
