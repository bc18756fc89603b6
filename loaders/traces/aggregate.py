"""Streaming span aggregation: per-service, -operation and -edge accumulators, bounded memory."""

from __future__ import annotations

import logging
import time
from typing import Any

from google.protobuf.unknown_fields import UnknownFieldSet
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from loaders.redact import RedactConfig, Redactor
from loaders.traces.accumulators import FLUSH, ErrorAcc, OpAcc, ServiceAcc, Traffic
from loaders.traces.exceptions import ExceptionEvents, any_value
from loaders.traces.pending import CONF_MAPPED, ClientHalf, PendingHalves
from loaders.traces.resources import ResourceNames

logger = logging.getLogger(__name__)

__all__ = ["KIND_NAMES", "Aggregator"]

KIND_NAMES = {
    0: "UNSPECIFIED",
    1: "INTERNAL",
    2: "SERVER",
    3: "CLIENT",
    4: "PRODUCER",
    5: "CONSUMER",
}
_SERVER, _CLIENT, _PRODUCER, _CONSUMER = 2, 3, 4, 5
_STATUS_ERROR = 2
_FUTURE_SLACK_NS = 300 * 10**9

# Span attributes the aggregator reads; everything else is skipped without decoding.
_WANTED = frozenset(
    {
        "http.route",
        "db.system",
        "db.system.name",
        "db.name",
        "db.namespace",
        "messaging.system",
        "messaging.destination.name",
        "messaging.destination",
        "server.address",
        "server.port",
        "net.peer.name",
        "peer.service",
        "http.host",
        "code.function.name",
        "code.function",
        "code.namespace",
        "code.file.path",
        "code.filepath",
        "code.line.number",
        "code.lineno",
    }
)
_MAX_PROBLEMS = 50  # problems listed per input; the rest are counted
_MAX_CACHED = 100_000  # attribute combinations remembered per service
_INT_KEYS = frozenset({"code.line.number", "code.lineno", "server.port"})

OpKey = tuple[str, str]  # (service, span name)


