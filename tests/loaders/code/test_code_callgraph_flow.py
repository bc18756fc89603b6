"""Golden call edges: module-level and class-body callers, C3 MRO, value flow (Python)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from graph_service.batch import EdgeBatch
from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from loaders.base import LoadReport
from loaders.code import make_loader
from loaders.code.loader import CodeConfig, CodeLoader
from tests.loaders.code.code_sample_tree import write_tree
from tests.loaders.code.conftest import call_edges


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


FLOW_TREE = {
    "pkg/__init__.py": "from pkg.clients import default_client\n",
    "pkg/clients.py": """\
class Client:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def request(self, url):
        return url

    def send(self, url):
        return self.request(url)


class Pages:
    def __iter__(self):
        return self

    def __next__(self):
        raise StopIteration


class Failure(Exception):
    def __init__(self, why):
        self.why = why


default_client = Client()


def get_client():
    return Client()
""",
    "pkg/api.py": """\
from pkg import default_client
from pkg.clients import *


def get(url):
    with Client() as client:
        return client.request(url)


def fetch(url):
    return get_client().send(url)


def shared(url):
    return default_client.send(url)


def crawl():
    for page in Pages():
        pass
    raise Failure("done")
""",
    "pkg/flow.py": """\
def on_ok():
    pass


def on_err():
    pass


def run(callback, *, errback=None):
    callback()
    errback()


def pick():
    return on_ok


def dec(f):
    def wrapper():
        return f()
    return wrapper


@dec
def wrapped():
    pass


class Holder:
    def __init__(self):
        self.handler = on_ok
        self.table = {"err": on_err}

    def fire(self):
        self.handler()
        self.table["err"]()


def main():
    run(on_ok, errback=on_err)
    pick()()
    a, b = on_ok, on_err
    b()
    wrapped()
    Holder().fire()
""",
}


def test_value_flow_edges(tmp_path: Path) -> None:
    calls = _calls(write_tree(tmp_path / "r", FLOW_TREE))
    clients, api, flow = "pkg/clients.py", "pkg/api.py", "pkg/flow.py"
    expected = {
        # with X() as y: y is X.__enter__'s result; the enter/exit calls are implicit
        (f"{api}:get", f"{clients}:Client.request"): "value_flow",
        (f"{api}:get", f"{clients}:Client.__enter__"): "implicit",
        (f"{api}:get", f"{clients}:Client.__exit__"): "implicit",
        # a call on a call's result; a re-exported instance; `from m import *`
        (f"{api}:fetch", f"{clients}:Client.send"): "value_flow",
        (f"{api}:fetch", f"{clients}:get_client"): "import",
        (f"{api}:shared", f"{clients}:Client.send"): "value_flow",
        # for x in C(): __iter__/__next__; raise A(...) -> A.__init__
        (f"{api}:crawl", f"{clients}:Pages.__iter__"): "implicit",
        (f"{api}:crawl", f"{clients}:Pages.__next__"): "implicit",
        (f"{api}:crawl", f"{clients}:Failure.__init__"): "constructor",
        # parameters and keyword arguments, returned functions, tuple assignment
        (f"{flow}:run", f"{flow}:on_ok"): "value_flow",
        (f"{flow}:run", f"{flow}:on_err"): "value_flow",
        (f"{flow}:main", f"{flow}:pick"): "same_module",
        (f"{flow}:main", f"{flow}:on_ok"): "value_flow",
        (f"{flow}:main", f"{flow}:on_err"): "value_flow",
        # a decorator is called where it is applied; the name now means the wrapper
        (f"{flow}:<module>", f"{flow}:dec"): "decorator",
        (f"{flow}:main", f"{flow}:dec.wrapper"): "value_flow",
        (f"{flow}:dec.wrapper", f"{flow}:wrapped"): "value_flow",
        # attributes and containers
        (f"{flow}:main", f"{flow}:Holder.fire"): "value_flow",
        (f"{flow}:Holder.fire", f"{flow}:on_ok"): "value_flow",
        (f"{flow}:Holder.fire", f"{flow}:on_err"): "value_flow",
    }
    got = {k: calls[k][0] for k in expected if k in calls}
    assert got == expected
    # the decorated name no longer calls the original function
    assert (f"{flow}:main", f"{flow}:wrapped") not in calls
    # `a, b = on_ok, on_err; b()`: on_ok is called by main only through pick()()
    assert calls[(f"{flow}:run", f"{flow}:on_ok")][1] == 0.8
    assert calls[(f"{api}:crawl", f"{clients}:Pages.__iter__")][1] == 0.8


def test_value_flow_is_exact_after_an_incremental_load(
    tmp_path: Path, store: GraphStore, load: Callable[..., LoadReport]
) -> None:
    root = write_tree(tmp_path / "shop", FLOW_TREE)
    load(root)
    # pick() now returns on_err: main's edge moves though only flow.py's callee changed
    text = (root / "pkg/flow.py").read_text().replace("return on_ok", "return on_err")
    (root / "pkg/flow.py").write_text(text)
    # clients.py changes; api.py's value-flow edges must follow (no stale edge)
    clients = (root / "pkg/clients.py").read_text()
    (root / "pkg/clients.py").write_text(clients.replace("return self.request(url)", "return url"))
    report = load(root)
    assert not report.failed_batches
    fresh = open_store(Settings(db_path=tmp_path / "fresh.lbug"), create=True)
    ingest(fresh, make_loader([str(root)], Settings(), {"repo": "shop"}))
    assert call_edges(store) == call_edges(fresh)
    assert ("pkg/clients.py:Client.send", "pkg/clients.py:Client.request", "self") not in (
        call_edges(store)
    )


def test_other_languages_module_level_callers_and_methods_on_new_objects(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "r",
        {
            "web/calc.js": """\
