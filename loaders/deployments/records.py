"""One deployment as the loader sees it, and the field rules every input format shares."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from loaders.dates import implausible, load_clock

logger = logging.getLogger(__name__)

__all__ = [
    "STATUSES",
    "DeploymentRecord",
    "FieldError",
    "id_from_time",
    "normalise_sha",
    "normalise_status",
    "parse_time",
    "required_text",
    "text_field",
]

STATUSES = ("success", "failure", "in_progress", "rolled_back")
_STATUS_ALIASES = {
    "success": "success",
    "succeeded": "success",
    "successful": "success",
    "ok": "success",
    "done": "success",
    "completed": "success",
    "failure": "failure",
    "failed": "failure",
    "error": "failure",
    "errored": "failure",
    "in_progress": "in_progress",
    "running": "in_progress",
    "started": "in_progress",
    "pending": "in_progress",
    "queued": "in_progress",
    "rolled_back": "rolled_back",
    "rollback": "rolled_back",
    "reverted": "rolled_back",
}
_HEX = frozenset("0123456789abcdef")


class FieldError(ValueError):
    """A field of one input row is missing or malformed; the row is skipped and reported."""


@dataclass(frozen=True)
class DeploymentRecord:
    """A parsed deployment; times are naive UTC; `position` says where it came from."""

    service: str
    environment: str
    id: str
    sha: str
    version: str | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    repo: str | None
    source: str
    position: str

    @property
    def uid(self) -> str:
        return f"deploy:{self.environment}:{self.service}:{self.id}"

    def node_row(self) -> dict[str, object]:
        return {
            "uid": self.uid,
            "service": self.service,
            "version": self.version,
            "environment": self.environment,
            "sha": self.sha,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
        }


def parse_time(value: object, field_name: str, *, assume_utc: bool = False) -> datetime:
    """ISO 8601 with an offset (or 'Z') -> naive UTC; a naive time only with `assume_utc`.

    A time that cannot be true (in the future beyond the clock-skew allowance, or before 1970:
    `loaders.dates.implausible`) is a FieldError like an unreadable one: the row is skipped.
    """
    parsed = _read_time(value, field_name, assume_utc=assume_utc)
    reason = implausible(parsed, load_clock())
    if reason:
        raise FieldError(f"{field_name} {reason}")
    return parsed


def _read_time(value: object, field_name: str, *, assume_utc: bool) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("z", "Z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise FieldError(f"{field_name} {value!r} is not an ISO 8601 time") from None
    else:
        raise FieldError(f"{field_name} is missing")
    if parsed.tzinfo is None:
        if not assume_utc:
            raise FieldError(
                f"{field_name} {value!r} has no UTC offset (add one, or set assume_utc=true)"
            )
        return parsed
    try:
        return parsed.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise FieldError(f"{field_name} {value!r} is out of range") from None


def normalise_status(value: object) -> str:
    """Map a status word onto success, failure, in_progress or rolled_back."""
    if not isinstance(value, str) or not value.strip():
        raise FieldError("status is missing")
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return _STATUS_ALIASES[key]
    except KeyError:
        raise FieldError(f"status {value!r} is not one of {', '.join(STATUSES)}") from None


def id_from_time(started_at: datetime) -> str:
    """The default deployment id: the start time in UTC, 'YYYYMMDDTHHMMSSZ'."""
    return started_at.strftime("%Y%m%dT%H%M%SZ")


def normalise_sha(value: object) -> str:
    """A lowercase hex commit sha (full or abbreviated, at least 7 characters)."""
    if not isinstance(value, str) or not value.strip():
        raise FieldError("sha is missing")
    sha = value.strip().lower()
    if len(sha) < 7 or len(sha) > 64 or not set(sha) <= _HEX:
        raise FieldError(f"sha {value!r} is not a hex commit id")
    return sha


def text_field(row: dict[str, object], name: str, *, required: bool) -> str | None:
    """A stripped string field; FieldError when required and missing or empty."""
    value = row.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError(f"{name} is missing")
        return None
    if isinstance(value, (dict, list)):
        raise FieldError(f"{name} must be a string, not {type(value).__name__}")
    text = str(value).strip()
    if ":" in text and name in ("service", "environment"):
        raise FieldError(f"{name} {text!r} must not contain ':' (it is part of the uid)")
    return text


def required_text(row: dict[str, object], name: str) -> str:
    """A stripped, non-empty string field; FieldError when missing."""
    text = text_field(row, name, required=True)
    if text is None:
        raise FieldError(f"{name} is missing")
    return text
