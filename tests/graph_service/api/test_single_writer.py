"""With the embedded store, the serving process is its one writer: others get store_locked."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from graph_service.settings import Settings

pytestmark = pytest.mark.embedded_only  # a lock on the embedded store's file

PROBE = """
import sys
from graph_service.errors import StoreLockedError
from graph_service.settings import Settings
from graph_service.store import open_store
try:
    open_store(Settings(db_path=sys.argv[1]), create=True)
except StoreLockedError as e:
    print("locked:", e.code, e.message)
    sys.exit(0)
print("opened")
sys.exit(1)
"""


def test_second_writer_process_is_refused(client: TestClient, settings: Settings) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(settings.db_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "locked: store_locked" in done.stdout
    assert "POST /v1/ingest" in done.stdout
    assert client.get("/readyz").status_code == 200
