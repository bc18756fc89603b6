"""What a configuration value points at: databases, queues, caches, hosts, flags, plain keys.

Values are read only to find where they point; no value (and no credential inside a URL) is
ever kept. Resource names are host names, so `DATABASE_URL=postgres://u:pw@db:5432/app` and a
compose service `db` running the postgres image name the same `res:database:db`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

logger = logging.getLogger(__name__)

__all__ = ["ResourceRef", "classify_env", "classify_image", "parse_url"]

KINDS = ("database", "queue", "cache", "host", "feature_flag", "config_key")

# URL scheme (lowercase, before any '+driver') -> (kind, system)
_SCHEMES: dict[str, tuple[str, str]] = {
    "postgres": ("database", "postgresql"),
    "postgresql": ("database", "postgresql"),
    "postgis": ("database", "postgresql"),
    "mysql": ("database", "mysql"),
    "mariadb": ("database", "mariadb"),
    "mongodb": ("database", "mongodb"),
    "mssql": ("database", "mssql"),
    "sqlserver": ("database", "mssql"),
    "oracle": ("database", "oracle"),
    "cockroachdb": ("database", "cockroachdb"),
    "clickhouse": ("database", "clickhouse"),
    "cassandra": ("database", "cassandra"),
    "neo4j": ("database", "neo4j"),
    "bolt": ("database", "neo4j"),
    "elasticsearch": ("database", "elasticsearch"),
    "redis": ("cache", "redis"),
    "rediss": ("cache", "redis"),
    "memcached": ("cache", "memcached"),
    "amqp": ("queue", "rabbitmq"),
    "amqps": ("queue", "rabbitmq"),
    "kafka": ("queue", "kafka"),
    "nats": ("queue", "nats"),
    "pulsar": ("queue", "pulsar"),
    "mqtt": ("queue", "mqtt"),
    "http": ("host", "http"),
    "https": ("host", "http"),
    "grpc": ("host", "grpc"),
}
# image base name -> (kind, system)
_IMAGES: dict[str, tuple[str, str]] = {
    "postgres": ("database", "postgresql"),
    "postgis": ("database", "postgresql"),
    "timescaledb": ("database", "postgresql"),
    "mysql": ("database", "mysql"),
    "mariadb": ("database", "mariadb"),
    "mongo": ("database", "mongodb"),
    "mongodb": ("database", "mongodb"),
    "cockroach": ("database", "cockroachdb"),
    "clickhouse-server": ("database", "clickhouse"),
    "cassandra": ("database", "cassandra"),
    "elasticsearch": ("database", "elasticsearch"),
    "opensearch": ("database", "opensearch"),
    "neo4j": ("database", "neo4j"),
    "redis": ("cache", "redis"),
    "redis-stack": ("cache", "redis"),
    "valkey": ("cache", "valkey"),
    "keydb": ("cache", "keydb"),
    "memcached": ("cache", "memcached"),
    "kafka": ("queue", "kafka"),
    "cp-kafka": ("queue", "kafka"),
    "redpanda": ("queue", "kafka"),
    "rabbitmq": ("queue", "rabbitmq"),
    "nats": ("queue", "nats"),
    "activemq": ("queue", "activemq"),
    "artemis": ("queue", "activemq"),
    "pulsar": ("queue", "pulsar"),
    "localstack": ("host", "aws"),
}
# words in a key that say what a bare host or host:port value is
_KEY_HINTS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("KAFKA",), "queue", "kafka"),
    (("RABBIT", "AMQP"), "queue", "rabbitmq"),
    (("NATS",), "queue", "nats"),
    (("BROKER", "QUEUE", "MQ"), "queue", ""),
    (("REDIS",), "cache", "redis"),
    (("MEMCACHE",), "cache", "memcached"),
    (("CACHE",), "cache", ""),
    (("POSTGRES", "PG"), "database", "postgresql"),
    (("MYSQL",), "database", "mysql"),
    (("MONGO",), "database", "mongodb"),
    (("DB", "DATABASE"), "database", ""),
)
_HOST_KEY = re.compile(
    r"(^PG|^|_)(HOST|HOSTNAME|HOSTS|ADDR|ADDRESS|SERVER|SERVERS|BROKERS?|"
    r"BOOTSTRAP_SERVERS|ENDPOINT|URL|URI|DSN)$"
)
_HOSTPORT = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$")
_URL = re.compile(r"^(?:jdbc:)?([a-z][a-z0-9+.-]*)://(.*)$", re.IGNORECASE)
_FLAG_PREFIXES = ("FEATURE_", "FLAG_", "FF_", "FEATURE_FLAG_")


@dataclass(frozen=True, order=True)
class ResourceRef:
    """A resource a service uses; `uid` is `res:<kind>:<name>`."""

    kind: str
    name: str
    system: str | None = None

    @property
    def uid(self) -> str:
        return f"res:{self.kind}:{self.name}"


def parse_url(value: str) -> ResourceRef | None:
    """A resource from a connection URL (credentials, ports, paths and queries dropped)."""
    m = _URL.match(value.strip())
    if not m:
        return None
    scheme = m.group(1).lower().split("+", 1)[0]
    if scheme not in _SCHEMES:
        return None
    kind, system = _SCHEMES[scheme]
    netloc = re.split(r"[/?#]", m.group(2), maxsplit=1)[0].rsplit("@", 1)[-1]
    hosts = sorted({_strip_port(h) for h in netloc.split(",") if _strip_port(h)})
    if not hosts or not all(_HOSTPORT.match(h) for h in hosts):
        return None
    return ResourceRef(kind, ",".join(hosts), system)


def classify_env(key: str, value: str | None) -> ResourceRef:
    """The resource an environment variable declares; unknown values give a config key."""
    upper = key.upper()
    if upper.startswith(_FLAG_PREFIXES):
        return ResourceRef("feature_flag", key, None)
    text = (value or "").strip().strip("'\"")
    if text and "${" not in text and "{{" not in text:
        ref = parse_url(text)
        if ref is not None:
            return ref
        ref = _bare_host(upper, text)
        if ref is not None:
            return ref
    return ResourceRef("config_key", key, None)


def classify_image(image: str) -> tuple[str, str] | None:
    """(kind, system) for an infrastructure image ('bitnami/kafka:3.7' -> queue, kafka)."""
    name = image.strip().lower().split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    base = last.split(":", 1)[0]
    for candidate in (base, base.removesuffix("-alpine")):
        if candidate in _IMAGES:
            return _IMAGES[candidate]
    return None


def _bare_host(upper_key: str, text: str) -> ResourceRef | None:
    """`REDIS_HOST=cache`, `KAFKA_BROKERS=k1:9092,k2:9092`: a host list under a telling key."""
    if not _HOST_KEY.search(upper_key):
        return None
    parts = [p.strip().lower() for p in text.split(",") if p.strip()]
    if not parts or not all(_HOSTPORT.match(p) for p in parts):
        return None
    hosts = sorted({_strip_port(p) for p in parts})
    if any(h.replace(".", "").isdigit() and h.count(".") != 3 for h in hosts):
        return None  # a number, not a host
    words = set(re.split(r"_+", upper_key))
    for hints, kind, system in _KEY_HINTS:
        if any(h in words or upper_key.startswith(h) for h in hints):
            return ResourceRef(kind, ",".join(hosts), system or None)
    return ResourceRef("host", ",".join(hosts), None)


def _strip_port(host: str) -> str:
    """Lowercase host without its port, and without Kubernetes' `.svc[.cluster.local]` tail."""
    host = host.strip().lower()
    if host.startswith("["):  # [ipv6]:port
        return host.split("]", 1)[0] + "]"
    host = host.rsplit(":", 1)[0] if re.search(r":\d+$", host) else host
    for tail in (".svc.cluster.local", ".svc"):
        host = host.removesuffix(tail)
    return host
