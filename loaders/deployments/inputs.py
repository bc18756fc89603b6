"""Input files of a file-based loader: files, folders, globs and '-' (stdin), in stable order."""

from __future__ import annotations

import glob
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from loaders.base import LoadReport

logger = logging.getLogger(__name__)

__all__ = ["SKIP_DIRS", "InputFile", "expand_paths"]

SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__"})
STDIN_NAME = "<stdin>"


@dataclass
class InputFile:
    """One input: `name` is the path as the user gave it ('/' separators) or '<stdin>'."""

    name: str
    path: Path | None
    _text: str | None = field(default=None, repr=False)

    @property
    def is_stdin(self) -> bool:
        return self.path is None

    def read_text(self) -> str:
        """The whole content (stdin is read once and kept); a BOM is dropped, bad bytes replaced."""
        if self._text is None:
            if self.path is None:
                self._text = sys.stdin.read().removeprefix("\ufeff")
            else:
                self._text = self.path.read_text(encoding="utf-8-sig", errors="replace")
        return self._text


def expand_paths(
    paths: Iterable[str], report: LoadReport, accept: Callable[[Path], bool]
) -> list[InputFile]:
    """Files named directly, files under folders that `accept`, glob matches; '-' is stdin.

    A path that matches nothing is reported as skipped. Each file appears once, in sorted
    order within each folder or glob.
    """
    seen: set[str] = set()
    out: list[InputFile] = []

    def add(path: Path, name: str) -> None:
        key = str(path.resolve())
        if key not in seen:
            seen.add(key)
            out.append(InputFile(name.replace("\\", "/"), path))

    for raw in paths:
        if raw == "-":
            if STDIN_NAME not in seen:
                seen.add(STDIN_NAME)
                out.append(InputFile(STDIN_NAME, None))
            continue
        path = Path(raw)
        if path.is_file():
            add(path, raw)
        elif path.is_dir():
            for child in _walk(path):
                if accept(child):
                    add(child, str(child))
        elif any(ch in raw for ch in "*?["):
            matches = sorted(glob.glob(raw, recursive=True))
            files = [Path(m) for m in matches if Path(m).is_file()]
            if not files:
                report.skip(raw, "glob matched no files")
            for f in files:
                add(f, str(f))
        else:
            report.skip(raw, "no such file or folder")
    return out


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for child in sorted(root.iterdir()):
        if child.is_dir():
            if child.name not in SKIP_DIRS:
                found.extend(_walk(child))
        elif child.is_file():
            found.append(child)
    return found
