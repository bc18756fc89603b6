"""`.env` files: KEY=VALUE lines (export, quotes, comments), bad lines reported by number."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from loaders.base import LoadReport

logger = logging.getLogger(__name__)

__all__ = ["is_dotenv_name", "parse_dotenv"]

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$")


def is_dotenv_name(path: Path) -> bool:
    """`.env`, `.env.production`, `prod.env`."""
    name = path.name.lower()
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def parse_dotenv(text: str, source: str, report: LoadReport) -> Iterator[tuple[str, str, int]]:
    """(key, value, line) per assignment; a line that is not KEY=VALUE is skipped, reported."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        number, line = i + 1, lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            report.skip(source, "not a KEY=VALUE line", f"line {number}")
            continue
        key, raw = m.group(1), m.group(2).strip()
        if raw[:1] in ("'", '"'):
            quote = raw[0]
            body = raw[1:]
            while quote not in body and i < len(lines):  # a quoted value over several lines
                body += "\n" + lines[i]
                i += 1
            if quote not in body:
                report.skip(source, f"unterminated {quote} quote", f"line {number}")
                continue
            value = body[: body.index(quote)]
        else:
            value = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
        yield key, value, number
