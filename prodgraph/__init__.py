"""prodgraph for notebooks: `import prodgraph; g = prodgraph.connect(path=...)`."""

from __future__ import annotations

import logging

from graph_service.client import Client, connect

logger = logging.getLogger(__name__)

__all__ = ["Client", "connect"]
