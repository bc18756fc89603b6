"""The explorer web page: the built single-page app in `static/`, served at `/` by the API.

The page is plain static files (built from `web/explorer/` with `make explorer`); everything it
shows comes from the public `/v1` API, called from the browser with the user's key.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from graph_service.errors import NotFoundError, OperatorError

logger = logging.getLogger(__name__)

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).parent / "static"

_ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MEDIA = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
# CodeMirror and cytoscape set inline styles; nothing else is loaded from anywhere but here.
_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'"
    ),
}

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    """The explorer's page (no key needed: it holds no data; its API calls send the key)."""
    page = STATIC_DIR / "index.html"
    if not page.is_file():
        raise OperatorError(
            f"the explorer is not built: {page} is missing (run `make explorer`)",
            {"path": str(page)},
        )
    return FileResponse(page, media_type="text/html", headers=_HEADERS)


@router.get("/assets/{name}")
def asset(name: str) -> FileResponse:
    """One built asset by file name (no folders, so no path outside `static/assets`)."""
    path = STATIC_DIR / "assets" / name
    if not _ASSET_NAME.match(name) or not path.is_file():
        raise NotFoundError(f"no explorer asset {name!r}", {"asset": name})
    media = _MEDIA.get(path.suffix, "application/octet-stream")
    return FileResponse(path, media_type=media, headers=_HEADERS)
