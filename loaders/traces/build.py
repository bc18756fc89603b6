"""Turning span accumulators into batches, merged with what the store already holds."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from graph_service.batch import Batch, edges, nodes
from graph_service.store.base import GraphReader
from loaders import stacktrace
from loaders.base import LoadReport
from loaders.traces.accumulators import OpAcc, Traffic
from loaders.traces.aggregate import Aggregator
from loaders.traces.resolve import FunctionIndex, safe_query, short_name
from loaders.traces.sketch import LatencySketch

logger = logging.getLogger(__name__)

__all__ = ["build_batches", "known_inputs", "to_time"]

_CHUNK = 5000
_SRC = {"source": "trace"}


def to_time(ns: int) -> dt.datetime:
    """Unix nanoseconds -> naive UTC datetime (microseconds)."""
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=ns // 1000)


def _svc(name: str) -> str:
    return f"svc:{name}"


def _op(key: tuple[str, str]) -> str:
    return f"op:{key[0]}:{key[1]}"


def known_inputs(reader: GraphReader | None) -> set[str]:
    """Digests of inputs already merged (kept in the EXPOSES sketches)."""
    rows = safe_query(
        reader, "MATCH ()-[r:EXPOSES]->() WHERE r.sketch IS NOT NULL RETURN r.sketch AS s", {}
    )
    out: set[str] = set()
    for r in rows:
        out.update(LatencySketch.from_string(r["s"]).inputs)
    return out


def _existing_nodes(
    reader: GraphReader | None, label: str, uids: list[str], props: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    ret = ", ".join(f"n.{p} AS {p}" for p in props)
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(uids), _CHUNK):
        q = f"UNWIND $uids AS u MATCH (n:{label} {{uid: u}}) RETURN n.uid AS uid, {ret}"
        for r in safe_query(reader, q, {"uids": uids[i : i + _CHUNK]}):
            out[r["uid"]] = r
    return out


def _existing_edges(
    reader: GraphReader | None,
    rel: str,
    src: str,
    dst: str,
    pairs: list[tuple[str, str]],
    props: tuple[str, ...],
) -> dict[tuple[str, str], dict[str, Any]]:
    ret = ", ".join(f"r.{p} AS {p}" for p in props)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for i in range(0, len(pairs), _CHUNK):
        chunk = [{"s": s, "d": d} for s, d in pairs[i : i + _CHUNK]]
        q = (
            f"UNWIND $pairs AS p MATCH (a:{src} {{uid: p.s}})-[r:{rel}]->(b:{dst} {{uid: p.d}}) "
            f"RETURN p.s AS s, p.d AS d, {ret}"
        )
        for r in safe_query(reader, q, {"pairs": chunk}):
            out[(r["s"], r["d"])] = r
    return out


def _tmin(a: dt.datetime | None, b: dt.datetime) -> dt.datetime:
    return b if a is None or b < a else a


def _tmax(a: dt.datetime | None, b: dt.datetime) -> dt.datetime:
    return b if a is None or b > a else a


_TRAFFIC_PROPS = ("count", "errors", "sketch", "first_seen", "last_seen", "confidence")


def _traffic_rows(
    reader: GraphReader | None,
    rel: str,
    src: str,
    dst: str,
    items: dict[tuple[str, str], Traffic],
    digests: list[str] | None = None,
    confidence: dict[tuple[str, str], float] | None = None,
) -> list[dict[str, Any]]:
    """Rows merged with stored values; `digests` (this load's inputs) are spread over the rows.

    `confidence` lowers that of edges seen only through lone halves (1.0 otherwise); a stored
    edge keeps the higher of its own and the new confidence.
    """
    old = _existing_edges(reader, rel, src, dst, list(items), _TRAFFIC_PROPS)
    rows = []
    for i, ((s, d), t) in enumerate(sorted(items.items())):
        sk = LatencySketch()
        count, errors = t.count, t.errors
        first, last = to_time(t.first), to_time(t.last)
        conf = (confidence or {}).get((s, d), 1.0)
        prev = old.get((s, d))
        if prev:
            conf = max(conf, prev["confidence"] if prev["confidence"] is not None else 1.0)
            sk = LatencySketch.from_string(prev["sketch"])
            count += prev["count"] or 0
            errors += prev["errors"] or 0
            first, last = _tmin(prev["first_seen"], first), _tmax(prev["last_seen"], last)
        sk.merge(t.sketch)
        for digest in (digests or [])[i :: len(items)]:
            sk.add_input(digest)
        rows.append(
            {
                "src": s,
                "dst": d,
                **_SRC,
                "confidence": conf,
                "count": count,
                "errors": errors,
                "p50_ms": sk.quantile(0.5),
                "p95_ms": sk.quantile(0.95),
                "p99_ms": sk.quantile(0.99),
                "sketch": sk.to_string(),
                "first_seen": first,
                "last_seen": last,
            }
        )
    return rows


def _service_rows(agg: Aggregator, reader: GraphReader | None) -> list[dict[str, Any]]:
    props = ("namespace", "language", "version", "environment", "first_seen", "last_seen")
    old = _existing_nodes(reader, "Service", [_svc(s) for s in agg.services], props)
    rows = []
    for name, acc in agg.services.items():
        uid = _svc(name)
        prev = old.get(uid, {})
        first = to_time(min(op.first for op in acc.ops.values()))
        last = to_time(max(op.last for op in acc.ops.values()))
        newer = prev.get("last_seen") is None or last >= prev["last_seen"]
        row: dict[str, Any] = {"uid": uid, "name": name}
        for p in ("namespace", "language", "version", "environment"):
            mine = getattr(acc, p)
            row[p] = mine if (newer and mine) or not prev.get(p) else prev[p]
        row["first_seen"] = _tmin(prev.get("first_seen"), first)
        row["last_seen"] = _tmax(prev.get("last_seen"), last)
        rows.append(row)
    return rows


def _ops(agg: Aggregator) -> dict[tuple[str, str], OpAcc]:
    return {(s, n): op for s, acc in agg.services.items() for n, op in acc.ops.items()}


def _operation_rows(agg: Aggregator, reader: GraphReader | None) -> list[dict[str, Any]]:
    ops = _ops(agg)
    old = _existing_nodes(
        reader, "Operation", [_op(k) for k in ops], ("route", "first_seen", "last_seen")
    )
    rows = []
    for key, acc in ops.items():
        prev = old.get(_op(key), {})
        rows.append(
            {
                "uid": _op(key),
                "name": key[1],
                "service": key[0],
                "kind": acc.kind,
                "route": acc.route or prev.get("route"),
                "first_seen": _tmin(prev.get("first_seen"), to_time(acc.first)),
                "last_seen": _tmax(prev.get("last_seen"), to_time(acc.last)),
            }
        )
    return rows


def _error_batches(agg: Aggregator, reader: GraphReader | None) -> Iterator[Batch]:
    uids = [f"err:{fp}" for fp in agg.errors]
    old = _existing_nodes(reader, "ErrorSignature", uids, ("count", "first_seen", "last_seen"))
    rows = []
    for fp, acc in agg.errors.items():
        prev = old.get(f"err:{fp}", {})
        rows.append(
            {
                "uid": f"err:{fp}",
                "type": acc.type,
                "message_template": acc.template,
                "fingerprint": fp,
                "frames": [stacktrace.frame_key(f) for f in acc.frames],
                "count": acc.count + (prev.get("count") or 0),
                "first_seen": _tmin(prev.get("first_seen"), to_time(acc.first)),
                "last_seen": _tmax(prev.get("last_seen"), to_time(acc.last)),
            }
        )
    if rows:
        yield nodes("ErrorSignature", rows)
    yield from _seen_in(agg, reader)
    yield from _raised_in(agg, reader)


def _seen_in(agg: Aggregator, reader: GraphReader | None) -> Iterator[Batch]:
    per_svc: dict[tuple[str, str], list[int]] = {}
    per_dep: dict[tuple[str, str], list[int]] = {}
    deploys = _deployments(reader, {s for a in agg.errors.values() for s, _, _ in a.seen_in})
    for fp, acc in agg.errors.items():
        for (svc, version, env), (n, first, last) in acc.seen_in.items():
            for table, dst in ((per_svc, _svc(svc)), (per_dep, deploys.get((svc, version, env)))):
                if dst is None:
                    continue
                cur = table.setdefault((f"err:{fp}", dst), [0, first, last])
                cur[0] += n
                cur[1], cur[2] = min(cur[1], first), max(cur[2], last)
    for label, table in (("Service", per_svc), ("Deployment", per_dep)):
        if not table:
            continue
        old = _existing_edges(
            reader,
            "SEEN_IN",
            "ErrorSignature",
            label,
            list(table),
            ("count", "first_seen", "last_seen"),
        )
        rows = []
        for (s, d), (n, first, last) in table.items():
            prev = old.get((s, d), {})
            rows.append(
                {
                    "src": s,
                    "dst": d,
                    **_SRC,
                    "confidence": 1.0,
                    "count": n + (prev.get("count") or 0),
                    "first_seen": _tmin(prev.get("first_seen"), to_time(first)),
                    "last_seen": _tmax(prev.get("last_seen"), to_time(last)),
                }
            )
        yield edges("SEEN_IN", "ErrorSignature", label, rows)


def _deployments(
    reader: GraphReader | None, services: set[str]
) -> dict[tuple[str, str | None, str | None], str]:
    """(service, version, environment) -> the latest matching Deployment uid."""
    if not services:
        return {}
    q = (
        "MATCH (d:Deployment) WHERE d.service IN $svcs RETURN d.uid AS uid, d.service AS service, "
        "d.version AS version, d.environment AS env, d.started_at AS started ORDER BY started"
    )
    out: dict[tuple[str, str | None, str | None], str] = {}
    for r in safe_query(reader, q, {"svcs": sorted(services)}):
        if r["version"]:
            out[(r["service"], r["version"], r["env"])] = r["uid"]
            out.setdefault((r["service"], r["version"], None), r["uid"])
    return out


def _raised_in(agg: Aggregator, reader: GraphReader | None) -> Iterator[Batch]:
    names = {short_name(f.function) for a in agg.errors.values() for f in a.frames}
    index = FunctionIndex(reader, names)
    rows = []
    for fp, acc in agg.errors.items():
        for frame in reversed(acc.frames):
            if not frame.in_app:
                continue
            hit = index.match(frame.path, frame.function, frame.line)
            if hit:
                rows.append(
                    {
                        "src": f"err:{fp}",
                        "dst": hit[0].uid,
                        **_SRC,
                        "confidence": hit[1],
                        "line": frame.line or None,
                    }
                )
                break
    if rows:
        yield edges("RAISED_IN", "ErrorSignature", "Function", rows)


def _implemented_by(agg: Aggregator, reader: GraphReader | None) -> Iterator[Batch]:
    index = FunctionIndex(reader, {short_name(fn) for (_, _, fn, _) in agg.impl})
    found: dict[tuple[str, str], list[float]] = {}
    for (key, path, fn, line), n in agg.impl.items():
        hit = index.match(path, fn, line, qualified=fn)
        if hit:
            cur = found.setdefault((_op(key), hit[0].uid), [0, hit[1]])
            cur[0] += n
    if not found:
        return
    old = _existing_edges(
        reader, "IMPLEMENTED_BY", "Operation", "Function", list(found), ("count",)
    )
    rows = [
        {
            "src": s,
            "dst": d,
            **_SRC,
            "confidence": conf,
            "count": int(n) + (old.get((s, d), {}).get("count") or 0),
        }
        for (s, d), (n, conf) in found.items()
    ]
    yield edges("IMPLEMENTED_BY", "Operation", "Function", rows)


def _with_lone(
    direct: dict[tuple[str, str], Traffic],
    lone: dict[tuple[str, str], Traffic],
    lone_conf: dict[tuple[str, str], float],
) -> tuple[dict[tuple[str, str], Traffic], dict[tuple[str, str], float]]:
    """Direct traffic plus that of lone halves; edges seen only through lone halves keep
    their lower confidence."""
    merged = dict(direct)
    conf: dict[tuple[str, str], float] = {}
    for key, t in lone.items():
        if key in merged:
            merged[key].merge(t)
        else:
            merged[key] = t
            conf[key] = lone_conf.get(key, 1.0)
    return merged, conf


def build_batches(
    agg: Aggregator, reader: GraphReader | None, report: LoadReport, digests: list[str]
) -> Iterator[Batch]:
    """Node batches first, then the edges between them, each merged with the stored values.

    `digests` name this load's inputs; they are remembered in the EXPOSES sketches so that the
    same input sent again is skipped.
    """
    agg.services = {k: v for k, v in agg.services.items() if v.ops}
    if not agg.services and not agg.lone_svc and not agg.lone_res:
        return
    if agg.services:  # a live window may hold only lone halves of services stored before
        yield nodes("Service", _service_rows(agg, reader))
        yield nodes("Operation", _operation_rows(agg, reader))
    if agg.resources:
        yield nodes(
            "Resource",
            [
                {"uid": uid, "kind": k, "name": n, "system": s}
                for uid, (k, n, s) in agg.resources.items()
            ],
        )
    exposes: dict[tuple[str, str], Traffic] = {
        (_svc(k[0]), _op(k)): t for k, t in _ops(agg).items()
    }
    if exposes:
        yield edges(
            "EXPOSES",
            "Service",
            "Operation",
            _traffic_rows(reader, "EXPOSES", "Service", "Operation", exposes, digests),
        )
    calls = {(_op(a), _op(b)): t for (a, b), t in agg.calls.items()}
    if calls:
        yield edges(
            "CALLS_OP",
            "Operation",
            "Operation",
            _traffic_rows(reader, "CALLS_OP", "Operation", "Operation", calls),
        )
    for dst_label, direct, lone, dst in (
        ("Service", agg.svc_deps, agg.lone_svc, _svc),
        ("Resource", agg.res_deps, agg.lone_res, str),
    ):
        deps, conf = _with_lone(direct, lone, agg.lone_conf)
        rows = {(_svc(a), dst(b)): t for (a, b), t in deps.items()}
        if rows:
            confs = {(_svc(a), dst(b)): c for (a, b), c in conf.items()}
            yield edges(
                "DEPENDS_ON",
                "Service",
                dst_label,
                _traffic_rows(reader, "DEPENDS_ON", "Service", dst_label, rows, confidence=confs),
            )
    yield from _implemented_by(agg, reader)
    yield from _error_batches(agg, reader)
    report.stats["spans"] = agg.spans
