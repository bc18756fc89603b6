"""The code loader: repository source trees parsed with tree-sitter into files, symbols and calls.

`parse_source` and `language_for` are pure helpers other loaders reuse (the git loader maps
changed lines to functions with them).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from loaders.code.languages import language_for
from loaders.code.parse import (
    CallSite,
    ClassInfo,
    FunctionInfo,
    ImportBinding,
    ParsedFile,
    parse_source,
)

if TYPE_CHECKING:
    from graph_service.settings import Settings
    from loaders.base import Loader

logger = logging.getLogger(__name__)

__all__ = [
    "CallSite",
    "ClassInfo",
    "FunctionInfo",
    "ImportBinding",
    "ParsedFile",
    "language_for",
    "make_loader",
    "parse_source",
]


def make_loader(paths: list[str], settings: Settings, options: dict[str, str]) -> Loader:
    """The CLI entry: first path is the repository root; options become `CodeConfig` fields."""
    from loaders.code.loader import CodeConfig, CodeLoader

    return CodeLoader(CodeConfig.from_cli(paths, options))
