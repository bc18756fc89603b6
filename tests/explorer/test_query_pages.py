"""The explorer in a real browser: every page loads; the Query and Named queries pages show
what the API answers as rows and drawn nodes; nodes expand; results export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.explorer.conftest import Server, wait_for

PAGES = ["home", "query", "queries", "services", "risk", "triage", "errors"]


def records(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(answer["columns"], row, strict=True)) for row in answer["rows"]]


@pytest.mark.parametrize("route", PAGES)
def test_each_page_loads_without_errors(open_page: Callable[[str], Any], route: str) -> None:
    page = open_page(route)
    wait_for(page, f"!document.getElementById('page-{route}').hidden")
    assert page.evaluate("window.explorer.page") == route
    current = page.locator("nav a[aria-current=page]")
    assert current.get_attribute("data-page") == route
    page.wait_for_timeout(1500)  # let the page's first API calls answer
    assert page.locator(f"#page-{route} .status.error").count() == 0
    assert page.errors == []
    assert not page.evaluate("document.getElementById('key-dialog').open")
    assert "no key needed" in page.inner_text("#whoami")


def _run_query(page: Any, text: str) -> None:
    done = "document.querySelector('#page-query .results .status').dataset.done"
    before = page.evaluate(done)
    page.evaluate("(q) => { window.explorer.queryEditor.setValue(q); }", text)
    page.click("#query-run")
    wait_for(page, f"{done} && {done} !== {json.dumps(before)}")
    assert page.locator("#page-query .results .status.ok").count() == 1


def test_query_rows_and_drawn_nodes_match_the_api(
    open_page: Callable[[str], Any], server: Server
) -> None:
    query = "MATCH (s:Service)-[e:EXPOSES]->(o:Operation) RETURN s, e, o ORDER BY o.uid LIMIT 12"
    expected = server.api("POST", "v1/cypher", json={"query": query})
    page = open_page("query")
    _run_query(page, query)
    assert page.locator("[data-testid=query-table] tbody tr").count() == 12
    uids = {r["s"]["uid"] for r in records(expected)} | {r["o"]["uid"] for r in records(expected)}
    drawn = page.evaluate("window.explorer.graphs.query.nodes().map(n => n.id())")
    assert set(drawn) == uids
    labels = page.evaluate("window.explorer.graphs.query.nodes().map(n => n.data('label'))")
    assert set(labels) == {"Service", "Operation"}
    edges = page.evaluate(
        "window.explorer.graphs.query.edges().map(e => [e.source().id(), e.data('type'), "
        "e.target().id()])"
    )
    assert sorted(map(tuple, edges)) == sorted(
        (r["s"]["uid"], "EXPOSES", r["o"]["uid"]) for r in records(expected)
    )
    first = page.locator("[data-testid=query-table] tbody tr").first.inner_text()
    assert records(expected)[0]["o"]["uid"] in first


def test_a_bad_query_shows_the_api_error(open_page: Callable[[str], Any]) -> None:
    page = open_page("query")
    page.evaluate("() => { window.explorer.queryEditor.setValue('CREATE (n:Service {uid: 1})'); }")
    page.click("#query-run")
    text = wait_for(page, "document.querySelector('#page-query .status.error')?.textContent")
    assert "403 read_only" in text


def test_click_expands_neighbours_and_hover_shows_properties(
    open_page: Callable[[str], Any], server: Server
) -> None:
    page = open_page("query")
    _run_query(page, "MATCH (s:Service {name: 'orders'}) RETURN s")
    assert page.evaluate("window.explorer.cy.nodes().length") == 1
    neighbours = records(
        server.api("POST", "v1/queries/neighbours", json={"params": {"uid": "svc:orders"}})
    )
    expected = {r["uid"] for r in neighbours[:25]} | {"svc:orders"}
    page.evaluate("() => { window.explorer.cy.getElementById('svc:orders').emit('tap'); }")
    wait_for(page, "window.explorer.cy.nodes().length > 1")
    wait_for(page, "window.explorer.cy.getElementById('svc:orders').hasClass('expanded')")
    drawn = set(page.evaluate("window.explorer.cy.nodes().map(n => n.id())"))
    assert {"svc:orders"} < drawn <= expected | {r["uid"] for r in neighbours}
    assert len(drawn) >= min(len(expected), 10)
    # a neighbour drawn from the expansion has no properties yet: hovering loads them
    other = next(uid for uid in sorted(drawn) if uid.startswith("op:orders:"))
    page.evaluate("(u) => { window.explorer.cy.getElementById(u).emit('mouseover'); }", other)
    wait_for(page, "!document.getElementById('tooltip').hidden")
    tip = wait_for(
        page,
        "(() => { const t = document.getElementById('tooltip'); "
        "return t.querySelector('table') && t.innerText; })()",
    )
    assert other in tip and "name" in tip and "service" in tip


def test_results_over_the_draw_limit_are_summarised(open_page: Callable[[str], Any]) -> None:
    page = open_page("query")
    _run_query(
        page, "UNWIND range(1, 600) AS i RETURN {uid: 'fn:shop:gen.py:f' + cast(i AS STRING)} AS f"
    )
    summary = page.inner_text("#page-query .summary")
    assert "600 nodes" in summary and "Function 600" in summary
    assert page.evaluate("window.explorer.cy.nodes().length") == 0
    assert page.locator("[data-testid=query-table] tbody tr").count() == 600


def test_export_json_and_csv(open_page: Callable[[str], Any]) -> None:
    page = open_page("query")
    _run_query(page, "MATCH (s:Service) RETURN s.name AS name ORDER BY name")
    with page.expect_download() as got:
        page.click("text=Export JSON")
    exported = json.loads(Path(got.value.path()).read_text())
    assert exported["columns"] == ["name"]
    names = [r[0] for r in exported["rows"]]
    assert names == sorted(names) and "orders" in names
    with page.expect_download() as got:
        page.click("text=Export CSV")
    lines = list(csv.reader(io.StringIO(Path(got.value.path()).read_text(), newline="")))
    assert lines == [["name"], *([n] for n in names)]


def test_named_query_with_a_parameter_form(open_page: Callable[[str], Any], server: Server) -> None:
    hub = "fn:shop:libs/shopkit/shopkit/transport.py:request"
    expected = server.api("POST", "v1/queries/callers", json={"params": {"uid": hub, "hops": 2}})
    assert expected["rows"], "the sample's transport.request has callers"
    page = open_page("queries/callers")
    form = page.locator("form[data-query=callers]")
    form.wait_for()
    assert page.locator(".query-list li").count() == len(server.api("GET", "v1/queries"))
    form.locator("input[name=uid]").fill(hub)
    form.locator("input[name=hops]").fill("2")
    form.locator("button[type=submit]").click()
    wait_for(page, "document.querySelector('#page-queries .results .status').dataset.done")
    assert page.locator("#page-queries .results .status.ok").count() == 1
    rows = page.locator("[data-testid=named-table] tbody tr")
    assert rows.count() == len(expected["rows"])
    drawn = set(page.evaluate("window.explorer.graphs.queries.nodes().map(n => n.id())"))
    assert {r["uid"] for r in records(expected)} <= drawn


def test_named_query_parameter_errors_name_the_parameter(
    open_page: Callable[[str], Any],
) -> None:
    page = open_page("queries/callers")
    form = page.locator("form[data-query=callers]")
    form.wait_for()
    form.locator("input[name=uid]").fill("fn:x")
    # a number input refuses text; send a bad value straight through the form's submit
    page.evaluate(
        "(() => { const f = document.querySelector('form[data-query=callers]'); "
        "f.elements.hops.type = 'text'; f.elements.hops.value = 'lots'; f.requestSubmit(); })()"
    )
    text = wait_for(page, "document.querySelector('#page-queries .status.error')?.textContent")
    assert "hops" in text
