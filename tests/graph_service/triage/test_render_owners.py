"""The CLI's Suggested owners table: two identities with one name are told apart."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console

from graph_service.triage.models import Owner, ParsedTicket, TriageResult
from graph_service.triage.render import render_triage


def test_owners_sharing_a_name_show_their_emails() -> None:
    """On click, 'Kevin Deldycke' owned two rows (two emails), identical on screen."""
    when = datetime(2026, 7, 1, 4, 4)
    owners = [
        Owner(uid="person:a", name="Kevin D", email="kevin@example.com", commits=60, last_at=when),
        Owner(uid="person:b", name="Ann Lee", email="ann@example.com", commits=20, last_at=when),
        Owner(uid="person:c", name="Kevin D", email="kd@users.example", commits=13, last_at=when),
    ]
    console = Console(width=120, record=True)
    render_triage(TriageResult(ticket=ParsedTicket(), owners=owners), console)
    text = console.export_text()
    assert "Kevin D <kevin@example.com>" in text and "Kevin D <kd@users.example>" in text
    assert "Ann Lee " in text and "<ann@example.com>" not in text  # a unique name stays short
