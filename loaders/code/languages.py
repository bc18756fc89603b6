"""Per-language specs: extensions, grammar, query file and the few facts the extractor needs.

Adding a language: install its grammar package, write `queries/<lang>.scm` with the capture
names documented in `queries/README.md`, and add one `LanguageSpec` entry to `SPECS`.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tree_sitter import Language, Query

logger = logging.getLogger(__name__)

__all__ = ["SPECS", "LanguageSpec", "grammar", "language_for", "queries", "spec_for"]

_QUERY_DIR = Path(__file__).parent / "queries"


@dataclass(frozen=True)
class LanguageSpec:
    """What the extractor needs to know about one language beyond its query file."""

    name: str
    extensions: tuple[str, ...]
    grammar_module: str
    grammar_function: str = "language"
    query_file: str = ""
    shared_queries: tuple[str, ...] = ()  # more .scm files appended to the language's own
    # Node kinds that add one to cyclomatic complexity, and operator nodes that do so only
    # for the listed operators (`&&`, `||`, ...).
    branch_kinds: tuple[str, ...] = ()
    branch_operators: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    docstring: str = "leading_comment"  # or "body_string" (Python)
    comment_kinds: tuple[str, ...] = ("comment",)
    test_path: str = r"$^"
    test_function: str = r"$^"  # a function in a test file whose name matches is a test
    self_names: tuple[str, ...] = ("this",)
    constructor: str = "constructor"  # method name a `new Foo()` / `Foo()` call reaches
    implicit_self_calls: bool = False  # Java: a bare `m()` may be a method of the class
    package_scope: bool = False  # Go/Java: names are shared by all files of a package

    @property
    def query_path(self) -> Path:
        return _QUERY_DIR / (self.query_file or f"{self.name}.scm")

    def query_text(self) -> str:
        """The language's query: its own file, then the shared ones."""
        paths = [self.query_path, *(_QUERY_DIR / name for name in self.shared_queries)]
        return "\n".join(p.read_text(encoding="utf-8") for p in paths)


_JS_BRANCHES = (
    "if_statement",
    "for_statement",
    "for_in_statement",
    "while_statement",
    "do_statement",
    "switch_case",
    "catch_clause",
    "ternary_expression",
)
_JS_OPS: dict[str, tuple[str, ...]] = {"binary_expression": ("&&", "||", "??")}
_JS_TEST = r"(^|/)(__tests__|tests?)/|\.(test|spec)\.[cm]?[jt]sx?$"

SPECS: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        "python",
        (".py", ".pyi"),
        "tree_sitter_python",
        branch_kinds=(
            "if_statement",
            "elif_clause",
            "for_statement",
            "while_statement",
            "except_clause",
            "with_statement",
            "conditional_expression",
            "boolean_operator",
            "case_clause",
            "for_in_clause",
            "if_clause",
        ),
        docstring="body_string",
        test_path=r"(^|/)(tests?/|test_[^/]*\.py$|[^/]*_test\.py$|conftest\.py$)",
        test_function=r"^test",
        self_names=("self", "cls"),
        constructor="__init__",
    ),
    LanguageSpec(
        "javascript",
        (".js", ".jsx", ".mjs", ".cjs"),
        "tree_sitter_javascript",
        shared_queries=("js_shared.scm",),
        branch_kinds=_JS_BRANCHES,
        branch_operators=_JS_OPS,
        test_path=_JS_TEST,
        test_function=r"",
    ),
    LanguageSpec(
        "typescript",
        (".ts", ".mts", ".cts"),
        "tree_sitter_typescript",
        "language_typescript",
        query_file="typescript.scm",
        shared_queries=("js_shared.scm",),
        branch_kinds=_JS_BRANCHES,
        branch_operators=_JS_OPS,
        test_path=_JS_TEST,
        test_function=r"",
    ),
    LanguageSpec(
        "tsx",
        (".tsx",),
        "tree_sitter_typescript",
        "language_tsx",
        query_file="typescript.scm",
        shared_queries=("js_shared.scm",),
        branch_kinds=_JS_BRANCHES,
        branch_operators=_JS_OPS,
        test_path=_JS_TEST,
        test_function=r"",
    ),
    LanguageSpec(
        "go",
        (".go",),
        "tree_sitter_go",
        branch_kinds=(
            "if_statement",
            "for_statement",
            "expression_case",
            "type_case",
            "communication_case",
        ),
        branch_operators={"binary_expression": ("&&", "||")},
        test_path=r"_test\.go$",
        test_function=r"^(Test|Benchmark|Fuzz|Example)",
        self_names=(),
        constructor="",
        package_scope=True,
    ),
    LanguageSpec(
        "java",
        (".java",),
        "tree_sitter_java",
        branch_kinds=(
            "if_statement",
            "for_statement",
            "enhanced_for_statement",
            "while_statement",
            "do_statement",
            "catch_clause",
            "ternary_expression",
            "switch_label",
        ),
        branch_operators={"binary_expression": ("&&", "||")},
        docstring="leading_comment",
        comment_kinds=("block_comment", "line_comment"),
        test_path=r"(^|/)src/test/|Tests?\.java$",
        test_function=r"^test",
        constructor="<class>",
        implicit_self_calls=True,
        package_scope=True,
    ),
)

_BY_EXT = {ext: spec for spec in SPECS for ext in spec.extensions}
_BY_NAME = {spec.name: spec for spec in SPECS}


def language_for(path: str) -> str | None:
    """The language name for a file path (by extension), or None when unsupported."""
    spec = _BY_EXT.get(_ext(path))
    return spec.name if spec else None


def spec_for(path: str) -> LanguageSpec | None:
    return _BY_EXT.get(_ext(path))


def _ext(path: str) -> str:
    dot = path.rfind(".")
    return path[dot:].lower() if dot > path.rfind("/") else ""


@cache
def grammar(name: str) -> Language:
    """The tree-sitter Language of a spec (loaded once per process)."""
    spec = _BY_NAME[name]
    module = importlib.import_module(spec.grammar_module)
    factory: Callable[[], object] = getattr(module, spec.grammar_function)
    return Language(factory())


@cache
def queries(name: str) -> tuple[Query, Query]:
    """(definitions/imports/calls query from the .scm file, complexity query from the spec)."""
    spec = _BY_NAME[name]
    lang = grammar(name)
    main = Query(lang, spec.query_text())
    return main, Query(lang, branch_query_text(spec))


@cache
def combined_query(name: str) -> Query:
    """Both queries of `queries(name)` as one: the tree is walked once, not twice (branch points
    come back as matches with the single capture `branch`)."""
    spec = _BY_NAME[name]
    return Query(grammar(name), spec.query_text() + "\n" + branch_query_text(spec))


def branch_query_text(spec: LanguageSpec) -> str:
    parts = [f"({kind}) @branch" for kind in spec.branch_kinds]
    for kind, ops in spec.branch_operators.items():
        alts = " ".join(f'"{op}"' for op in ops)
        parts.append(f"({kind} operator: [{alts}]) @branch")
    return "\n".join(parts)


def is_test_path(spec: LanguageSpec, path: str) -> bool:
    return re.search(spec.test_path, path) is not None
