"""The typer application, shared options and the one place CLI errors are printed."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from graph_service.errors import ProdgraphError

if TYPE_CHECKING:  # the settings and store stacks (pydantic, pyarrow) load on first use
    from graph_service.settings import Settings
    from graph_service.store import GraphStore

logger = logging.getLogger(__name__)

__all__ = [
    "app",
    "console",
    "err_console",
    "main",
    "parse_params",
    "settings_for",
    "store_for",
    "training_bar",
]

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


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            console.print(f"prodgraph {version('prodgraph')}", highlight=False)
        except PackageNotFoundError:  # running from a source tree that was never installed
            console.print("prodgraph (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True,
        callback=_print_version,
    ),
) -> None:
    """An engineering context graph: code, history, deployments, traces and tickets."""


def settings_for(db: Path | None) -> Settings:
    """Settings from the environment, with `--db` taking precedence for the embedded store."""
    from graph_service.settings import Settings

    settings = Settings()
    if db is not None:
        settings = settings.model_copy(update={"db_path": db, "backend": "ladybug"})
    return settings


@contextmanager
def store_for(
    db: Path | None, *, create: bool = False, read_only: bool = False
) -> Iterator[GraphStore]:
    from graph_service.store import open_store

    settings = settings_for(db)
    store = open_store(settings, create=create, read_only=read_only)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def training_bar(what: str = "training the risk model") -> Iterator[None]:
    """A progress bar over the risk model's epochs (each model trained inside the block)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from models.train import training_progress

    with Progress(
        f"[bold]{what}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task(what, total=None)

        def epoch(done: int, most: int) -> None:
            progress.update(task, completed=done, total=most)

        with training_progress(epoch):
            yield


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
    _plain_help_types()
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


_HELP_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH", "Path": "PATH"}


def _help_type(param: Any, ctx: Any) -> str | None:
    """Click's type names in `--help` (TEXT, INTEGER, PATH); flags show none."""
    if getattr(param, "is_flag", False):
        return None
    shown = str(param.display_type(ctx)).strip("<>")
    repeated = shown.startswith("list[")
    inner = shown.removeprefix("list[").removesuffix("]") if repeated else shown
    name = _HELP_TYPES.get(inner, inner.upper())
    return f"{name} (repeatable)" if repeated else name


def _plain_help_types() -> None:
    """typer 0.29 prints Python annotations (`<bool>`, `<list[str]>`); show real types."""
    try:
        from typer.core import TyperArgument, TyperOption
    except ImportError:  # pragma: no cover - older typer prints click's names already
        return
    for cls in (TyperArgument, TyperOption):
        if hasattr(cls, "display_type_rich"):
            cls.display_type_rich = _help_type  # type: ignore[method-assign,assignment]


def _register() -> None:
    """Import the command modules (they attach themselves to `app`)."""
    from graph_service.cli import export_cmds, ingest_cmds, store_cmds  # noqa: F401

    try:
        from graph_service.cli import job_cmds  # noqa: F401
    except ImportError as e:  # pragma: no cover - optional parts not installed
        logger.debug("job commands unavailable: %s", e)
