"""Rich rendering of triage results for the command line."""

from __future__ import annotations

import logging

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from graph_service.triage.models import SeenBefore, SimilarTicket, Suspect, TriageResult

logger = logging.getLogger(__name__)

__all__ = ["render_seen_before", "render_similar", "render_triage"]


def _suspects(title: str, rows: list[Suspect], evidence: bool) -> Table:
    table = Table(title=title, show_lines=evidence)
    for col in ("#", "score", "suspect", "signals"):
        table.add_column(col, overflow="fold")
    if evidence:
        table.add_column("evidence (reproduce with the Cypher)", overflow="fold")
    for i, s in enumerate(rows, 1):
        signals = ", ".join(
            f"{k}={v:.2f}" for k, v in sorted(s.signals.items(), key=lambda kv: -kv[1])
        )
        cells = [str(i), f"{s.score:.2f}", s.name or s.uid, signals]
        if evidence:
            cells.append("\n".join(f"{e.detail}\n  {e.cypher} {e.params}" for e in s.evidence[:3]))
        table.add_row(*cells)
    return table


def render_similar(rows: list[SimilarTicket]) -> Table:
    table = Table(title="Similar past tickets")
    for col in ("score", "ticket", "title", "signals", "fixed by"):
        table.add_column(col, overflow="fold")
    for s in rows:
        fixes = ", ".join(f.sha[:10] for f in s.fixes)
        signals = ", ".join(f"{k}={v:.2f}" for k, v in s.signals.items())
        table.add_row(f"{s.score:.2f}", s.key or s.uid, s.title, signals, fixes)
    return table


def render_seen_before(seen: SeenBefore) -> Panel:
    if not seen.fingerprint:
        return Panel("No stack trace: nothing to fingerprint.", title="Seen before")
    lines = [f"fingerprint {seen.fingerprint}: " + ("known" if seen.known else "new")]
    if seen.signature:
        sig = seen.signature
        lines.append(
            f"{sig.type}: {sig.message_template} (first {sig.first_seen}, last {sig.last_seen})"
        )
    lines += [f"ticket {t.key or t.uid}: {t.title}" for t in seen.tickets]
    lines += [f"fixed by {f.sha[:10]} {f.summary}" for f in seen.fixes]
    if seen.regression:
        lines.append(f"[bold red]REGRESSION[/]: {seen.regression_detail}")
    return Panel("\n".join(lines), title="Seen before")


def render_triage(
    result: TriageResult, console: Console | None = None, evidence: bool = True
) -> None:
    """Print suspects, owners, similar tickets and the seen-before verdict."""
    console = console or Console()
    t = result.ticket
    head = f"{t.error_type or 'no error type'} {t.message[:120]}  frames={len(t.frames)}"
    parts: list[object] = [
        Panel(head, title=f"Ticket (scorer: {result.scorer}, {result.elapsed_ms:.0f} ms)")
    ]
    parts.append(_suspects("Suspect functions", result.functions, evidence))
    parts.append(_suspects("Suspect files", result.files, False))
    parts.append(_suspects("Suspect commits", result.commits, evidence))
    if result.owners:
        owners = Table(title="Suggested owners")
        for col in ("who", "commits", "last change", "score"):
            owners.add_column(col)
        for o in result.owners:
            owners.add_row(
                o.name or o.email or o.uid, str(o.commits), str(o.last_at or ""), f"{o.score:.2f}"
            )
        parts.append(owners)
    if result.similar:
        parts.append(render_similar(result.similar))
    if result.seen_before:
        parts.append(render_seen_before(result.seen_before))
    console.print(Group(*parts))  # type: ignore[arg-type]
