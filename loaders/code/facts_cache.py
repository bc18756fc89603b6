"""Value-flow facts kept on disk by content hash, so a new process extracts only new files'.

One file per content hash under the configured folder (`CodeConfig.facts_cache`), written
with `marshal` (the format of Python's own `__pycache__`: plain tuples, lists, dicts, strings
and numbers, nothing executed on load; like `__pycache__`, the folder must be writable only
by whoever runs the loads). The name carries a format number and Python's version, since
facts come from Python's own `ast`: a facts change bumps `FORMAT` and old entries are simply
never read again. A damaged or foreign entry reads as missing and is extracted again.
"""

from __future__ import annotations

import logging
import marshal
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from loaders.code.flow_facts import FlowFacts, Scope

logger = logging.getLogger(__name__)

__all__ = ["FORMAT", "MISSING", "load", "save"]

FORMAT = 6  # bump whenever flow_facts changes what it extracts
MISSING = object()
_NO_FACTS = "no-facts"  # Python's parser refused the file: no facts, remembered too
_TAG = f"f{FORMAT}-py{sys.version_info[0]}{sys.version_info[1]}"
_WARNED: set[Path] = set()  # folders already reported unwritable


def _path(folder: Path, digest: bytes) -> Path:
    hexed = digest.hex()
    return folder / hexed[:2] / f"{hexed}.{_TAG}"


def _encode(facts: FlowFacts | None) -> Any:
    if facts is None:
        return _NO_FACTS
    scopes = {
        qual: (
            s.kind,
            s.parent,
            s.params,
            s.method,
            s.property,
            tuple(sorted(s.bound)),
            s.line,
            s.end_line,
        )
        for qual, s in facts.scopes.items()
    }
    return (
        _TAG,
        scopes,
        facts.stmts,
        facts.sites,
        facts.containers,
        facts.imports,
        facts.order,
        facts.types,
    )


def _decode(data: Any) -> FlowFacts | object | None:
    if data == _NO_FACTS:
        return None
    if not isinstance(data, tuple) or len(data) != 8 or data[0] != _TAG:
        return MISSING
    _, scopes, stmts, sites, containers, imports, order, types = data
    out = FlowFacts(
        stmts=stmts,
        sites=sites,
        containers=containers,
        imports=imports,
        order=order,
        types=types,
    )
    for qual, (kind, parent, params, method, prop, bound, line, end) in scopes.items():
        out.scopes[qual] = Scope(kind, parent, params, method, prop, set(bound), line, end)
    return out


def load(folder: Path, digest: bytes) -> FlowFacts | object | None:
    """The facts kept for `digest`: FlowFacts, None (the file has none) or MISSING."""
    try:
        raw = _path(folder, digest).read_bytes()
    except OSError:
        return MISSING
    try:
        return _decode(marshal.loads(raw))
    except (EOFError, ValueError, TypeError):
        logger.debug("facts cache: unreadable entry for %s", digest.hex())
        return MISSING


def save(folder: Path, digest: bytes, facts: FlowFacts | None) -> None:
    """Keep `facts` for `digest` (written to a temporary file, then renamed: never half an
    entry). A folder that cannot be written is logged and skipped: the load goes on."""
    target = _path(folder, digest)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                marshal.dump(_encode(facts), out)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, ValueError) as e:
        if folder not in _WARNED:
            _WARNED.add(folder)
            logger.warning(
                "facts cache: cannot write under %s (%s); facts stay in memory", folder, e
            )
