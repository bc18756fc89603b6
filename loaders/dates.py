"""Times read from inputs: ISO 8601 to naive UTC, refused when unreadable or implausible.

A loader never stores a time it could not read, nor one that cannot be true: later than the
load's own clock plus `FUTURE_TOLERANCE` (clock skew between the exporting system and this
one), or before `EARLIEST`. What happens to the row is the loader's choice (tickets keep the
row without that time, deployments skip the row); either way the load report names the row
and says why.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

logger = logging.getLogger(__name__)

__all__ = ["EARLIEST", "FUTURE_TOLERANCE", "BadTime", "implausible", "load_clock", "read_time"]

FUTURE_TOLERANCE = timedelta(hours=1)
EARLIEST = datetime(1970, 1, 1)
_JIRA_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")  # +0000 -> +00:00


class BadTime(ValueError):
    """A time value that is unreadable or implausible; the message says which and why."""


def load_clock() -> datetime:
    """The load's clock: now, naive UTC (the schema's TIMESTAMP)."""
    return datetime.now(UTC).replace(tzinfo=None)


def read_time(value: object, *, assume_utc: bool = True) -> datetime | None:
    """ISO 8601 (with Z, +00:00 or +0000) -> naive UTC; None when empty; BadTime otherwise.

    A time without an offset is read as UTC when `assume_utc`, else refused.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("z", "Z"):
            text = text[:-1] + "+00:00"
        text = _JIRA_OFFSET.sub(r"\1:\2", text)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise BadTime(f"{_show(value)} is not an ISO 8601 time") from None
    else:
        kind = "number" if isinstance(value, int | float) else type(value).__name__
        raise BadTime(f"{_show(value)} is not an ISO 8601 time (a {kind})")
    if parsed.tzinfo is None:
        if not assume_utc:
            raise BadTime(f"{_show(value)} has no UTC offset")
        return parsed
    try:
        return parsed.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise BadTime(f"{_show(value)} is out of range") from None


def implausible(
    when: datetime, now: datetime, tolerance: timedelta = FUTURE_TOLERANCE
) -> str | None:
    """Why `when` (naive UTC) cannot be a real event's time at load time `now`, or None."""
    if when > now + tolerance:
        return (
            f"{when.isoformat()} is in the future (later than the load time "
            f"{now.replace(microsecond=0).isoformat()}Z plus {_hours(tolerance)} for clock skew)"
        )
    if when < EARLIEST:
        return f"{when.isoformat()} is before {EARLIEST.year}"
    return None


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _hours(tolerance: timedelta) -> str:
    hours = tolerance.total_seconds() / 3600
    return f"{hours:g} h"
