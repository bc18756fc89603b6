"""parse_source golden expectations per language (the contract the git loader relies on)."""

from __future__ import annotations

from loaders.code import language_for, parse_source
from tests.loaders.code.code_sample_tree import SAMPLE


def _fns(path: str) -> dict[str, tuple[int, int]]:
    parsed = parse_source(path, SAMPLE[path].encode())
    assert parsed is not None
    return {f.qualname: (f.start_line, f.end_line) for f in parsed.functions}


def test_language_for() -> None:
    assert language_for("a/b.py") == "python"
    assert language_for("x.TSX") == "tsx"
    assert language_for("x.mjs") == "javascript"
    assert language_for("Main.java") == "java"
    assert language_for("main.go") == "go"
    assert language_for("README.md") is None
    assert language_for("Makefile") is None
    assert parse_source("notes.txt", b"hello") is None


def test_python_functions_classes_lines() -> None:
    assert _fns("app/models.py") == {
        "User.__init__": (12, 14),
        "User.validate": (16, 19),
        "User.greet": (21, 22),
        "User.create": (24, 26),
    }
    parsed = parse_source("app/models.py", SAMPLE["app/models.py"].encode())
    assert parsed is not None
    (user,) = parsed.classes
    assert (user.qualname, user.bases, user.start_line, user.end_line) == ("User", ["Base"], 6, 26)
    init = parsed.functions[0]
    assert init.params == ["self", "name", "email"]
    assert init.class_name == "User"
    validate = parsed.functions[1]
    assert validate.complexity == 3  # if + `and`
    assert validate.loc == 4
    assert [(b.kind, b.module, b.name, b.alias) for b in parsed.imports] == [
        ("symbol", ".base", "Base", None),
        ("symbol", ".", "util", None),
        ("module", "app.util", None, "u"),
    ]


def test_python_docstring_nested_and_tests() -> None:
    util = parse_source("app/util.py", SAMPLE["app/util.py"].encode())
    assert util is not None
    assert [f.qualname for f in util.functions] == ["normalize", "check", "helper", "helper.inner"]
    assert util.functions[2].local_names == {"inner"}
    models = parse_source("app/models.py", SAMPLE["app/models.py"].encode())
    assert models is not None
    assert models.functions[0].docstring is None
    cls_doc = parse_source("m.py", b'def f():\n    """First line.\n\n    More."""\n')
    assert cls_doc is not None and cls_doc.functions[0].docstring == "First line."
    test = parse_source("tests/test_util.py", SAMPLE["tests/test_util.py"].encode())
    assert test is not None and test.is_test and test.functions[0].is_test


def test_syntax_error_recovers_functions() -> None:
    parsed = parse_source("broken.py", SAMPLE["broken.py"].encode())
    assert parsed is not None and parsed.has_error
    names = [f.qualname for f in parsed.functions]
    assert "ok" in names and "after" in names
    assert parsed.error_line == 5


def test_javascript() -> None:
    parsed = parse_source("web/lib/math.js", SAMPLE["web/lib/math.js"].encode())
    assert parsed is not None
    assert [f.qualname for f in parsed.functions] == ["add", "mul", "Calc.constructor", "Calc.plus"]
    assert parsed.default_export == "mul"
    app = parse_source("web/app.js", SAMPLE["web/app.js"].encode())
    assert app is not None
    assert app.functions[0].docstring == "Entry point."
    kinds = {(b.kind, b.name, b.alias) for b in app.imports if b.kind != "side_effect"}
    assert kinds == {
        ("default", None, "mul"),
        ("symbol", "add", None),
        ("symbol", "Calc", None),
        ("module", None, "m"),
        ("symbol", "sum", None),
    }
    calls = {(c.name, c.receiver, c.kind) for c in app.calls}
    assert ("Calc", None, "new") in calls and ("add", "m", "call") in calls


def test_javascript_functions_assigned_to_properties() -> None:
    source = b"""\
var app = exports = module.exports = {};
app.init = function init() { this.defaults(); };
app.defaults = () => 1;
Router.prototype.handle = function (req) { return req; };
exports.helper = function () {};
module.exports.other = (x) => x;
module.exports = function createApp() {};
var table = { run: function () {}, stop() {}, [key]: function () {} };
class View { onClick = (e) => this.render(e); render(e) {} }
defineGetter(app, 'host', function host() { return 1; });
it('works', function () {});
"""
    parsed = parse_source("lib/application.js", source)
    assert parsed is not None
    got = [(f.qualname, f.class_name) for f in parsed.functions]
    assert got == [
        ("app.init", "app"),
        ("app.defaults", "app"),
        ("Router.handle", "Router"),
        ("helper", None),
        ("other", None),
        ("run", None),
        ("stop", None),
        ("View.onClick", "View"),
        ("View.render", "View"),
        ("host", None),
    ]
    assert ("defaults", "this") in {(c.name, c.receiver) for c in parsed.calls}


def test_typescript_and_tsx() -> None:
    ts = parse_source("web/ui/types.ts", SAMPLE["web/ui/types.ts"].encode())
    assert ts is not None and ts.language == "typescript"
    assert [c.qualname for c in ts.classes] == ["Shape", "Square"]
    assert ts.classes[1].bases == ["Shape"]
    assert [f.qualname for f in ts.functions] == ["Square.constructor", "Square.area", "makeSquare"]
    tsx = parse_source("web/ui/View.tsx", SAMPLE["web/ui/View.tsx"].encode())
    assert tsx is not None and tsx.language == "tsx" and not tsx.has_error
    assert [f.qualname for f in tsx.functions] == ["View", "Big.area"]
    assert ("area", "super") in {(c.name, c.receiver) for c in tsx.calls}


def test_go() -> None:
    parsed = parse_source("pkg/store/store.go", SAMPLE["pkg/store/store.go"].encode())
    assert parsed is not None and parsed.package == "store"
    assert [(f.qualname, f.class_name) for f in parsed.functions] == [
        ("New", None),
        ("Store.Add", "Store"),
    ]
    add = parsed.functions[1]
    assert add.self_name == "s" and add.params == ["item"]
    assert add.complexity == 3  # if + ||
    assert parsed.functions[0].docstring == "New makes a Store."
    assert [c.qualname for c in parsed.classes] == ["Store"]
    main = parse_source("cmd/main.go", SAMPLE["cmd/main.go"].encode())
    assert main is not None
    assert [(b.module, b.alias) for b in main.imports] == [("example.com/shop/pkg/store", "st")]


def test_java() -> None:
    path = "src/main/java/com/acme/Dog.java"
    parsed = parse_source(path, SAMPLE[path].encode())
    assert parsed is not None and parsed.package == "com.acme"
    quals = [f.qualname for f in parsed.functions]
    assert quals == ["Dog.Dog", "Dog.sound", "Dog.intro", "Dog.make"]
    assert parsed.classes[0].bases == ["Animal"]
    assert [(b.kind, b.module, b.name) for b in parsed.imports] == [
        ("symbol", "com.acme.util", "Strings"),
    ]
    test = parse_source("src/test/java/DogTest.java", b"class DogTest { @Test void barks() {} }")
    assert test is not None and test.functions[0].is_test
