"""The catalogue of realistic bugs the sample history introduces and later fixes."""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

__all__ = ["BUGS", "BugSpec", "protected_lines"]


@dataclass(frozen=True)
class BugSpec:
    """One bug: where it lives, the edit that introduces it and the edit that fixes it.

    Args:
        key: stable identifier.
        service: Python service (package) the bug lives in.
        module: file name inside the service package (before any rename).
        function: qualified name of the gold function (the code that is wrong).
        old: exact text the introducing commit replaces.
        new: the buggy text.
        fix: text the fixing commit puts in place of ``new``; None restores ``old``.
        exc_type: exception class name the bug raises on some inputs.
        raises_in: short name of the function on top of the stack when it raises.
        fix_message: subject of the fixing commit.
        title: how a user names the failure (ticket title).
        vague: how a user without a stack trace describes it.
        route: the public route whose requests fail.
        incident: True when the error rate is high enough to page someone.
    """

    key: str
    service: str
    module: str
    function: str
    old: str
    new: str
    fix: str | None
    exc_type: str
    raises_in: str
    fix_message: str
    title: str
    vague: str
    route: str
    incident: bool = False


BUGS: tuple[BugSpec, ...] = (
    BugSpec(
        "allocate_off_by_one",
        "inventory",
        "stock.py",
        "allocate",
        "    while remaining > 0 and index < len(levels):\n",
        "    while remaining > 0 and index <= len(levels):\n",
        None,
        "IndexError",
        "allocate",
        "Stop the allocation loop at the last warehouse",
        "IndexError when ordering more than we have in stock",
        "Checkout gives a 500 instead of 'out of stock' for big quantities",
        "POST /checkout",
    ),
    BugSpec(
        "channel_missing_email",
        "notifications",
        "channels.py",
        "pick_channel",
        '    if email is None:\n        return "sms"\n    if email.endswith(".invalid"):\n',
        '    if email.endswith(".invalid") or not email:\n',
        '    if not email or email.endswith(".invalid"):\n',
        "AttributeError",
        "pick_channel",
        "Check for a missing e-mail address before its domain",
        "Order confirmation crashes for customers without an e-mail address",
        "Some customers never get an order confirmation",
        "POST /checkout",
    ),
    BugSpec(
        "wallet_wrong_key",
        "payments",
        "processor.py",
        "PaymentProcessor._authorise",
        '"wallet:" + method["wallet_id"]',
        '"wallet:" + method["wallet"]',
        None,
        "KeyError",
        "_authorise",
        "Read the wallet id from the payment method",
        "KeyError 'wallet' when paying with a wallet",
        "Wallet payments fail at checkout",
        "POST /checkout",
    ),
    BugSpec(
        "settlement_millis",
        "payments",
        "models.py",
        "Receipt.from_network",
        "settled_ms / 1000, tz",
        "settled_ms, tz",
        None,
        "ValueError",
        "from_network",
        "Convert acquirer settlement times from milliseconds",
        "ValueError year is out of range on card payments",
        "Card payments in euros and pounds fail after the last release",
        "POST /checkout",
    ),
    BugSpec(
        "convert_swapped_args",
        "payments",
        "processor.py",
        "PaymentProcessor.charge",
        "convert(amount_cents, currency, SETTLEMENT_CURRENCY)",
        "convert(amount_cents, SETTLEMENT_CURRENCY, currency)",
        None,
        "KeyError",
        "convert",
        "Convert charges into the settlement currency, not out of it",
        "KeyError ('USD', 'EUR') when charging non-dollar orders",
        "Nobody outside the US can check out",
        "POST /checkout",
        incident=True,
    ),
    BugSpec(
        "proximity_empty_region",
        "inventory",
        "stock.py",
        "sort_by_proximity",
        '    local = [level for level in levels if level["region"] == region] or levels\n',
        '    local = [level for level in levels if level["region"] == region]\n',
        None,
        "ValueError",
        "sort_by_proximity",
        "Fall back to every warehouse when none is in the region",
        "ValueError: min() arg is an empty sequence during reservation",
        "Customers in Asia cannot place orders",
        "POST /checkout",
    ),
    BugSpec(
        "auth_header_case",
        "gateway",
        "auth.py",
        "authenticate",
        "    normalised = {key.lower(): value for key, value in headers.items()}\n"
        '    token = normalised.get("authorization")\n',
        '    token = headers["Authorization"]\n',
        '    token = {key.lower(): value for key, value in headers.items()}.get("authorization")\n',
        "KeyError",
        "authenticate",
        "Treat header names case-insensitively",
        "KeyError 'Authorization' for requests from the mobile app",
        "The mobile app shows 'something went wrong' on every screen",
        "GET /orders/{order_id}",
        incident=True,
    ),
    BugSpec(
        "page_param_none",
        "gateway",
        "pagination.py",
        "parse_page",
        'int(query.get("page") or 1)',
        'int(query.get("page"))',
        'int(query.get("page", 1) or 1)',
        "TypeError",
        "parse_page",
        "Default to the first page when none is given",
        "TypeError in parse_page when the page parameter is missing",
        "Product listing is broken on the home page",
        "GET /products",
        incident=True,
    ),
    BugSpec(
        "naive_created_at",
        "orders",
        "utils.py",
        "parse_timestamp",
        "    stamp = datetime.fromisoformat(value)\n"
        "    if stamp.tzinfo is None:\n"
        "        stamp = stamp.replace(tzinfo=timezone.utc)\n"
        "    return stamp\n",
        "    return datetime.fromisoformat(value)\n",
        None,
        "TypeError",
        "cancel",
        "Read offset-less timestamps as UTC again",
        "TypeError: can't subtract offset-naive and offset-aware datetimes on cancel",
        "Cancelling an old order fails with an internal error",
        "POST /orders/{order_id}/cancel",
    ),
    BugSpec(
        "loyalty_wrong_key",
        "notifications",
        "templates.py",
        "render_confirmation",
        'order["total_cents"] // 100',
        'order["total"] // 100',
        None,
        "KeyError",
        "render_confirmation",
        "Compute loyalty points from the order total in cents",
        "KeyError 'total' when rendering the confirmation for gold members",
        "Gold members stopped receiving confirmation e-mails",
        "POST /checkout",
    ),
    BugSpec(
        "jpy_minor_units",
        "orders",
        "utils.py",
        "format_money",
        "MINOR_UNITS.get(currency, 0)",
        "MINOR_UNITS[currency]",
        None,
        "KeyError",
        "format_money",
        "Format currencies without minor units",
        "KeyError 'JPY' after placing an order in yen",
        "Orders in yen show an error although the card was charged",
        "POST /checkout",
    ),
    BugSpec(
        "chargebacks_missing",
        "payments",
        "fraud.py",
        "risk_score",
        'len(customer.get("chargebacks") or [])',
        'len(customer["chargebacks"])',
        None,
        "KeyError",
        "risk_score",
        "Score customers without a chargeback history",
        "KeyError 'chargebacks' in risk_score for new customers",
        "New customers cannot pay",
        "POST /checkout",
    ),
)


def protected_lines() -> frozenset[str]:
    """Stripped lines that cosmetic edits must leave alone so bug edits still apply."""
    lines: set[str] = set()
    for bug in BUGS:
        for text in (bug.old, bug.new, bug.fix or ""):
            for line in text.splitlines():
                if line.strip():
                    lines.add(line.strip())
    return frozenset(lines)
