"""Every named query runs on Ladybug against the fixture graph and returns the known answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from graph_service.queries import NamedQuery, run_named
from graph_service.store import GraphStore
from tests.fixtures.graph import (
    CLASS_BASE,
    CLASS_CART,
    COMMITS,
    DEPLOYS,
    ERRORS,
    FILES,
    FUNCS,
    OPS,
    SERVICES,
    TICKETS,
    sha,
)

T = datetime.fromisoformat
WINDOW: dict[str, object] = {"since": "2024-01-01", "until": "2025-01-01"}


def _fn(key: str, depth: int) -> dict[str, Any]:
    _, _, path, qualname = FUNCS[key].split(":", 3)
    return {"uid": FUNCS[key], "qualname": qualname, "path": path, "depth": depth}


def _hot(uid: str, a: int, b: int, *score: int) -> dict[str, Any]:
    """A hotspots row: (commits, lines_changed), or (bug_commits, bug_tickets, score)."""
    row = {"uid": uid, "kind": "Function" if uid.startswith("fn:") else "File",
           "path": uid.split(":")[2]}  # fmt: skip
    if not score:
        return {**row, "commits": a, "lines_changed": b}
    return {**row, "bug_commits": a, "bug_tickets": b, "score": score[0]}


def _deploy(key: str, service: str, version: str, start: str, commit: str, summary: str,
            previous: str) -> dict[str, Any]:  # fmt: skip
    return {"uid": DEPLOYS[key], "service": service, "environment": "prod", "version": version,
            "status": "success", "started_at": T(start), "sha": sha(commit), "summary": summary,
            "previous": DEPLOYS[previous]}  # fmt: skip


def _dep(src: str, dst: str, name: str, n: int, errors: int, p95: float) -> dict[str, Any]:
    return {"source": src, "target": dst, "target_name": name, "requests": n, "errors": errors,
            "error_rate": errors / n, "p50_ms": p95 / 3, "p95_ms": p95,
            "last_seen": T("2024-02-28T00:00")}  # fmt: skip


# name -> (raw parameters as the CLI sends them, expected rows in order)
# fmt: off
CASES: dict[str, tuple[dict[str, object], list[dict[str, Any]]]] = {
    "neighbours": ({"uid": FUNCS["charge"]}, [
        {"uid": FUNCS["query"], "label": "Function", "rel_type": "CALLS", "direction": "out"},
        {"uid": FUNCS["validate"], "label": "Function", "rel_type": "CALLS", "direction": "out"},
        {"uid": "ext:shop:requests.post", "label": "External", "rel_type": "CALLS_EXTERNAL",
         "direction": "out"},
        {"uid": FUNCS["checkout"], "label": "Function", "rel_type": "CALLS", "direction": "in"},
        {"uid": FILES["pay"], "label": "File", "rel_type": "DEFINES", "direction": "in"},
        {"uid": OPS["charge"], "label": "Operation", "rel_type": "IMPLEMENTED_BY",
         "direction": "in"},
        {"uid": COMMITS["c1"], "label": "Commit", "rel_type": "MODIFIES", "direction": "in"},
        {"uid": COMMITS["c2"], "label": "Commit", "rel_type": "MODIFIES", "direction": "in"},
    ]),
    "find": ({"name": "CART"}, [  # per label: at head first, rank, tests last, shorter name, uid
        {"uid": FUNCS["total"], "label": "Function", "qualname": "Cart.total",
         "path": "app/cart.py", "line": 11, "is_test": False, "gone": False, "rank": 3},
        {"uid": FUNCS["checkout"], "label": "Function", "qualname": "Cart.checkout",
         "path": "app/cart.py", "line": 1, "is_test": False, "gone": False, "rank": 3},
        {"uid": CLASS_CART, "label": "Class", "qualname": "Cart", "path": "app/cart.py",
         "line": 5, "is_test": False, "gone": False, "rank": 0},
        {"uid": CLASS_BASE, "label": "Class", "qualname": "BaseCart", "path": "app/cart.py",
         "line": 1, "is_test": False, "gone": False, "rank": 3},
    ]),
    "external_callers": ({"name": "requests"}, [
        {"uid": FUNCS["charge"], "qualname": "charge", "path": "app/pay.py",
         "callee": "requests.post", "resolution": "import", "confidence": 1.0, "line": 5},
    ]),
    "callers": ({"uid": FUNCS["query"], "hops": "2"},
                [_fn("total", 1), _fn("charge", 1), _fn("checkout", 2)]),
    "callees": ({"uid": FUNCS["checkout"], "hops": "2"},
                [_fn("total", 1), _fn("charge", 1), _fn("query", 2), _fn("validate", 2)]),
    "blast_radius": ({"uids": FUNCS["validate"]}, [
        {**_fn("validate", 0), "operations": [], "services": []},
        {**_fn("charge", 1), "operations": [OPS["charge"]], "services": [SERVICES["payments"]]},
        {**_fn("checkout", 2), "operations": [], "services": []},
        {**_fn("handle", 3), "operations": [OPS["checkout"]],
         "services": [SERVICES["shop-api"]]},
        {**_fn("test", 3), "operations": [], "services": []},
    ]),
    "new_calls_since": ({"since": "2024-01-09T00:00:00Z"}, [
        {"caller": FUNCS["checkout"], "callee": FUNCS["charge"], "path": "app/cart.py", "line": 14,
         "since": T("2024-02-05T10:00")},
        {"caller": FUNCS["charge"], "callee": FUNCS["validate"], "path": "app/pay.py", "line": 3,
         "since": T("2024-01-10T10:00")},
    ]),
    "changes_since": ({"uid": FILES["cart"], "since": "2024-01-15T00:00:00Z"}, [
        {"sha": sha("c6"), "summary": "Fix checkout KeyError (fixes #2)",
         "authored_at": T("2024-02-10T10:00"), "author": "Alice", "email": "alice@example.com",
         "lines_added": 2, "lines_deleted": 2, "change": "modified"},
        {"sha": sha("c5"), "summary": "Faster checkout queries",
         "authored_at": T("2024-02-05T10:00"), "author": "Bob", "email": "bob@example.com",
         "lines_added": 10, "lines_deleted": 3, "change": "modified"},
        {"sha": sha("c3"), "summary": "Round cart totals", "authored_at": T("2024-01-20T10:00"),
         "author": "Alice", "email": "alice@example.com", "lines_added": 5, "lines_deleted": 1,
         "change": "modified"},
    ]),
    "hotspots_churn": ({"since": "2024-01-05", "until": "2024-03-01"}, [
        _hot(FILES["cart"], 3, 23), _hot(FILES["pay"], 2, 28), _hot(FUNCS["validate"], 2, 19),
        _hot(FUNCS["checkout"], 2, 17), _hot(FUNCS["charge"], 1, 9), _hot(FUNCS["total"], 1, 6),
        _hot(FILES["db"], 1, 4), _hot(FUNCS["query"], 1, 4),
    ]),
    "hotspots_bugs": ({"limit": "6"}, [
        _hot(FUNCS["validate"], 1, 3, 4), _hot(FILES["pay"], 1, 1, 2),
        _hot(FUNCS["checkout"], 1, 1, 2), _hot(FILES["cart"], 1, 0, 1),
        _hot(FILES["db"], 1, 0, 1), _hot(FUNCS["query"], 1, 0, 1),
    ]),
    "error_history": ({"uid": ERRORS["card"]}, [
        {"uid": ERRORS["card"], "type": "ValueError", "message": "invalid card <*>",
         "first_seen": T("2024-01-16T08:00"), "last_seen": T("2024-02-20T08:00"),
         "occurrences": 42, "services": ["payments"],
         "deployments": [DEPLOYS["p1"], DEPLOYS["p2"]],
         "tickets": [TICKETS["1"], TICKETS["3"]], "fix_commits": [sha("c4")]},
    ]),
    "service_map": ({}, [
        _dep(SERVICES["frontend"], SERVICES["shop-api"], "shop-api", 1000, 10, 120.0),
        _dep(SERVICES["payments"], "res:database:shopdb", "shopdb", 200, 2, 30.0),
        _dep(SERVICES["shop-api"], "res:database:shopdb", "shopdb", 500, 0, 15.0),
        _dep(SERVICES["shop-api"], SERVICES["payments"], "payments", 100, 5, 250.0),
    ]),
    "recent_deployments": ({"since": "2024-02-01"}, [
        _deploy("s3", "shop-api", "2.2.0", "2024-02-12T09:00", "c6",
                "Fix checkout KeyError (fixes #2)", "s2"),
        _deploy("p2", "payments", "1.1.0", "2024-02-06T15:00", "c5", "Faster checkout queries",
                "p1"),
        _deploy("s2", "shop-api", "2.1.0", "2024-02-06T09:00", "c5", "Faster checkout queries",
                "s1"),
    ]),
    "commit_context": ({"uid": COMMITS["c5"]}, [
        {"sha": sha("c5"), "summary": "Faster checkout queries",
         "authored_at": T("2024-02-05T10:00"), "author": "Bob", "email": "bob@example.com",
         "lines_added": 14, "lines_deleted": 3, "files": ["app/cart.py", "app/db.py"],
         "functions": [FUNCS["checkout"], FUNCS["query"]], "tickets_fixed": [],
         "bugs_induced_fixed_by": [sha("c6")], "fixes_bugs_from": []},
    ]),
    "deploy_diff": ({"uid": DEPLOYS["s2"]}, [
        {"uid": COMMITS["c5"], "sha": sha("c5"), "summary": "Faster checkout queries",
         "authored_at": T("2024-02-05T10:00"), "previous": DEPLOYS["s1"]},
        {"uid": COMMITS["c4"], "sha": sha("c4"), "summary": "Fix card validation (fixes #1)",
         "authored_at": T("2024-02-01T10:00"), "previous": DEPLOYS["s1"]},
    ]),
    "mttr_by_service": (WINDOW, [
        # #1: created 01-17 09:00, resolved 02-01 12:00; fix C4 shipped by payments deploy 2
        # on 02-06 15:00 (it shipped C5, a child of C4).
        {"service": "payments", "tickets": 1, "mean_hours_to_resolve": 363.0,
         "mean_hours_to_fix_deployed": 486.0, "fixes_deployed": 1},
        {"service": "shop-api", "tickets": 1, "mean_hours_to_resolve": 75.0,
         "mean_hours_to_fix_deployed": 120.0, "fixes_deployed": 1},
    ]),
    "escape_defect_rate": (WINDOW, [
        {"service": "payments", "deployments": 2, "escaped": 1, "escape_rate": 0.5},
        {"service": "shop-api", "deployments": 3, "escaped": 1, "escape_rate": 1 / 3},
    ]),
    "escaped_deployments": ({**WINDOW, "days": "7"}, [
        {"uid": DEPLOYS["s3"], "service": "shop-api", "version": "2.2.0",
         "started_at": T("2024-02-12T09:00"), "escaped": False, "tickets": []},
        {"uid": DEPLOYS["p2"], "service": "payments", "version": "1.1.0",
         "started_at": T("2024-02-06T15:00"), "escaped": False, "tickets": []},
        {"uid": DEPLOYS["s2"], "service": "shop-api", "version": "2.1.0",
         "started_at": T("2024-02-06T09:00"), "escaped": True, "tickets": [TICKETS["2"]]},
        {"uid": DEPLOYS["s1"], "service": "shop-api", "version": "2.0.0",
         "started_at": T("2024-01-21T09:00"), "escaped": False, "tickets": []},
        {"uid": DEPLOYS["p1"], "service": "payments", "version": "1.0.0",
         "started_at": T("2024-01-15T09:00"), "escaped": True, "tickets": [TICKETS["1"]]},
    ]),
    "repeat_errors": ({}, [
        {"uid": ERRORS["card"], "type": "ValueError", "message": "invalid card <*>",
         "ticket": TICKETS["1"], "fix_sha": sha("c4"), "fix_deployed_at": T("2024-02-06T15:00"),
         "last_seen": T("2024-02-20T08:00")},
    ]),
    "functions_most_open_tickets": ({}, [
        {"uid": FUNCS["validate"], "qualname": "validate_card", "path": "app/pay.py",
         "open_tickets": 2, "tickets": [TICKETS["3"], TICKETS["5"]]},
        {"uid": FUNCS["total"], "qualname": "Cart.total", "path": "app/cart.py",
         "open_tickets": 1, "tickets": [TICKETS["4"]]},
    ]),
}
# fmt: on


def _sorted_lists(row: dict[str, Any]) -> dict[str, Any]:
    """collect() order is not defined: compare lists as sorted lists."""
    return {k: sorted(v) if isinstance(v, list) else v for k, v in row.items()}


def test_every_named_query_has_a_case(library: dict[str, NamedQuery]) -> None:
    assert sorted(CASES) == sorted(library)


@pytest.mark.parametrize("name", sorted(CASES))
def test_named_query_answer(
    name: str, fixture_store: GraphStore, library: dict[str, NamedQuery]
) -> None:
    params, expected = CASES[name]
    result = run_named(fixture_store, name, params, library=library)
    rows = [_sorted_lists(r) for r in result.rows()]
    assert rows == [_sorted_lists(r) for r in expected]
    assert result.columns == list(expected[0]) if expected else True


def test_hops_bound_callers(fixture_store: GraphStore, library: dict[str, NamedQuery]) -> None:
    def callers(hops: int) -> list[tuple[str, int]]:
        rows = run_named(
            fixture_store, "callers", {"uid": FUNCS["query"], "hops": hops}, library=library
        ).rows()
        return [(r["uid"], r["depth"]) for r in rows]

    assert callers(1) == [(FUNCS["total"], 1), (FUNCS["charge"], 1)]
    assert callers(3)[-2:] == [(FUNCS["handle"], 3), (FUNCS["test"], 3)]
    assert len(callers(3)) == 5


def test_blast_radius_several_changes_keeps_min_depth(
    fixture_store: GraphStore, library: dict[str, NamedQuery]
) -> None:
    rows = run_named(
        fixture_store,
        "blast_radius",
        {"uids": [FUNCS["validate"], FUNCS["checkout"]]},
        library=library,
    ).rows()
    depths = {r["uid"]: r["depth"] for r in rows}
    assert depths == {
        FUNCS["validate"]: 0,
        FUNCS["checkout"]: 0,
        FUNCS["charge"]: 1,
        FUNCS["handle"]: 1,
        FUNCS["test"]: 1,
    }


def test_recent_deployments_service_filter_and_limit(
    fixture_store: GraphStore, library: dict[str, NamedQuery]
) -> None:
    rows = run_named(
        fixture_store,
        "recent_deployments",
        {"since": "2024-01-01", "service": "payments", "limit": "1"},
        library=library,
    ).rows()
    assert [r["uid"] for r in rows] == [DEPLOYS["p2"]]


def test_escape_window_in_days(fixture_store: GraphStore, library: dict[str, NamedQuery]) -> None:
    # Ticket #3 (payments) arrives 14.75 days after payments deploy 2.
    rows = run_named(
        fixture_store, "escaped_deployments", {**WINDOW, "days": "15"}, library=library
    ).rows()
    escaped = {r["uid"]: r["tickets"] for r in rows if r["escaped"]}
    assert escaped == {
        DEPLOYS["p1"]: [TICKETS["1"]],
        DEPLOYS["p2"]: [TICKETS["3"]],
        DEPLOYS["s2"]: [TICKETS["2"]],
    }


def test_deploy_diff_of_a_first_deployment_is_empty(
    fixture_store: GraphStore, library: dict[str, NamedQuery]
) -> None:
    rows = run_named(fixture_store, "deploy_diff", {"uid": DEPLOYS["p1"]}, library=library)
    assert rows.rows() == []


def test_changes_since_without_a_date_is_the_whole_history(
    fixture_store: GraphStore, library: dict[str, NamedQuery]
) -> None:
    """`prodgraph run changes_since --param uid=...` alone answers, newest first, instead of
    "needs parameter 'since'"; `limit` keeps the newest."""
    dated = run_named(
        fixture_store, "changes_since", CASES["changes_since"][0], library=library
    ).rows()
    every = run_named(
        fixture_store, "changes_since", {"uid": FILES["cart"]}, library=library
    ).rows()
    assert len(every) > len(dated) and every[: len(dated)] == dated
    times = [r["authored_at"] for r in every]
    assert times == sorted(times, reverse=True)
    newest = run_named(
        fixture_store, "changes_since", {"uid": FILES["cart"], "limit": "2"}, library=library
    ).rows()
    assert newest == every[:2]


def test_a_commit_named_by_a_short_sha_is_the_commit_it_starts(
    fixture_store: GraphStore, library: dict[str, NamedQuery]
) -> None:
    """The risk table and git print 10-character shas; `commit_context` with one answered
    nothing. A prefix naming one stored commit is that commit; an unknown one answers nothing."""
    full = run_named(fixture_store, "commit_context", {"uid": COMMITS["c5"]}, library=library)
    short = run_named(
        fixture_store, "commit_context", {"uid": "commit:" + sha("c5")[:10]}, library=library
    )
    assert short.rows() == full.rows() and len(full.rows()) == 1
    none = run_named(fixture_store, "commit_context", {"uid": "commit:abcdef1234"}, library=library)
    assert none.rows() == []
