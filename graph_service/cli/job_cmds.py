"""Job commands: sample, demo, up, train, risk, eval, triage, similar, serve."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import typer

from graph_service.cli.app import (
    DbOption,
    app,
    console,
    err_console,
    settings_for,
    store_for,
    training_bar,
)
from graph_service.errors import CallerError

logger = logging.getLogger(__name__)

__all__ = ["eval_app"]

eval_app = typer.Typer(
    help="Measure risk, triage and duplicate detection on labelled cases.", no_args_is_help=True
)
app.add_typer(eval_app, name="eval")


@app.command()
def sample(
    out: Path = typer.Argument(Path(".prodgraph/sample"), help="Output folder."),
    seed: int = typer.Option(7),
    size: str = typer.Option("small", help="tiny, small, medium, large, or a scale factor."),
) -> None:
    """Generate the sample production system (git repo, traces, deployments, tickets, truth)."""
    from sample_system import generate

    manifest = generate(out, seed=seed, size=_size(size))
    console.print(
        f"sample written to {out}: {manifest.commits:,} commits, {manifest.spans:,} spans in "
        f"{len(manifest.traces)} trace files\n"
        f"  prodgraph ingest repo {manifest.repo}\n"
        f"  prodgraph ingest deployments {manifest.deployments}\n"
        f"  prodgraph ingest traces {manifest.traces[0].parent}\n"
        f"  prodgraph ingest tickets {manifest.tickets}\n"
        f"  ground truth: {manifest.ground_truth}",
        highlight=False,
    )


def _size(size: str) -> str | int:
    return int(size) if size.isdigit() else size


@app.command()
def demo(
    size: str = typer.Option("small", help="Sample size."),
    seed: int = typer.Option(7),
    workdir: Path = typer.Option(Path(".prodgraph/demo"), help="Where the sample goes."),
    db: Path | None = DbOption,
) -> None:
    """The main job on the configured store: sample -> every loader -> train -> answers.

    The embedded store goes to WORKDIR/graph.lbug (or --db); with PRODGRAPH_BACKEND=neo4j the
    demo loads into that Neo4j database (empty, or holding an earlier demo).
    """
    from graph_service.cli.demo import run_demo

    settings = settings_for(db)
    if db is None and settings.backend == "ladybug":
        settings = settings.model_copy(update={"db_path": workdir / "graph.lbug"})
    run_demo(settings, workdir, seed=seed, size=_size(size))


@app.command()
def up(
    path: Path = typer.Argument(..., help="A git repository."),
    traces: list[str] = typer.Option(None, "--traces", help="OTLP files or folders."),
    deployments: list[str] = typer.Option(None, "--deployments"),
    tickets: list[str] = typer.Option(None, "--tickets"),
    config: list[str] = typer.Option(None, "--config", help="Manifests, compose, .env files."),
    serve_after: bool = typer.Option(True, "--serve/--no-serve"),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    db: Path | None = DbOption,
) -> None:
    """Point prodgraph at a real repository: load, train when history allows, serve."""
    from graph_service.cli.demo import run_up

    extra = {"traces": traces, "deployments": deployments, "tickets": tickets, "config": config}
    run_up(
        settings_for(db),
        path,
        {k: v for k, v in extra.items() if v},
        serve_after=serve_after,
        host=host,
        port=port,
    )


@app.command()
def train(
    repo: str | None = typer.Option(None, "--repo", help="Only this repository's model."),
    pooled: bool = typer.Option(
        False, "--pooled", help="One model of every repository in the store (default: one each)."
    ),
    db: Path | None = DbOption,
) -> None:
    """Train the risk model on this store (one per repository); writes versioned artefacts
    under model_dir, each recording the store and repositories it was trained on."""
    from models.train import train as train_model
    from models.train import train_all

    settings = settings_for(db)
    with store_for(db) as store, training_bar():
        if repo is not None:
            paths = [train_model(store, settings, repo=repo)]
        else:
            paths = train_all(store, settings, pooled=pooled)
    for path in paths:
        console.print(f"model written to {path}")


@app.command()
def risk(
    rev: str | None = typer.Argument(
        None, help="A commit: sha (or prefix), git ref (HEAD, main~3) or range (main..feature)."
    ),
    diff: str | None = typer.Option(None, "--diff", help="A unified diff file, or '-'."),
    path: list[str] = typer.Option(None, "--path", help="Changed paths or function uids."),
    recent: int | None = typer.Option(
        None, "--recent", min=1, max=200, help="The riskiest of the N most recent code changes."
    ),
    repo: str | None = typer.Option(None, "--repo", help="Repository name (store with several)."),
    repo_path: Path | None = typer.Option(None, "--repo-path", help="Where git resolves refs."),
    as_json: bool = typer.Option(False, "--json", help="The API's JSON instead of a table."),
    db: Path | None = DbOption,
) -> None:
    """Score changes: commits (refs, ranges), the recent riskiest, a diff, or changed paths."""
    from graph_service.cli.risk_view import (
        merged_commits,
        recent_code_commits,
        resolve_revs,
        risk_table,
        to_answers,
    )
    from models import score
    from models.registry import require_latest
    from models.snapshot import SnapshotCache

    settings = settings_for(db)
    with store_for(db, read_only=True) as store:
        model = require_latest(settings, store=store)
        if diff is not None:
            text = _read_text(diff)
            results, title = [score.score_diff(store, model, text)], "proposed change"
        elif path:
            results, title = [score.score_paths(store, model, path)], "proposed change"
        elif recent is not None:
            results = recent_code_commits(
                store, model, recent, SnapshotCache(store).build_now().history
            )
            title = f"riskiest of the {recent} most recent code changes"
        elif rev:
            shas = resolve_revs(store, rev, repo, repo_path)
            title = rev
            merged = merged_commits(store, shas[0], repo, repo_path) if ".." not in rev else None
            if merged is not None:
                title = f"{rev}: merge {shas[0][:10]}, the {len(merged)} commit(s) it merged"
                shas = merged
            warm = SnapshotCache(store).build_now().history if len(shas) > 3 else None
            results = [score.score_commit(store, model, s, history=warm) for s in shas]
        else:
            raise CallerError("give a commit, a ref or range, --recent N, --diff FILE or --path P")
        answers = to_answers(results, model)
        if as_json:
            single = len(answers) == 1 and recent is None and title in (rev, "proposed change")
            print(json.dumps(answers[0] if single else answers, default=str))
        else:
            console.print(risk_table(store, answers, title))


def _print_model(result: Any, as_json: bool) -> None:
    data = result.model_dump(mode="json") if hasattr(result, "model_dump") else result
    if as_json:
        print(json.dumps(data, default=str))
    else:
        console.print_json(json.dumps(data, default=str))


@app.command()
def triage(
    ticket: str = typer.Argument(..., help="Ticket JSON file ({title, body, ...}) or '-'."),
    as_json: bool = typer.Option(False, "--json", help="The whole answer as JSON."),
    evidence: bool = typer.Option(
        False, "--evidence", help="Show each suspect's evidence and the Cypher reproducing it."
    ),
    when: str | None = typer.Option(
        None, "--when", help="Triage as of this time (ISO 8601); default the ticket's `created`."
    ),
    since_days: float | None = typer.Option(
        None, "--since-days", help="Only suspect commits this many days before the ticket."
    ),
    db: Path | None = DbOption,
) -> None:
    """Rank suspect functions, files and commits for a ticket (a table; --evidence, --json)."""
    from graph_service.triage import TicketInput, TriageConfig
    from graph_service.triage import triage as run_triage

    data = _read_json(ticket)
    if when:
        data = {**data, "created": when} if isinstance(data, dict) else data
    settings = settings_for(db)
    config = TriageConfig(commit_since_days=since_days)
    parsed = TicketInput.model_validate(data)
    with store_for(db, read_only=True) as store, err_console.status(
        "triage: reading the graph (a first run builds the code and ticket indexes)"
    ):
        result = run_triage(store, parsed, settings, config)
    if as_json:
        _print_model(result, True)
        return
    from graph_service.triage.render import render_triage

    render_triage(result, console, evidence=evidence)


@app.command()
def similar(
    ticket: str = typer.Argument(..., help="Ticket JSON file or '-'."),
    k: int = typer.Option(10),
    db: Path | None = DbOption,
) -> None:
    """Past tickets most similar to this one (duplicates, same error)."""
    from graph_service.triage import TicketInput
    from graph_service.triage import similar as run_similar

    data = _read_json(ticket)
    with store_for(db, read_only=True) as store:
        results = run_similar(store, TicketInput.model_validate(data), k)
    _print_model({"similar": [r.model_dump(mode="json") for r in results]}, False)


def _read_text(arg: str) -> str:
    """A file's text, or stdin for '-'; a missing or unreadable file is the caller's error."""
    if arg == "-":
        return sys.stdin.read()
    try:
        return Path(arg).read_text()
    except OSError as e:
        raise CallerError(f"{arg}: cannot read it ({e.strerror or e})") from e


def _read_json(arg: str) -> Any:
    text = _read_text(arg)
    try:
        return json.loads(text)
    except ValueError as e:
        raise CallerError(f"{arg}: not valid JSON ({e})") from e


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    db: Path | None = DbOption,
) -> None:
    """Serve the HTTP API (and the OTLP/HTTP receiver at /v1/traces)."""
    from graph_service.api.serve import serve as run_server

    run_server(settings_for(db), host=host, port=port)


@eval_app.command("risk")
def eval_risk(
    repo: Path = typer.Option(..., "--repo", help="A git repository with history."),
    out: Path = typer.Option(
        Path(".prodgraph/eval"),
        help="Report folder: report.md, risk_eval.json, predictions.csv (one row per scored "
        "commit and population, one score column per model).",
    ),
    pool: list[Path] = typer.Option(
        [],
        "--pool",
        help="More repositories to train on (up to each cutoff); windows stay --repo's.",
    ),
    cutoffs: int = typer.Option(5, "--cutoffs", min=2, max=20, help="Rolling test windows."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Rolling time-ordered evaluation of every model on the same splits, on all commits and
    on code-changing ones (the headline), with paired intervals against the default model."""
    from models.evaluate import evaluate_repo, write_predictions
    from models.report import write_report

    settings = settings_for(None)
    result = evaluate_repo(repo, out, settings, pool=pool, cutoffs=cutoffs)
    write_report(result, out)
    write_predictions(result, out / "predictions.csv")
    summary = {k: v for k, v in result.items() if k != "predictions"}
    text = json.dumps(summary, default=str)
    (out / "risk_eval.json").write_text(text)
    if as_json:
        print(text)
    else:
        headline = {k: v for k, v in summary.items() if k not in ("folds", "config")}
        console.print_json(json.dumps(headline, default=str))
        console.print(f"report: {out}/report.md, predictions: {out}/predictions.csv")


