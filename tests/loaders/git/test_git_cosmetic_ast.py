"""Python hunks judged by meaning (`loaders.git.cosmetic_ast`): formatter runs, docstring and
comment edits are cosmetic, a change of behaviour is not, and an unparseable version falls back
to the token comparison.

Real repositories built in tmp_path, loaded by the git loader into a real store; the pure
comparison is also checked on source pairs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_service.store import GraphStore
from loaders.git.cosmetic_ast import AstIndex
from loaders.git.log_parser import Hunk
from tests.loaders.git.git_history_repo import ScriptedRepo, played
from tests.loaders.git.test_git_cosmetic import _commit, _files, _functions, _induced, _load

CLIENT_V1 = '''"""HTTP client."""


class Client:
    """A client.

    * **proxy** - a proxy URL.
    * **proxies** - a mapping of proxy URLs.
    """

    def send(self, request, stream=False):
        """Send a request, and retrun its line."""
        if not request.ready:
            raise RuntimeError('Attempted to send an sync request.')
        prefix = ("a client "
                  "for HTTP")
        label = f'{request.method.split(":")[0]}'
        message = self.render(request, "%s %s" % (request.method, request.url))
        if stream:
            request.stream = True
            self.count += 1
        return (prefix + label + message)

    def render(self, request, template):
        return template
'''
# Bob swaps method and url, with a comment carrying a typo
CLIENT_BUG = CLIENT_V1.replace(
    '        message = self.render(request, "%s %s" % (request.method, request.url))\n',
    "        # the request line, for teh log\n"
    '        message = self.render(request, "%s %s" % (request.url, request.method))\n',
)
# what ruff format does: quotes, joined literals, re-wrapping with a trailing comma, parentheses
CLIENT_FORMATTED = (
    CLIENT_BUG.replace(
        "'Attempted to send an sync request.'", '"Attempted to send an sync request."'
    )
    .replace('("a client "\n                  "for HTTP")', '"a client for HTTP"')
    .replace("""f'{request.method.split(":")[0]}'""", """f"{request.method.split(':')[0]}\"""")
    .replace(
        'self.render(request, "%s %s" % (request.url, request.method))',
        "self.render(\n"
        "            request,\n"
        '            "%s %s" % (request.url, request.method),\n'
        "        )",
    )
    .replace("return (prefix + label + message)", "return prefix + label + message")
)
CLIENT_DOCS = CLIENT_FORMATTED.replace(
    "    * **proxies** - a mapping of proxy URLs.\n", ""
).replace("retrun", "return")
CLIENT_TYPO = CLIENT_DOCS.replace("for teh log", "for the log")
# one hunk edits the docstring and the condition below it; another only the class docstring
CLIENT_REAL = CLIENT_TYPO.replace(
    '        """Send a request, and return its line."""\n        if not request.ready:\n',
    '        """Send a request unless streaming, and return its line."""\n'
    "        if not request.ready or stream:\n",
).replace("    * **proxy** - a proxy URL.\n", "    * **proxy** - the proxy URL.\n")
# the same tokens, but `self.count += 1` leaves the `if` block
CLIENT_DEDENT = CLIENT_REAL.replace("            self.count += 1\n", "        self.count += 1\n")
CLIENT_FIXED = CLIENT_DEDENT.replace(
    '"%s %s" % (request.url, request.method),', '"%s %s" % (request.method, request.url),'
)


def _history(tmp_path: Path) -> ScriptedRepo:
    return played(
        tmp_path / "client",
        ("initial", "Initial", {"client.py": CLIENT_V1, "requirements.txt": "ruff==0.1.0\n"}),
        ("bug", "Log the request line", {"client.py": CLIENT_BUG}, "Bob"),
        (
            "format",
            "Upgrade Python formatter ruff",
            {"client.py": CLIENT_FORMATTED, "requirements.txt": "ruff==0.12.0\n"},
        ),
        ("docs", "Updating deprecated docstring Client() class", {"client.py": CLIENT_DOCS}),
        ("typo", "Fix typo", {"client.py": CLIENT_TYPO}),
        ("real", "Refuse to send a streaming request", {"client.py": CLIENT_REAL}),
        ("dedent", "Count every request", {"client.py": CLIENT_DEDENT}),
        (
            "fix",
            "Put the method first in the request line\n\nFixes #7\n",
            {"client.py": CLIENT_FIXED},
        ),
    )


