"""Reading code names out of ticket text."""

from __future__ import annotations

from graph_service.triage.text import identifiers


def test_identifiers_keep_code_names() -> None:
    found = identifiers("`Console.print_json()` fails; rich.markdown and parse_args, fooBar")
    assert {"print_json", "markdown", "parse_args", "fooBar"} <= found


def test_identifiers_skip_addresses_and_file_names() -> None:
    text = (
        "See https://github.com/org/some_repo/issues/12 and www.example.com/a_b for setup.py, "
        "conf.yaml and notes.txt; flags re.S"
    )
    found = identifiers(text)
    assert not {"com", "py", "yaml", "txt", "some_repo", "a_b", "S", "org"} & found
    # the called name after a receiver is still read
    assert identifiers("call client.fetch_page(url)") == {"fetch_page"}
