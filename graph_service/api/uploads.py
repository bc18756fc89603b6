"""Uploaded files on the server: safe names, a private folder, sanitised git metadata, and
server paths confined to the operator's allowed roots."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from fastapi import Request
from starlette.datastructures import UploadFile

from graph_service.errors import CallerError, ForbiddenError
from graph_service.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["confine_server_paths", "safe_relative", "sanitise_git", "save_uploads"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._+@=,-]")
_MAX_DEPTH = 64
_CHUNK = 1 << 20
# what a git directory needs to be read; everything else (config, hooks, info/, commondir,
# worktrees/, modules/) can make git run commands or read another repository, so it goes
_GIT_KEEP = {"HEAD", "objects", "refs", "packed-refs", "shallow", "index"}
_GIT_ALTERNATES = ("objects/info/alternates", "objects/info/http-alternates")


def safe_relative(name: str, *, keep_folders: bool) -> PurePosixPath:
    """An upload's name as a relative path of safe characters (only the last part unless
    `keep_folders`); CallerError for an empty name or one that climbs out with `..`."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise CallerError(
            f"upload file name {name[:200]!r} is empty or climbs out of its folder with '..'",
            {"filename": name[:200]},
        )
    if len(parts) > _MAX_DEPTH:
        raise CallerError(f"upload file name is nested over {_MAX_DEPTH} folders deep")
    clean = [_UNSAFE.sub("_", p)[:255] for p in parts]
    return PurePosixPath(*(clean if keep_folders else clean[-1:]))


def _target(root: Path, name: str, keep_folders: bool) -> Path:
    rel = safe_relative(name, keep_folders=keep_folders)
    target = root.joinpath(*rel.parts)
    if not keep_folders:
        n = 1
        while target.exists():  # two uploads with one name: keep both
            target = root / f"{n}-{rel.name}"
            n += 1
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as e:
        raise CallerError(f"upload {name[:200]!r} uses a file as a folder") from e
    return target


async def save_uploads(
    request: Request, root: Path, filename: str | None, *, tree: bool, max_files: int
) -> list[Path]:
    """Write each uploaded file under `root` (created by the caller, private to the server).

    Multipart parts keep their folders when `tree` (a source tree); otherwise only the last
    part of a name is used. A raw body is one file named by `filename`. Files are created
    exclusively, so nothing existing (or a link) is ever opened for writing.
    """
    saved: list[Path] = []
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=max_files)
        try:
            for _, value in form.multi_items():
                if not isinstance(value, UploadFile):
                    continue
                target = _target(root, value.filename or f"upload{len(saved)}", tree)
                try:
                    with target.open("xb") as part:
                        while chunk := await value.read(_CHUNK):
                            part.write(chunk)
                except FileExistsError as e:
                    raise CallerError(f"upload {value.filename!r} is sent twice") from e
                saved.append(target)
        finally:
            await form.close()
        return saved
    raw: Path | None = None
    out: BinaryIO | None = None
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            if out is None:
                raw = _target(root, filename or "upload", False)
                out = raw.open("xb")
            out.write(chunk)
    finally:
        if out is not None:
            out.close()
    return [raw] if raw is not None else []


def sanitise_git(root: Path) -> None:
    """Make an uploaded tree safe to run git in.

    A `.git` anywhere but the root (a submodule or worktree pointer, which may name another
    folder) is removed; in the root's `.git` only objects, refs, HEAD and the index are kept,
    and the config is written anew, so no hook, filter, textconv, fsmonitor command, alternate
    object store or include from the upload ever reaches git.
    """
    for found in sorted(root.rglob(".git"), key=lambda p: len(p.parts), reverse=True):
        if found == root / ".git" and found.is_dir() and not found.is_symlink():
            continue
        if found.is_dir() and not found.is_symlink():
            shutil.rmtree(found)
        else:
            found.unlink()
    git = root / ".git"
    if not git.is_dir():
        return
    config = git / "config"
    sha256 = config.is_file() and bool(
        re.search(r"objectformat\s*=\s*sha256", config.read_text("utf-8", "replace"), re.I)
    )
    for entry in git.iterdir():
        if entry.name not in _GIT_KEEP:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for rel in _GIT_ALTERNATES:
        (git / rel).unlink(missing_ok=True)
    lines = ["[core]", f"\trepositoryformatversion = {1 if sha256 else 0}", "\tbare = false"]
    if sha256:
        lines += ["[extensions]", "\tobjectformat = sha256"]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def confine_server_paths(paths: list[str], settings: Settings) -> list[str]:
    """Server paths a caller named, resolved (links followed) and each under an allowed root.

    ForbiddenError when server paths are off or a path lies outside every root; CallerError for
    a glob, `-` (stdin) or a path that does not exist.
    """
    if not settings.allow_server_paths:
        raise ForbiddenError(
            "server-side paths are disabled: upload the files, or set "
            "PRODGRAPH_ALLOW_SERVER_PATHS=true and PRODGRAPH_SERVER_PATH_ROOTS on the server",
        )
    roots = [r.resolve() for r in settings.server_path_roots]
    if not roots:
        raise ForbiddenError(
            "no server folder may be read: the operator must list the allowed folders in "
            "PRODGRAPH_SERVER_PATH_ROOTS"
        )
    out = []
    for raw in paths:
        if raw == "-" or any(c in raw for c in "*?[") or "\x00" in raw:
            raise CallerError(f"server path {raw[:200]!r} must name one file or folder (no globs)")
        resolved = Path(raw).resolve()
        if not any(resolved == r or resolved.is_relative_to(r) for r in roots):
            raise ForbiddenError(
                f"server path {raw[:200]!r} is outside the folders the operator allows "
                "(PRODGRAPH_SERVER_PATH_ROOTS)",
                {"path": raw[:200]},
            )
        if not resolved.exists():
            raise CallerError(f"server path {raw[:200]!r} does not exist", {"path": raw[:200]})
        out.append(str(resolved))
    return out
