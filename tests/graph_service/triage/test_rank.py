"""Ranking on a small graph where the faulty function is known; evidence reproduces in Cypher."""

from __future__ import annotations

from datetime import timedelta

from graph_service.batch import edges, nodes
from graph_service.store import GraphStore
from graph_service.triage import TicketInput, TriageConfig, triage
from graph_service.triage.scorer import fit_scorer
from tests.conftest import StoreBackend
from tests.graph_service.triage.conftest import T0, _e, _ticket, build_graph, file_uid, fn_uid
from tests.graph_service.triage.test_frames import PYTHON

# a ticket with no trace: text alone points at payments.refund
REFUND = TicketInput(
    title="Refund of a captured payment never completes", body="refund hangs", created=T0
)


def test_trace_puts_the_crashing_function_first(
    code_store: GraphStore, config: TriageConfig
) -> None:
    r = triage(
        code_store,
        TicketInput(title="Crash parsing quantity", body=PYTHON, created=T0),
        None,
        config,
    )
    assert r.functions[0].uid == fn_uid("shop/parsing.py", "parse_qty")
    assert r.functions[1].uid == fn_uid("shop/parsing.py", "handle")
    assert r.files[0].uid == file_uid("shop/parsing.py")
    assert r.functions[0].signals["trace"] == 1.0
    assert r.scorer == "default"


def test_every_evidence_query_reproduces(code_store: GraphStore, config: TriageConfig) -> None:
    body = PYTHON + "\nSince the deploy, OrderService.load also times out."
    t = TicketInput(title="Crash parsing quantity", body=body, created=T0, service="orders")
    r = triage(code_store, t, None, config)
    checked = 0
    for s in r.functions + r.files + r.commits:
        for ev in s.evidence:
            assert ev.cypher, ev
            rows = code_store.query(ev.cypher, ev.params).rows()
            assert rows, (s.uid, ev.signal, ev.cypher, ev.params)
            checked += 1
    assert checked >= 5


def test_text_alone_finds_the_function_by_docstring_and_name(
    code_store: GraphStore, config: TriageConfig
) -> None:
    r = triage(code_store, REFUND, None, config)
    assert r.functions[0].uid == fn_uid("shop/payments.py", "refund")
    assert r.files[0].uid == file_uid("shop/payments.py")


def test_recent_deploy_and_owner_route_an_incident(
    code_store: GraphStore, config: TriageConfig
) -> None:
    t = TicketInput(
        title="orders are slow since this morning", body="p99 up", service="orders", created=T0
    )
    r = triage(code_store, t, None, config)
    load = fn_uid("shop/orders.py", "OrderService.load")
    top = next(s for s in r.functions if s.uid == load)
    assert top.signals["deploy"] > 0 and top.signals["recent_change"] > 0.9
    assert r.commits[0].uid == "commit:" + "c2" * 20
    assert r.commits[0].signals["deployed"] == 1.0
    assert r.owners[0].name == "bob"
    assert r.deployments[0]["uid"] == "deploy:prod:orders:2"
    assert top.owners and top.owners[0].name == "bob"


def test_changes_after_the_ticket_are_not_evidence(
    code_store: GraphStore, config: TriageConfig
) -> None:
    t = TicketInput(title="OrderService.load fails", body="", created=T0 - timedelta(days=10))
    r = triage(code_store, t, None, config)
    load = next(s for s in r.functions if s.uid == fn_uid("shop/orders.py", "OrderService.load"))
    assert "recent_change" not in load.signals
    assert all(c.uid != "commit:" + "c2" * 20 for c in r.commits)


def test_test_code_is_pushed_down(code_store: GraphStore, config: TriageConfig) -> None:
    t = TicketInput(title="orders load test fails", body="load order", created=T0)
    r = triage(code_store, t, None, config)
    ranks = [s.uid for s in r.functions]
    assert ranks.index(fn_uid("shop/orders.py", "OrderService.load")) < ranks.index(
        fn_uid("tests/test_orders.py", "test_load")
    )


def _labelled_history(store: GraphStore, n: int) -> None:
    """n past tickets about receipts, each fixed by a commit that changed send_receipt."""
    tickets, fixes, mods, files = [], [], [], []
    for i in range(n):
        sha = f"{i:04d}" + "f" * 36
        tickets.append(
            _ticket(
                f"ticket:github:{100 + i}",
                f"Receipt email wrong #{i}",
                "bad email after the payment refund",
                T0 - timedelta(days=200 - i),
            )
        )
        fixes.append((sha, T0 - timedelta(days=199 - i)))
        mods.append(_e(f"commit:{sha}", fn_uid("shop/emails.py", "send_receipt")))
        files.append(_e(f"commit:{sha}", file_uid("shop/emails.py")))
    w = {"loaded_by": "test", "run_id": "r2"}
    store.write(nodes("Ticket", tickets), **w)
    store.write(
        nodes(
            "Commit",
            [{"uid": f"commit:{s}", "sha": s, "repo": "shop", "authored_at": t} for s, t in fixes],
        ),
        **w,
    )
    store.write(
        edges(
            "FIXES",
            "Commit",
            "Ticket",
            [_e(f"commit:{s}", t["uid"]) for (s, _), t in zip(fixes, tickets, strict=True)],
        ),
        **w,
    )
    store.write(edges("MODIFIES", "Commit", "Function", mods), **w)
    store.write(edges("MODIFIES", "Commit", "File", files), **w)