@pytest.mark.parametrize("replay", ["true", "false"])
def test_formatter_docstring_and_comment_edits_are_cosmetic(store: GraphStore, tmp_path, replay):
    repo = _history(tmp_path)
    _load(store, repo, szz_replay=replay)
    s = repo.shas
    for name in ("format", "docs", "typo"):
        row = _commit(store, s[name])
        assert row["cosmetic"] is True, name
        assert _files(store, s[name])["client.py"]["lines_added"] == 0, name
        assert _functions(store, s[name]) == {}, name
    # the formatter run's dependency bump still counts, in its own file
    assert _files(store, s["format"])["requirements.txt"]["lines_added"] == 1
    # "Fix typo" edits a comment on the bug's lines: not a fix, nothing blamed
    assert _commit(store, s["typo"])["is_fix"] is False
    assert _induced(store, s["typo"]) == {}
    # the fix changes a line the formatter re-wrapped: blame goes through it to the bug
    assert _induced(store, s["fix"]) == {s["bug"]: 1}


def test_a_real_change_beside_a_docstring_edit_is_not_cosmetic(store: GraphStore, tmp_path):
    repo = _history(tmp_path)
    _load(store, repo)
    s = repo.shas
    real = _commit(store, s["real"])
    assert real["cosmetic"] is False
    # the docstring-and-condition hunk counts; the class docstring's hunk does not
    assert (real["lines_added"], real["lines_deleted"]) == (2, 2)
    assert set(_functions(store, s["real"])) == {"Client.send"}
    # equal tokens, but a statement leaves its block: a real change
    dedent = _commit(store, s["dedent"])
    assert dedent["cosmetic"] is False
    assert (dedent["lines_added"], dedent["lines_deleted"]) == (1, 1)


LEGACY_V1 = (
    "def greet(name):\n    # say hello\n    print 'hello', name\n\n\ndef key():\n    return 'k'\n"
)
LEGACY_COMMENT = LEGACY_V1.replace("# say hello", "# greet the user")
LEGACY_QUOTES = LEGACY_COMMENT.replace("print 'hello'", 'print "hello"').replace(
    "return 'k'", 'return "k"'
)
LEGACY_PORTED = LEGACY_QUOTES.replace('print "hello", name', 'print("hello", name)')


def test_code_that_does_not_parse_falls_back_to_tokens(store: GraphStore, tmp_path):
    repo = played(
        tmp_path / "legacy",
        ("initial", "Initial", {"legacy.py": LEGACY_V1}),
        ("comment", "Reword a comment", {"legacy.py": LEGACY_COMMENT}),
        ("quotes", "Use double quotes", {"legacy.py": LEGACY_QUOTES}),
        ("ported", "Port to Python 3", {"legacy.py": LEGACY_PORTED}),
    )
    _load(store, repo)
    s = repo.shas
    assert _commit(store, s["comment"])["cosmetic"] is True
    # the Python 2 statement does not parse: its quote change is a change by tokens; the
    # one in `key` parses and is cosmetic (the syntax error elsewhere does not matter)
    quotes = _commit(store, s["quotes"])
    assert quotes["cosmetic"] is False
    assert (quotes["lines_added"], quotes["lines_deleted"]) == (1, 1)
    assert set(_functions(store, s["quotes"])) == {"greet"}
    ported = _commit(store, s["ported"])  # the new version parses, the old one does not
    assert ported["cosmetic"] is False
    assert (ported["lines_added"], ported["lines_deleted"]) == (1, 1)


def _parse(source: bytes):
    from tree_sitter import Parser

    from loaders.code.languages import grammar

    return Parser(grammar("python")).parse(source)


def _verdict(old: str, new: str, hunk: Hunk) -> bool | None:
    sources = {"old": old.encode(), "new": new.encode()}
    index = AstIndex(sources.get)
    judge = index.judge(_parse(sources["old"]), "old", _parse(sources["new"]), "new")
    return judge(hunk)


