"""Function ranking from the trace's place in the code: frames named by their function, and
what the traced functions call."""

from __future__ import annotations

import math
from datetime import timedelta

from graph_service.store import GraphStore
from graph_service.triage import TicketInput, TriageConfig, triage
from graph_service.triage.code_index import code_index
from tests.graph_service.triage.conftest import T0, fn_uid

# a paste from an older version of shop/parsing.py: `handle` then started at line 1, where
# `parse_qty` starts now
MOVED = """Traceback (most recent call last):
  File "/srv/app/shop/parsing.py", line 2, in handle
    return parse_qty(raw)
RecursionError: maximum recursion depth exceeded
"""
# the paste stops in `handle` (no error line): the fault is below it
CUT = """INTERNALERROR> Traceback (most recent call last):
INTERNALERROR>   File "/srv/app/shop/parsing.py", line 6, in handle
INTERNALERROR>     return parse_qty(raw)
"""


def test_a_frame_maps_to_the_function_it_names_when_lines_moved(code_store: GraphStore) -> None:
    code = code_index(code_store)
    hit = code.map_frame("/srv/app/shop/parsing.py", "handle", 2)
    assert hit is not None and code.fn_uid[hit.function] == fn_uid("shop/parsing.py", "handle")
    assert not hit.in_range
    # the name decides only when the file defines it: `<module>` and unknown names take the
    # function holding the line
    for name in ("<module>", "gone_since"):
        hit = code.map_frame("/srv/app/shop/parsing.py", name, 2)
        assert hit is not None and hit.in_range
        assert code.fn_uid[hit.function] == fn_uid("shop/parsing.py", "parse_qty")


def test_a_qualified_frame_name_picks_its_class(code_store: GraphStore) -> None:
    code = code_index(code_store)
    hit = code.map_frame("svc/OrderService.java", "com.acme.orders.OrderService.load", 999)
    assert hit is not None
    assert code.fn_uid[hit.function].endswith("OrderService.java:OrderService.load")


def test_stale_line_numbers_put_the_trace_on_the_named_frame(
    code_store: GraphStore, config: TriageConfig
) -> None:
    r = triage(code_store, TicketInput(title="recursion", body=MOVED, created=T0), None, config)
    by_uid = {s.uid: s for s in r.functions}
    handle = by_uid[fn_uid("shop/parsing.py", "handle")]
    assert handle.signals["trace"] > 0 and "trace_line" not in handle.signals
    assert "trace" not in by_uid[fn_uid("shop/parsing.py", "parse_qty")].signals


def test_what_the_last_frame_calls_is_a_suspect(
    code_store: GraphStore, config: TriageConfig
) -> None:
    r = triage(code_store, TicketInput(title="it breaks", body=CUT, created=T0), None, config)
    by_uid = {s.uid: s for s in r.functions}
    callee = by_uid[fn_uid("shop/parsing.py", "parse_qty")]
    traced = by_uid[fn_uid("shop/parsing.py", "handle")]
    assert callee.signals["callee"] == traced.signals["trace"] > 0
    assert "callee" not in traced.signals
    ev = next(e for e in callee.evidence if e.signal == "callee")
    assert ev.path == [traced.uid, callee.uid]
    assert code_store.query(ev.cypher, ev.params).rows()
    # a caller of a traced function is a neighbour, not a callee
    assert fn_uid("shop/payments.py", "charge") not in by_uid or "callee" not in (
        by_uid[fn_uid("shop/payments.py", "charge")].signals
    )


def test_earlier_fixes_of_a_function_are_its_fix_history(
    code_store: GraphStore, config: TriageConfig
) -> None:
    from graph_service.batch import edges, nodes
    from tests.graph_service.triage.conftest import _e

    w = {"loaded_by": "test", "run_id": "r2"}
    fixes = [("f1" * 20, 40, True), ("f2" * 20, 20, True), ("f3" * 20, 5, False)]
    rows = [
        {
            "uid": f"commit:{sha}",
            "sha": sha,
            "repo": "shop",
            "authored_at": T0 - timedelta(days=d),
            "summary": "Fix refund rounding" if fix else "Refund docs",
            "message": "",
            "is_fix": fix,
        }
        for sha, d, fix in fixes
    ]
    code_store.write(nodes("Commit", rows), **w)
    refund = fn_uid("shop/payments.py", "refund")
    code_store.write(
        edges("MODIFIES", "Commit", "Function", [_e(f"commit:{s}", refund) for s, *_ in fixes]),
        **w,
    )
    t = TicketInput(title="Refund of a captured payment never completes", body="", created=T0)
    r = triage(code_store, t, None, config)
    top = next(s for s in r.functions if s.uid == refund)
    assert 0 < top.signals["fix_history"] < 1.0  # two fixes of five
    ev = next(e for e in top.evidence if e.signal == "fix_history")
    assert "2 earlier fix" in ev.detail and ev.params["c"] == "commit:" + "f2" * 20
    assert code_store.query(ev.cypher, ev.params).rows()
    # only fixes before the ticket count
    early = t.model_copy(update={"created": T0 - timedelta(days=30)})
    r = triage(code_store, early, None, config)
    top = next(s for s in r.functions if s.uid == refund)
    assert top.signals["fix_history"] == round(math.log1p(1) / math.log1p(5), 4)
