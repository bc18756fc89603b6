"""`prodgraph ingest SOURCE PATH...`: run a loader into the store with progress and a report."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from graph_service.cli.app import DbOption, app, console, settings_for, store_for
from loaders.registry import SOURCES, make_loader

if TYPE_CHECKING:  # the store and batch stacks (pyarrow, numpy) load when a command runs
    from graph_service.store import GraphStore
    from loaders.base import Loader, LoadReport

logger = logging.getLogger(__name__)

__all__ = ["SOURCES", "make_loader", "print_report", "run_loader"]

def run_loader(store: GraphStore, loader: Loader, *, quiet: bool = False) -> LoadReport:
    """Ingest with a live progress line of rows written so far."""
    from graph_service.ingest import CRASH_AFTER_ENV, crash_point, ingest, new_run_id

    run_id = new_run_id()
    crash_after = crash_point(loader.name, os.environ.get(CRASH_AFTER_ENV))
    if quiet:
        return ingest(store, loader, run_id=run_id, crash_after=crash_after)
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"ingest {loader.name}", total=None, rows=0)

        def on_batch(report: LoadReport) -> None:
            progress.update(task, rows=sum(report.written.values()))

        return ingest(store, loader, run_id=run_id, on_batch=on_batch, crash_after=crash_after)


def print_report(report: LoadReport) -> None:
    table = Table(
        "written",
        "rows",
        title=f"{report.source}: load report ({report.stats.get('seconds', 0)} s)",
    )
    changes = {name: n for name, n in report.written.items() if n}
    if not changes:
        console.print(f"{report.source}: nothing changed ({report.stats.get('seconds', 0)} s)")
    for name, n in sorted(changes.items()):
        missing = report.missing_endpoints.get(name)
        table.add_row(
            name, f"{n:,}" + (f" ({missing:,} with a missing endpoint)" if missing else "")
        )
    if changes:
        console.print(table)
    for title, problems in (
        ("skipped", report.skipped),
        ("failed batches", report.failed_batches),
        ("warnings", report.warnings),
    ):
        if problems:
            console.print(f"[yellow]{len(problems)} {title}[/]")
            for p in problems[:20]:
                console.print(f"  {p}", highlight=False)
            if len(problems) > 20:
                console.print(f"  ... and {len(problems) - 20} more")


def _nothing_loaded(report: LoadReport) -> bool:
    """True when input was given but none of it could be loaded (a no-op re-run is fine)."""
    if sum(report.written.values()) or report.stats.get("files_unchanged"):
        return False
    return bool(report.failed_batches or (report.skipped and not report.extracted))


def scoped_options(options: dict[str, str], source: str, sources: list[str]) -> dict[str, str]:
    """`-o key=v` goes to every loader; `-o git.key=v` only to the git loader."""
    out = {}
    for key, value in options.items():
        scope, dot, name = key.partition(".")
        if dot and scope in SOURCES:
            if scope == source:
                out[name] = value
        elif key != "since" or source == "git" or len(sources) == 1:
            out[key] = value
    return out


@app.command("ingest")
def ingest_cmd(
    source: str = typer.Argument(
        ..., help="code, git, repo (code + git), " + ", ".join(SOURCES[2:])
    ),
    paths: list[str] = typer.Argument(..., help="Files, folders, globs, or '-' for stdin."),
    option: list[str] = typer.Option(
        None, "--option", "-o", help="Loader option key=value (source.key=value for one loader)."
    ),
    since: str | None = typer.Option(None, help="git: only commits after this revision."),
    db: Path | None = DbOption,
) -> None:
    """Load a source into the graph; exits non-zero only when nothing could be loaded."""
    settings = settings_for(db)
    options = dict(o.partition("=")[::2] for o in (option or []))
    if since:
        options["since"] = since
    sources = ["code", "git"] if source == "repo" else [source]
    reports = []
    with store_for(db, create=True) as store:
        for src in sources:
            loader = make_loader(src, paths, settings, scoped_options(options, src, sources))
            report = run_loader(store, loader)
            print_report(report)
            reports.append(report)
    if all(_nothing_loaded(r) for r in reports):
        console.print("[red]nothing could be loaded[/]")
        raise typer.Exit(1)
