"""Code-loader options for benchmarks whose graphs are built by library entry points.

`models.evaluate.evaluate_repo` (risk) and `graph_service.triage.evaluate.build_graph` (triage)
build their stores with fixed code-loader options. A benchmark that compares graphs (e.g. the
call graph with and without value flow: `value_flow=false`) wraps those calls in
`code_options({...})`: every code loader made through `loaders.code.make_loader` inside the block
gets the extra options on top of the caller's (the extra ones win). Both entry points look
`make_loader` up on the module at call time, so nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def parse_options(items: list[str] | None) -> dict[str, str]:
    """`["value_flow=false", ...]` -> `{"value_flow": "false"}`; a malformed item is the
    caller's to fix."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"--code-option {item!r}: write KEY=VALUE (e.g. value_flow=false)")
        out[key.strip()] = value.strip()
    return out


@contextmanager
def code_options(extra: dict[str, str]) -> Iterator[None]:
    """Inside the block, code loaders made by `loaders.code.make_loader` also get `extra`."""
    import loaders.code as code

    if not extra:
        yield
        return
    original = code.make_loader

    def make(paths: list[str], settings: Any, options: dict[str, str]) -> Any:
        return original(paths, settings, {**options, **extra})

    code.make_loader = make  # type: ignore[assignment]
    try:
        yield
    finally:
        code.make_loader = original  # type: ignore[assignment]
