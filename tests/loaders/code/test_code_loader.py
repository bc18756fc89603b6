"""The code loader end to end into a real Ladybug store: golden graph, bad input, idempotence."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from graph_service.errors import CallerError
from graph_service.settings import Settings
from graph_service.store import GraphStore
from loaders.base import LoadReport
from loaders.code import make_loader
from tests.loaders.code.code_sample_tree import SAMPLE, write_tree
from tests.loaders.code.conftest import call_edges, snapshot

EXPECTED_CALLS = {
    ("app/base.py:Base.save", "app/base.py:Base.validate", "self"),
    # value flow: `self` in Base.save is also a User (User.greet calls save on one), so the
    # override runs too; `cls(name)` in the classmethod User.create constructs a User
    ("app/base.py:Base.save", "app/models.py:User.validate", "value_flow"),
    ("app/models.py:User.create", "app/models.py:User.__init__", "constructor"),
    ("app/models.py:User.__init__", "app/base.py:Base.__init__", "super"),
    ("app/models.py:User.__init__", "app/util.py:normalize", "import"),
    ("app/models.py:User.greet", "app/base.py:Base.save", "class_hierarchy"),
    ("app/models.py:User.validate", "app/util.py:check", "alias"),
    ("app/service.py:register", "app/models.py:User.__init__", "constructor"),
    ("app/service.py:register", "app/models.py:User.greet", "local_type"),
    ("app/service.py:register", "app/util.py:normalize", "alias"),
    ("app/util.py:check", "app/util.py:helper", "same_module"),
    ("app/util.py:helper", "app/util.py:helper.inner", "local"),
    ("broken.py:after", "broken.py:ok", "same_module"),
    ("cmd/main.go:main", "cmd/main.go:run", "same_module"),
    ("cmd/main.go:main", "pkg/store/store.go:New", "alias"),
    ("cmd/main.go:main", "pkg/store/store.go:Store.Add", "local_type"),  # s := store.New()
    ("pkg/store/store.go:Store.Add", "pkg/store/helpers.go:Store.log", "self"),
    ("pkg/store/store.go:Store.Add", "pkg/store/helpers.go:clean", "same_package"),
    (
        "src/main/java/com/acme/Animal.java:Animal.describe",
        "src/main/java/com/acme/Animal.java:Animal.sound",
        "self",
    ),
    (
        "src/main/java/com/acme/Dog.java:Dog.intro",
        "src/main/java/com/acme/Animal.java:Animal.describe",
        "class_hierarchy",
    ),
    (
        "src/main/java/com/acme/Dog.java:Dog.intro",
        "src/main/java/com/acme/Dog.java:Dog.sound",
        "self",
    ),
    (
        "src/main/java/com/acme/Dog.java:Dog.make",
        "src/main/java/com/acme/Dog.java:Dog.Dog",
        "constructor",
    ),
    (
        "src/main/java/com/acme/Dog.java:Dog.sound",
        "src/main/java/com/acme/util/Strings.java:Strings.upper",
        "static",
    ),
    ("tests/test_util.py:test_check", "app/util.py:check", "import"),
    ("web/app.js:main", "web/lib/math.js:Calc.constructor", "constructor"),
    ("web/app.js:main", "web/lib/math.js:Calc.plus", "local_type"),  # c = new Calc()
    ("web/app.js:main", "web/lib/math.js:add", "import"),
    ("web/app.js:main", "web/lib/math.js:mul", "import"),
    ("web/lib/math.js:Calc.plus", "web/lib/math.js:add", "same_module"),
    ("web/ui/View.tsx:Big.area", "web/ui/types.ts:Square.area", "super"),
    ("web/ui/View.tsx:View", "web/ui/types.ts:makeSquare", "import"),
    ("web/ui/types.ts:makeSquare", "web/ui/types.ts:Square.constructor", "constructor"),
}

EXPECTED_IMPORTS = {
    ("app/__init__.py", "app/models.py"),
    ("app/models.py", "app/base.py"),
    ("app/models.py", "app/util.py"),
    ("app/service.py", "app/__init__.py"),
    ("app/service.py", "app/models.py"),
    ("app/service.py", "app/util.py"),
    ("cmd/main.go", "pkg/store/helpers.go"),
    ("cmd/main.go", "pkg/store/store.go"),
    ("src/main/java/com/acme/Dog.java", "src/main/java/com/acme/util/Strings.java"),
    ("tests/test_util.py", "app/util.py"),
    ("web/app.js", "web/lib/index.js"),
    ("web/app.js", "web/lib/math.js"),
    ("web/lib/index.js", "web/lib/math.js"),
    ("web/ui/View.tsx", "web/ui/types.ts"),
}


def _pairs(store: GraphStore, q: str) -> set[tuple[str, str]]:
    return {(r["x"], r["y"]) for r in store.query(q).rows()}


def test_golden_calls(
    store: GraphStore, sample_root: Path, load: Callable[..., LoadReport]
) -> None:
    report = load(sample_root)
    assert not report.failed_batches
    assert not [k for k in report.extracted if k.startswith("delete")]  # nothing to remove yet
    assert call_edges(store) == EXPECTED_CALLS
    counts = {
        r["x"]: r["n"]
        for r in store.query(
            "MATCH (a:Function)-[c:CALLS]->(b:Function) WHERE a.qualname = 'main' "
            "AND b.qualname = 'add' RETURN a.path AS x, c.count AS n"
        ).rows()
    }
    assert counts == {"web/app.js": 3}  # add(), m.add() and the re-exported sum()
    edge = store.query(
        "MATCH (a:Function {qualname: 'User.validate'})-[c:CALLS]->(b:Function) "
        "RETURN c.source AS s, c.confidence AS conf, c.line AS line"
    ).rows()
    assert edge == [{"s": "static", "conf": 0.95, "line": 19}]


def test_golden_structure(
    store: GraphStore, sample_root: Path, load: Callable[..., LoadReport]
) -> None:
    load(sample_root)
    imports = _pairs(store, "MATCH (a:File)-[:IMPORTS]->(b:File) RETURN a.path AS x, b.path AS y")
    assert imports == EXPECTED_IMPORTS
    inherits = _pairs(
        store,
        "MATCH (a:Class)-[:INHERITS]->(b:Class) "
        "RETURN a.qualname AS x, b.path + ':' + b.qualname AS y",
    )
    assert inherits == {
        ("User", "app/base.py:Base"),
        ("Dog", "src/main/java/com/acme/Animal.java:Animal"),
        ("Big", "web/ui/types.ts:Square"),
        ("Square", "web/ui/types.ts:Shape"),
    }
    methods = _pairs(
        store,
        "MATCH (c:Class)-[:DEFINES]->(f:Function) "
        "WHERE c.path STARTS WITH 'pkg/' RETURN c.qualname AS x, f.uid AS y",
    )
    assert methods == {
        ("Store", "fn:shop:pkg/store/store.go:Store.Add"),
        ("Store", "fn:shop:pkg/store/helpers.go:Store.log"),
    }
    files = {
        r["p"]: r
        for r in store.query(
            "MATCH (r:Repository)-[:CONTAINS]->(f:File) RETURN f.path AS p, f.language AS lang, "
            "f.parse_status AS status, f.is_test AS test, f.loc AS loc"
        ).rows()
    }
    assert "ignored/skip.py" not in files and "node_modules/lib/index.js" not in files
    assert files["broken.py"]["status"] == "syntax_error"
    assert files["app/util.py"] == {
        "p": "app/util.py",
        "lang": "python",
        "status": "ok",
        "test": False,
        "loc": 8,
    }
    assert files["tests/test_util.py"]["test"] is True
    assert files["web/ui/View.tsx"]["lang"] == "tsx"
    fn = store.query(
        "MATCH (f:Function {uid: 'fn:shop:pkg/store/store.go:Store.Add'}) RETURN f.name AS n, "
        "f.start_line AS s, f.end_line AS e, f.complexity AS c, f.params AS p, f.language AS l"
    ).rows()
    assert fn == [{"n": "Add", "s": 11, "e": 18, "c": 3, "p": ["item"], "l": "go"}]


def test_bad_input_is_reported(
    store: GraphStore, sample_root: Path, load: Callable[..., LoadReport]
) -> None:
    (sample_root / "huge.py").write_text("x = 1\n" * 2000)
    report = load(sample_root, max_file_bytes="10000")
    skipped = {p.item: p.reason for p in report.skipped}
    assert skipped["data/blob.py"] == "binary content"
    assert skipped["node_modules/lib/index.js"] == "vendored directory"
    assert skipped["proto/msg_pb2.py"] == "generated file (name)"
    assert skipped["pkg/store/zz_gen.go"] == "generated file (header)"
    assert skipped["huge.py"].startswith("too large (12000 bytes")
    warned = {p.item: p for p in report.warnings}
    assert warned["broken.py"].position == "line 5"
    assert "UTF-8" in warned["legacy.py"].reason
    assert report.stats["syntax_errors"] == 1
    legacy = store.query("MATCH (f:Function {qualname: 'old'}) RETURN f.path AS p").rows()
    assert legacy == [{"p": "legacy.py"}]


def test_options_include_vendored(
    store: GraphStore, sample_root: Path, load: Callable[..., LoadReport]
) -> None:
    report = load(sample_root, include_vendored="true", include_generated="true")
    assert {p.item for p in report.skipped} == {"data/blob.py"}
    names = {r["n"] for r in store.query("MATCH (f:Function) RETURN f.name AS n").rows()}
    assert {"vendored", "generated", "gen"} <= names


def test_options_languages_and_bad_option(
    store: GraphStore, sample_root: Path, load: Callable[..., LoadReport]
) -> None:
    load(sample_root, languages="go, java")
    langs = {r["l"] for r in store.query("MATCH (f:File) RETURN DISTINCT f.language AS l").rows()}
    assert langs == {"go", "java"}
    with pytest.raises(CallerError, match="max_file_bytes"):
        make_loader([str(sample_root)], Settings(), {"max_file_bytes": "lots"})
    with pytest.raises(CallerError, match="not a directory"):
        list(make_loader([str(sample_root / "nope")], Settings(), {}).extract(LoadReport("code")))


def test_load_twice_changes_nothing(
    store: GraphStore, sample_root: Path, load: Callable[..., LoadReport]
) -> None:
    load(sample_root)
    first, counts = snapshot(store), store.counts()
    again = load(sample_root)
    assert sum(again.written.values()) == 0 and again.stats["files_parsed"] == 0
    assert snapshot(store) == first and store.counts() == counts
    full = load(sample_root, incremental="false")  # re-parse and upsert everything
    assert full.stats["files_parsed"] == 19 and sum(full.written.values()) > 0
    assert snapshot(store) == first and store.counts() == counts


def test_git_repository_honours_gitignore(
    store: GraphStore, tmp_path: Path, load: Callable[..., LoadReport]
) -> None:
    root = write_tree(
        tmp_path / "repo",
        {k: v for k, v in SAMPLE.items() if k.startswith(("app/", ".gitignore", "ignored/"))},
    )
    (root / "build.log").write_text("x")
    (root / "app" / "scratch.py").write_text("def scratch():\n    pass\n")  # untracked
    git = ["git", "-C", str(root), "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "app", ".gitignore"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    load(root)
    paths = {r["p"] for r in store.query("MATCH (f:File) RETURN f.path AS p").rows()}
    assert paths == {
        "app/__init__.py",
        "app/base.py",
        "app/models.py",
        "app/util.py",
        "app/service.py",
        "app/scratch.py",
    }
