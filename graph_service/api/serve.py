"""`serve(settings, host, port)`: run the service under uvicorn, refusing unsafe setups."""

from __future__ import annotations

import logging

from graph_service.api.auth import is_loopback
from graph_service.errors import OperatorError
from graph_service.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["AUTH_DISABLED_WARNING", "check_bind", "serve"]

AUTH_DISABLED_WARNING = (
    "authentication is DISABLED (PRODGRAPH_AUTH_DISABLED=true): every local process can read, "
    "write and administer this graph; serving on loopback only"
)


def check_bind(settings: Settings, host: str) -> str | None:
    """Refuse a non-loopback bind without auth; the warning to print when auth is off."""
    if settings.auth_disabled:
        if not is_loopback(host):
            raise OperatorError(
                f"auth is disabled, so the service may only bind to loopback (not {host!r}): "
                "bind 127.0.0.1, or configure PRODGRAPH_API_KEYS and enable auth",
                {"host": host},
            )
        return AUTH_DISABLED_WARNING
    if not settings.api_keys:
        return "no API keys configured (PRODGRAPH_API_KEYS): every /v1 request will get 401"
    return None


def serve(
    settings: Settings, host: str = "127.0.0.1", port: int = 8000, *, log_level: str = "info"
) -> None:
    """Run the API until interrupted (one process: it owns the embedded store)."""
    import sys

    import uvicorn

    from graph_service.api.app import create_app
    from graph_service.store import open_store

    # short requests (point queries) wait for the GIL behind CPU-bound ones (risk scoring,
    # snapshot builds): hand it over every 1 ms instead of Python's default 5 ms
    sys.setswitchinterval(0.001)

    warning = check_bind(settings, host)
    if warning:  # printed once, here; the log keeps it at info level
        logger.info(warning)
        print(f"WARNING: {warning}", flush=True)
    # open the store before the server starts, so a locked or mismatched store is one clear
    # error from the command instead of a failed lifespan
    store = open_store(settings, create=True)
    try:
        uvicorn.run(
            create_app(settings, store=store),
            host=host,
            port=port,
            log_level=log_level,
            workers=1,
            proxy_headers=False,
            timeout_keep_alive=75,  # longer than typical client and load-balancer idle times
            server_header=False,
        )
    finally:
        store.close()
