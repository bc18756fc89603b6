"""A deterministic sample production system (repo, traces, deployments, tickets, ground truth)."""

from __future__ import annotations

import logging

from sample_system.config import SampleManifest, SizeSpec, size_spec
from sample_system.generate import generate

logger = logging.getLogger(__name__)

__all__ = ["SampleManifest", "SizeSpec", "generate", "size_spec"]
