"""The main job end to end: `prodgraph demo` on the sample system and `prodgraph up` on a repo."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from rich.panel import Panel
from rich.table import Table

from graph_service.cli.app import console, training_bar
from graph_service.cli.ingest_cmds import make_loader, print_report, run_loader
from graph_service.cli.story import show_recent, tell_backtest
from graph_service.errors import CallerError
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from loaders.base import LoadReport

logger = logging.getLogger(__name__)

__all__ = ["load_sources", "local_serving", "run_demo", "run_up", "summarise_counts"]

MIN_LABELLED_COMMITS = 10


def load_sources(
    store: GraphStore,
    settings: Settings,
    sources: list[tuple[str, list[str], dict[str, str]]],
    *,
    verbose: bool = False,
) -> list[LoadReport]:
    """Run each (source, paths, options) loader in order, printing a one-line report each."""
    reports = []
    for source, paths, options in sources:
        loader = make_loader(source, paths, settings, options)
        report = run_loader(store, loader)
        reports.append(report)
        if verbose:
            print_report(report)
        else:
            rows = sum(report.written.values())
            problems = len(report.skipped) + len(report.failed_batches)
            note = f", [yellow]{problems} skipped/failed[/]" if problems else ""
            console.print(
                f"  [green]✓[/] {source:<12} {rows:>9,} rows in "
                f"{report.stats.get('seconds', 0):>6.1f} s{note}"
            )
    return reports


def summarise_counts(store: GraphStore) -> None:
    counts = store.counts()
    table = Table("nodes", "", "relationships", "", title="the context graph", box=None)
    nodes = [(k, v) for k, v in counts["nodes"].items() if v]
    edges = [(k, v) for k, v in counts["edges"].items() if v]
    for i in range(max(len(nodes), len(edges))):
        n = nodes[i] if i < len(nodes) else ("", "")
        e = edges[i] if i < len(edges) else ("", "")
        table.add_row(
            n[0], f"{n[1]:,}" if n[1] != "" else "", e[0], f"{e[1]:,}" if e[1] != "" else ""
        )
    console.print(table)


def run_demo(settings: Settings, workdir: Path, *, seed: int, size: str | int) -> None:
    """Generate (or reuse) the sample, load it, train, and show what the graph answers."""
    from sample_system import generate

    start = time.perf_counter()
    console.rule("[bold]prodgraph demo")
    console.print(f"1. sample system (seed {seed}, size {size}) in {workdir}")
    manifest = generate(workdir / "sample", seed=seed, size=size)
    if settings.backend == "neo4j":
        where = f"Neo4j at {settings.neo4j_uri} (database {settings.neo4j_database or 'default'})"
    else:
        where = f"the embedded store {settings.db_path}"
        if settings.db_path.exists():
            shutil.rmtree(settings.db_path, ignore_errors=True)
            if settings.db_path.exists():
                settings.db_path.unlink()
    console.print(f"2. loading six sources into {where}")
    store = open_store(settings, create=True)
    try:
        if settings.backend == "neo4j":
            _fresh_neo4j(store, settings)
        repo = str(manifest.repo)
        load_sources(
            store,
            settings,
            [
                ("code", [repo], {"repo": "shop"}),
                ("config", [repo], {}),
                ("git", [repo], {"repo": "shop"}),
                ("deployments", [str(manifest.deployments)], {"repo": "shop"}),
                ("traces", [str(p) for p in manifest.traces], {}),
                ("tickets", [str(manifest.tickets)], {}),
            ],
        )
        summarise_counts(store)
        console.print("3. the risk model, backtested: trained with what was known at a cutoff")
        tell_backtest(console, store, manifest.ground_truth)
        console.print("  then trained on all history, for serving")
        model = _train(store, settings)
        if model is not None:
            show_recent(console, store, model)
        _show_triage(store, settings)
        _show_named_query(store)
    finally:
        store.close()
    db = f"--db {settings.db_path}" if settings.backend == "ladybug" else ""
    console.print(
        Panel(
            f"PRODGRAPH_AUTH_DISABLED=true prodgraph serve {db}   # local API (docs/api.md)\n"
            "  then open http://127.0.0.1:8000/   # the explorer (query, service map, risk)\n"
            f'prodgraph query {db} "MATCH ..."   # read-only Cypher (docs/cypher.md)\n'
            "prodgraph queries / prodgraph run    # the named query library\n"
            "prodgraph up PATH/TO/YOUR/REPO       # the same on your own repository\n"
            "notebooks/explore.ipynb              # DataFrames, pictures, PyG export",
            title="where to go next",
            expand=False,
        )
    )
    console.print(f"demo finished in {time.perf_counter() - start:.0f} s")


def _fresh_neo4j(store: Any, settings: Settings) -> None:
    """Empty the Neo4j database for the demo, but only when it holds nothing or a demo."""
    held = store.data_nodes()
    if held and store.meta("demo") is None:
        raise CallerError(
            f"the Neo4j database at {settings.neo4j_uri} holds {held:,} nodes that no demo "
            "loaded: the demo needs an empty database. Point PRODGRAPH_NEO4J_DATABASE at an "
            "empty one, or empty this one yourself, or run the demo on the embedded store "
            "(PRODGRAPH_BACKEND=ladybug)."
        )
    if held:
        console.print(f"  removing the earlier demo ({held:,} nodes)")
        store.delete_all()
    store.set_meta("demo", "sample")


def _train(store: GraphStore, settings: Settings) -> Any:
    from models.registry import load
    from models.train import train as train_model

    with training_bar():
        path = train_model(store, settings)
    console.print(f"  [green]✓[/] model written to {path}")
    return load(path)


def _show_triage(store: GraphStore, settings: Settings) -> None:
    from graph_service.triage import TicketInput, triage

    rows = store.query(
        "MATCH (t:Ticket) WHERE t.kind = 'bug' AND t.body CONTAINS 'Traceback' "
        "RETURN t.key AS key, t.title AS title, t.body AS body, t.created_at AS created "
        "ORDER BY created DESC LIMIT 1"
    ).rows()
    if not rows:
        return
    t = rows[0]
    console.print(f"4. triage of ticket #{t['key']}: {t['title']}")
    result = triage(
        store, TicketInput(title=t["title"], body=t["body"], created=t["created"]), settings
    )
    try:
        from graph_service.triage.render import render_triage

        render_triage(result, console, evidence=False)
    except ImportError:
        console.print(result)


def _show_named_query(store: GraphStore) -> None:
    from graph_service.queries import run_named

    console.print("5. named query [bold]hotspots_bugs[/]: the code most linked to bugs")
    result = run_named(store, "hotspots_bugs", {})
    table = Table(*result.columns)
    for row in result.rows()[:8]:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)


def run_up(
    settings: Settings,
    path: Path,
    extra: dict[str, list[str]],
    *,
    serve_after: bool,
    host: str,
    port: int,
) -> None:
    """Load a real repository (+ optional runtime files), train when history allows, serve."""
    repo = path.resolve().name
    store = open_store(settings, create=True)
    try:
        sources: list[tuple[str, list[str], dict[str, str]]] = [
            ("code", [str(path)], {"repo": repo}),
            ("git", [str(path)], {"repo": repo}),
        ]
        for source in ("deployments", "traces", "tickets", "config"):
            if extra.get(source):  # tickets and traces name no repository
                options = {"repo": repo} if source in ("deployments", "config") else {}
                sources.append((source, extra[source], options))
        load_sources(store, settings, sources, verbose=True)
        summarise_counts(store)
        labelled = store.query(
            "MATCH (c:Commit)-[:INDUCED]->(:Commit) RETURN count(DISTINCT c) AS n"
        ).rows()[0]["n"]
        model = None
        if labelled < MIN_LABELLED_COMMITS:
            console.print(
                f"[yellow]not training the risk model: only {labelled} bug-introducing "
                f"commits are known (need {MIN_LABELLED_COMMITS}); load more history or "
                "tickets linked to fixes[/]"
            )
        else:
            model = _train(store, settings)
        console.rule("[bold]summary")
        console.print(_loaded(store, repo))
        if model is not None:
            console.print("the risk model, backtested: trained with what was known at a cutoff")
            tell_backtest(console, store)
            show_recent(console, store, model)
    finally:
        store.close()
    if serve_after:
        from graph_service.api.serve import serve

        settings = local_serving(settings, host)
        console.print(f"\n[bold]open http://{_url_host(host)}:{port}/[/] (Ctrl-C stops)")
        serve(settings, host=host, port=port)
    else:
        db = f" --db {settings.db_path}" if settings.backend == "ladybug" else ""
        console.print(f"serve it: prodgraph serve{db}")


_LOADED = (
    ("Commit", "commits"),
    ("File", "files"),
    ("Function", "functions"),
    ("Deployment", "deployments"),
    ("Operation", "operations"),
    ("Ticket", "tickets"),
)


def _loaded(store: GraphStore, repo: str) -> str:
    """One line: what the graph now holds of the loaded sources."""
    nodes = store.counts()["nodes"]
    held = [f"{nodes[k]:,} {name}" for k, name in _LOADED if nodes.get(k)]
    return f"loaded {repo}: " + (", ".join(held) or "nothing")


def local_serving(settings: Settings, host: str) -> Settings:
    """`up` is the one-person command: no keys needed on loopback, one printed key elsewhere.

    With keys configured nothing changes. Without keys, a loopback bind serves with auth off
    (the same rules as PRODGRAPH_AUTH_DISABLED=true: loopback Host and Origin only); any other
    bind gets a new admin key, printed once and kept only as its hash.
    """
    from graph_service.api.auth import hash_key, is_loopback, new_key

    if settings.api_keys or settings.auth_disabled:
        return settings
    if is_loopback(host):
        console.print("serving on loopback without API keys (local use only)")
        return settings.model_copy(update={"auth_disabled": True})
    key = new_key()
    console.print(
        f"[bold]API key for this run[/] (admin; not stored, only its hash): {key}\n"
        "  send it as 'Authorization: Bearer <key>'; the explorer asks for it once"
    )
    return settings.model_copy(update={"api_keys": [f"admin:{hash_key(key)}"]})


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
