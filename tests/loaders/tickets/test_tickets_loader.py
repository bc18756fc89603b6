"""The tickets loader against a real store pre-populated with code, commits, services and traces."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from graph_service import batch as b
from graph_service.errors import CallerError
from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore
from loaders import stacktrace
from loaders.base import LoadReport
from loaders.tickets import make_loader
from loaders.traces import make_loader as traces_loader

sys.path.insert(0, str(Path(__file__).parents[1] / "traces"))
import otlp_shop as spans

SHA_FIX = "3f9c2a1b7d4e5f60718293a4b5c6d7e8f9012345"
SHA_CAUSE = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
SETTINGS = Settings(db_path=Path("unused"))
JAVA_PATH = "src/main/java/com/acme/orders/OrderService.java"

JAVA_TRACE = """java.lang.IllegalStateException: order 1234 not found
\tat com.acme.orders.OrderService.load(OrderService.java:88)
\tat com.acme.orders.OrderController.get(OrderController.java:41)
\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)
"""


def _seed(store: GraphStore) -> None:
    w = {"loaded_by": "seed", "run_id": "r0"}
    store.write(
        b.nodes(
            "Function",
            [
                {
                    "uid": f"fn:shop:{JAVA_PATH}:OrderService.load",
                    "name": "load",
                    "qualname": "OrderService.load",
                    "start_line": 80,
                    "end_line": 95,
                    "path": "src/main/java/com/acme/orders/OrderService.java",
                },
                {
                    "uid": "fn:shop:payments/charge.py:validate",
                    "name": "validate",
                    "qualname": "validate",
                    "path": "payments/charge.py",
                    "start_line": 5,
                    "end_line": 7,
                },
                {
                    "uid": "fn:shop:payments/refund.py:Refunds.issue",
                    "name": "issue",
                    "qualname": "Refunds.issue",
                    "path": "payments/refund.py",
                    "start_line": 3,
                    "end_line": 20,
                },
            ],
        ),
        **w,
    )
    store.write(
        b.nodes(
            "File",
            [
                {
                    "uid": "file:shop:src/main/java/com/acme/orders/OrderService.java",
                    "path": "src/main/java/com/acme/orders/OrderService.java",
                },
                {"uid": "file:shop:deploy/orders.yaml", "path": "deploy/orders.yaml"},
            ],
        ),
        **w,
    )
    store.write(
        b.nodes("Commit", [{"uid": f"commit:{s}", "sha": s} for s in (SHA_FIX, SHA_CAUSE)]), **w
    )
    store.write(
        b.nodes(
            "Service",
            [
                {"uid": "svc:orders", "name": "orders"},
                {"uid": "svc:checkout-api", "name": "checkout-api"},
            ],
        ),
        **w,
    )


def _traced_error(store: GraphStore, tmp_path: Path) -> tuple[str, str]:
    """Load real spans with a real exception; return (ErrorSignature uid, its stack trace)."""
    req = spans.build(tmp_path / "spans", 2, cards=("4111",))
    path = tmp_path / "spans.pb"
    path.write_bytes(req.SerializeToString())
    assert not ingest(store, traces_loader([str(path)], SETTINGS, {})).failed_batches
    trace = next(
        kv.value.string_value
        for rs in req.resource_spans
        for ss in rs.scope_spans
        for sp in ss.spans
        for ev in sp.events
        for kv in ev.attributes
        if kv.key == "exception.stacktrace"
    )
    uid = store.query("MATCH (e:ErrorSignature) RETURN e.uid AS u").rows()[0]["u"]
    return uid, trace


def _github_issues(py_trace: str) -> list[dict[str, Any]]:
    pasted = "\n".join("> " + line for line in py_trace.splitlines())
    return [
        {
            "number": 101,
            "title": "Checkout fails with PaymentError",
            "state": "open",
            "labels": [{"name": "bug"}, {"name": "severity: high"}, {"name": "service:orders"}],
            "user": {"login": "alice"},
            "created_at": "2024-03-01T10:00:00Z",
            "closed_at": None,
            "body": "Reported by carol@example.com, token "
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789\n"
            f"```\n{pasted}\n```\nSee also `Refunds.issue()` and deploy/orders.yaml; "
            f"started after {SHA_CAUSE[:10]}. The orders service logs a spike.",
            "comments": [{"body": f"Fixed by {SHA_FIX[:8]}", "user": {"login": "bob"}}],
        },
        {
            "number": 102,
            "title": "Same checkout error",
            "state": "closed",
            "state_reason": "not_planned",
            "labels": [{"name": "duplicate"}],
            "created_at": "2024-03-02T08:00:00Z",
            "closed_at": "2024-03-02T09:30:00Z",
            "body": "Duplicate of #101",
            "comments": 3,
            "user": {"login": "dave"},
        },
        {"title": "no number here", "state": "open"},
    ]


def _jira() -> dict[str, Any]:
    return {
        "startAt": 0,
        "maxResults": 50,
        "total": 2,
        "issues": [
            {
                "key": "OPS-7",
                "fields": {
                    "summary": "Orders outage",
                    "issuetype": {"name": "Incident"},
                    "priority": {"name": "Highest"},
                    "status": {"name": "Done"},
                    "created": "2024-03-05T10:20:30.000+0100",
                    "resolutiondate": "2024-03-05T12:00:00.000+0100",
                    "labels": ["prod"],
                    "components": [{"name": "checkout-api"}, {"name": "billing"}],
                    "description": {
                        "type": "doc",
                        "version": 1,
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "Stack:"}]},
                            {
                                "type": "codeBlock",
                                "content": [{"type": "text", "text": JAVA_TRACE}],
                            },
                        ],
                    },
                    "issuelinks": [
                        {
                            "type": {
                                "name": "Duplicate",
                                "inward": "is duplicated by",
                                "outward": "duplicates",
                            },
                            "inwardIssue": {"key": "OPS-9"},
                        }
                    ],
                },
            },
            {
                "key": "OPS-9",
                "fields": {
                    "summary": "orders 500s",
                    "issuetype": {"name": "Bug"},
                    "status": {"name": "Open"},
                    "created": "2024-03-05T10:25:00.000+0000",
                    "description": "Same as OPS-7",
                },
            },
        ],
    }


def _load(store: GraphStore, *paths: Path, **options: str) -> LoadReport:
    report = ingest(store, make_loader([str(p) for p in paths], SETTINGS, options))
    assert not report.failed_batches, report.failed_batches
    return report


def _rows(store: GraphStore, q: str) -> list[dict[str, Any]]:
    return store.query(q).rows()


@pytest.fixture
def github_file(store: GraphStore, tmp_path: Path) -> tuple[Path, str]:
    _seed(store)
    err_uid, trace = _traced_error(store, tmp_path)
    path = tmp_path / "issues.json"
    path.write_text(json.dumps(_github_issues(trace)))
    return path, err_uid


def test_github_issue_links(store: GraphStore, github_file: tuple[Path, str]) -> None:
    path, err_uid = github_file
    report = _load(store, path)
    assert [(p.position, p.reason) for p in report.skipped] == [("[2]", "issue without a number")]
    t = _rows(
        store,
        "MATCH (t:Ticket {uid: 'ticket:github:101'}) RETURN t.kind AS kind, "
        "t.severity AS sev, t.status AS st, t.labels AS labels, t.body AS body, "
        "t.fingerprint AS fp, t.created_at AS created",
    )[0]
    assert (t["kind"], t["sev"], t["st"]) == ("bug", "high", "open")
    assert "carol@example.com" not in t["body"] and "ghp_" not in t["body"]
    assert t["fp"] == err_uid.removeprefix("err:")  # the pasted trace matches the span's error
    mentions = {
        (r["how"], r["u"])
        for r in _rows(
            store,
            "MATCH (t:Ticket {uid: 'ticket:github:101'})-[r:MENTIONS]->(x) "
            "RETURN r.how AS how, x.uid AS u",
        )
    }
    assert mentions == {
        ("frame", "fn:shop:payments/charge.py:validate"),
        ("name", "fn:shop:payments/refund.py:Refunds.issue"),
        ("path", "file:shop:deploy/orders.yaml"),
        ("sha", f"commit:{SHA_CAUSE}"),
        ("sha", f"commit:{SHA_FIX}"),
        ("name", "svc:orders"),
        ("fingerprint", err_uid),
    }
    assert _rows(store, "MATCH (t:Ticket)-[:REPORTS]->(e) RETURN t.key AS k, e.uid AS e") == [
        {"k": "101", "e": err_uid}
    ]
    assert _rows(
        store, "MATCH (c:Commit)-[r:FIXES]->(t:Ticket) RETURN c.sha AS c, t.key AS k, r.how AS how"
    ) == [{"c": SHA_FIX, "k": "101", "how": "ticket_link"}]
    assert _rows(store, "MATCH (t:Ticket)-[:AFFECTS]->(s) RETURN t.key AS k, s.uid AS s") == [
        {"k": "101", "s": "svc:orders"}
    ]
    assert _rows(
        store, "MATCH (a:Ticket)-[:DUPLICATE_OF]->(b:Ticket) RETURN a.key AS a, b.key AS b"
    ) == [{"a": "102", "b": "101"}]
    closed = _rows(store, "MATCH (t:Ticket {key: '102'}) RETURN t.resolved_at AS r, t.kind AS k")
    assert str(closed[0]["r"]) == "2024-03-02 09:30:00" and closed[0]["k"] is None


def _snapshot(store: GraphStore) -> Any:
    nodes = [
        {k: v for k, v in r["t"].items() if not k.startswith("_") and k != "run_id"}
        for r in _rows(store, "MATCH (t:Ticket) RETURN t ORDER BY t.uid")
    ]
    rels = _rows(
        store,
        "MATCH (a)-[r]->(b) WHERE a.uid STARTS WITH 'ticket:' OR "
        "b.uid STARTS WITH 'ticket:' RETURN a.uid AS au, label(r) AS rel, b.uid AS bu, "
        "r.confidence AS c ORDER BY au, rel, bu",
    )
    return store.counts(), nodes, rels


def test_load_twice_changes_nothing(store: GraphStore, github_file: tuple[Path, str]) -> None:
    path, _ = github_file
    _load(store, path)
    before = _snapshot(store)
    _load(store, path)
    assert _snapshot(store) == before


def test_jira_issues(store: GraphStore, tmp_path: Path) -> None:
    _seed(store)
    path = tmp_path / "jira.json"
    path.write_text(json.dumps(_jira()))
    report = _load(store, path)
    t = _rows(
        store,
        "MATCH (t:Ticket {uid: 'ticket:jira:OPS-7'}) RETURN t.kind AS k, "
        "t.severity AS s, t.status AS st, t.created_at AS c, t.fingerprint AS fp",
    )[0]
    assert (t["k"], t["s"], t["st"]) == ("incident", "Highest", "done")
    assert str(t["c"]) == "2024-03-05 09:20:30"  # +0100 converted to UTC
    trace = stacktrace.parse(JAVA_TRACE)
    assert trace is not None and t["fp"] == trace.fingerprint
    # the signature did not exist: the ticket creates it, MENTIONS and REPORTS it
    err = _rows(
        store, "MATCH (t:Ticket)-[:REPORTS]->(e:ErrorSignature) RETURN e.type AS ty, e.frames AS f"
    )
    assert err == [
        {
            "ty": "java.lang.IllegalStateException",
            "f": ["OrderController.java:get", "OrderService.java:load"],
        }
    ]
    fn = _rows(store, "MATCH (t:Ticket {key: 'OPS-7'})-[:MENTIONS]->(f:Function) RETURN f.uid AS u")
    assert fn == [
        {"u": "fn:shop:src/main/java/com/acme/orders/OrderService.java:OrderService.load"}
    ]
    assert _rows(
        store, "MATCH (a:Ticket)-[:DUPLICATE_OF]->(b:Ticket) RETURN a.key AS a, b.key AS b"
    ) == [{"a": "OPS-9", "b": "OPS-7"}]
    assert _rows(store, "MATCH (t:Ticket)-[:AFFECTS]->(s) RETURN s.uid AS s") == [
        {"s": "svc:checkout-api"}
    ]
    assert [w.reason for w in report.warnings] == ["affected service 'billing' is not in the graph"]


def test_csv_and_bad_inputs(store: GraphStore, tmp_path: Path) -> None:
    _seed(store)
    (tmp_path / "t.csv").write_text(
        "id,title,body,kind,status,severity,labels,created_at,resolved_at,duplicate_of,services,"
        "fixed_by\n"
        f"INC-1,DB down,orders cannot reach 10.0.0.7,incident,resolved,sev1,db;prod,"
        f"2024-01-01T00:00:00Z,2024-01-01T02:00:00Z,,orders,{SHA_FIX}\n"
        ",no id,,,,,,,,,,\n"
        "INC-2,DB down again,,incident,open,,,2024-01-02T00:00:00Z,,INC-1,,\n"
    )
    (tmp_path / "broken.json").write_text('{"issues": [')
    (tmp_path / "other.json").write_text('{"hello": "world"}')
    report = _load(store, tmp_path / "t.csv", tmp_path / "broken.json", tmp_path / "other.json")
    skipped = sorted((Path(p.item).name, p.position or "", p.reason) for p in report.skipped)
    assert skipped[0] == ("broken.json", "line 1 column 13", "invalid JSON: Expecting value")
    assert skipped[1][0] == "other.json" and "unknown ticket format" in skipped[1][2]
    assert skipped[2] == ("t.csv", "line 3", "row without an id")
    rows = _rows(
        store, "MATCH (t:Ticket) RETURN t.uid AS u, t.body AS b, t.severity AS s ORDER BY u"
    )
    assert rows == [
        {"u": "ticket:csv:INC-1", "b": "orders cannot reach <ip>", "s": "sev1"},
        {"u": "ticket:csv:INC-2", "b": "", "s": None},
    ]
    assert _rows(store, "MATCH (a:Ticket)-[:DUPLICATE_OF]->(b) RETURN a.key AS a, b.key AS b") == [
        {"a": "INC-2", "b": "INC-1"}
    ]
    assert _rows(store, "MATCH (c:Commit)-[:FIXES]->(t) RETURN t.key AS k") == [{"k": "INC-1"}]


def test_options(store: GraphStore, tmp_path: Path) -> None:
    path = tmp_path / "issues.txt"
    pr = {"number": 6, "title": "Fix it", "pull_request": {"url": "https://x/pulls/6"}}
    path.write_text(json.dumps([{"number": 5, "title": "x", "state": "open"}, pr]))
    report = _load(store, path, format="github", system="acme-gh")
    assert _rows(store, "MATCH (t:Ticket) RETURN t.uid AS u") == [{"u": "ticket:acme-gh:5"}]
    assert [p.reason for p in report.skipped] == ["#6 is a pull request, not an issue"]
    with pytest.raises(CallerError, match="format"):
        make_loader([str(path)], SETTINGS, {"format": "trello"})


def test_fixes_from_git_are_not_overwritten(store: GraphStore, tmp_path: Path) -> None:
    _seed(store)
    store.write(
        b.nodes("Ticket", [{"uid": "ticket:github:7", "key": "7"}]), loaded_by="git", run_id="r"
    )
    store.write(
        b.edges(
            "FIXES",
            "Commit",
            "Ticket",
            [
                {
                    "src": f"commit:{SHA_FIX}",
                    "dst": "ticket:github:7",
                    "source": "git",
                    "confidence": 1.0,
                    "how": "keyword",
                }
            ],
        ),
        loaded_by="git",
        run_id="r",
    )
    path = tmp_path / "i.json"
    path.write_text(json.dumps({"number": 7, "title": "t", "body": f"Fixed by {SHA_FIX}"}))
    _load(store, path)
    assert _rows(
        store, "MATCH (c:Commit)-[r:FIXES]->(t:Ticket) RETURN r.source AS s, r.how AS h"
    ) == [{"s": "git", "h": "keyword"}]


def test_jira_and_csv_load_twice_changes_nothing(store: GraphStore, tmp_path: Path) -> None:
    _seed(store)
    (tmp_path / "jira.json").write_text(json.dumps(_jira()))
    (tmp_path / "t.csv").write_text(
        "id,title,body,services,duplicate_of\n"
        f'A-1,"Crash, again","{JAVA_TRACE}",orders,\n'
        "A-2,dup,,,A-1\n"
    )
    _load(store, tmp_path)  # a folder: every .json and .csv under it
    before = _snapshot(store)
    assert before[0]["nodes"]["Ticket"] == 4
    _load(store, tmp_path)
    assert _snapshot(store) == before