export class Calc {
  add(a, b) { return a + b; }
}
export function setup() { return 1; }
setup();
const total = new Calc().add(1, 2);
""",
            "web/shape.ts": """\
export class Square {
  area(): number { return 4; }
}
export function register(): void {}
register();
export const a = new Square().area();
""",
            "go.mod": "module example.com/app\n",
            "main.go": """\
package main

func setup() int { return 1 }

var ready = setup()

func main() {}
""",
            "src/main/java/com/acme/Helper.java": """\
package com.acme;

public class Helper {
    private int n = init();
    private int m = new Helper().count();

    static int init() { return 1; }
    int count() { return 2; }
    void run() { new Helper().count(); }
}
""",
        },
    )
    calls = _calls(root)
    java = "src/main/java/com/acme/Helper.java"
    expected = {
        ("web/calc.js:<module>", "web/calc.js:setup"): "same_module",
        ("web/calc.js:<module>", "web/calc.js:Calc.add"): "constructed_receiver",
        ("web/shape.ts:<module>", "web/shape.ts:register"): "same_module",
        ("web/shape.ts:<module>", "web/shape.ts:Square.area"): "constructed_receiver",
        ("main.go:<module>", "main.go:setup"): "same_module",
        (f"{java}:Helper.<body>", f"{java}:Helper.init"): "self",
        (f"{java}:Helper.<body>", f"{java}:Helper.count"): "constructed_receiver",
        (f"{java}:Helper.run", f"{java}:Helper.count"): "constructed_receiver",
    }
    assert {k: calls[k][0] for k in expected if k in calls} == expected


def test_named_queries_reach_module_level_callers(
    tmp_path: Path, store: GraphStore, load: Callable[..., LoadReport]
) -> None:
    from graph_service.queries import run_named

    root = write_tree(
        tmp_path / "shop",
        {
            "app.py": "from core import build\n\napp = build()\n",
            "core.py": "def helper():\n    pass\n\n\ndef build():\n    return helper()\n",
        },
    )
    load(root)
    helper = "fn:shop:core.py:helper"
    rows = run_named(store, "callers", {"uid": helper, "hops": "2"}).rows()
    assert {(r["qualname"], r["depth"]) for r in rows} == {("build", 1), ("<module>", 2)}
    blast = run_named(store, "blast_radius", {"uids": [helper]}).rows()
    assert "fn:shop:app.py:<module>" in {r["uid"] for r in blast}


def test_value_flow_is_skipped_above_its_size_limit(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "r", FLOW_TREE)
    cfg = CodeConfig(root=root, repo="r", use_git=False, workers=1, value_flow_max_bytes=100)
    report = LoadReport("code")
    resolutions = set()
    for batch in CodeLoader(cfg).extract(report):
        if isinstance(batch, EdgeBatch) and batch.type == "CALLS":
            resolutions |= set(batch.table.column("resolution").to_pylist())
    assert resolutions and not resolutions & {"value_flow", "implicit", "decorator"}
    assert any("value flow skipped" in w.reason for w in report.warnings)
    assert report.stats["call_edges_value_flow"] == 0 and "flow_seconds" not in report.stats


def test_a_wrapper_shared_by_many_functions_keeps_their_name_edges(tmp_path: Path) -> None:
    defs = "".join(f"\n\n@logged\ndef op{i}():\n    pass\n" for i in range(10))
    calls_src = "".join(f"    op{i}()\n" for i in range(10))
    root = write_tree(
        tmp_path / "r",
        {
            "m.py": "def logged(f):\n    def wrapper():\n        return f()\n    return wrapper\n"
            + defs
            + "\n\ndef main():\n"
            + calls_src,
        },
    )
    calls = _calls(root)
    # the wrapper's f() could be any of 10 functions: value flow gives up (more than 8), so
    # main keeps its edges to the functions it names (the graph stays connected); the wrapper
    # (one nested function calling the decorator's parameter) calls each function it wraps
    # (bench/dynamic_calls.py observed flask's setupmethod wrapper do so for 43 methods)
    assert all(("m.py:main", f"m.py:op{i}") in calls for i in range(10))
    assert all(calls[("m.py:logged.wrapper", f"m.py:op{i}")][0] == "wrapper" for i in range(10))
    assert calls[("m.py:main", "m.py:logged.wrapper")][0] == "value_flow"
