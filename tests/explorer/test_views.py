"""The explorer's graph view, service map and blast radius in a real browser, on the demo store
and on a code-only store: incremental expansion, captions, colours and legend, query history,
table-only answers, the service map's colours, shapes, labels and time range, the blast radius
with its changed functions marked and labels a fixed size on screen, and a checked screenshot of
every page."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.explorer.conftest import Server, screenshot_has_content, wait_for

PAGES = ["home", "query", "queries", "services", "risk", "triage", "errors"]
GRAPH = "window.explorer.graphs.query"


def records(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(answer["columns"], row, strict=True)) for row in answer["rows"]]


def cypher(server: Server, query: str, **params: Any) -> list[dict[str, Any]]:
    return records(server.api("POST", "v1/cypher", json={"query": query, "params": params}))


def run_query(page: Any, text: str, params: str = "") -> None:
    done = "document.querySelector('#page-query .results .status').dataset.done"
    before = page.evaluate(done)
    page.evaluate("(q) => { window.explorer.queryEditor.setValue(q); }", text)
    page.fill("#query-params", params)
    page.click("#query-run")
    wait_for(page, f"{done} && {done} !== {json.dumps(before)}")


def positions(page: Any) -> dict[str, list[float]]:
    return dict(
        page.evaluate(
            f"{GRAPH}.nodes().map(n => [n.id(), [n.position('x'), n.position('y')]])"
        )
    )


def rendered_font_px(page: Any, graph: str) -> list[float]:
    return page.evaluate(
        f"{graph}.nodes().map(n => parseFloat(n.style('font-size')) * {graph}.zoom())"
    )


def test_expanding_a_node_adds_neighbours_in_place(
    open_page: Callable[[str], Any], server: Server
) -> None:
    page = open_page("query")
    run_query(
        page, "MATCH (s:Service)-[e:EXPOSES]->(o:Operation) RETURN s, e, o ORDER BY o.uid LIMIT 4"
    )
    before = positions(page)
    assert len(before) >= 2
    target = next(u for u in before if u.startswith("op:"))
    expected = records(
        server.api("POST", "v1/queries/neighbours", json={"params": {"uid": target, "limit": 25}})
    )
    page.evaluate(f"{GRAPH}.getElementById({json.dumps(target)}).emit('tap')")
    wait_for(page, "document.querySelector('#page-query .results .status').textContent"
             f".startsWith('expanded {target}')")
    after = positions(page)
    for uid, (x, y) in before.items():  # nobody else moved
        assert after[uid] == pytest.approx([x, y], abs=1e-6), uid
    new = set(after) - set(before)
    assert new == {r["uid"] for r in expected} - set(before)
    cx, cy = after[target]
    for uid in new:  # laid out near the expanded node
        x, y = after[uid]
        assert ((x - cx) ** 2 + (y - cy) ** 2) ** 0.5 < 400, uid
    # one colour per label, captions per label, a legend with counts
    colours = page.evaluate(f"{GRAPH}.nodes().map(n => [n.data('label'), n.data('colour')])")
    per_label: dict[str, set[str]] = {}
    for label, colour in colours:
        per_label.setdefault(label, set()).add(colour)
    assert all(len(c) == 1 for c in per_label.values())
    assert len({next(iter(c)) for c in per_label.values()}) == len(per_label)
    legend = page.inner_text("#page-query [data-testid=legend]")
    for label in per_label:
        count = sum(1 for lab, _ in colours if lab == label)
        assert f"{label} {count}" in legend
    caption = page.evaluate(f"{GRAPH}.getElementById({json.dumps(target)}).data('caption')")
    name = cypher(server, "MATCH (o:Operation {uid: $u}) RETURN o.name AS n", u=target)[0]["n"]
    assert caption == name
    assert page.errors == []


def test_answers_without_nodes_are_a_table_only(
    open_page: Callable[[str], Any], server: Server
) -> None:
    page = open_page("query")
    assert page.locator("[data-testid=query-graph]").is_hidden()  # no empty box before a run
    run_query(page, "MATCH (f:Function) RETURN f.uid AS uid, f.name AS name ORDER BY uid LIMIT 7")
    assert page.locator("[data-testid=query-table] tbody tr").count() == 7
    assert page.locator("[data-testid=query-graph]").is_hidden()
    assert page.evaluate(f"{GRAPH}.nodes().length") == 0
    run_query(page, "MATCH (f:Function) RETURN count(f) AS n")
    assert page.locator("[data-testid=query-graph]").is_hidden()
    n = cypher(server, "MATCH (f:Function) RETURN count(f) AS n")[0]["n"]
    assert page.inner_text("[data-testid=query-table] tbody") == str(n)


def test_query_history_is_kept_in_the_tab_and_reruns(open_page: Callable[[str], Any]) -> None:
    page = open_page("query")
    first = "MATCH (s:Service) RETURN s.name AS name ORDER BY name"
    second = "MATCH (f:File) RETURN count(f) AS files"
    run_query(page, first)
    run_query(page, second)
    items = page.locator("[data-testid=query-history] li button")
    assert items.count() == 2
    assert items.nth(0).inner_text() == second and items.nth(1).inner_text() == first
    page.reload()
    wait_for(page, "window.explorer && window.explorer.ready")
    items = page.locator("[data-testid=query-history] li button")
    assert items.count() == 2  # sessionStorage outlives a reload of the tab
    done = "document.querySelector('#page-query .results .status').dataset.done"
    items.nth(1).click()
    wait_for(page, done)
    assert page.evaluate("window.explorer.queryEditor.getValue()") == first
    assert "orders" in page.inner_text("[data-testid=query-table]")
    assert page.locator("[data-testid=query-history] li button").first.inner_text() == first


def test_service_map_colours_shapes_labels_and_time_range(
    open_page: Callable[[str], Any], server: Server
) -> None:
    page = open_page("services")
    g = "window.explorer.graphs.services"
    wait_for(page, f"{g}.edges().length > 0")
    nodes = page.evaluate(
        f"{g}.nodes().map(n => [n.data('label'), n.data('colour'), n.style('shape')])"
    )
    services = {(c, s) for label, c, s in nodes if label == "Service"}
    resources = {(c, s) for label, c, s in nodes if label != "Service"}
    assert len(services) == 1 and resources  # one neutral look for all services
    (svc_colour, svc_shape), = services
    assert all(c != svc_colour and s != svc_shape for c, s in resources)
    chip = page.evaluate(
        "getComputedStyle(document.querySelector("
        "'#page-services [data-testid=legend] .chip[data-label=Service]')).backgroundColor"
    )
    rgb = tuple(int(svc_colour[i : i + 2], 16) for i in (1, 3, 5))
    assert chip == f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})"  # the legend shows the drawn colour
    captions = page.evaluate(f"{g}.edges().map(e => [e.data('caption'), e.data('props').requests])")
    for text, requests in captions:
        assert text.startswith(f"{requests} calls · ") and text.endswith(" err")
    widths = page.evaluate(f"{g}.edges().map(e => e.numericStyle('width'))")
    assert max(widths) > min(widths)  # sized by traffic
    deploys = cypher(server, "MATCH (d:Deployment) RETURN d.started_at AS t")
    deps = cypher(server, "MATCH (:Service)-[d:DEPENDS_ON]->() RETURN d.last_seen AS t")

    def ts(v: str) -> dt.datetime:
        t = dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=dt.UTC)

    end = max(ts(r["t"]) for r in deploys + deps)
    page.select_option("#services-range", "7d")
    start = end - dt.timedelta(days=7)
    want = sum(1 for r in deploys if ts(r["t"]) >= start)
    marks = "document.querySelectorAll('[data-testid=deploy-timeline] .mark.deployment').length"
    assert 0 < want < len(deploys), "the sample's deployments span more than a week"
    wait_for(page, f"{marks} === {want}")
    edges = page.evaluate(f"{g}.edges().length")
    assert edges == sum(1 for r in deps if ts(r["t"]) >= start)
    note = page.inner_text("[data-testid=range-note]")
    assert "whole observed period" in note and "deployments filtered" in note
    page.select_option("#services-range", "all")
    wait_for(page, f"{marks} === {len(deploys)}")
    assert page.errors == []


def test_blast_radius_marks_changed_functions_and_keeps_labels_readable(
    open_page: Callable[[str], Any], server: Server
) -> None:
    hub = "fn:shop:libs/shopkit/shopkit/transport.py:request"
    answer = server.api("POST", "v1/queries/blast_radius", json={"params": {"uids": [hub]}})
    reached = records(answer)
    assert len(reached) > 10, "the sample's transport.request is called widely"
    page = open_page("queries/blast_radius")
    form = page.locator("form[data-query=blast_radius]")
    form.wait_for()
    done = "document.querySelector('#page-queries .results .status').dataset.done"

    def run(uids: str, runs: int) -> None:
        form.locator("input[name=uids]").fill(uids)
        form.locator("button[type=submit]").click()
        wait_for(page, f"{done} === '{runs}'")

    run(hub, 1)
    g = "window.explorer.graphs.queries"
    seeds = set(page.evaluate(f"{g}.nodes('.seed').map(n => n.id())"))
    assert seeds == {r["uid"] for r in reached if r["depth"] == 0} == {hub}
    assert "changed functions" in page.inner_text("[data-testid=seed-note]")
    assert page.evaluate(f"{g}.edges().length") > 0  # callers linked, not a grid
    big = rendered_font_px(page, g)
    many = page.evaluate(f"{g}.nodes().length")
    # a smaller blast radius: the deepest caller with the fewest functions reaching it
    sizes = {}
    for r in sorted(reached, key=lambda r: -r["depth"])[:5]:
        params = {"params": {"uids": [r["uid"]]}}
        sizes[r["uid"]] = len(server.api("POST", "v1/queries/blast_radius", json=params)["rows"])
    leaf = min(sizes, key=lambda u: sizes[u])
    run(leaf, 2)
    few = page.evaluate(f"{g}.nodes().length")
    small = rendered_font_px(page, g)
    assert few < many
    for px in big + small:  # the same size on screen, whatever the number of nodes
        assert px == pytest.approx(11, abs=0.5)
    screenshot_has_content(page)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_screenshot_on_the_demo_store(
    open_page: Callable[[str], Any], name: str, artifacts: Any
) -> None:
    page = open_page(name)
    wait_for(page, f"window.explorer.page === '{name}'")
    wait_for(page, f"!document.querySelector('#page-{name} .status.busy')")
    assert page.locator(f"#page-{name} .status.error").count() == 0
    text = page.inner_text(f"#page-{name}")
    assert len(text.split()) > 10
    image = screenshot_has_content(page)
    image.save(artifacts / f"demo-{name}.png")
    assert page.errors == []


@pytest.mark.parametrize("name", PAGES)
def test_every_page_on_a_code_only_store(
    page: Any, code_only_server: Server, name: str, artifacts: Any
) -> None:
    page.goto(f"{code_only_server.url}/#/{name}")
    wait_for(page, "window.explorer && window.explorer.ready")
    wait_for(page, f"!document.querySelector('#page-{name} .status.busy')")
    errors = page.locator(f"#page-{name} .status.error, #page-{name} .error")
    assert errors.count() == 0, errors.all_inner_texts()
    image = screenshot_has_content(page)
    image.save(artifacts / f"code-only-{name}.png")
    text = page.inner_text(f"#page-{name}")
    if name == "services":
        assert "No services loaded" in text and "No deployments loaded" in text
        assert page.locator("[data-testid=services-graph]").is_hidden()
    if name == "query":
        run_query(page, "MATCH (file:File)-[d:DEFINES]->(fn:Function) RETURN file, d, fn LIMIT 25")
        assert page.locator("[data-testid=query-table] tbody tr").count() > 0
        assert page.evaluate(f"{GRAPH}.edges().length") > 0
    assert page.errors == []
