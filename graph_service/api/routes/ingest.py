"""`POST /v1/ingest/{source}`: upload files (multipart or raw body) for any loader."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from graph_service.api.deps import StateDep, WriterDep
from graph_service.api.schemas import LoadReportBody
from graph_service.api.state import ServiceState
from graph_service.api.uploads import confine_server_paths, sanitise_git
from graph_service.api.uploads import save_uploads as _save_uploads
from graph_service.errors import CallerError, OperatorError
from loaders.base import Loader
from loaders.registry import check_remote_options, make_loader

logger = logging.getLogger(__name__)

__all__ = ["make_source_loader", "parse_options", "router", "run_ingest"]

router = APIRouter(prefix="/v1/ingest", tags=["ingest"])

_TREE_SOURCES = ("code", "git")  # these take one root folder, not a list of files


def parse_options(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CallerError(f"option expects key=value, got {pair!r}", {"option": pair})
        out[key] = value
    return out


def make_source_loader(
    source: str, paths: list[str], state: ServiceState, options: dict[str, str]
) -> Loader:
    """The registry's loader; a loader package that is not installed is an operator issue."""
    try:
        return make_loader(source, paths, state.settings, options)
    except ModuleNotFoundError as e:
        raise OperatorError(f"the {source} loader is not available ({e.name})") from e


def run_ingest(state: ServiceState, source: str, build: Callable[[], Loader]) -> dict[str, Any]:
    """Build the loader, write everything it yields, count it; returns the load report."""
    from graph_service.ingest import ingest

    try:
        loader = build()
        report = ingest(state.store, loader)
    except Exception:
        state.metrics.ingest_runs.labels(source, "error").inc()
        raise
    state.metrics.ingest_runs.labels(source, "ok" if report.ok else "partial").inc()
    state.metrics.ingest_rows.labels(source).inc(sum(report.written.values()))
    return report.to_dict()


@router.post("/{source}", response_model=LoadReportBody)
async def ingest_upload(
    source: str,
    request: Request,
    state: StateDep,
    _: WriterDep,
    option: Annotated[list[str], Query(description="Loader option key=value.")] = [],  # noqa: B006
    path: Annotated[list[str], Query(description="Server-side paths (if allowed).")] = [],  # noqa: B006
    filename: Annotated[str | None, Query(description="Name of a raw-body upload.")] = None,
) -> dict[str, Any]:
    """Load uploaded files (or allowed server paths) with `source`'s loader.

    Options are checked against the loader's allow-list (and capped by the server's limits)
    before any byte is written; uploads go to a private folder that is always removed.
    """
    settings = state.settings
    options = check_remote_options(source, parse_options(option), settings)
    if path:
        paths = confine_server_paths(path, settings)
        return await run_in_threadpool(
            run_ingest, state, source, lambda: make_source_loader(source, paths, state, options)
        )
    tree = source in _TREE_SOURCES
    tmp = Path(tempfile.mkdtemp(prefix="prodgraph-ingest-"))  # mode 0700
    try:
        root = tmp / "upload"
        root.mkdir(mode=0o700)
        saved = await _save_uploads(
            request, root, filename, tree=tree, max_files=settings.ingest_max_upload_files
        )
        if not saved:
            raise CallerError("nothing to ingest: upload files (multipart or a raw body)")
        if tree:
            sanitise_git(root)
        files = [str(root)] if tree else [str(p) for p in saved]
        report = await run_in_threadpool(
            run_ingest, state, source, lambda: make_source_loader(source, files, state, options)
        )
        return _without_server_paths(report, root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _without_server_paths(value: Any, root: Path) -> Any:
    """The report names uploads as the client sent them, never by the server's temp folder."""
    if isinstance(value, str):
        return value.replace(f"{root}/", "").replace(str(root), ".")
    if isinstance(value, dict):
        return {k: _without_server_paths(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_server_paths(v, root) for v in value]
    return value