@pytest.mark.parametrize(
    ("old", "new", "hunk", "same"),
    [
        ("x = (1)\n", "x = 1\n", Hunk(1, 1, 1, 1), True),
        ("f(a, b,)\n", "f(\n    a,\n    b,\n)\n", Hunk(1, 1, 1, 4), True),
        ("x = 'a' 'b'\n", 'x = "ab"\n', Hunk(1, 1, 1, 1), True),
        ("x = 'a' + 'b'\n", 'x = "ab"\n', Hunk(1, 1, 1, 1), False),
        ("x = 'a'\n", "x = 'b'\n", Hunk(1, 1, 1, 1), False),  # a string that is not a docstring
        (
            'def f():\n    """Old."""\n    return 1\n',
            'def f():\n    """New."""\n    return 1\n',
            Hunk(2, 1, 2, 1),
            True,
        ),
        (
            'def f():\n    """Old."""\n    return 1\n',
            "def f():\n    return 1\n",
            Hunk(2, 1, 1, 0),
            True,
        ),
        (
            'def f():\n    """Doc."""\n    return 1\n',
            'def f():\n    """Doc."""\n    return 2\n',
            Hunk(3, 1, 3, 1),
            False,
        ),
        ("if a:\n    b()\n    c()\n", "if a:\n    b()\nc()\n", Hunk(3, 1, 3, 1), False),
        # a header re-wrapped while the body changes elsewhere: only the header is compared
        (
            "def f(a, b=1):\n    x = a\n    return x\n",
            "def f(\n    a,\n    b=1,\n):\n    x = a\n    return b\n",
            Hunk(1, 1, 1, 4),
            True,
        ),
        ("def f(a):\n    return a\n", "def f(b):\n    return a\n", Hunk(1, 1, 1, 1), False),
        (
            "class A:\n    def f(self):\n        return (1)\n",
            "class A:\n    def f(self):\n        return 1\n",
            Hunk(3, 1, 3, 1),
            True,
        ),
        ("x = 1\n", "x = 1  # one\n", Hunk(1, 1, 1, 1), True),
        ("x = 1\n", "print 1\n", Hunk(1, 1, 1, 1), None),  # the new version does not parse
    ],
)
def test_same_meaning_on_source_pairs(old: str, new: str, hunk: Hunk, same: bool | None):
    assert _verdict(old, new, hunk) is same


def test_each_statement_run_is_parsed_once() -> None:
    reads: list[str] = []
    sources = {"a": b"x = (1)\ny = 2\n", "b": b"x = 1\ny = 3\n"}

    def read(blob: str) -> bytes:
        reads.append(blob)
        return sources[blob]

    index = AstIndex(read)
    judge = index.judge(_parse(sources["a"]), "a", _parse(sources["b"]), "b")
    assert judge(Hunk(1, 1, 1, 1)) is True
    assert judge(Hunk(2, 1, 2, 1)) is False
    assert judge(Hunk(1, 1, 1, 1)) is True
    assert reads == ["a", "b"] and index.parsed == 4  # one run per side and hunk, then held


JS_V1 = (
    "function build(host, port) {\n"
    "  return connect(host, port, {\n"
    "    retries: 3,\n"
    "    timeout: 10\n"
    "  });\n"
    "}\n"
    "\n"
    "const NAMES = [alpha, beta];\n"
)
# prettier's trailing commas: one appended before a closer on the next line, one inside a line
JS_COMMAS = JS_V1.replace("    timeout: 10\n", "    timeout: 10,\n").replace(
    "[alpha, beta]", "[alpha, beta,]"
)
JS_REAL = JS_COMMAS.replace("[alpha, beta,]", "[alpha, beta, gamma,]")


def test_trailing_commas_are_cosmetic_outside_python(store: GraphStore, tmp_path):
    repo = played(
        tmp_path / "js",
        ("initial", "Initial", {"web/build.js": JS_V1}),
        ("commas", "Format with prettier", {"web/build.js": JS_COMMAS}),
        ("real", "Add gamma", {"web/build.js": JS_REAL}),
    )
    _load(store, repo)
    s = repo.shas
    commas = _commit(store, s["commas"])
    assert commas["cosmetic"] is True
    assert (commas["lines_added"], commas["lines_deleted"]) == (0, 0)
    real = _commit(store, s["real"])
    assert real["cosmetic"] is False
    assert (real["lines_added"], real["lines_deleted"]) == (1, 1)


def test_a_very_deep_expression_gets_no_verdict_and_no_crash() -> None:
    deep = "x = " + " + ".join(["a"] * 5000) + "\n"
    assert (
        _verdict(deep, deep.replace("x = ", "x = (").replace("\n", ")\n"), Hunk(1, 1, 1, 1)) is None
    )
