"""seen_before(): prior occurrences, their tickets and fixes, and regression detection."""

from __future__ import annotations

from datetime import timedelta

from graph_service.batch import edges, nodes
from graph_service.store import GraphStore
from graph_service.triage import TicketInput, seen_before
from graph_service.triage.parse import read_ticket
from tests.conftest import StoreBackend
from tests.graph_service.triage.conftest import T0, _e, _ticket, build_graph
from tests.graph_service.triage.test_frames import PYTHON

FP = read_ticket(TicketInput(body=PYTHON)).fingerprint or ""
FIX = "f1" * 20
W = {"loaded_by": "test", "run_id": "r1"}


def _history(store: GraphStore, deployed_fix: bool) -> None:
    """An error reported in a ticket, fixed by a commit; optionally a deployment shipping it."""
    last_seen = T0 - timedelta(days=1) if deployed_fix else T0 - timedelta(days=35)
    build_graph(
        store, [_ticket("ticket:github:7", "Crash on qty", PYTHON, T0 - timedelta(days=40), FP)]
    )
    store.write(
        nodes(
            "ErrorSignature",
            [
                {
                    "uid": f"err:{FP}",
                    "fingerprint": FP,
                    "type": "ValueError",
                    "first_seen": T0 - timedelta(days=41),
                    "last_seen": last_seen,
                }
            ],
        ),
        **W,
    )
    store.write(
        edges("REPORTS", "Ticket", "ErrorSignature", [_e("ticket:github:7", f"err:{FP}")]), **W
    )
    store.write(edges("SEEN_IN", "ErrorSignature", "Service", [_e(f"err:{FP}", "svc:orders")]), **W)
    store.write(
        nodes(
            "Commit",
            [
                {
                    "uid": f"commit:{FIX}",
                    "sha": FIX,
                    "repo": "shop",
                    "summary": "Validate qty",
                    "authored_at": T0 - timedelta(days=30),
                }
            ],
        ),
        **W,
    )
    store.write(edges("FIXES", "Commit", "Ticket", [_e(f"commit:{FIX}", "ticket:github:7")]), **W)
    store.write(
        edges(
            "MODIFIES",
            "Commit",
            "Function",
            [_e(f"commit:{FIX}", "fn:shop:shop/parsing.py:parse_qty")],
        ),
        **W,
    )
    if deployed_fix:
        store.write(
            nodes(
                "Deployment",
                [
                    {
                        "uid": "deploy:prod:orders:fix",
                        "service": "orders",
                        "started_at": T0 - timedelta(days=29),
                    }
                ],
            ),
            **W,
        )
        store.write(
            edges("SHIPS", "Deployment", "Commit", [_e("deploy:prod:orders:fix", f"commit:{FIX}")]),
            **W,
        )


def test_regression_after_the_fix_shipped(backend: StoreBackend) -> None:
    store = backend.open()
    try:
        _history(store, deployed_fix=True)
        seen = seen_before(store, FP)
        assert seen.known and seen.signature is not None and seen.signature.type == "ValueError"
        assert [t.uid for t in seen.tickets] == ["ticket:github:7"]
        assert [f.sha for f in seen.fixes] == [FIX]
        assert seen.fixes[0].functions == ["fn:shop:shop/parsing.py:parse_qty"]
        assert seen.services == ["orders"]
        assert seen.regression, seen
        assert "deploy:prod:orders:fix" in seen.regression_detail
        # the same through a new ticket carrying the trace
        again = seen_before(store, TicketInput(title="crash again", body=PYTHON, created=T0))
        assert again.regression and again.fingerprint == FP
        assert store.query(seen.cypher, {"e": f"err:{FP}"}).rows()
    finally:
        store.close()


def test_no_regression_when_not_seen_since_the_fix(backend: StoreBackend) -> None:
    store = backend.open()
    try:
        _history(store, deployed_fix=False)
        seen = seen_before(store, f"err:{FP}")
        assert seen.known and seen.fixes and not seen.regression
    finally:
        store.close()


def test_unknown_fingerprint(code_store: GraphStore) -> None:
    seen = seen_before(code_store, "0123456789abcdef")
    assert not seen.known and not seen.tickets and not seen.regression
    assert seen_before(code_store, TicketInput(title="no trace here")).fingerprint is None


def test_seen_before_names_the_fix_its_deployment_and_how_long(backend: StoreBackend) -> None:
    store = backend.open()
    try:
        _history(store, deployed_fix=True)
        seen = seen_before(store, TicketInput(title="crash again", body=PYTHON, created=T0))
        fix = seen.fixes[0]
        # ticket 7 at T0-40d, fix at T0-30d, shipped by a deployment at T0-29d
        assert fix.days_to_fix == 10.0 and fix.days_to_deploy == 11.0
        assert fix.deployment == "deploy:prod:orders:fix"
        assert "fixed by " + FIX[:12] in seen.summary and "10 days" in seen.summary
        assert "deploy:prod:orders:fix" in seen.summary
    finally:
        store.close()