class Aggregator:
    """Feed it requests; it keeps only accumulators and a bounded table of unmatched spans.

    Aggregators over different inputs merge (`absorb`), so files can be aggregated in parallel.
    """

    def __init__(
        self,
        redact_pii: bool = True,
        max_pending: int = 200_000,
        *,
        pending: PendingHalves | None = None,
        redact_addresses: bool = False,
    ) -> None:
        self.redactor = Redactor(RedactConfig(enabled=redact_pii))
        # shared across requests by the live receiver; one per load otherwise
        self.pending = pending if pending is not None else PendingHalves(None, max_pending)
        self.services: dict[str, ServiceAcc] = {}
        self.calls: dict[tuple[OpKey, OpKey], Traffic] = {}
        self.svc_deps: dict[tuple[str, str], Traffic] = {}
        self.res_deps: dict[tuple[str, str], Traffic] = {}
        self.names = ResourceNames(self.redactor, redact_addresses and redact_pii)
        self.resources = self.names.resources  # uid -> kind, name, system
        self.impl: dict[tuple[OpKey, str, str, int], int] = {}
        self.exceptions = ExceptionEvents(self.redactor)
        self.problems: list[tuple[str, str, str]] = []  # (item, reason, position)
        self.warnings: list[tuple[str, str, str]] = []  # loaded anyway
        self.digests: list[str] = []  # content digests of the inputs aggregated
        self.spans = 0
        self._clients = self.pending.clients  # CLIENT/PRODUCER span id -> waiting for child
        self._servers = self.pending.servers  # parent id -> SERVER/CONSUMER span
        # lone halves resolved to a known service or a virtual peer, with their confidence
        self.lone_svc: dict[tuple[str, str], Traffic] = {}
        self.lone_res: dict[tuple[str, str], Traffic] = {}
        self.lone_conf: dict[tuple[str, str], float] = {}
        self._arrival = time.monotonic()
        self._now_ns = time.time_ns()
        self._effects_cache: dict[str, dict[Any, Any]] = {}
        self._suppressed: dict[str, int] = {}
        self._pairs: dict[tuple[OpKey, OpKey], tuple[Traffic, Traffic]] = {}

    @property
    def errors(self) -> dict[str, ErrorAcc]:
        """Error signatures by fingerprint."""
        return self.exceptions.errors

    # ---- per request ---------------------------------------------------------------------
    def add_request(self, req: ExportTraceServiceRequest, name: str, events: bool = True) -> None:
        """Aggregate one request; `events=False` (no exception in its bytes) skips span events."""
        self._unknown_fields(req, name, "request")
        self._arrival = time.monotonic()
        for ri, rs in enumerate(req.resource_spans):
            self._unknown_fields(rs, name, f"resource_spans[{ri}]")
            res = {kv.key: any_value(kv.value) for kv in rs.resource.attributes}
            service = res.get("service.name")
            if not isinstance(service, str) or not service or service.startswith("unknown_service"):
                n_spans = sum(len(ss.spans) for ss in rs.scope_spans)
                if n_spans:
                    self._problem(
                        name,
                        f"{n_spans} span(s) without service.name skipped",
                        f"resource_spans[{ri}]",
                    )
                continue
            svc = self._service(service, res)
            self.pending.names.add(service)
            host = res.get("host.name")
            if isinstance(host, str) and host:
                self.pending.serving(service, host)
            for si, ss in enumerate(rs.scope_spans):
                self._unknown_fields(ss, name, f"resource_spans[{ri}].scope_spans[{si}]")
                self._spans(
                    ss.spans, service, svc, name, f"resource_spans[{ri}].scope_spans[{si}]", events
                )
        self.exceptions.flush()

    def _unknown_fields(self, msg: Any, name: str, where: str) -> None:
        """Fields this OTLP version does not know (newer senders): reported, otherwise ignored."""
        unknown = UnknownFieldSet(msg)
        if len(unknown):
            numbers = sorted({f.field_number for f in unknown})
            self.warnings.append((name, f"unknown protobuf field(s) {numbers} ignored", where))

    def _service(self, service: str, res: dict[str, object]) -> ServiceAcc:
        acc = self.services.get(service)
        if acc is None:
            acc = self.services[service] = ServiceAcc()
        for attr, key in (
            ("namespace", "service.namespace"),
            ("language", "telemetry.sdk.language"),
            ("version", "service.version"),
        ):
            v = res.get(key)
            if isinstance(v, str) and v:
                setattr(acc, attr, v)
        env = res.get("deployment.environment.name") or res.get("deployment.environment")
        if isinstance(env, str) and env:
            acc.environment = env
        return acc

    def _spans(
        self, spans: Any, service: str, svc: ServiceAcc, name: str, where: str, events: bool
    ) -> None:
        """The hot loop: a handful of field reads per span, attributes only when present."""
        ops = svc.ops
        effects = self._effects_cache.setdefault(service, {})
        clients, servers = self._clients, self._servers
        arrival, pending = self._arrival, self.pending
        now = self._now_ns + _FUTURE_SLACK_NS
        n = 0
        for i, sp in enumerate(spans):
            start = sp.start_time_unix_nano
            if start > now or not start or len(sp.span_id) != 8 or len(sp.trace_id) != 16:
                why = (
                    "start time in the future"
                    if start > now
                    else "no start time"
                    if not start
                    else "trace or span id of the wrong length"
                )
                self._problem(
                    name, f"span {sp.span_id.hex()} skipped: {why}", f"{where}.spans[{i}]"
                )
                continue
            n += 1
            sname = sp.name
            kind = sp.kind
            op = ops.get(sname)
            if op is None:
                op = ops[sname] = OpAcc(KIND_NAMES.get(kind, "UNSPECIFIED"))
            dur = sp.end_time_unix_nano - start
            if dur < 0:
                dur = 0
            error = sp.status.code == _STATUS_ERROR
            # inlined Traffic.add: this loop runs once per span
            op.durs.append(dur)
            if error:
                op.errors += 1
            if start < op.first:
                op.first = start
            if start > op.last:
                op.last = start
            if len(op.durs) >= FLUSH:
                op.flush()
            a: tuple[tuple[str, object], ...] = ()
            for kv in sp.attributes:
                k = kv.key
                if k in _WANTED:
                    a += ((k, kv.value.int_value if k in _INT_KEYS else kv.value.string_value),)
            if a:
                eff = effects.get((sname, a))
                if eff is None:
                    eff = self._effects((service, sname), op, dict(a))
                    if len(effects) > _MAX_CACHED:
                        effects.clear()
                    effects[(sname, a)] = eff
                if eff[0] is not None:
                    self.impl[eff[0]] = self.impl.get(eff[0], 0) + 1
                if eff[1] is not None:
                    eff[1].add(start, dur, error)
            if kind == _SERVER:  # inlined _server: half of all spans take this path
                pid = sp.parent_span_id
                if pid:
                    client = clients.pop(pid, None)
                    if client is not None:
                        self._call(
                            client[0], (service, sname), client[1], client[2], client[3] or error
                        )
                    else:
                        servers[pid] = ((service, sname), error, arrival)
                        if len(servers) + len(clients) > pending.max_size:
                            pending.overflow_server()
            elif kind > _SERVER:
                self._link(sp, (service, sname), kind, start, dur, error, a)
            if events and sp.events:
                self.exceptions.add(
                    sp.events, service, svc.version, svc.environment, start, sp.trace_id
                )
        self.spans += n

    def _effects(
        self, key: OpKey, op: OpAcc, attrs: dict[str, object]
    ) -> tuple[tuple[OpKey, str, str, int] | None, Traffic | None]:
        """What a set of attributes implies (cached): an IMPLEMENTED_BY key, a resource edge."""
        impl = None
        route = attrs.get("http.route")
        if isinstance(route, str) and route:
            op.route = route
        if op.kind == "SERVER" and attrs.get("server.address"):
            port = attrs.get("server.port")
            self.pending.serving(
                key[0], str(attrs["server.address"]), port if isinstance(port, int) else None
            )
        fn = attrs.get("code.function.name") or attrs.get("code.function")
        if isinstance(fn, str) and fn:
            ns = attrs.get("code.namespace")
            if isinstance(ns, str) and ns and "." not in fn:
                fn = f"{ns}.{fn}"
            path = attrs.get("code.file.path") or attrs.get("code.filepath") or ""
            line = attrs.get("code.line.number") or attrs.get("code.lineno") or 0
            impl = (key, str(path), fn, int(line) if isinstance(line, int) else 0)
        res = self.names.of(attrs)
        return impl, self._traffic(self.res_deps, (key[0], res)) if res else None

    @staticmethod
    def _traffic(table: dict[Any, Traffic], key: Any) -> Traffic:
        t = table.get(key)
        if t is None:
            t = table[key] = Traffic()
        return t

    def _link(
        self,
        sp: Any,
        key: OpKey,
        kind: int,
        start: int,
        dur: int,
        err: bool,
        pairs: tuple[tuple[str, object], ...],
    ) -> None:
        """Pair CLIENT/PRODUCER spans with their SERVER/CONSUMER children in other services."""
        attrs = dict(pairs) if pairs else {}
        if kind in (_CLIENT, _PRODUCER):
            if kind == _CLIENT and ("db.system" in attrs or "db.system.name" in attrs):
                return
            peer: tuple[str | None, str | None, int] = (None, None, 0)
            if kind == _CLIENT:
                host = (
                    attrs.get("server.address")
                    or attrs.get("net.peer.name")
                    or attrs.get("http.host")
                )
                port = attrs.get("server.port")
                peer = (
                    str(attrs["peer.service"]) if attrs.get("peer.service") else None,
                    str(host) if host else None,
                    port if isinstance(port, int) and host else 0,
                )
            self._client(sp.span_id, (key, start, dur, err, peer, self._arrival))
            return
        parent = sp.parent_span_id
        links = sp.links  # a CONSUMER's producer is usually a link, sometimes the parent
        if links and parent not in self._clients:
            parent = next(
                (ln.span_id for ln in links if ln.span_id in self._clients), links[0].span_id
            )
        self._server(parent, key, err)

    def _client(self, span_id: bytes, half: ClientHalf) -> None:
        waiting = self._servers.pop(span_id, None)
        if waiting is not None:
            self._call(half[0], waiting[0], half[1], half[2], half[3] or waiting[1])
            return
        self._clients[span_id] = half
        evicted = self.pending.overflow_client()
        if evicted is not None:
            self.resolve_lone([evicted], 1.0)

    def _server(self, pid: bytes, key: OpKey, err: bool) -> None:
        if not pid:
            return
        client = self._clients.get(pid)
        if client is not None:  # a server peer exists, in another service or not
            del self._clients[pid]
            self._call(client[0], key, client[1], client[2], client[3] or err)
        else:
            self._servers[pid] = (key, err, self._arrival)
            self.pending.overflow_server()

    def _call(self, caller: OpKey, callee: OpKey, start: int, dur: int, err: bool) -> None:
        self.pending.counts.paired += 1
        if caller[0] == callee[0]:
            return
        pair = self._pairs.get((caller, callee))
        if pair is None:
            pair = self._pairs[(caller, callee)] = (
                self._traffic(self.calls, (caller, callee)),
                self._traffic(self.svc_deps, (caller[0], callee[0])),
            )
        pair[0].add(start, dur, err)
        pair[1].add(start, dur, err)

    def resolve_lone(self, halves: list[ClientHalf], confidence: float) -> None:
        """Clients whose server half never came: edges to a known service or a virtual peer.

        `confidence` is that of a virtual peer's edge (1.0 at the end of the input or after
        the time-to-live; lower when flushed early); a mapped service's is at most CONF_MAPPED.
        """
        for op, start, dur, error, peer, _ in halves:
            service, virtual = self.pending.resolve(peer)
            if service:
                if service == op[0]:
                    continue
                key, table, conf = (op[0], service), self.lone_svc, min(confidence, CONF_MAPPED)
            elif virtual:
                key = (op[0], self.names.uid("host", virtual, None))
                table, conf = self.lone_res, confidence
            else:
                continue
            self._traffic(table, key).add(start, dur, error)
            self.lone_conf[key] = min(self.lone_conf.get(key, 1.0), conf)

    def _problem(self, item: str, reason: str, position: str) -> None:
        """Record bad input; past `_MAX_PROBLEMS` per input only a count is kept."""
        n = self._suppressed.get(item, 0)
        if n < _MAX_PROBLEMS:
            self.problems.append((item, reason, position))
        self._suppressed[item] = n + 1

    def finish(self, resolve_pending: bool = True) -> None:
        """Lone clients become edges to their peers (unless the halves wait on); buffers flush."""
        for item, n in self._suppressed.items():
            if n > _MAX_PROBLEMS:
                self.problems.append((item, f"{n - _MAX_PROBLEMS} more problem(s) not listed", ""))
        self._suppressed.clear()
        if resolve_pending:
            lone, _ = self.pending.drain(early=False)
            self.resolve_lone(lone, 1.0)
        for table in (self.calls, self.svc_deps, self.res_deps, self.lone_svc, self.lone_res):
            for t in table.values():
                t.flush()
        for svc in self.services.values():
            for op in svc.ops.values():
                op.flush()

    def absorb(self, other: Aggregator) -> None:
        """Merge an aggregation of other inputs, pairing spans left unmatched on either side."""
        from loaders.traces.merge import absorb

        absorb(self, other)