@eval_app.command("triage")
def eval_triage(
    cases: Path = typer.Option(..., "--cases"),
    workdir: Path = typer.Option(Path(".prodgraph/eval-triage")),
    as_json: bool = typer.Option(False, "--json"),
    body_text: bool = typer.Option(
        True, "--body-text/--no-body-text", help="Match ticket words against function bodies."
    ),
) -> None:
    """Top-k and MRR of triage (files, functions, commits) on labelled cases, with baselines in
    the same run."""
    from graph_service.triage import TriageConfig
    from graph_service.triage.evaluate import evaluate_triage

    config = TriageConfig(top_k=10, body_text=body_text)
    result = evaluate_triage(cases, workdir, settings_for(None), config=config)
    _print_summary({k: v for k, v in result.items() if k != "per_case"}, as_json)


@eval_app.command("duplicates")
def eval_duplicates(
    cases: Path = typer.Option(..., "--cases", help="pairs.jsonl"),
    pool: Path | None = typer.Option(
        None, "--pool", help="pool.jsonl; default: the cases file's name with 'pairs' -> 'pool'."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Recall@k and MRR of duplicate detection, with TF-IDF in the same run."""
    from graph_service.triage.evaluate import evaluate_duplicates

    result = evaluate_duplicates(cases, pool or _sibling_pool(cases), settings_for(None))
    _print_summary(result, as_json)


def _sibling_pool(cases: Path) -> Path:
    """`x/dup_pairs.jsonl` -> `x/dup_pool.jsonl`; a caller error when there is none."""
    if "pairs" in cases.name:
        pool = cases.with_name(cases.name.replace("pairs", "pool"))
        if pool.exists():
            return pool
        raise CallerError(f"--cases {cases}: no pool file {pool} beside it; give --pool")
    raise CallerError(f"--cases {cases}: give --pool (no 'pairs' in the name to derive it)")


def _print_summary(result: dict[str, Any], as_json: bool) -> None:
    text = json.dumps(result, default=str)
    if as_json:
        print(text)
    else:
        console.print_json(text)


@app.command("hash-key")
def hash_key(
    role: str = typer.Argument("reader", help="reader, writer or admin."),
    key: str | None = typer.Argument(None, help="The key; a new random one when omitted."),
) -> None:
    """Make an API key entry for PRODGRAPH_API_KEYS (only its SHA-256 is stored)."""
    from graph_service.api.auth import main as auth_main

    auth_main([role] + ([key] if key else []))
