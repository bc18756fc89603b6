"""Ingest through the real server never writes or reads outside its upload (issue 15, items 1, 9
and 10): the reproductions sent as they were, with a real writer key, against a real store."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graph_service.api import create_app
from graph_service.settings import Settings
from tests.graph_service.api.conftest import auth
from tests.graph_service.api.otlp_util import running_server

WRITER = auth("writer")
SECRET_SOURCE = "def secret_server_function():\n    return 42\n"


@pytest.fixture
def private_tmp(tmp_path: Path) -> Iterator[Path]:
    """The server's temporary folder, watched: uploads must leave nothing behind."""
    folder = tmp_path / "server-tmp"
    folder.mkdir()
    saved = tempfile.tempdir
    tempfile.tempdir = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = saved


def _uploads_left(folder: Path) -> list[Path]:
    return sorted(folder.glob("prodgraph-*"))


def _serve(settings: Settings):  # type: ignore[no-untyped-def]
    return running_server(create_app(settings))


def _count(url: str, query: str) -> int:
    r = httpx.post(f"{url}/v1/cypher", json={"query": query}, headers=auth("reader"))
    assert r.status_code == 200, r.text
    return int(r.json()["rows"][0][0])


def _functions_named(url: str, name: str) -> int:
    return _count(url, f"MATCH (f:Function) WHERE f.name = '{name}' RETURN count(f)")


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com"}
    env |= {"GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.com"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_repo_option_cannot_write_outside(settings: Settings, tmp_path: Path, private_tmp: Path):
    victim = tmp_path / "victim"
    victim.mkdir()
    with _serve(settings) as url:
        before = httpx.get(f"{url}/v1/admin/counts", headers=auth("admin")).json()
        for source in ("tickets", "code"):
            r = httpx.post(
                f"{url}/v1/ingest/{source}?option=repo={victim}&filename=keep.txt",
                headers=WRITER,
                content=b"OVERWRITTEN",
            )
            assert r.status_code == 400, r.text
        r = httpx.post(
            f"{url}/v1/ingest/code?option=repo=../../victim&filename=keep.txt",
            headers=WRITER,
            content=b"OVERWRITTEN",
        )
        assert r.status_code == 400 and "repo" in r.json()["error"]["message"]
        after = httpx.get(f"{url}/v1/admin/counts", headers=auth("admin")).json()
    assert not (victim / "keep.txt").exists() and list(victim.iterdir()) == []
    assert _uploads_left(private_tmp) == []  # refused before anything was written
    assert after == before


def test_code_upload_never_loads_a_server_folder(settings: Settings, tmp_path: Path) -> None:
    server_folder = tmp_path / "server-folder"
    server_folder.mkdir()
    (server_folder / "secret.py").write_text(SECRET_SOURCE)
    with _serve(settings) as url:
        r = httpx.post(
            f"{url}/v1/ingest/code?option=repo={server_folder}&filename=z.txt",
            headers=WRITER,
            content=b"x",
        )
        assert r.status_code == 400, r.text
        r = httpx.post(
            f"{url}/v1/ingest/code?option=root={server_folder}&filename=z.txt",
            headers=WRITER,
            content=b"x",
        )
        assert r.status_code == 400 and "cannot be set through the API" in r.text
        r = httpx.post(f"{url}/v1/ingest/code?path={server_folder}", headers=WRITER)
        assert r.status_code == 403 and "PRODGRAPH_ALLOW_SERVER_PATHS" in r.text
        assert _functions_named(url, "secret_server_function") == 0


def test_server_paths_only_under_allowed_roots(settings: Settings, tmp_path: Path) -> None:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    (allowed / "shop").mkdir(parents=True)
    outside.mkdir()
    (allowed / "shop" / "shop.py").write_text("def checkout():\n    return 1\n")
    (outside / "secret.py").write_text(SECRET_SOURCE)
    (allowed / "link").symlink_to(outside, target_is_directory=True)
    on = settings.model_copy(update={"allow_server_paths": True})
    with _serve(on) as url:  # enabled, but no root listed: nothing may be read
        r = httpx.post(f"{url}/v1/ingest/code?path={allowed / 'shop'}", headers=WRITER)
        assert r.status_code == 403 and "PRODGRAPH_SERVER_PATH_ROOTS" in r.text
    rooted = on.model_copy(update={"server_path_roots": [allowed]})
    with _serve(rooted) as url:
        for escape in (outside, allowed / "link", allowed / ".." / "outside"):
            r = httpx.post(f"{url}/v1/ingest/code", params={"path": str(escape)}, headers=WRITER)
            assert r.status_code == 403, (escape, r.text)
        r = httpx.post(f"{url}/v1/ingest/code", params={"path": f"{allowed}/*"}, headers=WRITER)
        assert r.status_code == 400 and "glob" in r.text
        assert _functions_named(url, "secret_server_function") == 0
        r = httpx.post(
            f"{url}/v1/ingest/code",
            params={"path": str(allowed / "shop"), "option": "use_git=false"},
            headers=WRITER,
        )
        assert r.status_code == 200, r.text
        assert _functions_named(url, "checkout") >= 1


def test_options_outside_the_allow_list_are_refused(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "dates.json"
    cases = {
        "git": ["ticket_dates=" + str(target), "workers=64", "repo_path=/"],
        "traces": ["workers=0", "redact_pii=false", "paths=/etc"],
        "tickets": ["redact_pii=false"],
        "code": ["batch_rows=1"],
    }
    with _serve(settings) as url:
        for source, options in cases.items():
            for option in options:
                r = httpx.post(
                    f"{url}/v1/ingest/{source}",
                    params={"option": option, "filename": "x.json"},
                    headers=WRITER,
                    content=b"{}",
                )
                assert r.status_code == 400, (source, option, r.text)
                assert "cannot be set through the API" in r.json()["error"]["message"]
        r = httpx.post(
            f"{url}/v1/ingest/git?option=rev=--output={target}&filename=x",
            headers=WRITER,
            content=b"x",
        )
        assert r.status_code == 400 and "git revision" in r.text
    assert not target.exists()


def test_bad_option_values_say_what_is_wrong(client) -> None:  # type: ignore[no-untyped-def]
    for option, words in (
        ("limit_files=lots", "whole number"),
        ("use_git=maybe", "true or false"),
        ("limit_files=-3", "whole number"),
    ):
        r = client.post(
            f"/v1/ingest/code?option={option}&filename=a.py", content=b"x", headers=WRITER
        )
        message = r.json()["error"]["message"]
        assert r.status_code == 400 and words in message, message
        for internal in ("invalid literal", "pydantic", "validation error", "Traceback"):
            assert internal not in r.text
    r = client.post(
        "/v1/ingest/tickets?option=format=trello&filename=t.json", content=b"[]", headers=WRITER
    )
    assert r.status_code == 400 and "auto, github, jira, csv" in r.json()["error"]["message"]


def test_resource_options_are_capped_by_the_server(settings: Settings, private_tmp: Path) -> None:
    capped = settings.model_copy(update={"ingest_max_file_bytes": 1000})
    big = b"def big():\n    return 1\n" + b"# padding\n" * 500  # ~5 KB
    with _serve(capped) as url:
        r = httpx.post(
            f"{url}/v1/ingest/code?option=max_file_bytes=50000000&filename=big.py",
            headers=WRITER,
            content=big,
        )
        assert r.status_code == 400, r.text
        assert "PRODGRAPH_INGEST_MAX_FILE_BYTES" in r.json()["error"]["message"]
        # no option: the server's own limit applies, not the loader's larger default
        r = httpx.post(
            f"{url}/v1/ingest/code?option=use_git=false&filename=big.py",
            headers=WRITER,
            content=big,
        )
        assert r.status_code == 200, r.text
        assert any("too large" in s["reason"] for s in r.json()["skipped"])
        assert _functions_named(url, "big") == 0
    assert _uploads_left(private_tmp) == []


def test_file_names_are_names_not_paths(client, private_tmp: Path) -> None:  # type: ignore[no-untyped-def]
    row = b'{"service": "names", "version": "1", "environment": "prod", "sha": "' + b"a" * 40
    row += b'", "started_at": "2025-01-01T00:00:00Z", "status": "success", "id": "n-1"}\n'
    for name in ("/etc/cron.d/x.jsonl", "sub/dir/x.jsonl", "we!rd $name;.jsonl"):
        r = client.post(
            "/v1/ingest/deployments", params={"filename": name}, content=row, headers=WRITER
        )
        assert r.status_code == 200, (name, r.text)
    for name in ("../x.jsonl", "a/../../x.jsonl", ".."):
        r = client.post(
            "/v1/ingest/deployments", params={"filename": name}, content=row, headers=WRITER
        )
        assert r.status_code == 400, (name, r.text)
    files = [("files", ("../../escape.jsonl", row, "application/octet-stream"))]
    r = client.post("/v1/ingest/deployments", files=files, headers=WRITER)
    assert r.status_code == 400
    assert _uploads_left(private_tmp) == []


def test_uploaded_git_metadata_never_runs_commands(
    settings: Settings, tmp_path: Path, private_tmp: Path
) -> None:
    """A `.git/config` with an fsmonitor command (which `git ls-files` runs) and an alternates
    file naming a server repository: the upload loads, the command never runs."""
    other = tmp_path / "server-repo"
    other.mkdir()
    _git(other, "init", "-q")
    (other / "secret.py").write_text(SECRET_SOURCE)
    _git(other, "add", ".")
    _git(other, "commit", "-qm", "secret")
    repo = tmp_path / "shop"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "shop.py").write_text("def checkout():\n    return 1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first")
    marker = tmp_path / "PWNED"
    _git(repo, "config", "core.fsmonitor", f"touch {marker}; false")
    (repo / ".git" / "objects" / "info" / "alternates").write_text(f"{other}/.git/objects\n")
    (repo / "sub").mkdir()
    (repo / "sub" / ".git").write_text(f"gitdir: {other}/.git\n")
    files = [
        ("files", (f.relative_to(repo).as_posix(), f.read_bytes(), "application/octet-stream"))
        for f in sorted(repo.rglob("*"))
        if f.is_file()
    ]
    with _serve(settings) as url:
        for source in ("code", "git"):
            r = httpx.post(
                f"{url}/v1/ingest/{source}",
                params={"option": "repo=shop"},
                files=files,
                headers=WRITER,
                timeout=120,
            )
            assert r.status_code == 200, (source, r.text)
        assert _functions_named(url, "checkout") >= 1
        assert _functions_named(url, "secret_server_function") == 0
        assert (
            _count(url, "MATCH (c:Commit) WHERE c.message CONTAINS 'secret' RETURN count(c)") == 0
        )
        assert _count(url, "MATCH (c:Commit) WHERE c.message CONTAINS 'first' RETURN count(c)") == 1
    assert not marker.exists()
    assert _uploads_left(private_tmp) == []
