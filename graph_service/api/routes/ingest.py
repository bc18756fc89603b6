"""`POST /v1/ingest/{source}`: upload files (multipart or raw body) for any loader."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from graph_service.api.deps import StateDep, WriterDep
from graph_service.api.schemas import LoadReportBody
from graph_service.api.state import ServiceState
from graph_service.errors import CallerError, ForbiddenError, OperatorError
from loaders.base import Loader

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
    """The CLI's loader factory; a loader package that is not installed is an operator issue."""
    from graph_service.cli.ingest_cmds import make_loader

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


def _safe_relative(name: str) -> PurePosixPath:
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".", "/")]
    if not parts or ".." in parts:
        raise CallerError(f"unsafe or empty upload file name {name!r}", {"filename": name})
    return PurePosixPath(*parts)


async def _save_uploads(request: Request, root: Path, filename: str | None) -> list[Path]:
    """Every uploaded file under `root` (multipart parts keep their relative folders)."""
    saved: list[Path] = []
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=10_000)
        for _, value in form.multi_items():
            if not isinstance(value, UploadFile):
                continue
            target = root / _safe_relative(value.filename or f"upload{len(saved)}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(await value.read())
            saved.append(target)
        await form.close()
    else:
        body = await request.body()
        if body:
            target = root / _safe_relative(filename or "upload")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            saved.append(target)
    return saved


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
    """Load uploaded files (or server paths when `allow_server_paths`) with `source`'s loader."""
    options = parse_options(option)
    if path and not state.settings.allow_server_paths:
        raise ForbiddenError(
            "server-side paths are disabled: upload the files, or set "
            "PRODGRAPH_ALLOW_SERVER_PATHS=true on the server",
        )
    with tempfile.TemporaryDirectory(prefix="prodgraph-ingest-") as tmp:
        root = Path(tmp) / options.get("repo", "upload")
        saved = await _save_uploads(request, root, filename)
        if not saved and not path:
            raise CallerError("nothing to ingest: upload files or name server paths")
        if saved:
            paths = [str(root)] if source in _TREE_SOURCES else [str(p) for p in saved]
        else:
            paths = list(path)
        return await run_in_threadpool(
            run_ingest,
            state,
            source,
            lambda: make_source_loader(source, paths, state, options),
        )
