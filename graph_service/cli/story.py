"""What `demo` and `up` tell after training: the backtest against lines added, in 80 columns."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.table import Table

from graph_service.errors import OperatorError
from graph_service.store.base import GraphReader

__all__ = ["graph_fate", "show_backtest", "show_recent", "tell_backtest", "truth_fate"]

DAY = 86_400.0
TOP = 5

# what really happened to one commit of the window (full sha -> text), and which were bugs
Fate = tuple[Callable[[str], str], set[str]]

_FIXES = (
    "UNWIND $shas AS s MATCH (c:Commit {sha: s})-[:INDUCED]->(f:Commit) "
    "RETURN c.sha AS sha, f.sha AS fix, f.authored_at AS t ORDER BY t"
)


def _days(a: float, b: float) -> str:
    d = (b - a) / DAY
    return f"{d:.1f} days" if d < 10 else f"{d:.0f} days"


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def truth_fate(ground_truth: Path) -> Fate:
    """The sample's own answer key (and its tickets.json beside it, for when each bug was
    reported): each introducing commit's bug, ticket, fix and release."""
    data = json.loads(ground_truth.read_text())
    bugs = {b["introducing_commit"]: b for b in data.get("bugs", [])}
    listed = ground_truth.with_name("tickets.json")
    raw = json.loads(listed.read_text()) if listed.exists() else []
    tickets = {t.get("number"): t for t in raw if isinstance(t, dict)}

    def fate(sha: str) -> str:
        b = bugs.get(sha)
        if b is None:
            return "no bug found"
        ticket = tickets.get(b.get("primary_ticket"), {})
        found_at = ticket.get("created_at") or b["fixed_at"]
        shipped = b.get("shipped_by_deployments") or []
        where = f", shipped in {shipped[0]}" if shipped else ""
        return (
            f"introduced bug {b['key']}: ticket #{b['primary_ticket']}, found "
            f"{_days(_ts(b['introduced_at']), _ts(found_at))} later, fixed by "
            f"{b['fixing_commit'][:8]}{where}"
        )

    return fate, set(bugs)


def graph_fate(store: GraphReader, bt: Any) -> Fate:
    """What the graph knows today about the window's commits (INDUCED: the fix that found it)."""
    rows = store.query(_FIXES, {"shas": bt.shas}).rows()
    fixes: dict[str, tuple[str, float | None]] = {}
    for r in rows:
        fixes.setdefault(r["sha"], (r["fix"], r["t"]))
    when = dict(zip(bt.shas, bt.t.tolist(), strict=True))
    known = dict(zip(bt.shas, bt.bug_known_at.tolist(), strict=True))

    def fate(sha: str) -> str:
        if sha not in fixes and not math.isfinite(known.get(sha, math.inf)):
            return "no bug found"
        fix, _ = fixes.get(sha, ("?", None))
        later = known.get(sha, math.inf)
        after = f" {_days(when[sha], later)} later" if math.isfinite(later) else ""
        return f"introduced a bug: fix {fix[:8]} known{after}"

    return fate, set(fixes) | bt.known_buggy()


def show_backtest(console: Console, bt: Any, fate: Fate, title: str) -> None:
    """The model's top 5 of the window with what happened to them, and the baseline line."""
    describe, buggy = fate
    cut = datetime.fromtimestamp(bt.cutoff, UTC).strftime("%Y-%m-%d %H:%M")
    console.print(
        Padding(
            f"trained as of {cut} UTC on {bt.train_commits} commits ({bt.train_bugs} bugs known "
            f"then), then scored the next {len(bt.shas)} code changes. {bt.rule}",
            (0, 0, 0, 2),
            expand=False,
        )
    )
    table = Table(title=title, show_lines=True)
    table.add_column("#", no_wrap=True, justify="right")
    table.add_column("commit", no_wrap=True, max_width=8)
    table.add_column("risk", no_wrap=True, justify="right")
    table.add_column("+lines", no_wrap=True, justify="right")
    table.add_column("what happened later", overflow="fold", max_width=50)
    for rank, i in enumerate(bt.top(TOP), start=1):
        table.add_row(
            str(rank),
            bt.shas[i][:8],
            f"{bt.risk[i]:.1%}",
            f"{int(bt.lines_added[i]):,}",
            describe(bt.shas[i]),
        )
    console.print(table)
    real = len(buggy & set(bt.shas))
    console.print(
        Padding(
            f"Of the window's {real} real bugs, the model's top {TOP} holds "
            f"{bt.hits(buggy, TOP)}; the top {TOP} by lines added (the baseline) holds "
            f"{bt.hits(buggy, TOP, by='lines_added')}.",
            (0, 0, 0, 2),
            expand=False,
        )
    )


def tell_backtest(
    console: Console, store: GraphReader, ground_truth: Path | None = None, window: int = 30
) -> Any:
    """Backtest the risk model on `store` and show it; the outcome from `ground_truth` when
    given (the sample's answer key), else from the graph. None when the history is too short."""
    from graph_service.cli.app import training_bar
    from models.backtest import backtest

    try:
        with training_bar("training as of the cutoff"):
            bt = backtest(store, window)
    except OperatorError as e:
        console.print(f"  [yellow]no backtest: {e}[/]")
        return None
    fate = truth_fate(ground_truth) if ground_truth else graph_fate(store, bt)
    show_backtest(console, bt, fate, f"backtest: the model's top {TOP} of those changes")
    return bt


def show_recent(console: Console, store: GraphReader, model: Any, n: int = 5) -> None:
    """The final model's riskiest recent code-changing commits, in 80 columns."""
    from graph_service.cli.risk_view import recent_code_commits, risk_table, to_answers
    from models.snapshot import SnapshotCache

    history = SnapshotCache(store).build_now().history  # one index for all the scores
    found = recent_code_commits(store, model, n, history)
    if not found:
        console.print("  no recent code-changing commits to score")
        return
    title = f"riskiest of the {len(found)} most recent code changes (their bugs: not found yet)"
    console.print(risk_table(store, to_answers(found, model), title))
