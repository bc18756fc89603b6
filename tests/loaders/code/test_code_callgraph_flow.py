"""Golden call edges: module-level and class-body callers, C3 MRO, value flow (Python)."""

from __future__ import annotations

from pathlib import Path

from graph_service.batch import EdgeBatch
from loaders.base import LoadReport
from loaders.code.loader import CodeConfig, CodeLoader
from tests.loaders.code.code_sample_tree import write_tree


def _calls(root: Path) -> dict[tuple[str, str], tuple[str, float]]:
    """(caller path:qualname, callee path:qualname) -> (resolution, confidence)."""
    loader = CodeLoader(CodeConfig(root=root, repo="r", use_git=False, workers=1))
    out = {}
    for batch in loader.extract(LoadReport("code")):
        if isinstance(batch, EdgeBatch) and batch.type == "CALLS":
            for row in batch.table.to_pylist():
                key = (row["src"].removeprefix("fn:r:"), row["dst"].removeprefix("fn:r:"))
                out[key] = (row["resolution"], row["confidence"])
    return out


def _functions(root: Path) -> set[str]:
    loader = CodeLoader(CodeConfig(root=root, repo="r", use_git=False, workers=1))
    out = set()
    for batch in loader.extract(LoadReport("code")):
        if not isinstance(batch, EdgeBatch) and getattr(batch, "label", "") == "Function":
            out |= {u.removeprefix("fn:r:") for u in batch.table.column("uid").to_pylist()}
    return out


def test_module_and_class_body_code_are_callers(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "r",
        {
            "app.py": """\
def make():
    return 1


def route(f):
    return f


class Config:
    value = make()


if __name__ == "__main__":
    make()
""",
            "script.py": "from app import make\n\nmake()\n",
        },
    )
    calls = _calls(root)
    assert calls[("app.py:<module>", "app.py:make")][0] == "same_module"
    assert ("app.py:Config.<body>", "app.py:make") in calls
    assert calls[("script.py:<module>", "app.py:make")][0] == "import"
    fns = _functions(root)
    assert {"app.py:<module>", "app.py:Config.<body>", "script.py:<module>"} <= fns


def test_method_lookup_follows_c3_mro(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "r",
        {
            "m.py": """\
class A:
    def func(self):
        pass


class B(A):
    pass


class C(A):
    def func(self):
        pass


class D(B, C):
    def run(self):
        self.func()
""",
        },
    )
    calls = _calls(root)
    assert ("m.py:D.run", "m.py:C.func") in calls
    assert ("m.py:D.run", "m.py:A.func") not in calls


def test_root_package_modules_resolve_from_the_root(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "r",
        {
            "__init__.py": "",
            "main.py": "from nested.to_import import func1\n\nfunc1()\n",
            "nested/__init__.py": "",
            "nested/to_import.py": "def func1():\n    pass\n",
        },
    )
    assert ("main.py:<module>", "nested/to_import.py:func1") in _calls(root)
