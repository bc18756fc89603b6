"""The typer application, shared options and the one place CLI errors are printed."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from graph_service.errors import ProdgraphError
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store

logger = logging.getLogger(__name__)

__all__ = ["app", "console", "err_console", "main", "parse_params", "settings_for", "store_for"]

app = typer.Typer(
    name="prodgraph",
    help="An engineering context graph: code, history, deployments, traces and tickets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

DbOption = typer.Option(None, "--db", help="Embedded store path (default: PRODGRAPH_DB_PATH).")


def settings_for(db: Path | None) -> Settings:
    """Settings from the environment, with `--db` taking precedence for the embedded store."""
    settings = Settings()
    if db is not None:
        settings = settings.model_copy(update={"db_path": db, "backend": "ladybug"})
    return settings


@contextmanager
def store_for(
    db: Path | None, *, create: bool = False, read_only: bool = False
) -> Iterator[GraphStore]:
    settings = settings_for(db)
    store = open_store(settings, create=create, read_only=read_only)
    try:
        yield store
    finally:
        store.close()


def parse_params(pairs: list[str] | None) -> dict[str, Any]:
    """`k=v` pairs; values that parse as JSON (numbers, lists, true) keep that type."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--param expects key=value, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def main() -> None:
    """Entry point: run the app; project errors print one line and exit non-zero."""
    level = os.environ.get("PRODGRAPH_LOG", "warning").upper()
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    _register()
    try:
        app()
    except ProdgraphError as e:
        err_console.print(f"[bold red]error:[/] {e.message}", highlight=False, soft_wrap=True)
        sys.exit(2 if e.status_code < 500 else 1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as e:  # a bug: one line for the user, the traceback in the log
        logger.debug("unexpected error", exc_info=True)
        err_console.print(
            f"[bold red]internal error:[/] {type(e).__name__}: {e} "
            "(run with PRODGRAPH_LOG=debug for the traceback)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)


def _register() -> None:
    """Import the command modules (they attach themselves to `app`)."""
    from graph_service.cli import ingest_cmds, store_cmds  # noqa: F401

    try:
        from graph_service.cli import job_cmds  # noqa: F401
    except ImportError as e:  # pragma: no cover - optional parts not installed
        logger.debug("job commands unavailable: %s", e)
