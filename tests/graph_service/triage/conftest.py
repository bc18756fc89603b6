"""A small known graph for triage tests: code in five languages, history, tickets, deployments."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from graph_service.batch import edges, nodes
from graph_service.store import GraphStore
from graph_service.triage import TriageConfig

T0 = datetime(2026, 3, 1, 12, 0, 0)
REPO = "shop"

# (path, qualname, start, end, docstring)
FUNCTIONS: list[tuple[str, str, int, int, str]] = [
    ("shop/orders.py", "OrderService.load", 10, 30, "Load an order by id from the database."),
    ("shop/orders.py", "OrderService.save", 31, 50, "Persist an order."),
    ("shop/payments.py", "charge", 1, 20, "Charge a card through the payment gateway."),
    ("shop/payments.py", "refund", 21, 40, "Refund a captured payment."),
    ("shop/parsing.py", "parse_qty", 1, 3, "Parse a quantity field."),
    ("shop/parsing.py", "handle", 5, 7, "Handle a raw request."),
    ("web/src/users.js", "getUser", 5, 20, "Fetch a user record."),
    ("web/src/router.js", "Router.handle", 40, 70, "Dispatch a request."),
    ("cart/internal/pricing/engine.go", "Engine.Total", 30, 60, "Total of the cart lines."),
    ("cart/cmd/cart/main.go", "main", 5, 20, ""),
    ("svc/src/main/java/com/acme/orders/OrderService.java", "OrderService.load", 80, 100, ""),
    ("svc/src/main/java/com/acme/orders/OrderController.java", "OrderController.get", 30, 50, ""),
    ("billing/src/Billing/InvoiceService.cs", "InvoiceService.Latest", 50, 70, ""),
    ("billing/src/Billing/Program.cs", "Program.Main", 5, 20, ""),
    ("tests/test_orders.py", "test_load", 1, 20, "Orders load test."),
    ("shop/emails.py", "send_receipt", 1, 30, "Send the receipt email after checkout."),
]


def fn_uid(path: str, qual: str) -> str:
    return f"fn:{REPO}:{path}:{qual}"


def file_uid(path: str) -> str:
    return f"file:{REPO}:{path}"


def _ticket(uid: str, title: str, body: str, created: datetime, fp: str | None = None) -> dict:
    key = uid.rsplit(":", 1)[-1]
    return {
        "uid": uid,
        "key": key,
        "system": "github",
        "title": title,
        "body": body,
        "kind": "bug",
        "status": "closed",
        "created_at": created,
        "fingerprint": fp,
    }


def _e(src: str, dst: str, **props: Any) -> dict[str, Any]:
    return {"src": src, "dst": dst, "source": "static", "confidence": 1.0, **props}


def build_graph(store: GraphStore, tickets: list[dict[str, Any]] | None = None) -> None:
    """Code, history, people, a service with deployments, and (optionally) tickets."""
    w = {"loaded_by": "test", "run_id": "r1"}
    paths = sorted({f[0] for f in FUNCTIONS})
    store.write(nodes("Repository", [{"uid": f"repo:{REPO}", "name": REPO}]), **w)
    store.write(
        nodes(
            "File",
            [
                {"uid": file_uid(p), "path": p, "repo": REPO, "is_test": p.startswith("tests/")}
                for p in paths
            ],
        ),
        **w,
    )
    fn_rows = [
        {
            "uid": fn_uid(p, q),
            "name": q.rsplit(".", 1)[-1],
            "qualname": q,
            "path": p,
            "start_line": s,
            "end_line": e,
            "docstring": d,
            "is_test": p.startswith("tests/"),
        }
        for p, q, s, e, d in FUNCTIONS
    ]
    store.write(nodes("Function", fn_rows), **w)
    store.write(
        edges(
            "DEFINES", "File", "Function", [_e(file_uid(p), fn_uid(p, q)) for p, q, *_ in FUNCTIONS]
        ),
        **w,
    )
    calls = [
        _e(fn_uid("shop/orders.py", "OrderService.load"), fn_uid("shop/payments.py", "charge")),
        _e(fn_uid("shop/parsing.py", "handle"), fn_uid("shop/parsing.py", "parse_qty")),
    ]
    store.write(edges("CALLS", "Function", "Function", calls), **w)
    commits = [
        ("c1" * 20, T0 - timedelta(days=60), "Fix rounding in charge", "alice"),
        ("c2" * 20, T0 - timedelta(days=2), "Cache orders on load", "bob"),
        ("c3" * 20, T0 - timedelta(days=1), "Tweak receipt template", "bob"),
    ]
    store.write(
        nodes(
            "Commit",
            [
                {
                    "uid": f"commit:{s}",
                    "sha": s,
                    "repo": REPO,
                    "authored_at": t,
                    "summary": m,
                    "message": m,
                }
                for s, t, m, _ in commits
            ],
        ),
        **w,
    )
    people = sorted({a for *_, a in commits})
    store.write(
        nodes(
            "Person", [{"uid": f"person:{a}@x.io", "name": a, "email": f"{a}@x.io"} for a in people]
        ),
        **w,
    )
    store.write(
        edges(
            "AUTHORED",
            "Person",
            "Commit",
            [_e(f"person:{a}@x.io", f"commit:{s}") for s, _, _, a in commits],
        ),
        **w,
    )
    mods_fn = [
        (commits[0][0], ("shop/payments.py", "charge")),
        (commits[1][0], ("shop/orders.py", "OrderService.load")),
        (commits[2][0], ("shop/emails.py", "send_receipt")),
    ]
    store.write(
        edges(
            "MODIFIES", "Commit", "Function", [_e(f"commit:{s}", fn_uid(*f)) for s, f in mods_fn]
        ),
        **w,
    )
    store.write(
        edges(
            "MODIFIES",
            "Commit",
            "File",
            [_e(f"commit:{s}", file_uid(f[0])) for s, f in mods_fn],
        ),
        **w,
    )
    # a service and two deployments: d1 before the fix c1... d2 shipped c2 (after c1)
    store.write(nodes("Service", [{"uid": "svc:orders", "name": "orders"}]), **w)
    deps = [
        ("deploy:prod:orders:1", T0 - timedelta(days=70), commits[0][0]),
        ("deploy:prod:orders:2", T0 - timedelta(days=2) + timedelta(hours=2), commits[1][0]),
    ]
    store.write(
        nodes(
            "Deployment",
            [
                {"uid": u, "service": "orders", "environment": "prod", "started_at": t, "sha": s}
                for u, t, s in deps
            ],
        ),
        **w,
    )
    store.write(
        edges("OF", "Deployment", "Service", [_e(u, "svc:orders") for u, _, _ in deps]), **w
    )
    store.write(
        edges("SHIPS", "Deployment", "Commit", [_e(u, f"commit:{s}") for u, _, s in deps]), **w
    )
    if tickets:
        store.write(nodes("Ticket", tickets), **w)


@pytest.fixture
def config() -> TriageConfig:
    return TriageConfig(embedder="hashing", learned=False)


@pytest.fixture
def code_store(store: GraphStore) -> GraphStore:
    """The graph above in a fresh store of each backend."""
    build_graph(store)
    return store


__all__ = ["T0", "_e", "_ticket", "build_graph", "file_uid", "fn_uid"]
