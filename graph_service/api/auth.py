"""API keys: hashed in settings, three roles (reader < writer < admin), checked per request."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import sys
from dataclasses import dataclass
from enum import IntEnum

from graph_service.errors import AuthError, ForbiddenError, OperatorError

logger = logging.getLogger(__name__)

__all__ = [
    "ApiKey",
    "KeyRing",
    "Principal",
    "Role",
    "hash_key",
    "is_loopback",
    "main",
    "new_key",
]


class Role(IntEnum):
    """What a key may do; each role includes the ones below it."""

    reader = 1  # query, named queries, risk
    writer = 2  # + ingest, OTLP
    admin = 3  # + manage (stats, prune, model reload)


@dataclass(frozen=True)
class ApiKey:
    """One configured key: a name for logs and metrics, the SHA-256 of the secret, a role."""

    name: str
    sha256: str
    role: Role


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's name and role (`anonymous` admin when auth is disabled)."""

    name: str
    role: Role

    def require(self, role: Role) -> None:
        if self.role < role:
            raise ForbiddenError(
                f"key {self.name!r} has role {self.role.name}; this needs {role.name}",
                {"role": self.role.name, "needs": role.name},
            )


def hash_key(key: str) -> str:
    """The hex SHA-256 of a key, as stored in `PRODGRAPH_API_KEYS`."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh random key (URL-safe, 256 bits)."""
    return "pg_" + secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_entry(entry: str | dict[str, str], index: int) -> ApiKey:
    if isinstance(entry, str):
        role, sep, digest = entry.partition(":")
        name = f"key{index}"
    else:
        role, digest = entry.get("role", ""), entry.get("sha256", "")
        name, sep = entry.get("name") or f"key{index}", ":"
    digest = digest.strip().lower()
    if not sep or role not in Role.__members__ or len(digest) != 64:
        raise OperatorError(
            f"api_keys entry {index} is malformed: expected 'role:sha256' or "
            '{"name", "sha256", "role"} with role reader, writer or admin and a 64-hex digest',
            {"index": index},
        )
    try:
        bytes.fromhex(digest)
    except ValueError as e:
        raise OperatorError(f"api_keys entry {index}: sha256 is not hex") from e
    return ApiKey(name, digest, Role[role])


class KeyRing:
    """The configured keys; `authenticate` turns a presented secret into a Principal."""

    def __init__(self, entries: list[str | dict[str, str]], *, disabled: bool = False) -> None:
        self.keys = [_parse_entry(e, i) for i, e in enumerate(entries)]
        self.disabled = disabled
        if not self.keys and not disabled:
            # `serve` prints this for the command line; an app built elsewhere still logs it
            logger.info("no API keys configured: every authenticated route answers 401")

    def authenticate(self, presented: str | None, client_host: str | None) -> Principal:
        if self.disabled:
            if client_host and _is_ip(client_host) and not is_loopback(client_host):
                raise AuthError("auth is disabled, so only loopback clients are served")
            return Principal("anonymous", Role.admin)
        if not presented:
            raise AuthError(
                "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key'"
            )
        digest = hash_key(presented)
        found: ApiKey | None = None
        for k in self.keys:  # compare against every key: no early exit timing signal
            if hmac.compare_digest(k.sha256, digest):
                found = k
        if found is None:
            raise AuthError("unknown API key")
        return Principal(found.name, found.role)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """`python -m graph_service.api.auth [ROLE] [KEY]`: print a key and its settings entry."""
    args = list(sys.argv[1:] if argv is None else argv)
    role = args.pop(0) if args and args[0] in Role.__members__ else "reader"
    key = args[0] if args else new_key()
    print(f"key:    {key}")
    print(f"entry:  {role}:{hash_key(key)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
