"""Ticket texts (GitHub issues JSON) for the sample's bugs, duplicates, incidents and noise."""

from __future__ import annotations

import logging
import random
import textwrap
from datetime import UTC, datetime

from sample_system.plan import BugPlan, TicketPlan
from sample_system.runtime import ErrorEvent

logger = logging.getLogger(__name__)

__all__ = ["iso_z", "matches", "render_ticket"]

_FEATURES = (
    ("Support Apple Pay at checkout", "Customers keep asking for Apple Pay. Any plans?"),
    ("Export order history as CSV", "Finance would like a monthly CSV export of all orders."),
    ("Add Swiss francs", "We are opening in Switzerland next quarter; please add CHF."),
    ("Let customers change the delivery address", "After checkout, before shipping."),
    ("Show stock per warehouse in the admin", "Ops wants to see where stock sits."),
    ("Bulk discount for business customers", "10% off above 50 units, per sales."),
    ("Dark mode for the order e-mails", "Marketing request, low priority."),
    ("Webhooks for order status changes", "Partners want push updates instead of polling."),
)
_QUESTIONS = (
    ("How long are cancelled orders kept?", "Legal asked about retention of cancelled orders."),
    ("Which currencies do we support?", "Is the list in the README current?"),
    ("Where do the pricing rates come from?", "Are the FX rates in pricing updated daily?"),
    ("Is the mobile app using the same gateway?", "Trying to understand the architecture."),
)


def iso_z(when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def matches(spec_type: str, raises_in: str, error: ErrorEvent) -> bool:
    """Whether a recorded exception is the one a bug raises."""
    if error.type.rsplit(".", 1)[-1] != spec_type:
        return False
    frames = [line for line in error.stacktrace.splitlines() if line.startswith("  File ")]
    return bool(frames) and frames[-1].endswith(f", in {raises_in}")


def _mangle(trace: str, rng: random.Random) -> str:
    mode = rng.choices(("none", "wrap", "dedent", "truncate"), weights=(40, 20, 20, 20))[0]
    lines = trace.rstrip("\n").splitlines()
    if mode == "wrap":
        return "\n".join(textwrap.fill(line, 60, drop_whitespace=False) for line in lines)
    if mode == "dedent":
        return "\n".join(line.strip() for line in lines if line.strip())
    if mode == "truncate" and len(lines) > 8:
        return "\n".join([*lines[:2], "  ...", *lines[-6:]])
    return "\n".join(lines)


def _bug_body(bug: BugPlan, error: ErrorEvent | None, rng: random.Random) -> str:
    if error is None:
        return f"{bug.spec.vague}.\n\nWe could not find the error in the logs yet."
    seen = datetime.fromtimestamp(error.time_ns / 1e9, tz=UTC)
    intro = rng.choice(
        (
            f"Since {seen:%b %d} some `{error.route}` requests on {error.service} fail with 500.",
            f"Found this in the {error.service} logs while looking at failed `{error.route}`.",
            f"Customer support escalated failures on `{error.route}`; the {error.service} trace:",
        )
    )
    fence = "```" if rng.random() < 0.7 else ""
    return (
        f"{intro}\n\n{fence}\n{_mangle(error.stacktrace, rng)}\n{fence}\n\n"
        f"{error.service} {error.version}, trace id: {error.trace_id}"
    )


def _duplicate_body(
    bug: BugPlan, ticket: TicketPlan, error: ErrorEvent | None, rng: random.Random
) -> str:
    if error is None:
        body = f"{bug.spec.vague}. Happens a few times a day."
    elif rng.random() < 0.5:
        last = error.stacktrace.rstrip("\n").splitlines()[-1]
        body = f"Getting `{last}` from {error.service} when calling {error.route}."
    else:
        body = f"Same thing here:\n\n{_mangle(error.stacktrace, rng)}"
    if ticket.declared and ticket.duplicate_of is not None:
        body += f"\n\nDuplicate of #{ticket.duplicate_of}"
    return body


def _bug_ticket(
    bug: BugPlan,
    ticket: TicketPlan,
    errors: list[ErrorEvent],
    rng: random.Random,
    context: dict[str, str],
) -> tuple[str, str, list[str]]:
    error = errors[0] if errors else None
    spec = bug.spec
    if ticket.kind == "bug":
        return spec.title, _bug_body(bug, error, rng), ["bug"]
    if ticket.kind == "duplicate":
        other = errors[min(len(errors) - 1, rng.randrange(1, 6))] if errors else None
        title = rng.choice(
            (
                f"{spec.exc_type} on {spec.route}",
                f"500 errors: {spec.vague}",
                f"{spec.route} broken for some users",
            )
        )
        labels = ["bug", "duplicate"] if ticket.declared else ["bug"]
        return title, _duplicate_body(bug, ticket, other, rng), labels
    if ticket.kind == "vague":
        body = (
            f"{spec.vague}. A customer wrote in twice about it. No error message, the page "
            "just says 'Something went wrong'. Can someone take a look?"
        )
        return spec.vague, body, ["needs-triage"]
    count = context.get("count", "several")
    body = (
        f"Alert: error rate on `{spec.route}` above threshold since "
        f"{context.get('since', 'the last deploy')}.\n\n"
        f"{count} failed requests in the first hours after {context.get('deploy', 'a deploy')}."
        f"\nSample: `{error.type}: {error.message}`"
        if error
        else ""
    )
    if not body:
        body = f"Alert: error rate on `{spec.route}` above threshold after the last deploy."
    return f"[INCIDENT] Elevated 5xx on {spec.route}", body, ["incident", "sev2"]


def _state_reason(ticket: TicketPlan) -> str | None:
    if ticket.closed_at is None:
        return None
    if ticket.kind == "duplicate" and ticket.declared:
        return "duplicate"
    return "completed" if ticket.bug or ticket.kind == "feature" else "not_planned"


def render_ticket(
    ticket: TicketPlan,
    bug: BugPlan | None,
    errors: list[ErrorEvent],
    rng: random.Random,
    context: dict[str, str],
) -> dict:
    """One issue in the GitHub REST API shape."""
    if bug is not None:
        title, body, labels = _bug_ticket(bug, ticket, errors, rng, context)
    elif ticket.kind == "feature":
        title, body = rng.choice(_FEATURES)
        labels = ["enhancement"]
    else:
        title, body = rng.choice(_QUESTIONS)
        labels = ["question"]
    return {
        "number": ticket.number,
        "title": title,
        "body": body,
        "state": "closed" if ticket.closed_at else "open",
        "labels": [{"name": name} for name in labels],
        "user": {"login": ticket.reporter},
        "created_at": iso_z(ticket.created_at),
        "closed_at": iso_z(ticket.closed_at),
        "state_reason": _state_reason(ticket),
        "html_url": f"https://github.com/example-shop/shop/issues/{ticket.number}",
        "comments": rng.randrange(0, 6),
    }
