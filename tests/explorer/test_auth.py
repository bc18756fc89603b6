"""The explorer and API keys: with keys configured the page asks for one and keeps it in the
tab's sessionStorage only; with auth disabled (loopback) it never asks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.explorer.conftest import READER_KEY, Server, wait_for

DIALOG_OPEN = "document.getElementById('key-dialog').open"


def test_the_page_itself_needs_no_key_but_the_api_does(keyed_server: Server) -> None:
    page = httpx.get(f"{keyed_server.url}/", timeout=10)
    assert page.status_code == 200 and "prodgraph explorer" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    script = httpx.get(f"{keyed_server.url}/assets/explorer.js", timeout=10)
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert httpx.get(f"{keyed_server.url}/assets/nope.js", timeout=10).status_code == 404
    assert httpx.get(f"{keyed_server.url}/v1/schema", timeout=10).status_code == 401


def test_with_keys_the_page_asks_and_keeps_the_key_in_the_session_only(
    page: Any, keyed_server: Server
) -> None:
    page.goto(f"{keyed_server.url}/#/query")
    wait_for(page, DIALOG_OPEN)
    assert not page.evaluate("window.explorer.ready")
    page.fill("#key-input", "not-the-key")
    page.click("#key-submit")
    error = wait_for(page, "document.getElementById('key-error').textContent")
    assert "401" in error and "unknown API key" in error
    assert page.evaluate(DIALOG_OPEN)
    page.fill("#key-input", READER_KEY)
    page.click("#key-submit")
    wait_for(page, "window.explorer.ready")
    assert not page.evaluate(DIALOG_OPEN)
    assert page.evaluate("sessionStorage.getItem('prodgraph.apiKey')") == READER_KEY
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []
    assert "key kept in this tab only" in page.inner_text("#whoami")
    # the key works for the pages' API calls
    page.evaluate(
        "() => { window.explorer.queryEditor.setValue('MATCH (s:Service) RETURN s LIMIT 3'); }"
    )
    page.click("#query-run")
    wait_for(page, "window.explorer.cy.nodes().length == 3")
    # a reload of the tab keeps the session; a new tab (context) asks again
    page.reload()
    wait_for(page, "window.explorer && window.explorer.ready")
    assert not page.evaluate(DIALOG_OPEN)
    other = page.context.browser.new_context()
    try:
        fresh = other.new_page()
        fresh.goto(f"{keyed_server.url}/#/query")
        wait_for(fresh, DIALOG_OPEN)
        assert fresh.evaluate("sessionStorage.length") == 0
    finally:
        other.close()
    # forgetting the key removes it and asks again
    page.click("#forget-key")
    wait_for(page, DIALOG_OPEN)
    assert page.evaluate("sessionStorage.getItem('prodgraph.apiKey')") is None


def test_with_auth_disabled_there_is_no_prompt(open_page: Callable[[str], Any]) -> None:
    page = open_page("query")
    assert not page.evaluate(DIALOG_OPEN)
    assert page.evaluate("sessionStorage.length") == 0
    assert "no key needed" in page.inner_text("#whoami")
    assert page.locator("#forget-key").is_hidden()
