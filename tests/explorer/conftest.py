"""Explorer fixtures: the tiny sample system loaded and trained once, real `prodgraph serve`
processes over it (auth disabled, and with keys), and headless Debian Chromium driven by
playwright. A failed test leaves a screenshot in `PRODGRAPH_ARTIFACTS` (or the pytest temp dir).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph_service.api.auth import hash_key

CHROMIUM = Path("/usr/bin/chromium")
PRODGRAPH = Path(sys.executable).parent / "prodgraph"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READER_KEY = "explorer-reader-secret"

if not CHROMIUM.exists():
    pytest.skip(
        "explorer browser tests need Debian's Chromium at /usr/bin/chromium "
        "(apt-get install -y chromium chromium-driver; `make test` installs it)",
        allow_module_level=True,
    )
playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="explorer browser tests need the playwright package (dev extra)"
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`prodgraph demo --size tiny`: the sample system generated, loaded and a model trained."""
    work = tmp_path_factory.mktemp("explorer-sample")
    env = {**os.environ, "PRODGRAPH_MODEL_DIR": str(work / "models")}
    proc = subprocess.run(
        [str(PRODGRAPH), "demo", "--workdir", str(work), "--size", "tiny"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"work": work, "db": work / "graph.lbug", "models": work / "models"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _copy_store(db: Path, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    for path in db.parent.glob(db.name + "*"):
        target = into / path.name
        if path.is_dir():
            shutil.copytree(path, target)
        else:
            shutil.copy2(path, target)
    return into / db.name


class Server:
    """A `prodgraph serve` subprocess on a free loopback port."""

    def __init__(self, db: Path, models: Path, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(
            [
                str(PRODGRAPH),
                "serve",
                "--db",
                str(db),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env={**os.environ, "PRODGRAPH_MODEL_DIR": str(models), **env},
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server not ready in {timeout} s: {self.log.read_text()[-3000:]}")

    def api(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        r = httpx.request(method, f"{self.url}/{path}", headers=headers, timeout=60, **kwargs)
        r.raise_for_status()
        return r.json()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()


@pytest.fixture(scope="session")
def server(sample: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service with auth disabled (loopback), over its own copy of the sample store."""
    root = tmp_path_factory.mktemp("explorer-open")
    db = _copy_store(sample["db"], root / "db")
    s = Server(db, sample["models"], {"PRODGRAPH_AUTH_DISABLED": "true"}, root / "serve.log")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def keyed_server(
    sample: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The service with one reader key configured."""
    root = tmp_path_factory.mktemp("explorer-keyed")
    db = _copy_store(sample["db"], root / "db")
    keys = json.dumps([f"reader:{hash_key(READER_KEY)}"])
    s = Server(db, sample["models"], {"PRODGRAPH_API_KEYS": keys}, root / "serve.log")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("PRODGRAPH_ARTIFACTS")
    path = Path(where) if where else tmp_path_factory.mktemp("explorer-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, artifacts: Path) -> Iterator[Any]:
    """A fresh browser context (own sessionStorage) and page; page errors are collected."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))  # type: ignore[attr-defined]
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shot = artifacts / f"{request.node.name}.png"
        try:
            pg.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failure: {shot}")
        except Exception as e:  # the page may be gone; the test's own error matters more
            print(f"no screenshot: {e}")
    context.close()


def wait_for(page: Any, expression: str, timeout: float = 30.0) -> Any:
    """Poll a JavaScript expression until it is truthy (the page's CSP forbids eval-based
    waiting, so this polls from Python) and return its value."""
    end = time.monotonic() + timeout
    value = None
    while time.monotonic() < end:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for: {expression} (last {value!r})")


@pytest.fixture
def open_page(page: Any, server: Server) -> Callable[[str], Any]:
    """Open an explorer route (`query`, `risk`, `errors/<fp>`, ...) on the open server."""

    def go(route: str) -> Any:
        page.goto(f"{server.url}/#/{route}")
        wait_for(page, "window.explorer && window.explorer.ready")
        return page

    return go


CODE_ONLY_FILES = {
    "shop/__init__.py": "",
    "shop/cart.py": (
        "from shop.prices import price_of\n\n\n"
        "class Cart:\n"
        "    def __init__(self) -> None:\n"
        "        self.items: list[str] = []\n\n"
        "    def add(self, item: str) -> None:\n"
        "        self.items.append(item)\n\n"
        "    def total(self) -> float:\n"
        "        return sum(price_of(i) for i in self.items)\n"
    ),
    "shop/prices.py": (
        "PRICES = {'apple': 1.0}\n\n\n"
        "def price_of(item: str) -> float:\n"
        "    return lookup(item) * 1.2\n\n\n"
        "def lookup(item: str) -> float:\n"
        "    return PRICES.get(item, 0.0)\n"
    ),
}


@pytest.fixture(scope="session")
def code_only_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A store holding only `prodgraph ingest code` of a small git repository (no history,
    traces, deployments, tickets or model), served with auth disabled."""
    root = tmp_path_factory.mktemp("explorer-code-only")
    repo = root / "shop-repo"
    for name, text in CODE_ONLY_FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git = ["git", "-C", str(repo), "-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "shop: cart and prices"], check=True)
    db = root / "db" / "graph.lbug"
    db.parent.mkdir()
    proc = subprocess.run(
        [str(PRODGRAPH), "ingest", "code", str(repo), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (root / "models").mkdir()
    s = Server(db, root / "models", {"PRODGRAPH_AUTH_DISABLED": "true"}, root / "serve.log")
    yield s
    s.stop()


def screenshot_has_content(page: Any, min_colours: int = 20) -> Any:
    """A full-page screenshot, checked: as wide as the viewport, many colours (drawn, not
    blank), and ink (non-background pixels) over a fair part of it. Returns the PIL image."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    grey = image.convert("L")
    assert image.width >= 1000 and image.height >= 400
    assert len(set(grey.getdata())) > min_colours, "the screenshot is (nearly) blank"
    ink = sum(1 for v in grey.getdata() if v < 200) / (grey.width * grey.height)
    assert ink > 0.005, f"the screenshot is almost empty ({ink:.2%} ink)"
    return image
