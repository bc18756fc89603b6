"""Rich rendering of triage results for the command line."""

from __future__ import annotations

import logging

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from graph_service.triage.models import SeenBefore, SimilarTicket, Suspect, TriageResult

logger = logging.getLogger(__name__)

__all__ = ["DASH", "render_seen_before", "render_similar", "render_triage"]

DASH = "—"  # what an empty field reads as


def _v(value: object) -> str:
    """A cell: the value, or a dash when there is none."""
    if value is None or value == "" or value == []:
        return DASH
    if hasattr(value, "strftime"):
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value)


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
        name = s.name or s.uid
        if s.label == "Commit":
            name = f"{s.uid.removeprefix('commit:')[:10]} {name} ({_v(s.path)})"
            name += f"\n  {s.reason}" if s.reason else ""
        elif s.path and s.path != name:
            name = f"{name}  {s.path}"
        cells = [str(i), f"{s.score:.2f}", name, signals or DASH]
        if evidence:
            cells.append(
                "\n".join(
                    f"{e.detail}\n  {e.cypher or DASH} {e.params or ''}" for e in s.evidence[:3]
                )
                or DASH
            )
        table.add_row(*cells)
    return table


def render_similar(rows: list[SimilarTicket]) -> Table:
    table = Table(title="Similar past tickets")
    for col in ("score", "ticket", "title", "signals", "fixed by"):
        table.add_column(col, overflow="fold")
    for s in rows:
        fixes = ", ".join(f.sha[:10] for f in s.fixes)
        signals = ", ".join(f"{k}={v:.2f}" for k, v in s.signals.items())
        table.add_row(f"{s.score:.2f}", s.key or s.uid, _v(s.title), _v(signals), _v(fixes))
    return table


def render_seen_before(seen: SeenBefore) -> Panel:
    if not seen.fingerprint:
        return Panel("No stack trace: nothing to fingerprint.", title="Seen before")
    lines = [f"fingerprint {seen.fingerprint}: " + ("known" if seen.known else "new")]
    if seen.summary:
        lines.append(seen.summary)
    if seen.signature:
        sig = seen.signature
        lines.append(
            f"{_v(sig.type)}: {_v(sig.message_template)} ({_v(sig.count)} occurrence(s), "
            f"first {_v(sig.first_seen)}, last {_v(sig.last_seen)}; "
            f"seen in {', '.join(seen.services) or DASH})"
        )
    lines += [f"ticket {t.key or t.uid}: {_v(t.title)}" for t in seen.tickets]
    for f in seen.fixes:
        took = f" {f.days_to_fix:g} days after the report" if f.days_to_fix is not None else ""
        shipped = f"; shipped by {f.deployment}" if f.deployment else ""
        lines.append(f"fixed by {f.sha[:10]} {_v(f.summary)}{took}{shipped}")
    if seen.regression:
        lines.append(f"[bold red]REGRESSION[/]: {seen.regression_detail}")
    return Panel("\n".join(lines), title="Seen before")


def render_triage(
    result: TriageResult, console: Console | None = None, evidence: bool = False
) -> None:
    """Print suspects, owners, similar tickets and the seen-before verdict (with `evidence`:
    each suspect's evidence and the Cypher that reproduces it)."""
    console = console or Console()
    t = result.ticket
    head = f"{t.error_type or 'no error type'} {t.message[:120]}  frames={len(t.frames)}"
    parts: list[object] = [
        Panel(head, title=f"Ticket (scorer: {result.scorer}, {result.elapsed_ms:.0f} ms)")
    ]
    parts.append(_suspects("Suspect functions", result.functions, evidence))
    parts.append(_suspects("Suspect files", result.files, False))
    how = {"blame": "git blame of the frames' lines", "graph": "commits that changed the suspects"}
    title = f"Suspect commits ({how.get(result.commit_method, DASH)}"
    title += f"; {result.commit_window})" if result.commit_window else "; no time limit)"
    parts.append(_suspects(title, result.commits, evidence))
    if result.commit_blamed:
        parts.append("blamed: " + "; ".join(result.commit_blamed))
    if result.owners:
        owners = Table(title="Suggested owners")
        for col in ("who", "commits", "last change", "score"):
            owners.add_column(col)
        names = [o.name for o in result.owners]
        for o in result.owners:
            who = o.name or o.email or o.uid
            if o.name and o.email and names.count(o.name) > 1:  # one name, several identities
                who = f"{o.name} <{o.email}>"
            owners.add_row(who, str(o.commits), _v(o.last_at), f"{o.score:.2f}")
        parts.append(owners)
    if result.similar:
        parts.append(render_similar(result.similar))
    if result.seen_before:
        parts.append(render_seen_before(result.seen_before))
    console.print(Group(*parts))  # type: ignore[arg-type]
