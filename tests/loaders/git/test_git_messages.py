"""Commit message reading: fix keywords, ticket references, declared fixed commits."""

from __future__ import annotations

import pytest

from loaders.git.log_parser import unquote_path
from loaders.git.messages import read_message


@pytest.mark.parametrize(
    ("message", "is_fix", "tickets"),
    [
        ("Fix crash on empty input", True, []),
        ("Closes #12 and #13", True, ["ticket:github:12", "ticket:github:13"]),
        ("Update docs\n\nResolves pallets/flask#5", True, ["ticket:github:pallets/flask#5"]),
        ("PROJ-42: add export button", False, ["ticket:jira:PROJ-42"]),
        ("Support UTF-8 and SHA-256 names", False, []),
        ("Add prefix handling and debug output", False, []),
        ("Refactor\n\nFixes: #7", True, ["ticket:github:7"]),
        ("Bump version (#99)", False, []),
        ("fix typo", False, []),
        ("Fix typos in the docs (#1201)", False, []),
        ("Fixed formatting of the changelog", False, []),
        ("fix docstring of Client.send", False, []),
        ("Fix crash when a docstring is empty", True, []),
        ("Fix typo\n\nCloses #77", True, ["ticket:github:77"]),
    ],
)
def test_fix_detection_and_ticket_refs(message, is_fix, tickets):
    facts = read_message(message)
    assert facts.is_fix is is_fix
    assert [t.uid for t in facts.tickets] == tickets


def test_fixes_trailer_names_a_commit_not_a_ticket():
    facts = read_message('Handle None\n\nFixes: 1a2b3c4d5e6f ("Add parser #4")\n')
    assert facts.fixed_shas == ["1a2b3c4d5e6f"]
    assert facts.tickets == []
    assert facts.is_fix


def test_quoted_paths_are_unquoted():
    assert unquote_path(b'"odd \\"name\\".txt"') == 'odd "name".txt'
    assert unquote_path(b'"caf\\303\\251.py"') == "café.py"
    assert unquote_path(b"plain/path.py") == "plain/path.py"
