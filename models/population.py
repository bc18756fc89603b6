"""Which changes the risk model is about: code-changing commits versus docs/tests/CI-only ones.

A change is *code-changing* when it touches at least one source file (a language the code loader
parses) that is not a test, not vendored and not generated, with at least one changed line that
is not cosmetic (the git loader leaves whitespace/formatting-only hunks out of a file's
`lines_added` / `lines_deleted`, so a reformatted file counts 0 lines here), and that is not a
reformatting commit (`Commit.cosmetic`: every code hunk cosmetic, or listed in
`.git-blame-ignore-revs`; `History.cosmetic`). Everything else (docs, tests, CI, dependency
bumps, a formatter run) is not scored with a probability: it gets `NO_CODE_LABEL` and never tops
a risk list.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from models.history import History

logger = logging.getLogger(__name__)

__all__ = [
    "CODE",
    "NO_CODE_LABEL",
    "POPULATIONS",
    "code_change_mask",
    "is_code_path",
    "touches_code",
]

CODE = "code"
POPULATIONS = ("all", CODE)
NO_CODE_LABEL = "no code change: docs/tests/CI only"


@lru_cache(maxsize=65536)
def is_code_path(path: str) -> bool:
    """A non-test, non-vendored, non-generated file in a language the code loader parses."""
    from loaders.code.languages import language_for
    from loaders.code.walk import path_skip_reason
    from loaders.git.szz import is_test_path

    if not path or language_for(path) is None or is_test_path(path):
        return False
    return path_skip_reason(path) is None


def touches_code(files: Iterable[tuple[str, float]]) -> bool:
    """True when any (path, changed non-cosmetic lines) names a code path with a changed line."""
    return any(lines > 0 and is_code_path(path) for path, lines in files)


def code_change_mask(h: History) -> np.ndarray:
    """Per commit of a `models.history.History`: True for code-changing commits (reformatting
    commits excluded)."""
    return np.asarray(h.code_change, dtype=bool).copy()
