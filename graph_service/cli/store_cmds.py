"""Store commands: init, stats, schema, query, queries, run."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from graph_service.cli.app import DbOption, app, console, parse_params, store_for

if TYPE_CHECKING:  # the schema and store stacks (pyarrow) load when a command runs
    from graph_service.store import QueryResult

logger = logging.getLogger(__name__)

__all__ = ["print_result"]


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command()
def init(db: Path | None = DbOption) -> None:
    """Create the store, or upgrade it to this version's schema (idempotent)."""
    with store_for(db, create=True) as store:
        from graph_service.schema import SCHEMA_VERSION

        console.print(f"store ready ({store.backend}), schema version {SCHEMA_VERSION}")


@app.command()
def stats(db: Path | None = DbOption, as_json: bool = typer.Option(False, "--json")) -> None:
    """Counts per node label and relationship type."""
    with store_for(db, read_only=True) as store:
        counts = store.counts()
    if as_json:
        print(json.dumps(counts))
        return
    table = Table("kind", "name", "count", title="prodgraph")
    for kind in ("nodes", "edges"):
        for name, n in counts[kind].items():
            table.add_row(kind, name, f"{n:,}")
    console.print(table)


@app.command("schema")
def schema_cmd(
    markdown: bool = typer.Option(False, "--markdown", help="docs/schema.md text."),
) -> None:
    """Print the schema catalogue as JSON (or the analysts' markdown)."""
    from graph_service.schema_doc import catalog, render_markdown

    print(render_markdown() if markdown else json.dumps(catalog(), indent=2))


@app.command()
def query(
    cypher: str = typer.Argument(..., help="Read-only Cypher; '-' reads it from stdin."),
    param: list[str] = typer.Option(None, "--param", "-p", help="key=value (JSON values ok)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    timeout: float | None = typer.Option(None, help="Seconds (default from settings)."),
    limit: int | None = typer.Option(None, help="Row cap (default from settings)."),
    db: Path | None = DbOption,
) -> None:
    """Run a read-only Cypher query against the active backend."""
    from graph_service.cli.app import settings_for

    text = sys.stdin.read() if cypher == "-" else cypher
    settings = settings_for(db)
    with store_for(db, read_only=True) as store:
        result = store.query(
            text,
            parse_params(param),
            timeout_s=timeout or settings.query_timeout_s,
            row_cap=limit or settings.query_row_cap,
        )
    print_result(result, fmt)


@app.command()
def queries() -> None:
    """List the named queries of the library."""
    from graph_service.queries import load_library

    table = Table("name", "parameters", "description")
    for q in load_library().values():
        table.add_row(q.name, ", ".join(p.name for p in q.params), q.description)
    console.print(table)


@app.command()
def run(
    name: str,
    param: list[str] = typer.Option(None, "--param", "-p", help="key=value"),
    fmt: Format = typer.Option(Format.table, "--format", "-f"),
    db: Path | None = DbOption,
) -> None:
    """Run a named query with parameters."""
    from graph_service.cli.app import settings_for
    from graph_service.queries import run_named

    settings = settings_for(db)
    raw = dict(p.partition("=")[::2] for p in (param or []))
    with store_for(db, read_only=True) as store:
        result = run_named(
            store, name, raw, timeout_s=settings.query_timeout_s, row_cap=settings.query_row_cap
        )
    print_result(result, fmt)


@app.command()
def find(
    name: str = typer.Argument(..., help="A name, qualified name or its tail: Client.send."),
    limit: int = typer.Option(10, "--limit", "-n", help="Rows to show."),
    as_json: bool = typer.Option(False, "--json"),
    db: Path | None = DbOption,
) -> None:
    """Find functions and classes by name (the uid to give `run`, `risk` and the API)."""
    from graph_service.cli.app import settings_for
    from graph_service.queries import find_symbols

    settings = settings_for(db)
    with store_for(db, read_only=True) as store:
        rows = find_symbols(store, name, limit=limit, timeout_s=settings.query_timeout_s)
    if as_json:
        print(json.dumps(rows, default=_json_value))
        return
    if not rows:
        console.print(f"no function or class matches {name!r}")
        return
    # one match per block, the uid whole on its own line (a table column would cut it to the
    # terminal's width, and the uid is what `run`, `risk` and the API take)
    console.print(f"{len(rows)} matches for {name!r}", highlight=False, markup=False)
    for r in rows:
        where = "no longer in the code" if r["gone"] else f"{r['path']}:{r['line']}"
        console.print(
            f"\n{r['label']} {r['qualname']}  ({where})\n  {r['uid']}",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )


def print_result(result: QueryResult, fmt: Format) -> None:
    if fmt is Format.json:
        print(
            json.dumps(
                {"columns": result.columns, "rows": result.rows(), "truncated": result.truncated},
                default=_json_value,
            )
        )
        return
    if fmt is Format.csv:
        result.to_pandas().to_csv(sys.stdout, index=False)
        return
    table = Table()
    for name in result.columns:  # a long value wraps inside its cell, never cut to "…"
        table.add_column(name, overflow="fold")
    for row in result.table.to_pylist():
        table.add_row(*(_cell(v) for v in row.values()))
    console.print(table)
    note = " (truncated by the row cap)" if result.truncated else ""
    console.print(f"{result.table.num_rows} rows in {result.elapsed_ms:.1f} ms{note}")


def _json_value(v: object) -> object:
    """JSON for values json cannot encode: ISO 8601 times (as the API writes them), else text."""
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    return str(v)


def _cell(v: object) -> str:
    """A value as a table shows it: "—" for nothing (null, NaN, an empty list), a list's items
    joined by commas (not Python's repr), a map as JSON."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, dict):
        return json.dumps({k: x for k, x in v.items() if not k.startswith("_")}, default=str)
    if isinstance(v, (list, tuple)):
        return ", ".join(_cell(x) for x in v) if v else "—"
    return str(v)
