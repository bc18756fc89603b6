"""`prodgraph up PATH` end to end, as a new user meets it: a real git repository, the command
itself (load, summary, serve on loopback without keys), then the explorer in Chromium."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.explorer.conftest import (
    CODE_ONLY_FILES,
    PRODGRAPH,
    _free_port,
    screenshot_has_content,
    wait_for,
)


def _repo(root: Path) -> Path:
    repo = root / "shop-repo"
    git = ["git", "-C", str(repo), "-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    for i, (name, text) in enumerate(CODE_ONLY_FILES.items()):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
        if i == 0:
            subprocess.run(["git", "init", "-q", str(repo)], check=True)
        subprocess.run([*git, "add", "."], check=True)
        subprocess.run([*git, "commit", "-q", "-m", f"add {name}"], check=True)
    return repo


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("explorer-up")
    repo, port, log = _repo(root), _free_port(), root / "up.log"
    out = log.open("w")
    proc = subprocess.Popen(
        [str(PRODGRAPH), "up", str(repo), "--db", str(root / "g.lbug"), "--port", str(port)],
        cwd=root,
        stdout=out,
        stderr=subprocess.STDOUT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(root), "COLUMNS": "80"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 300
        while time.monotonic() < end:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError("prodgraph up never served: " + log.read_text()[-3000:])
        yield {"url": url, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()


def test_up_prints_a_summary_and_serves_without_keys(up: dict[str, Any]) -> None:
    text = up["log"].read_text()
    assert f"open {up['url']}/" in text
    assert "without API keys" in text and "401" not in text
    assert text.count("WARNING") <= 1  # one warning line at most, not three
    query = {"query": "MATCH (f:Function) RETURN count(f) AS n"}
    answer = httpx.post(f"{up['url']}/v1/cypher", json=query)
    assert answer.status_code == 200 and answer.json()["rows"][0][0] > 0


def test_the_explorer_opens_on_what_up_loaded(up: dict[str, Any], page: Any) -> None:
    page.goto(f"{up['url']}/")
    wait_for(page, "window.explorer && window.explorer.ready")
    assert not page.evaluate("document.getElementById('key-dialog').open")
    wait_for(page, "document.querySelectorAll('#home-counts .count').length > 0")
    counts = httpx.get(f"{up['url']}/v1/schema/counts").json()
    shown = page.locator("#home-counts .count[data-label=Commit] b").inner_text()
    assert shown.replace(",", "") == str(counts["nodes"]["Commit"]) != "0"
    page.fill("#find-input", "total")
    page.press("#find-input", "Enter")
    wait_for(page, "document.querySelectorAll('#find-results tbody tr').length > 0")
    screenshot_has_content(page)
    assert page.locator("#page-home .status.error").count() == 0 and page.errors == []
