"""The git loader: history down to functions, fix links and SZZ bug-introducing commits.

`make_loader(paths, settings, options)` is the CLI entry (`prodgraph ingest git REPO`), with
options `repo=NAME`, `since=REV`, `max_commits=N` and the other `GitConfig` fields.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from loaders.git.config import GitConfig

if TYPE_CHECKING:
    from graph_service.settings import Settings
    from loaders.git.loader import GitLoader

logger = logging.getLogger(__name__)

__all__ = ["GitConfig", "make_loader"]


def make_loader(paths: list[str], settings: Settings, options: dict[str, str]) -> GitLoader:
    """The CLI entry: one repository path; options become `GitConfig` fields."""
    from loaders.git.loader import GitLoader

    return GitLoader(GitConfig.from_cli(paths, settings, options))
