"""Multi-document YAML read one document at a time, so one bad document does not hide the rest."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from loaders.base import LoadReport

logger = logging.getLogger(__name__)

__all__ = ["YamlDoc", "load_documents", "split_documents"]

_SEPARATOR = re.compile(r"^---(\s|$)")
_END = re.compile(r"^\.\.\.\s*$")
# libyaml's loader when PyYAML was built with it (several times faster), else pure Python
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TEMPLATE = re.compile(r"\{\{-?.*?-?\}\}|\{\{|\{%")


@dataclass(frozen=True)
class YamlDoc:
    """One parsed document and the line (1-based) where its text starts."""

    data: Any
    line: int

    @property
    def position(self) -> str:
        return f"line {self.line}"


def split_documents(text: str) -> Iterator[tuple[int, str]]:
    """(first line, text) of each document between `---` / `...` markers."""
    start, chunk = 1, list[str]()
    for number, line in enumerate(text.splitlines(), start=1):
        if _SEPARATOR.match(line) or _END.match(line):
            if any(s.strip() and not s.lstrip().startswith("#") for s in chunk):
                yield start, "\n".join(chunk)
            # text after '--- ' on the same line belongs to the next document
            rest = line[3:].strip() if _SEPARATOR.match(line) else ""
            start, chunk = (number, [rest]) if rest else (number + 1, [])
            continue
        chunk.append(line)
    if any(s.strip() and not s.lstrip().startswith("#") for s in chunk):
        yield start, "\n".join(chunk)


def load_documents(text: str, source: str, report: LoadReport) -> Iterator[YamlDoc]:
    """Each document that parses; a bad one (Helm template, invalid YAML) is reported, skipped."""
    for start, chunk in split_documents(text):
        try:
            data = yaml.load(chunk, Loader=_LOADER)  # _LOADER is a safe loader
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = start + (mark.line if mark is not None else 0)
            what = "unrendered Helm/Go template" if _TEMPLATE.search(chunk) else "invalid YAML"
            problem = getattr(e, "problem", None) or str(e).splitlines()[0]
            report.skip(source, f"{what}: {problem}", f"line {line}")
            continue
        if data is not None:
            yield YamlDoc(data, start)
