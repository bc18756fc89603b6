"""Function spans and hunk mapping: same names as the code loader, incremental = full parse."""

from __future__ import annotations

import subprocess

import pytest

from loaders.code import parse_source
from loaders.git.functions import FunctionIndex, apply_hunks, blob_id, map_change
from loaders.git.log_parser import FileChange, Hunk
from loaders.git.rows import function_mapper
from loaders.git.spans import edit_tree, function_spans, parse_spans, reparse_spans

SOURCES = {
    "pkg/mod.py": (
        "import os\n\n\n@decorator\ndef top(a):\n    def inner():\n        return a\n"
        "    return inner\n\n\nclass Shape:\n    class Meta:\n        def tag(self):\n"
        "            return 1\n\n    @property\n    def area(self):\n        return 0\n"
    ),
    "web/app.js": (
        "function main() {\n  const helper = () => 1;\n  return helper();\n}\n"
        "class Cart {\n  add(item) {\n    return item;\n  }\n}\n"
        "const total = function (xs) {\n  return xs.length;\n};\n"
    ),
    "web/legacy.js": (
        "var app = exports = module.exports = {};\n"
        "app.init = function init() {\n  this.cache = {};\n};\n"
        "Router.prototype.handle = (req) => {\n  return req;\n};\n"
        "exports.helper = function () {\n  return 1;\n};\n"
        "module.exports.other = x => x;\n"
        "var table = {\n  run: function () {\n    return 2;\n  },\n"
        "  stop() {\n    return 3;\n  },\n};\n"
        "class View {\n  onClick = (e) => {\n    return e;\n  };\n}\n"
        "defineGetter(app, 'host', function host() {\n  return 1;\n});\n"
    ),
    "web/types.ts": (
        "export function greet(name: string): string {\n  return name;\n}\n"
        "export class Box<T> {\n  get(): T | null {\n    return null;\n  }\n}\n"
        "class Page {\n  private render = (): void => {\n    return;\n  };\n}\n"
    ),
    "svc/main.go": (
        "package main\n\nfunc Run() int {\n\treturn 1\n}\n\n"
        "type Server struct{}\n\nfunc (s *Server) Serve() error {\n\treturn nil\n}\n"
    ),
    "src/App.java": (
        "class App {\n  void run() {\n    return;\n  }\n"
        "  static class Inner {\n    int size() {\n      return 0;\n    }\n  }\n}\n"
    ),
}


@pytest.mark.parametrize("path", sorted(SOURCES))
def test_spans_name_functions_exactly_as_the_code_loader(path):
    source = SOURCES[path].encode()
    parsed = parse_source(path, source)
    assert parsed is not None and parsed.functions
    expected = sorted((f.qualname, f.name, f.start_line, f.end_line) for f in parsed.functions)
    spans = function_spans(path, source)
    assert spans is not None
    assert sorted(spans[0]) == expected


def test_unsupported_language_has_no_spans():
    assert function_spans("notes.txt", b"hello\n") is None


def _hunks(old: bytes, new: bytes, tmp_path) -> list[Hunk]:
    """-U0 hunks exactly as git computes them, with their text."""
    (tmp_path / "a").write_bytes(old)
    (tmp_path / "b").write_bytes(new)
    out = subprocess.run(
        ["git", "diff", "--no-index", "-U0", str(tmp_path / "a"), str(tmp_path / "b")],
        capture_output=True,
        check=False,
    ).stdout
    hunks: list[Hunk] = []
    for line in out.splitlines(keepends=True):
        if line.startswith(b"@@"):
            head = line.split(b"@@")[1].split()
            o, n = head[0][1:].split(b","), head[1][1:].split(b",")
            hunks.append(
                Hunk(
                    int(o[0]),
                    int(o[1]) if len(o) > 1 else 1,
                    int(n[0]),
                    int(n[1]) if len(n) > 1 else 1,
                    [],
                    [],
                )
            )
        elif hunks and line[:1] == b"+" and not line.startswith(b"+++"):
            hunks[-1].added.append(line[1:])  # type: ignore[union-attr]
        elif hunks and line[:1] == b"-" and not line.startswith(b"---"):
            hunks[-1].removed.append(line[1:])  # type: ignore[union-attr]
    return hunks


OLD = SOURCES["pkg/mod.py"].encode()
EDITS = [
    OLD.replace(b"        return a\n", b"        x = a\n        return x\n"),  # grow a function
    OLD.replace(b"import os\n", b""),  # delete at the top
    OLD + b"\n\ndef tail():\n    pass\n",  # append
    OLD.replace(
        b"class Shape:\n    class Meta:\n        def tag(self):\n            return 1\n",
        b"class Shape:\n",
    ),  # delete a nested class
    b"def only():\n    return 0\n",  # rewrite everything
]


