"""Kill the server mid-ingest: the store reopens, acknowledged loads stay, a re-send completes.

A real `prodgraph serve` process on loopback, real HTTP uploads, SIGKILL while a large upload is
being written, then a restart on the same embedded store.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

PRODGRAPH = Path(sys.executable).parent / "prodgraph"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _deployments(path: Path, service: str, n: int) -> Path:
    lines = [
        json.dumps(
            {
                "service": service,
                "version": f"1.{i}",
                "environment": "production",
                "sha": f"{i:040x}",
                "started_at": f"2025-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
                "finished_at": f"2025-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
                "status": "success",
                "id": f"{service}-{i}",
            }
        )
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


class Server:
    def __init__(self, db: Path) -> None:
        self.port = _free_port()
        env = {**os.environ, "PRODGRAPH_AUTH_DISABLED": "true"}
        self.proc = subprocess.Popen(
            [str(PRODGRAPH), "serve", "--db", str(db), "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 240  # torch loads at startup: slow on a busy machine
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.proc.kill()
        raise RuntimeError("server did not become ready")

    def upload(self, path: Path) -> httpx.Response:
        return httpx.post(
            self.url + "/v1/ingest/deployments",
            params={"filename": path.name},
            content=path.read_bytes(),
            headers={"Content-Type": "application/x-ndjson"},
            timeout=300,
        )

    def count(self, label: str) -> int:
        resp = httpx.post(
            self.url + "/v1/cypher",
            timeout=30,
            json={"query": f"MATCH (n:{label}) RETURN count(n) AS n"},
        )
        return int(resp.json()["rows"][0][0])

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def test_kill_mid_ingest_then_restart_and_resend(tmp_path: Path) -> None:
    db = tmp_path / "g.lbug"
    small = [_deployments(tmp_path / f"d{i}.jsonl", f"svc{i}", 50) for i in range(3)]
    big = _deployments(tmp_path / "big.jsonl", "bigsvc", 20_000)

    server = Server(db)
    for f in small:
        assert server.upload(f).status_code == 200
    acknowledged = server.count("Deployment")
    assert acknowledged == 150

    failed: list[BaseException] = []

    def send_big() -> None:
        try:
            server.upload(big)
        except httpx.HTTPError as e:  # the server dies under it
            failed.append(e)

    sender = threading.Thread(target=send_big)
    sender.start()
    time.sleep(1.0)
    server.kill()
    sender.join(timeout=60)
    assert failed, "the upload finished before the kill: make the in-flight file larger"

    server = Server(db)  # the store reopens after a hard kill
    try:
        after_crash = server.count("Deployment")
        assert acknowledged <= after_crash <= acknowledged + 20_000
        # re-sending what was not acknowledged completes the load: a clean load's counts
        assert server.upload(big).status_code == 200
        assert server.count("Deployment") == 150 + 20_000
        assert server.count("Service") == 4
        for f in small:  # and acknowledged data re-sent changes nothing
            assert server.upload(f).status_code == 200
        assert server.count("Deployment") == 150 + 20_000
    finally:
        server.stop()
