"""The documented flat format: one deployment per JSONL line or CSV row (docs/formats.md)."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator

from loaders.base import LoadReport
from loaders.deployments.records import (
    DeploymentRecord,
    FieldError,
    id_from_time,
    normalise_sha,
    normalise_status,
    parse_time,
    required_text,
    text_field,
)

logger = logging.getLogger(__name__)

__all__ = ["parse_csv", "parse_jsonl", "record_from_row"]


def record_from_row(
    row: dict[str, object], source: str, position: str, *, assume_utc: bool
) -> DeploymentRecord:
    """Check one row's fields and build the record; FieldError names the first bad field."""
    service = required_text(row, "service")
    environment = required_text(row, "environment")
    started_at = parse_time(row.get("started_at"), "started_at", assume_utc=assume_utc)
    finished_raw = row.get("finished_at")
    finished_at = (
        parse_time(finished_raw, "finished_at", assume_utc=assume_utc)
        if finished_raw not in (None, "")
        else None
    )
    if finished_at is not None and finished_at < started_at:
        raise FieldError("finished_at is before started_at")
    dep_id = text_field(row, "id", required=False) or id_from_time(started_at)
    if ":" in dep_id:
        raise FieldError(f"id {dep_id!r} must not contain ':' (it is part of the uid)")
    return DeploymentRecord(
        service=service,
        environment=environment,
        id=dep_id,
        sha=normalise_sha(row.get("sha")),
        version=text_field(row, "version", required=False),
        started_at=started_at,
        finished_at=finished_at,
        status=normalise_status(row.get("status")),
        repo=text_field(row, "repo", required=False),
        source=source,
        position=position,
    )


def parse_jsonl(
    text: str, source: str, report: LoadReport, *, assume_utc: bool = False
) -> Iterator[DeploymentRecord]:
    """One JSON object per line; blank lines are ignored; bad lines are reported by number."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        position = f"line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            report.skip(source, f"invalid JSON: {e.msg}", position)
            continue
        if not isinstance(row, dict):
            report.skip(source, "a line must hold one JSON object", position)
            continue
        try:
            yield record_from_row(row, source, position, assume_utc=assume_utc)
        except FieldError as e:
            report.skip(source, str(e), position)


def parse_csv(
    text: str, source: str, report: LoadReport, *, assume_utc: bool = False
) -> Iterator[DeploymentRecord]:
    """A header row then one deployment per row; positions are the row's first line."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        report.skip(source, "empty CSV file (no header row)", "line 1")
        return
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    missing = {"service", "environment", "sha", "started_at", "status"} - set(reader.fieldnames)
    if missing:
        report.skip(source, f"CSV header lacks {', '.join(sorted(missing))}", "line 1")
        return
    last_line = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            report.skip(source, f"invalid CSV: {e}", f"line {reader.line_num}")
            last_line = reader.line_num
            continue
        position = f"line {last_line + 1}"
        last_line = reader.line_num
        if None in row:
            report.skip(source, "more fields than the header names", position)
            continue
        try:
            yield record_from_row(dict(row), source, position, assume_utc=assume_utc)
        except FieldError as e:
            report.skip(source, str(e), position)
