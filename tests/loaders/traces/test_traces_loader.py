"""The traces loader end to end: real SDK spans -> OTLP files -> a real Ladybug store."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path
from typing import Any

import pytest

from graph_service import batch as b
from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from loaders.base import LoadReport
from loaders.traces import OtlpDecodeError, extract_from_bytes, make_loader
from loaders.traces.loader import aggregate_files
from tests.conftest import StoreBackend

sys.path.insert(0, str(Path(__file__).parent))
import otlp_shop as spans


def _load(store: GraphStore, *paths: Path) -> LoadReport:
    loader = make_loader([str(p) for p in paths], Settings(db_path=Path("unused")), {})
    report = ingest(store, loader)
    assert not report.failed_batches, report.failed_batches
    return report


def _q(store: GraphStore, cypher: str, **params: Any) -> list[dict[str, Any]]:
    return store.query(cypher, params).rows()


def _edge(store: GraphStore, rel: str, src: str, dst: str) -> dict[str, Any]:
    rows = _q(
        store,
        f"MATCH (a {{uid: $s}})-[r:{rel}]->(b {{uid: $d}}) RETURN r.count AS count, "
        "r.errors AS errors, r.p50_ms AS p50, r.p95_ms AS p95, r.p99_ms AS p99, "
        "r.first_seen AS first, r.last_seen AS last",
        s=src,
        d=dst,
    )
    assert len(rows) == 1, (rel, src, dst, rows)
    return rows[0]


def _seed_code(store: GraphStore) -> None:
    """Functions, a Deployment and a Service the spans should link to."""
    fns = [
        {
            "uid": "fn:shop:payments/charge.py:validate",
            "name": "validate",
            "qualname": "validate",
            "path": "payments/charge.py",
            "start_line": 5,
            "end_line": 7,
        },
        {
            "uid": "fn:shop:payments/charge.py:charge_card",
            "name": "charge_card",
            "qualname": "charge_card",
            "path": "payments/charge.py",
            "start_line": 10,
            "end_line": 12,
        },
        {
            "uid": "fn:shop:other/charge.py:validate",
            "name": "validate",
            "qualname": "validate",
            "path": "other/charge.py",
            "start_line": 1,
            "end_line": 9,
        },
        {
            "uid": "fn:shop:orders/api.py:create_order",
            "name": "create_order",
            "qualname": "create_order",
            "path": "orders/api.py",
            "start_line": 10,
            "end_line": 30,
        },
    ]
    store.write(b.nodes("Function", fns), loaded_by="code", run_id="r0")
    store.write(
        b.nodes(
            "Deployment",
            [
                {
                    "uid": "deploy:prod:payments:41",
                    "service": "payments",
                    "version": "1.3.0",
                    "environment": "prod",
                },
                {
                    "uid": "deploy:prod:payments:42",
                    "service": "payments",
                    "version": "1.4.0",
                    "environment": "prod",
                },
            ],
        ),
        loaded_by="deploys",
        run_id="r0",
    )


@pytest.fixture
def pb_file(tmp_path: Path) -> Path:
    req = spans.build(tmp_path, 100, cards=("4111", "4999", "5100", "5200"))
    path = tmp_path / "spans.pb"
    path.write_bytes(req.SerializeToString())
    return path


def test_services_operations_and_calls(store: GraphStore, pb_file: Path) -> None:
    report = _load(store, pb_file)
    assert report.stats["spans"] == 100 * 9
    svcs = _q(
        store,
        "MATCH (s:Service) RETURN s.name AS n, s.version AS v, s.language AS l, "
        "s.environment AS e ORDER BY n",
    )
    assert svcs == [
        {"n": n, "v": v, "l": "python", "e": "prod"}
        for n, v in (
            ("emailer", "0.3.0"),
            ("frontend", "2.0.0"),
            ("orders", "1.1.0"),
            ("payments", "1.4.0"),
        )
    ]
    op = _q(
        store,
        "MATCH (o:Operation {uid: 'op:orders:POST /orders'}) RETURN o.kind AS k, "
        "o.route AS r, o.service AS s",
    )
    assert op == [{"k": "SERVER", "r": "/orders", "s": "orders"}]
    call = _edge(store, "CALLS_OP", "op:frontend:POST /orders", "op:orders:POST /orders")
    assert call["count"] == 100 and call["errors"] == 0
    # client latencies were 3..102 ms: percentiles within the sketch's 1% accuracy
    assert call["p50"] == pytest.approx(52.5, rel=0.03)
    assert call["p95"] == pytest.approx(97.05, rel=0.03)
    assert call["p99"] == pytest.approx(101.01, rel=0.03)
    pay = _edge(store, "CALLS_OP", "op:orders:POST /charge", "op:payments:charge")
    assert pay["count"] == 100 and pay["errors"] == 50
    assert _edge(store, "DEPENDS_ON", "svc:orders", "svc:payments")["errors"] == 50
    assert _edge(store, "DEPENDS_ON", "svc:frontend", "svc:orders")["count"] == 100
    assert (
        _edge(
            store, "CALLS_OP", "op:orders:order-events publish", "op:emailer:order-events process"
        )["count"]
        == 100
    )
    assert _edge(store, "DEPENDS_ON", "svc:orders", "res:database:orders_db")["count"] == 100
    assert _edge(store, "DEPENDS_ON", "svc:orders", "res:queue:order-events")["count"] == 100
    assert _edge(store, "DEPENDS_ON", "svc:emailer", "res:queue:order-events")["count"] == 100
    assert _edge(store, "DEPENDS_ON", "svc:frontend", "res:host:api.geo.example")["count"] == 100
    hosts = _q(store, "MATCH (r:Resource {kind: 'host'}) RETURN r.name AS n")
    assert hosts == [{"n": "api.geo.example"}]  # orders.internal had a server peer
    exp = _edge(store, "EXPOSES", "svc:payments", "op:payments:charge")
    assert exp["count"] == 100 and exp["errors"] == 50
    impl = _q(
        store,
        "MATCH (o:Operation)-[r:IMPLEMENTED_BY]->(f:Function) RETURN o.uid AS o, "
        "f.uid AS f, r.count AS c",
    )
    assert impl == []  # no Function nodes yet: nothing guessed


def test_error_signatures_link_to_code_and_deployment(store: GraphStore, pb_file: Path) -> None:
    _seed_code(store)
    _load(store, pb_file)
    errs = _q(
        store,
        "MATCH (e:ErrorSignature) RETURN e.uid AS uid, e.type AS t, e.count AS c, "
        "e.message_template AS m, e.frames AS frames",
    )
    assert len(errs) == 1  # "card 4111 ..." and "card 4999 ..." are one signature
    err = errs[0]
    assert err["c"] == 50 and err["t"] == "PaymentError"
    assert err["m"] == "card <num> declined for order <num> by <email>"
    assert err["frames"][-2:] == ["charge.py:charge_card", "charge.py:validate"]
    raised = _q(
        store,
        "MATCH (e:ErrorSignature)-[r:RAISED_IN]->(f:Function) RETURN f.uid AS f, r.line AS line",
    )
    assert raised == [{"f": "fn:shop:payments/charge.py:validate", "line": 7}]
    seen = _q(
        store,
        "MATCH (e:ErrorSignature)-[r:SEEN_IN]->(x) RETURN x.uid AS xu, r.count AS c ORDER BY xu",
    )
    assert seen == [{"xu": "deploy:prod:payments:42", "c": 50}, {"xu": "svc:payments", "c": 50}]
    impl = _q(
        store,
        "MATCH (o:Operation)-[r:IMPLEMENTED_BY]->(f:Function) RETURN o.uid AS o, "
        "f.uid AS f, r.count AS c",
    )
    assert impl == [
        {"o": "op:orders:POST /orders", "f": "fn:shop:orders/api.py:create_order", "c": 100}
    ]


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_") and k != "run_id"}


def _snapshot(store: GraphStore) -> Any:
    props = {}
    for label in ("Service", "Operation", "Resource", "ErrorSignature"):
        rows = _q(store, f"MATCH (n:{label}) RETURN n ORDER BY n.uid")
        props[label] = [_clean(r["n"]) for r in rows]
    for rel in ("EXPOSES", "CALLS_OP", "DEPENDS_ON", "SEEN_IN", "RAISED_IN", "IMPLEMENTED_BY"):
        rows = _q(
            store,
            f"MATCH (a)-[r:{rel}]->(b) RETURN a.uid AS a, b.uid AS b, r ORDER BY a.uid, b.uid",
        )
        props[rel] = [{"a": r["a"], "b": r["b"], **_clean(r["r"])} for r in rows]
    return store.counts(), props


def test_load_twice_changes_nothing(store: GraphStore, pb_file: Path) -> None:
    _seed_code(store)
    _load(store, pb_file)
    before = _snapshot(store)
    report = _load(store, pb_file)
    assert _snapshot(store) == before
    assert [w.reason for w in report.warnings] == ["already ingested (same content); skipped"]


def test_incremental_ingest_merges_counts_and_percentiles(
    tmp_path: Path, backend: StoreBackend
) -> None:
    first = spans.build(tmp_path / "a", 50, first=0)
    second = spans.build(tmp_path / "b", 50, first=50)
    f1, f2 = tmp_path / "1.pb", tmp_path / "2.pb"
    f1.write_bytes(first.SerializeToString())
    f2.write_bytes(second.SerializeToString())
    inc = backend.open()  # incremental loads on each backend, against one embedded load
    together = open_store(Settings(db_path=tmp_path / "all.lbug"), create=True)
    try:
        _load(inc, f1)
        one = _edge(inc, "CALLS_OP", "op:frontend:POST /orders", "op:orders:POST /orders")
        assert one["count"] == 50 and one["p99"] == pytest.approx(51.5, rel=0.03)
        _load(inc, f2)
        _load(together, f1, f2)
        got = _edge(inc, "CALLS_OP", "op:frontend:POST /orders", "op:orders:POST /orders")
        want = _edge(together, "CALLS_OP", "op:frontend:POST /orders", "op:orders:POST /orders")
        assert got == want
        assert got["count"] == 100 and got["p99"] == pytest.approx(101.01, rel=0.03)
        assert got["first"] < one["last"] < got["last"]
    finally:
        inc.close()
        together.close()


def test_gzip_and_otlp_json_match_protobuf(tmp_path: Path) -> None:
    req = spans.build(tmp_path, 20, cards=("4111", "5100"))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.pb.gz").write_bytes(gzip.compress(req.SerializeToString()))
    json_path = tmp_path / "b.json"
    json_path.write_text(spans.to_otlp_json(req))
    plain = tmp_path / "c.pb"
    plain.write_bytes(req.SerializeToString())
    results = []
    for name, path in (("gz", tmp_path / "in"), ("json", json_path), ("pb", plain)):
        s = open_store(Settings(db_path=tmp_path / f"{name}.lbug"), create=True)
        try:
            _load(s, path)
            snap = _snapshot(s)
            results.append(
                (
                    snap[0],
                    {
                        k: [{**r, "sketch": None} for r in v]
                        for k, v in snap[1].items()
                        if k not in ("Service", "Operation", "ErrorSignature")
                    },
                )
            )
        finally:
            s.close()
    assert results[0] == results[1] == results[2]
    assert results[0][0]["edges"]["CALLS_OP"] == 3


def test_truncated_protobuf_is_reported_and_the_rest_loads(
    store: GraphStore, tmp_path: Path
) -> None:
    req = spans.build(tmp_path, 5)
    names = [
        next(kv.value.string_value for kv in rs.resource.attributes if kv.key == "service.name")
        for rs in req.resource_spans
    ]
    data = req.SerializeToString()
    bad = tmp_path / "bad.pb"
    bad.write_bytes(data[: len(data) - 40])
    good = tmp_path / "good.pb"
    good.write_bytes(spans.build(tmp_path / "g", 3, first=10).SerializeToString())
    report = _load(store, bad, good)
    problems = [(p.item, p.position, p.reason) for p in report.skipped]
    assert len(problems) == 1
    item, position, reason = problems[0]
    assert item == str(bad) and position is not None
    assert position.startswith("resource_spans[3] at byte ") and "truncated" in reason
    # the three intact resource blocks of bad.pb and all of good.pb loaded
    counts = {
        r["s"]: r["c"]
        for r in _q(
            store,
            "MATCH (s:Service)-[r:EXPOSES]->(:Operation) RETURN s.name AS s, max(r.count) AS c",
        )
    }
    assert counts == {**{n: 8 for n in names[:3]}, names[3]: 3}
    with pytest.raises(OtlpDecodeError, match=r"request: not a valid OTLP .*byte 0"):
        extract_from_bytes(b"\xff\xff\xff garbage", "application/x-protobuf", LoadReport("t"))


def test_bad_spans_are_reported_with_positions(store: GraphStore, tmp_path: Path) -> None:
    req = spans.build(tmp_path, 2)
    rs = req.resource_spans[0]
    for kv in rs.resource.attributes:
        if kv.key == "service.name":
            kv.value.string_value = ""
    future = req.resource_spans[1].scope_spans[0].spans[0]
    future.start_time_unix_nano = 4_000_000_000 * 10**9
    report = LoadReport("traces")
    batches = list(extract_from_bytes(req.SerializeToString(), None, report, store))
    assert batches
    reasons = sorted((p.position or "", p.reason.split(":")[0]) for p in report.skipped)
    assert reasons[0][0] == "resource_spans[0]"
    assert "without service.name" in reasons[0][1]
    assert reasons[1][0] == "resource_spans[1].scope_spans[0].spans[0]"


def test_unknown_json_fields_are_reported(store: GraphStore, tmp_path: Path) -> None:
    doc = spans.to_otlp_json(spans.build(tmp_path, 1)).replace(
        '"spans":', '"mystery": 1, "spans":', 1
    )
    report = LoadReport("traces")
    list(extract_from_bytes(doc.encode(), "application/json", report, store))
    assert any("mystery" in p.reason for p in report.warnings) and not report.skipped
    assert report.stats["spans"] == 9


def _split_by_service(tmp_path: Path) -> list[Path]:
    """One file per service: every CLIENT -> SERVER pair crosses a file boundary."""
    req = spans.build(tmp_path, 30, cards=("4111", "5100"))
    out = []
    for i, rs in enumerate(req.resource_spans):
        part = type(req)()
        part.resource_spans.append(rs)
        path = tmp_path / f"part-{i}.pb"
        path.write_bytes(part.SerializeToString())
        out.append(path)
    return out


def test_parallel_aggregations_merge_like_one(store: GraphStore, tmp_path: Path) -> None:
    files = [str(p) for p in _split_by_service(tmp_path)]
    whole = aggregate_files(files, True, 1000)
    halves = aggregate_files(files[:2], True, 1000)
    halves.absorb(aggregate_files(files[2:], True, 1000))
    for agg in (whole, halves):
        agg.finish()
    assert whole.spans == halves.spans == 30 * 9
    for attr in ("calls", "svc_deps", "res_deps"):
        mine, theirs = getattr(whole, attr), getattr(halves, attr)
        assert {k: (t.count, t.errors) for k, t in mine.items()} == {
            k: (t.count, t.errors) for k, t in theirs.items()
        }
    assert whole.calls[(("orders", "POST /charge"), ("payments", "charge"))].errors == 15
    assert {fp: e.count for fp, e in whole.errors.items()} == {
        fp: e.count for fp, e in halves.errors.items()
    }
    _load(store, *map(Path, files))  # cross-file pairs are matched in a load, too
    assert _edge(store, "DEPENDS_ON", "svc:frontend", "svc:orders")["count"] == 30


@pytest.mark.slow
def test_worker_processes_give_the_same_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loaders.traces import loader as traces_loader_module

    files = _split_by_service(tmp_path)
    monkeypatch.setattr(traces_loader_module, "_PARALLEL_BYTES", 0)
    snaps = []
    for workers in ("1", "2"):
        s = open_store(Settings(db_path=tmp_path / f"w{workers}.lbug"), create=True)
        try:
            loader = make_loader(
                [str(p) for p in files], Settings(db_path=Path("x")), {"workers": workers}
            )
            assert not ingest(s, loader).failed_batches
            snaps.append(_snapshot(s))
        finally:
            s.close()
    assert snaps[0] == snaps[1]


def test_unknown_protobuf_fields_are_reported(store: GraphStore, tmp_path: Path) -> None:
    data = spans.build(tmp_path, 1).SerializeToString() + b"\xf8\x07\x05"  # field 127, varint
    report = LoadReport("traces")
    list(extract_from_bytes(data, None, report, store))
    assert [(p.position, p.reason) for p in report.warnings] == [
        ("request", "unknown protobuf field(s) [127] ignored")
    ]
    assert not report.skipped
    assert report.stats["spans"] == 9


def test_virtual_peers_keep_their_address_unless_redaction_is_configured(tmp_path: Path) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from loaders.traces.aggregate import Aggregator

    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", "billing"
    for i, host in enumerate(("10.1.2.3", "10.9.9.9", "ledger.internal")):
        sp = rs.scope_spans.add().spans.add()
        sp.name, sp.kind, sp.span_id = "POST /ledger", 3, bytes([i + 1]) * 8
        sp.trace_id = bytes([i + 1]) * 16
        sp.start_time_unix_nano, sp.end_time_unix_nano = spans.T0, spans.T0 + spans.MS
        a = sp.attributes.add()
        a.key, a.value.string_value = "server.address", host
        port = sp.attributes.add()
        port.key, port.value.int_value = "server.port", 8080
    for redact, addresses, expected in (
        (True, False, {"10.1.2.3:8080", "10.9.9.9:8080", "ledger.internal:8080"}),
        (True, True, {"<ip>:8080", "ledger.internal:8080"}),
        (False, True, {"10.1.2.3:8080", "10.9.9.9:8080", "ledger.internal:8080"}),
    ):
        agg = Aggregator(redact_pii=redact, redact_addresses=addresses)
        agg.add_request(req, "req")
        agg.finish()
        assert {name for _, name, _ in agg.resources.values()} == expected
