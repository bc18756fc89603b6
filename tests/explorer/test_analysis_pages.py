"""The explorer's analysis pages in a real browser, checked against the API's own answers:
service map, change risk (recent commits, a sha, a diff, blast radius), triage, error history."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

from tests.explorer.conftest import Server, wait_for


def records(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(answer["columns"], row, strict=True)) for row in answer["rows"]]


def cypher(server: Server, query: str, **params: Any) -> list[dict[str, Any]]:
    return records(server.api("POST", "v1/cypher", json={"query": query, "params": params}))


def percent(text: str) -> float:
    return 0.05 if text.startswith("<") else float(text.rstrip("%"))


def test_service_map_draws_services_and_dependencies(
    open_page: Callable[[str], Any], server: Server
) -> None:
    services = {r["uid"] for r in cypher(server, "MATCH (s:Service) RETURN s.uid AS uid")}
    deps = cypher(
        server,
        "MATCH (s:Service)-[d:DEPENDS_ON]->(t) RETURN s.uid AS s, t.uid AS t, d.count AS n, "
        "d.errors AS e",
    )
    page = open_page("services")
    wait_for(page, "window.explorer.graphs.services.edges().length > 0")
    drawn = page.evaluate(
        "window.explorer.graphs.services.nodes().filter(n => n.data('label') === 'Service')"
        ".map(n => n.id())"
    )
    assert set(drawn) == services and len(services) >= 5
    edges = page.evaluate(
        "window.explorer.graphs.services.edges().map(e => [e.source().id(), e.target().id(), "
        "e.data('width'), e.data('colour'), e.data('errorRate')])"
    )
    assert sorted((s, t) for s, t, *_ in edges) == sorted((d["s"], d["t"]) for d in deps)
    widths = [w for *_, w, _, _ in edges]
    assert min(widths) >= 1 and max(widths) == 10  # the busiest edge is the widest
    by_pair = {(s, t): (colour, rate) for s, t, _, colour, rate in edges}
    for d in deps:
        rate = by_pair[(d["s"], d["t"])][1]
        assert abs(rate - (d["e"] / d["n"] if d["n"] else 0)) < 1e-9
    failing = [v for v in by_pair.values() if v[1] > 0]
    clean = [v for v in by_pair.values() if v[1] == 0]
    assert failing and clean and {c for c, _ in failing}.isdisjoint({c for c, _ in clean})
    deployments = cypher(server, "MATCH (d:Deployment) RETURN count(d) AS n")[0]["n"]
    marks = page.locator("[data-testid=deploy-timeline] .mark.deployment")
    assert marks.count() == deployments > 0


def test_clicking_a_service_lists_operations_functions_and_tickets(
    open_page: Callable[[str], Any], server: Server
) -> None:
    ops = cypher(
        server, "MATCH (s:Service {uid: 'svc:payments'})-[:EXPOSES]->(o) RETURN o.uid AS uid"
    )
    tickets = cypher(
        server,
        "MATCH (t:Ticket)-[:AFFECTS|MENTIONS]->(s:Service {uid: 'svc:payments'}) "
        "RETURN DISTINCT t.key AS key",
    )
    page = open_page("services")
    wait_for(page, "window.explorer.graphs.services.getElementById('svc:payments').length")
    page.evaluate(
        "() => { window.explorer.graphs.services.getElementById('svc:payments').emit('tap'); }"
    )
    detail = page.locator("[data-testid=service-detail]")
    wait_for(page, "document.querySelectorAll('[data-testid=service-detail] table').length == 2")
    tables = detail.locator("table")
    assert tables.nth(0).locator("tbody tr").count() == len(ops) > 0
    assert "PaymentProcessor.charge" in tables.nth(0).inner_text()  # a function behind an op
    assert tables.nth(1).locator("tbody tr").count() == len(tickets) > 0


def test_recent_commits_are_ranked_by_risk(open_page: Callable[[str], Any], server: Server) -> None:
    expected = server.api("GET", "v1/risk/recent?limit=20")
    page = open_page("risk")
    wait_for(page, "document.querySelectorAll('[data-testid=recent-risk] tbody tr').length")
    rows = page.locator("[data-testid=recent-risk] tbody tr")
    assert rows.count() == len(expected) == 20
    shown = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())]
    assert shown == [r["target"].removeprefix("commit:")[:10] for r in expected]
    risks = [percent(rows.nth(i).locator("td").nth(5).inner_text()) for i in range(3)]
    assert risks == sorted(risks, reverse=True)
    assert rows.first.locator("td").nth(6).inner_text().strip()  # its explanation


def _score(page: Any, text: str) -> str:
    page.fill("#risk-input", text)
    page.click("#risk-score")
    return wait_for(page, "document.querySelector('[data-testid=risk-overall]')?.textContent")


def test_score_a_sha_and_draw_its_blast_radius(
    open_page: Callable[[str], Any], server: Server
) -> None:
    riskiest = server.api("GET", "v1/risk/recent?limit=20")[0]
    sha = riskiest["target"].removeprefix("commit:")
    answer = server.api("POST", "v1/risk", json={"sha": sha})
    page = open_page("risk")
    overall = _score(page, sha)
    assert abs(percent(overall) - 100 * answer["overall"]) <= 0.051
    assert sha in page.inner_text("[data-testid=risk-detail]")
    seeds = [n["uid"] for n in answer["nodes"] if n["label"] == "function"][:20]
    assert seeds, "the riskiest sample commit changes functions"
    reached = records(
        server.api("POST", "v1/queries/blast_radius", json={"params": {"uids": seeds}})
    )
    wait_for(page, "window.explorer.graphs.risk.nodes().length > 0")
    drawn = page.evaluate("window.explorer.graphs.risk.nodes().map(n => [n.id(), n.data('label')])")
    by_label: dict[str, set[str]] = {}
    for uid, label in drawn:
        by_label.setdefault(label, set()).add(uid)
    assert by_label["Function"] == set(seeds) | {r["uid"] for r in reached}
    assert by_label.get("Operation", set()) == {o for r in reached for o in r["operations"]}
    assert by_label.get("Service", set()) == {s for r in reached for s in r["services"]}
    if by_label.get("Service"):
        kinds = set(page.evaluate("window.explorer.graphs.risk.edges().map(e => e.data('type'))"))
        assert {"behind", "exposed by"} <= kinds


def test_a_change_without_code_shows_its_label_not_a_percentage(
    open_page: Callable[[str], Any], server: Server
) -> None:
    diff = (
        "diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n"
        "@@ -1,1 +1,2 @@\n # sample\n+More words about the sample.\n"
    )
    answer = server.api("POST", "v1/risk", json={"diff": diff})
    assert answer["overall"] is None and answer["label"]
    page = open_page("risk")
    assert _score(page, diff) == answer["label"]
    assert "%" not in page.inner_text("[data-testid=risk-detail] p.big")


def test_score_a_pasted_diff(
    open_page: Callable[[str], Any], server: Server, sample: dict[str, Any]
) -> None:
    repo = sample["work"] / "sample" / "repo"
    riskiest = server.api("GET", "v1/risk/recent?limit=20")[0]["target"].removeprefix("commit:")
    diff = subprocess.run(
        ["git", "-C", str(repo), "show", "--format=", riskiest],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert diff.startswith("diff --git")
    answer = server.api("POST", "v1/risk", json={"diff": diff})
    page = open_page("risk")
    overall = _score(page, diff)
    assert abs(percent(overall) - 100 * answer["overall"]) <= 0.051
    assert page.locator("[data-testid=risk-detail] tbody tr").count() == min(
        50, len(answer["nodes"])
    )


def _bug_ticket(server: Server) -> dict[str, Any]:
    return cypher(
        server,
        "MATCH (t:Ticket) WHERE t.kind = 'bug' AND t.body CONTAINS 'Traceback' "
        "RETURN t.uid AS uid, t.title AS title, t.body AS body ORDER BY uid LIMIT 1",
    )[0]


def test_triage_a_ticket(open_page: Callable[[str], Any], server: Server) -> None:
    ticket = _bug_ticket(server)
    answer = server.api(
        "POST", "v1/triage", json={"title": ticket["title"], "body": ticket["body"], "top_k": 10}
    )
    assert answer["functions"]
    page = open_page("triage")
    page.fill("#triage-title", ticket["title"])
    page.fill("#triage-body", ticket["body"])
    page.click("#triage-run")
    wait_for(page, "document.querySelectorAll('[data-testid=suspects] table').length == 3")
    first = page.locator("[data-testid=suspects] table").first.locator("tbody tr")
    assert first.count() == len(answer["functions"])
    assert answer["functions"][0]["name"] in first.first.inner_text()
    similar = page.locator("[data-testid=similar] tbody tr")
    assert similar.count() == len(answer["similar"])
    owners = page.locator("[data-testid=owners] tbody tr")
    assert owners.count() == len(answer["owners"])
    wait_for(page, "window.explorer.graphs.triage.nodes().length > 0")
    drawn = set(page.evaluate("window.explorer.graphs.triage.nodes().map(n => n.id())"))
    top = {s["uid"] for s in answer["functions"][:5]}
    evidence = {u for s in answer["functions"][:5] for e in s["evidence"] for u in e["path"]}
    assert top <= drawn and drawn <= top | evidence
    # the link to the error's history carries the fingerprint
    fingerprint = answer["seen_before"]["fingerprint"]
    assert page.locator(f"a[href='#/errors/{fingerprint}']").count() == 1


def test_error_history_shows_occurrences_deployments_tickets_and_fixes(
    open_page: Callable[[str], Any], server: Server
) -> None:
    fingerprint = cypher(
        server,
        "MATCH (t:Ticket)-[:REPORTS]->(e:ErrorSignature)-[:SEEN_IN]->(:Deployment) "
        "RETURN e.fingerprint AS fp, count(DISTINCT t) AS n ORDER BY n DESC, fp LIMIT 1",
    )[0]["fp"]
    history = server.api("GET", f"v1/errors/{fingerprint}/history")
    uid = history["signature"]["uid"]
    seen_in = cypher(
        server,
        "MATCH (e:ErrorSignature {uid: $uid})-[:SEEN_IN]->(d:Deployment) RETURN d.uid",
        uid=uid,
    )
    page = open_page(f"errors/{fingerprint}")
    summary = wait_for(page, "document.querySelector('[data-testid=error-summary]')?.textContent")
    assert f"{history['signature']['count']} occurrences" in summary
    timeline = page.locator("[data-testid=error-timeline]")
    assert timeline.locator(".mark.occurrence").count() == len(seen_in) > 0
    assert timeline.locator(".mark.ticket").count() == len(history["tickets"]) > 0
    assert timeline.locator(".mark.fix").count() == len(history["fixes"])
    assert timeline.locator(".mark.deployment").count() > 0
    text = page.inner_text("[data-testid=error-history]")
    for t in history["tickets"]:
        assert t["title"] in text
    # the list of known signatures links here too
    assert page.locator(f"[data-testid=signatures] a[href='#/errors/{fingerprint}']").count() == 1


def test_triage_form_has_a_when_field_and_the_signature_list_one_row_each(
    open_page: Callable[[str], Any], server: Server
) -> None:
    ticket = _bug_ticket(server)
    page = open_page("triage")
    default = page.input_value("#triage-when")
    assert len(default) == 16 and default[4] == "-" and default[10] == "T"  # now, local time
    page.fill("#triage-title", ticket["title"])
    page.fill("#triage-body", ticket["body"])
    page.fill("#triage-when", "2030-01-01T00:00")
    page.click("#triage-run")
    wait_for(page, "document.querySelectorAll('[data-testid=suspects] table').length == 3")
    caption = page.locator("[data-testid=suspects] table").nth(2).locator("caption").inner_text()
    assert "no time limit" in caption and "as of 2030-01-01" in caption
    # each suspect commit says why it is one
    commits = page.locator("[data-testid=suspects] table").nth(2)
    assert "why" in commits.locator("thead").inner_text()
    first = commits.locator("tbody tr").first.inner_text()
    assert "changed suspect" in first or "wrote " in first, first
    # the same ticket pasted again is not its own "seen before" nor its own similar ticket
    similar = page.inner_text("[data-testid=similar]")
    assert ticket["title"] not in similar.split("\n")
    page = open_page("errors")
    wait_for(page, "document.querySelectorAll('[data-testid=signatures] tbody tr').length > 0")
    rows = page.locator("[data-testid=signatures] tbody tr")
    links = [rows.nth(i).locator("a").inner_text() for i in range(rows.count())]
    assert len(links) == len(set(links))  # one row per signature
    header = page.inner_text("[data-testid=signatures] thead")
    assert "in-app frames" in header and "services" in header
    cells = page.inner_text("[data-testid=signatures] tbody")
    assert "\t\t" not in cells  # empty fields read as a dash
