"""The explorer's home page in a real browser: counts, risky changes, errors and deployments
from the API, the name search leading to the node's neighbourhood, and a hover card that never
outlives its page."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from tests.explorer.conftest import Server, wait_for


def _rows(server: Server, query: str) -> list[dict[str, Any]]:
    answer = server.api("POST", "v1/cypher", json={"query": query})
    return [dict(zip(answer["columns"], r, strict=True)) for r in answer["rows"]]


def test_home_dashboard_shows_the_store(open_page: Callable[[str], Any], server: Server) -> None:
    page = open_page("")  # the landing page
    assert page.evaluate("window.explorer.page") == "home"
    wait_for(page, "document.querySelectorAll('#home-counts .count').length > 0")
    counts = server.api("GET", "v1/schema/counts")
    functions = page.locator("#home-counts .count[data-label=Function] b").inner_text()
    assert functions.replace(",", "") == str(counts["nodes"]["Function"])
    for panel in ("home-risk", "home-errors", "home-deploys"):
        wait_for(page, f"document.querySelectorAll('#{panel} tbody tr').length > 0")
    newest = _rows(server, "MATCH (e:ErrorSignature) RETURN max(e.last_seen) AS t")[0]["t"]
    assert str(newest)[:10] in page.inner_text("#home-errors")
    shown_risk = page.locator("#home-risk tbody tr").count()
    assert 0 < shown_risk <= 8
    assert page.locator("#page-home .status.error").count() == 0 and page.errors == []
    shot = page.screenshot(full_page=True)
    from PIL import Image

    image = Image.open(io.BytesIO(shot)).convert("L")
    assert image.width >= 1000 and len(set(image.getdata())) > 20  # drawn, not a blank page


def test_find_a_function_by_name_and_open_it(
    open_page: Callable[[str], Any], server: Server
) -> None:
    target = _rows(
        server,
        "MATCH (f:Function) WHERE f.qualname CONTAINS '.' AND NOT f.is_test "
        "RETURN f.uid AS uid, f.qualname AS q ORDER BY f.uid LIMIT 1",
    )[0]
    page = open_page("home")
    page.fill("#find-input", target["q"].lower())
    page.press("#find-input", "Enter")
    wait_for(page, "document.querySelectorAll('#find-results tbody tr').length > 0")
    first = page.locator("#find-results tbody tr").first
    assert target["uid"] in first.inner_text()
    first.locator("a").click()
    wait_for(page, "window.explorer.page === 'query'")
    graph = "window.explorer.graphs.query"
    wait_for(page, f"{graph} && {graph}.nodes().length > 1")
    drawn = page.evaluate("window.explorer.graphs.query.nodes().map(n => n.id())")
    assert target["uid"] in drawn


def test_a_hover_card_does_not_outlive_its_page(open_page: Callable[[str], Any]) -> None:
    page = open_page("services")
    wait_for(page, "window.explorer.graphs.services.nodes().length > 0")
    box = page.evaluate(
        "(() => { const n = window.explorer.graphs.services.nodes()[0];"
        " const p = n.renderedPosition();"
        " const r = window.explorer.graphs.services.container().getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; })()"
    )
    page.mouse.move(box[0], box[1])
    wait_for(page, "!document.getElementById('tooltip').hidden")
    page.click("nav a[data-page=risk]")
    wait_for(page, "window.explorer.page === 'risk'")
    assert page.evaluate("document.getElementById('tooltip').hidden")
