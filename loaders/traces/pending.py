"""Unpaired CLIENT/SERVER (PRODUCER/CONSUMER) span halves waiting for their partner, bounded.

The OpenTelemetry Collector's `servicegraph` connector keeps the same kind of store: a half
waits (keyed by span id) until its partner arrives, possibly in another request from another
process; after a time-to-live it is given up on and the lone half becomes an edge to a
*virtual* peer. The store also remembers on which addresses each service was seen serving, so
that a lone client's `server.address`/`server.port` can be mapped back to a known service.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

logger = logging.getLogger(__name__)

__all__ = [
    "CONF_FLUSHED",
    "CONF_MAPPED",
    "ClientHalf",
    "Peer",
    "PendingCounts",
    "PendingHalves",
    "ServerHalf",
    "address_of",
]

CONF_MAPPED = 0.8  # a lone client mapped to a known service by `peer.service` or its address
CONF_FLUSHED = 0.5  # a half written out before its time-to-live ran out (a shutdown)

# (peer.service, server.address, server.port) read from a CLIENT/PRODUCER span
Peer = tuple[str | None, str | None, int]
# A CLIENT/PRODUCER span waiting for its child: (operation, start ns, duration ns, error, peer,
# arrival time in monotonic seconds)
ClientHalf = tuple[tuple[str, str], int, int, bool, Peer, float]
# A SERVER/CONSUMER span waiting for its parent: (operation, error, arrival time)
ServerHalf = tuple[tuple[str, str], bool, float]

_MAX_ADDRESSES = 100_000  # serving addresses remembered


def address_of(host: str | None, port: int | None) -> str | None:
    """`host:port` (or `host` alone without a port); None without a host."""
    if not host:
        return None
    return f"{host}:{port}" if port else host


@dataclass
class PendingCounts:
    """What happened to halves since the store was made (counters, never reset)."""

    paired: int = 0
    expired: int = 0  # given up after the time-to-live: became edges to virtual peers
    dropped: int = 0  # evicted before their time-to-live because the store was full
    flushed: int = 0  # written out early (shutdown or end of input) as low-confidence edges


class PendingHalves:
    """Halves keyed by span id (clients) and parent span id (servers), oldest first.

    Not thread-safe: callers that share one store across threads hold their own lock.
    `ttl_s=None` keeps halves until `drain()` (a file load: the end of input decides).
    """

    def __init__(self, ttl_s: float | None = None, max_size: int = 200_000) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self.clients: dict[bytes, ClientHalf] = {}
        self.servers: dict[bytes, ServerHalf] = {}
        self.counts = PendingCounts()
        self.names: set[str] = set()  # every service seen (a `peer.service` may name one)
        self._serving: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self.clients) + len(self.servers)

    # ---- serving addresses ---------------------------------------------------------------
    def serving(self, service: str, host: str | None, port: int | None = None) -> None:
        """Remember that `service` was seen serving on `host[:port]` (and on `host`)."""
        for addr in {address_of(host, port), address_of(host, None)}:
            if not addr:
                continue
            seen = self._serving.get(addr)
            if seen is None:
                if len(self._serving) >= _MAX_ADDRESSES:
                    continue
                seen = self._serving[addr] = set()
            if len(seen) < 4:
                seen.add(service)

    def service_at(self, host: str | None, port: int | None) -> str | None:
        """The one service seen serving on this address (None when unknown or ambiguous)."""
        for addr in (address_of(host, port), address_of(host, None)):
            seen = self._serving.get(addr) if addr else None
            if seen:
                return next(iter(seen)) if len(seen) == 1 else None
        return None

    def resolve(self, peer: Peer) -> tuple[str | None, str | None]:
        """(known service, virtual peer name) for a lone client's peer attributes.

        `peer.service` naming a known service wins, then an address some service was seen
        serving on; otherwise the peer is virtual, named `peer.service` or `host:port`.
        """
        name, host, port = peer
        if name and name in self.names:
            return name, None
        service = self.service_at(host, port)
        if service:
            return service, None
        return None, name or address_of(host, port)

    def absorb_serving(self, other: PendingHalves) -> None:
        """Add the services and serving addresses another store has seen."""
        self.names |= other.names
        for addr, services in other._serving.items():
            for service in services:
                self.serving(service, addr)

    # ---- bounds --------------------------------------------------------------------------
    def overflow_client(self) -> ClientHalf | None:
        """Evict the oldest client half when the store is over its size; returns it."""
        if len(self.clients) + len(self.servers) <= self.max_size or not self.clients:
            return None
        self.counts.dropped += 1
        return self.clients.pop(next(iter(self.clients)))

    def overflow_server(self) -> None:
        """Evict the oldest server half when the store is over its size (its caller is unknown)."""
        if len(self.clients) + len(self.servers) > self.max_size and self.servers:
            del self.servers[next(iter(self.servers))]
            self.counts.dropped += 1

    def expire(self, now: float | None = None) -> tuple[list[ClientHalf], int]:
        """Halves older than the time-to-live: (lone clients, number of lone servers)."""
        if self.ttl_s is None:
            return [], 0
        limit = (time.monotonic() if now is None else now) - self.ttl_s
        lone: list[ClientHalf] = []
        while self.clients:
            sid = next(iter(self.clients))
            half = self.clients[sid]
            if half[5] > limit:
                break
            lone.append(self.clients.pop(sid))
        servers = 0
        while self.servers:
            pid = next(iter(self.servers))
            if self.servers[pid][2] > limit:
                break
            del self.servers[pid]
            servers += 1
        self.counts.expired += len(lone) + servers
        return lone, servers

    def drain(self, *, early: bool) -> tuple[list[ClientHalf], int]:
        """Every half now; `early` (a shutdown) counts them as flushed, else as expired."""
        lone = list(self.clients.values())
        servers = len(self.servers)
        self.clients.clear()
        self.servers.clear()
        if early:
            self.counts.flushed += len(lone) + servers
        else:
            self.counts.expired += len(lone) + servers
        return lone, servers
