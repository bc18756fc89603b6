"""Sizes of the sample and the manifest describing what was generated."""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel, Field

from graph_service.errors import CallerError

logger = logging.getLogger(__name__)

__all__ = ["GENERATOR_VERSION", "SampleManifest", "SizeSpec", "size_spec"]

GENERATOR_VERSION = 1


class SizeSpec(BaseModel):
    """How big a sample is.

    Args:
        name: preset name or ``x<factor>`` for an integer scale factor.
        commits: commits in the history (scaffold included).
        bugs: bugs to place (capped by the bug catalogue).
        requests: requests replayed over all deployment windows (~15 spans each).
        noise_tickets: feature requests and questions.
        filler_modules: generated helper modules per service (50 functions each).
    """

    name: str
    commits: int = Field(ge=19)
    bugs: int = Field(ge=0)
    requests: int = Field(ge=1)
    noise_tickets: int = Field(ge=0)
    filler_modules: int = Field(ge=0)


_PRESETS = {
    "tiny": SizeSpec(
        name="tiny", commits=40, bugs=3, requests=300, noise_tickets=4, filler_modules=0
    ),
    "small": SizeSpec(
        name="small", commits=150, bugs=11, requests=2000, noise_tickets=10, filler_modules=0
    ),
    "medium": SizeSpec(
        name="medium", commits=600, bugs=12, requests=20_000, noise_tickets=30, filler_modules=40
    ),
    "large": SizeSpec(
        name="large", commits=3000, bugs=12, requests=120_000, noise_tickets=60, filler_modules=400
    ),
}


def size_spec(size: str | int) -> SizeSpec:
    """A preset by name, or ``small`` scaled by an integer factor."""
    if isinstance(size, int) and not isinstance(size, bool):
        if size < 1:
            raise CallerError(f"sample size factor must be >= 1, got {size}")
        return SizeSpec(
            name=f"x{size}",
            commits=150 * size,
            bugs=11 + (size > 1),
            requests=2000 * size,
            noise_tickets=10 * size,
            filler_modules=10 * size if size >= 2 else 0,
        )
    if isinstance(size, str) and size.isdigit():
        return size_spec(int(size))
    if size not in _PRESETS:
        raise CallerError(f"unknown sample size {size!r}; use one of {sorted(_PRESETS)} or an int")
    return _PRESETS[size]


class SampleManifest(BaseModel):
    """Where everything of one generated sample lies."""

    root: Path
    repo: Path
    traces: list[Path]
    deployments: Path
    tickets: Path
    ground_truth: Path
    seed: int
    size: str
    commits: int
    spans: int
    bugs: int
    tickets_count: int
