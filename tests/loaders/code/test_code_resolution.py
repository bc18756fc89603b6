"""Resolution rules that keep wrong edges out (no store needed: edges read from the batches)."""

from __future__ import annotations

from pathlib import Path

from graph_service.batch import EdgeBatch
from loaders.base import LoadReport
from loaders.code.loader import CodeConfig, CodeLoader
from loaders.code.modules import ModuleIndex
from tests.loaders.code.code_sample_tree import write_tree


def _calls(root: Path) -> set[tuple[str, str, str]]:
    loader = CodeLoader(CodeConfig(root=root, repo="r", use_git=False))
    out = set()
    for batch in loader.extract(LoadReport("code")):
        if isinstance(batch, EdgeBatch) and batch.type == "CALLS":
            for row in batch.table.to_pylist():
                out.add((row["src"][5:], row["dst"][5:], row["resolution"]))
    return out


def test_stdlib_names_are_not_repository_modules() -> None:
    index = ModuleIndex(["__init__.py", "random.py", "nn/__init__.py", "nn/x.py"], "torch", {})
    # a root that is itself a package: its modules by the root's name and from the root
    # (`from nn.x import f` in a script or test run there); `random` stays the stdlib's
    assert index.py == {
        "torch": "__init__.py",
        "torch.nn": "nn/__init__.py",
        "torch.nn.x": "nn/x.py",
        "torch.random": "random.py",
        "nn": "nn/__init__.py",
        "nn.x": "nn/x.py",
    }
    assert index.py_module_name("nn/x.py") == "torch.nn.x"
    flat = ModuleIndex(["tools/random.py", "src/app/__init__.py", "src/app/x.py"], "r", {})
    assert flat.py_file("app.x") == "src/app/x.py" and flat.py_file("random") is None


def test_ambiguous_or_shadowed_calls_get_no_edge(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "r",
        {
            "pkg/__init__.py": "",
            "pkg/random.py": "def seed():\n    pass\n",
            "pkg/use.py": """\
import random
from pkg import random as prandom


def a():
    random.seed()
    prandom.seed()


def b(seed):
    return seed()


def c(obj):
    obj.save()
    make().save()
    "x".join([])


def typed(k: "K", j: K):
    j.save()
    j = other()
    j.save()


def annotated(j: K):
    return j.save()


def rebound(items):
    k = K()
    for k in items:
        k.save()
    w = K()
    with open("f") as w:
        w.save()


def constructed():
    k = K()
    k.save()
    k = make()
    k.save()


class K:
    def save(self):
        pass

    def d(self):
        def inner():
            self.save()
        inner()
        other = K()
        return other.save()
""",
        },
    )
    assert _calls(root) == {
        ("pkg/use.py:a", "pkg/random.py:seed", "alias"),
        ("pkg/use.py:K.d", "pkg/use.py:K.d.inner", "local"),
        ("pkg/use.py:K.d.inner", "pkg/use.py:K.save", "self"),
        ("pkg/use.py:K.d", "pkg/use.py:K.save", "local_type"),
        ("pkg/use.py:annotated", "pkg/use.py:K.save", "annotation"),
        # a parameter's declared type holds until it is bound again: the first `j.save()` in
        # `typed` runs on the K it declares, the one after `j = other()` on nothing known
        ("pkg/use.py:typed", "pkg/use.py:K.save", "annotation"),
        # value flow follows bindings in order: the first `k.save()` runs on `K()` (the
        # name rule drops k, bound twice); the loop and `with` targets rebind k and w
        ("pkg/use.py:constructed", "pkg/use.py:K.save", "value_flow"),
    }


def test_javascript_methods_assigned_to_objects_resolve(tmp_path: Path) -> None:
    """CommonJS style: `app.f = function`, `Cls.prototype.f = ...`, `exports.f = ...`."""
    root = write_tree(
        tmp_path / "r",
        {
            "lib/util.js": "exports.normalize = function (x) { return x; };\n",
            "lib/app.js": """\
var util = require('./util');
var app = module.exports = {};
app.init = function init() {
  this.set('a');
  app.handle();
  util.normalize(1);
  other.handle();
};
app.set = function set(k) {};
app.later = function later() {
  setTimeout(() => this.set('b'), 1);
  setTimeout(function tick() { this.set('c'); }, 1);
};
app.handle = function handle() {};
function Router() {}
Router.prototype.route = function (p) { return this.match(p); };
Router.prototype.match = function (p) {};
""",
        },
    )
    assert _calls(root) == {
        ("lib/app.js:app.init", "lib/app.js:app.set", "self"),
        ("lib/app.js:app.init", "lib/app.js:app.handle", "same_module"),
        ("lib/app.js:app.init", "lib/util.js:normalize", "import"),
        ("lib/app.js:app.later", "lib/app.js:app.set", "self"),
        ("lib/app.js:Router.route", "lib/app.js:Router.match", "self"),
    }