def test_seen_before_never_returns_the_ticket_asked_about(backend: StoreBackend) -> None:
    store = backend.open()
    try:
        _history(store, deployed_fix=False)
        # the stored ticket asked about by uid, and the same text pasted again without a uid
        by_uid = TicketInput(title="other words", body=PYTHON, uid="ticket:github:7", created=T0)
        pasted = TicketInput(title="Crash on qty", body=PYTHON, created=T0)
        for t in (by_uid, pasted):
            seen = seen_before(store, t)
            assert seen.fingerprint == FP and seen.tickets == [], t
        # a placeholder ticket (made from "Fixes #8" in a commit message) has no text
        store.write(nodes("Ticket", [_ticket("ticket:github:8", "", "", T0, FP)]), **W)
        assert [x.uid for x in seen_before(store, FP).tickets] == ["ticket:github:7"]
    finally:
        store.close()


def test_triage_does_not_see_its_own_ticket_before(backend: StoreBackend) -> None:
    from graph_service.triage import TriageConfig, triage

    store = backend.open()
    try:
        _history(store, deployed_fix=False)
        cfg = TriageConfig(embedder="hashing", learned=False)
        own = TicketInput(title="Crash on qty", body=PYTHON, created=T0 - timedelta(days=40))
        r = triage(store, own, None, cfg)
        assert r.seen_before is not None and r.seen_before.tickets == []
        assert all(s.uid != "ticket:github:7" for s in r.similar)
        later = TicketInput(title="qty crash in checkout", body=PYTHON, created=T0)
        r = triage(store, later, None, cfg)
        assert r.seen_before is not None
        assert [t.uid for t in r.seen_before.tickets] == ["ticket:github:7"]
    finally:
        store.close()


def test_shipments_answer_what_the_per_fix_query_answers(backend: StoreBackend) -> None:
    """The deployments that shipped a repository's commits authored at or after a time, read
    from the per-stamp table, are the rows of the Cypher query it replaces, in its order."""
    from graph_service.triage.seen import _SHIPPED_AFTER, _Shipments

    store = backend.open()
    try:
        commits = [
            {
                "uid": f"commit:{i:040x}",
                "sha": f"{i:040x}",
                "repo": "shop" if i % 3 else "web",
                "authored_at": T0 + timedelta(days=i),
            }
            for i in range(12)
        ]
        deploys = [
            {"uid": f"deploy:{k}", "service": f"svc{k % 2}", "started_at": T0 + timedelta(days=k)}
            for k in (11, 4, 7, 2, 9)  # written out of start order
        ]
        deploys.append({"uid": "deploy:unstarted", "service": "svc0", "started_at": None})
        store.write(nodes("Commit", commits), **W)
        store.write(nodes("Deployment", deploys), **W)
        ships = [
            _e(d["uid"], c["uid"])
            for n, d in enumerate(deploys)
            for c in commits[n : n + 6]  # overlapping windows: a commit shipped more than once
        ]
        store.write(edges("SHIPS", "Deployment", "Commit", ships), **W)
        table = _Shipments.build(store)
        cases = [
            (repo, T0 + timedelta(days=d))
            for repo in ("shop", "web", "none")
            for d in (0, 3, 8, 30)
        ]
        answered = 0
        for repo, at in cases:
            want = store.query(_SHIPPED_AFTER, {"at": at, "repo": repo}).rows()
            got = table.after(repo, at)
            key = lambda rows: [(r["uid"], r["service"], r["started"]) for r in rows]  # noqa: E731
            assert key(got) == key(want), (repo, at)
            started = [r["started"] for r in got]
            known = [s for s in started if s is not None]
            assert known == sorted(known) and started[: len(known)] == known
            answered += bool(want)
        assert answered >= 4
    finally:
        store.close()


def test_a_deployment_loaded_later_ships_the_fix(backend: StoreBackend) -> None:
    """The shipments table follows the Deployment rows, not only the store's stamp: a
    deployments load after a first answer is seen (once the stamps' time-to-live passed): here
    the first deployment to ship the fix."""
    from graph_service.triage.code_index import _STAMPS
    from graph_service.triage.seen import _DEPLOY_STAMPS

    store = backend.open()
    try:
        _history(store, deployed_fix=False)
        ticket = TicketInput(title="crash again", body=PYTHON, created=T0)
        assert seen_before(store, ticket).fixes[0].deployment != "deploy:late"
        store.write(
            nodes(
                "Deployment",
                [
                    {
                        "uid": "deploy:late",
                        "service": "orders",
                        "started_at": T0 - timedelta(days=29),
                    }
                ],
            ),
            loaded_by="test",
            run_id="r9",
        )
        store.write(
            edges("SHIPS", "Deployment", "Commit", [_e("deploy:late", f"commit:{FIX}")]),
            loaded_by="test",
            run_id="r9",
        )
        _STAMPS.clear()
        _DEPLOY_STAMPS.clear()  # read both stamps now, not after their 2 s time-to-live
        assert seen_before(store, ticket).fixes[0].deployment == "deploy:late"
    finally:
        store.close()