@pytest.mark.parametrize("new", EDITS)
def test_incremental_reparse_and_patched_blob_match_a_fresh_parse(new, tmp_path):
    hunks = _hunks(OLD, new, tmp_path)
    assert apply_hunks(OLD, hunks) == new
    old_spans = function_spans("pkg/mod.py", OLD)
    assert old_spans is not None
    edited = edit_tree(old_spans[1], OLD, new, hunks)
    assert edited is not None
    incremental = function_spans("pkg/mod.py", new, edited)
    fresh = function_spans("pkg/mod.py", new)
    assert incremental is not None and fresh is not None
    assert incremental[0] == fresh[0]


# Per language: (old text, new text) pairs that rename, decorate, nest, move and delete.
REPARSE = [
    ("pkg/mod.py", "class Shape:", "class Figure:"),  # a class renamed: its methods follow
    ("pkg/mod.py", "    @property\n", "    @property\n    @cached\n"),  # decorator added
    ("pkg/mod.py", "@decorator\n", ""),  # decorator removed
    ("pkg/mod.py", "    def inner():\n        return a\n", ""),  # nested function removed
    ("pkg/mod.py", '"', '"'),  # no change at all
    ("pkg/mod.py", "import os\n", 'x = """\n'),  # everything below becomes a string
    ("web/app.js", "class Cart {", "class Basket {"),
    ("web/app.js", "const helper = () => 1;", "const helper = () => {\n    return 1;\n  };"),
    ("web/types.ts", "export class Box<T> {", "export class Crate<T> {\n  x = 1;"),
    ("svc/main.go", "func (s *Server) Serve", "func (s *Proxy) Serve"),
    ("src/App.java", "  static class Inner {", "  static class Outer {\n    void go() {}"),
]


@pytest.mark.parametrize(("path", "old", "new"), REPARSE)
def test_reparse_from_hunks_gives_what_a_full_parse_gives(path, old, new, tmp_path):
    _check_reparse(path, SOURCES[path], SOURCES[path].replace(old, new, 1), tmp_path)


def test_reparse_sees_structure_change_far_from_the_hunks(tmp_path):
    """Quoting the whole module touches two lines; every definition between them is gone."""
    source = SOURCES["pkg/mod.py"]
    _check_reparse("pkg/mod.py", source, f'"""\n{source}"""\n', tmp_path)
    _check_reparse("pkg/mod.py", f'"""\n{source}"""\n', source, tmp_path)


def _check_reparse(path: str, old: str, new: str, tmp_path) -> None:
    before, after = old.encode(), new.encode()
    hunks = _hunks(before, after, tmp_path)
    first = parse_spans(path, before)
    assert first is not None
    again = reparse_spans(path, after, first, before, hunks)
    fresh = parse_spans(path, after)
    assert again is not None and fresh is not None
    assert sorted(again.spans) == sorted(fresh.spans)
    assert sorted(again.scopes) == sorted(fresh.scopes)


def test_index_rebuilds_blobs_from_hunks_and_maps_both_sides(tmp_path):
    new = EDITS[0]
    blobs = {blob_id(OLD): OLD}
    reads: list[str] = []

    def read(sha: str) -> bytes | None:
        reads.append(sha)
        return blobs.get(sha)

    index = FunctionIndex(read)
    hunks = _hunks(OLD, new, tmp_path)
    old_fns = index.get("pkg/mod.py", blob_id(OLD))
    new_fns = index.get("pkg/mod.py", blob_id(new), ("pkg/mod.py", blob_id(OLD), hunks))
    assert reads == [blob_id(OLD)]  # the new side came from the patch, not from git
    assert index.patched == 1 and index.incremental == 1
    change = FileChange(
        "M", "pkg/mod.py", "pkg/mod.py", blob_id(OLD), blob_id(new), "100644", "100644", hunks=hunks
    )
    mapped = {fc.qualname: fc for fc in map_change(change, old_fns, new_fns)}
    assert set(mapped) == {"top.inner"}  # the innermost function owns the lines
    assert (mapped["top.inner"].lines_deleted, mapped["top.inner"].lines_added) == (1, 2)
    assert mapped["top.inner"].deleted_lines == [7]


def test_blob_id_is_gits_object_id(tmp_path):
    (tmp_path / "f").write_bytes(OLD)
    out = (
        subprocess.run(["git", "hash-object", str(tmp_path / "f")], capture_output=True, check=True)
        .stdout.decode()
        .strip()
    )
    assert blob_id(OLD) == out


def test_a_version_the_parser_refuses_skips_that_file_only(caplog):
    """A parser error on one file version is logged with the file and skipped; the load goes on."""

    def broken(path, blob, base=None):
        raise ValueError("Invalid point range")

    index = FunctionIndex(lambda blob: b"def f():\n    return 1\n")
    index.get = broken  # type: ignore[method-assign]
    change = FileChange(
        status="M",
        old_path="pkg/mod.py",
        new_path="pkg/mod.py",
        old_blob="a" * 40,
        new_blob="b" * 40,
        old_mode="100644",
        new_mode="100644",
        hunks=[Hunk(1, 1, 1, 1)],
    )
    with caplog.at_level("WARNING"):
        assert function_mapper(index)(change).functions == []
    assert "pkg/mod.py" in caplog.text and "Invalid point range" in caplog.text