def test_scorer_is_learned_from_fixed_tickets(backend: StoreBackend) -> None:
    store = backend.open()
    try:
        build_graph(store)
        _labelled_history(store, 8)
        cfg = TriageConfig(embedder="hashing", min_training_tickets=5)
        scorer = fit_scorer(store, cfg)
        assert scorer is not None and scorer.name == "learned" and scorer.trained_on >= 5
        assert scorer.weights["past_fix"] > 0
        r = triage(
            store,
            TicketInput(title="Receipt email is wrong again", body="bad email", created=T0),
            None,
            cfg,
        )
        assert r.scorer == "learned"
        assert r.functions[0].uid == fn_uid("shop/emails.py", "send_receipt")
        assert any(f.sha.startswith("0007") for s in r.similar for f in s.fixes)
        assert fit_scorer(store, cfg.model_copy(update={"min_training_tickets": 50})) is None
    finally:
        store.close()


def test_render_prints_suspects(code_store: GraphStore, config: TriageConfig) -> None:
    from rich.console import Console

    from graph_service.triage.render import render_triage

    r = triage(
        code_store,
        TicketInput(title="Crash parsing quantity", body=PYTHON, created=T0),
        None,
        config,
    )
    console = Console(record=True, width=200)
    render_triage(r, console)
    text = console.export_text()
    assert "parse_qty" in text and "Suspect files" in text and "Seen before" in text


def test_files_without_code_are_pushed_down(code_store: GraphStore, config: TriageConfig) -> None:
    w = {"loaded_by": "test", "run_id": "r2"}
    doc = "docs/refunds/refund.md"
    code_store.write(
        nodes("File", [{"uid": file_uid(doc), "path": doc, "repo": "shop", "is_test": False}]), **w
    )
    t = TicketInput(title="refund never completes", body="refund refund", created=T0)
    r = triage(code_store, t, None, config)
    by_path = {s.path: s for s in r.files}
    assert doc in by_path, [s.path for s in r.files]  # found by its name...
    assert by_path[doc].signals["bm25"] > 0
    assert by_path[doc].signals["non_code"] == 1.0  # ...but it holds no code
    assert by_path["shop/payments.py"].signals.get("non_code", 0.0) == 0.0
    assert r.files[0].path == "shop/payments.py"
    assert by_path[doc].score < by_path["shop/payments.py"].score


def test_functions_carry_their_files_text_match(
    code_store: GraphStore, config: TriageConfig
) -> None:
    r = triage(code_store, REFUND, None, config)
    top = r.functions[0]
    assert top.uid == fn_uid("shop/payments.py", "refund")
    assert top.signals["file_bm25"] == r.files[0].signals["bm25"] > 0
    # a file keeps its own text match; it does not take its functions' file-level copy
    assert "file_bm25" not in r.files[0].signals


def test_module_level_code_is_a_suspect_only_when_the_trace_runs_in_it(
    code_store: GraphStore, config: TriageConfig
) -> None:
    """A file's `<module>` caller and a class's `<body>` carry the file's words (a docstring
    naming refunds here): text alone must not rank them as suspects."""
    w = {"loaded_by": "test", "run_id": "r2"}
    synthetic = [
        ("<module>", "Refunds of captured payments: refund, hangs, never completes."),
        ("Gateway.<body>", "refund refund captured payment"),
    ]
    code_store.write(
        nodes(
            "Function",
            [
                {
                    "uid": fn_uid("shop/payments.py", q),
                    "name": q.rsplit(".", 1)[-1],
                    "qualname": q,
                    "path": "shop/payments.py",
                    "start_line": 1,
                    "end_line": 40,
                    "docstring": d,
                    "is_test": False,
                }
                for q, d in synthetic
            ],
        ),
        **w,
    )
    code_store.write(
        edges(
            "DEFINES",
            "File",
            "Function",
            [_e(file_uid("shop/payments.py"), fn_uid("shop/payments.py", q)) for q, _ in synthetic],
        ),
        **w,
    )
    r = triage(code_store, REFUND, None, config)
    names = [s.uid.rsplit(":", 1)[-1] for s in r.functions]
    assert names and names[0] == "refund"
    assert "<module>" not in names and "Gateway.<body>" not in names
