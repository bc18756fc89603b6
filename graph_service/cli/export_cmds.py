"""Export commands: the store as input for other tools (`prodgraph export neo4j-import`)."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.table import Table

from graph_service.cli.app import DbOption, app, console, store_for

logger = logging.getLogger(__name__)

__all__ = ["export_app"]

export_app = typer.Typer(help="Write the store in other tools' formats.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("neo4j-import")
def neo4j_import(
    out_dir: Path = typer.Argument(..., help="A new or empty folder for the files."),
    db: Path | None = DbOption,
) -> None:
    """CSV files + script for `neo4j-admin database import full` (a first load of a large graph
    into Neo4j), and the constraints to run after it."""
    from graph_service.store.neo4j_import import export_neo4j_import

    with store_for(db, read_only=True) as store:
        out = export_neo4j_import(store, out_dir)
    table = Table("kind", "name", "rows", title=f"neo4j-admin import files in {out_dir}")
    for name, n in out.nodes.items():
        table.add_row("nodes", name, f"{n:,}")
    for name, n in out.relationships.items():
        if n:
            table.add_row("relationships", name, f"{n:,}")
    console.print(table)
    console.print(
        f"next: stop the database, run {out_dir / 'import.sh'} [DATABASE] on the Neo4j server, "
        f"start it, then cypher-shell -f {out_dir / 'constraints.cypher'}"
    )
