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


def test_ticket_names_leave_out_frame_lines() -> None:
    from graph_service.triage.models import TicketInput
    from graph_service.triage.parse import read_ticket

    body = "\n".join(
        [
            "calling run_doctests fails:",
            "INTERNALERROR> Traceback (most recent call last):",
            'INTERNALERROR>   File "/x/_pytest/main.py", line 240, in wrap_session',
            "INTERNALERROR>     session.exitstatus = outer_call(config) or 0",
            'INTERNALERROR>   File "/x/_pytest/doctest.py", line 10, in collect_module',
            "INTERNALERROR>     return self.find_lineno(obj)",
            "INTERNALERROR> AttributeError: no attribute find_lineno",
        ]
    )
    parsed = read_ticket(TicketInput(title="doctest crash", body=body))
    assert [f.function for f in parsed.frames] == ["wrap_session", "collect_module"]
    # the frames' own names and an outer frame's source line are frame evidence, not mentions
    assert not {"wrap_session", "collect_module", "exitstatus", "outer_call"} & set(
        parsed.identifiers
    )
    # the innermost frame's call and the prose still count
    assert {"find_lineno", "run_doctests"} <= set(parsed.identifiers)


def test_tokenize_keeps_codes_whole() -> None:
    from graph_service.triage.text import tokenize

    assert "f401" in tokenize("F401 false positive")
    assert "e501" in tokenize("E501 ignored")
    assert {"tch", "tch004"} <= set(tokenize("TCH004 moved"))
    # plain numbers and words are as before
    assert tokenize("error 404 parseHTTPRequest") == [
        "error",
        "parse",
        "http",
        "request",
        "parsehttprequest",
    ]
