"""bench/dynamic_calls.py: the calls a real pytest run makes, named as the code loader names
functions, and compared with the loader's CALLS (a tiny package built in tmp_path)."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


dc = _module("dynamic_calls")
hook = _module("dynamic_calls_hook")

PACKAGE = {
    "pytest.ini": "[pytest]\npythonpath = .\n",
    "pkg/__init__.py": """
        from .core import helper

        VALUE = helper(1)
    """,
    "pkg/core.py": """
        def helper(x):
            return inner_twice(x)

        def inner_twice(x):
            def inner(y):
                return y * 2
            return inner(x) + sum(inner(v) for v in [x])

        class Base:
            def __init__(self):
                self.v = 1

            def run(self):
                return self.step()

            def step(self):
                return 1

        class Child(Base):
            def step(self):
                return apply(lambda: helper(2))

            @property
            def prop(self):
                return helper(3)

        def apply(f):
            return f()

        def gen():
            yield helper(4)

        def use_gen():
            return list(gen())

        def make():
            return Child()

        class K:
            x = helper(5)
    """,
    "tests/test_pkg.py": """
        from pkg.core import helper, make, use_gen

        def test_it():
            child = make()
            assert child.run() == 8
            assert child.prop == 12
            assert use_gen() == [16]
            assert helper(2) == 8
    """,
}

CORE = "pkg/core.py"


def _write(root: Path) -> None:
    for name, text in PACKAGE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The tiny package's own suite run once under the hook (no plugins: faster, and the same
    on every machine)."""
    root = tmp_path_factory.mktemp("tiny")
    _write(root)
    pkg = dc.package_dir(root, "pkg")
    data = dc.record(
        root,
        pkg,
        sys.executable,
        ["tests"],
        root / "rec.json",
        timeout=120,
        env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    return root, data


def test_the_hook_records_in_package_pairs_named_as_the_loader_names_them(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    _, data = recorded
    assert data["exit"] == "0", data
    pairs = {(r[0], r[1], r[3], r[4]) for r in data["pairs"]}
    assert {r[2] for r in data["pairs"]} <= {"fn", "inner", "module", "body"}
    assert pairs == {
        ("pkg/__init__.py", "<module>", CORE, "helper"),  # module-level code
        ("pkg/core.py", "K.<body>", CORE, "helper"),  # a class body
        (CORE, "helper", CORE, "inner_twice"),
        (CORE, "inner_twice", CORE, "inner_twice.inner"),  # nested; the genexpr's call too
        (CORE, "Base.run", CORE, "Child.step"),  # the runtime override
        (CORE, "Child.step", CORE, "apply"),
        (CORE, "Child.step", CORE, "helper"),  # from the lambda: its enclosing function
        (CORE, "Child.prop", CORE, "helper"),
        (CORE, "use_gen", CORE, "gen"),  # a generator: its first start, by list()
        (CORE, "gen", CORE, "helper"),
        (CORE, "make", CORE, "Base.__init__"),  # a constructor through type.__call__
    }
    ran = {(p, q) for p, q in data["ran"]}
    assert (CORE, "Child.prop") in ran and (CORE, "Base.__init__") in ran
    assert not any(p.startswith("tests/") for p, _ in ran)  # test code is not the package


def test_the_comparison_counts_hits_misses_and_unobserved_static_edges(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    tmp_path, data = recorded
    observed = {((r[0], r[1]), (r[3], r[4])): int(r[5]) for r in data["pairs"]}
    ran = {(p, q) for p, q in data["ran"]}
    edges, functions, _ = dc.static_edges(tmp_path, "t", tmp_path)
    fig = dc.compare(tmp_path, observed, ran, edges, functions, "pkg/")
    fn, mod = fig["function"], fig["module_level"]
    assert fn["observed"] == 9 and mod["observed"] == 2
    assert fn["hit"] + sum(c["count"] for c in fn["misses_by_category"].values()) == 9
    assert fn["hits_by_resolution"]["same_module"] >= 3  # helper, inner_twice, apply, ...
    assert mod["hit"] == 2 and fig["module_level"]["recall"] == 1.0
    # `self.step()` in Base.run is Base.step by name; at run time it was Child.step
    dispatch = fn["misses_by_category"].get(
        "another function of the same name was chosen (dispatch on the runtime type)"
    )
    if ((CORE, "Base.run"), (CORE, "Child.step")) not in edges:
        assert dispatch is not None and dispatch["count"] >= 1
    assert fig["static_never_observed"] == sum(
        1
        for (a, b) in edges
        if a[0].startswith("pkg/") and b[0].startswith("pkg/") and (a, b) not in observed
    )


def test_code_objects_are_named_like_the_loader_names_functions() -> None:
    src = "class A:\n    def f(self):\n        def g():\n            return [x for x in ()]\n"
    module = compile(src, "m.py", "exec")
    body = next(c for c in module.co_consts if hasattr(c, "co_code"))
    f = next(c for c in body.co_consts if hasattr(c, "co_code"))
    g = next(c for c in f.co_consts if hasattr(c, "co_code"))
    comp = next(c for c in g.co_consts if hasattr(c, "co_code"))
    assert hook.name_of(module, "m.py")[:3] == ("m.py", "<module>", "module")
    assert hook.name_of(body, "m.py")[:3] == ("m.py", "A.<body>", "body")
    assert hook.name_of(f, "m.py")[:3] == ("m.py", "A.f", "fn")
    assert hook.name_of(g, "m.py")[:3] == ("m.py", "A.f.g", "fn")
    assert hook.name_of(comp, "m.py")[:3] == ("m.py", "A.f.g", "inner")


def test_module_getattr_run_by_an_import_statement_is_left_out() -> None:
    pair = (("pkg/a.py", "<module>"), ("pkg/b.py", "__getattr__"))
    assert dc.import_machinery(pair, "    from .b import name")
    assert not dc.import_machinery(pair, "x = b.missing")
    assert not dc.import_machinery((pair[0], ("pkg/b.py", "load")), "from .b import load")
