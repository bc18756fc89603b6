"""A writer killed mid-checkpoint: the next read-only open finishes the recovery and reads.

Ladybug refuses read-only opens ("checkpoint recovery is pending") after a writer dies during
a checkpoint, until a read-write open replays it. The store does that replay itself when no
other process holds the file, so `prodgraph stats` right after a crash answers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ladybug
import pytest

from graph_service.settings import Settings
from graph_service.store import open_store
from graph_service.store.ladybug_store import LadybugStore

PRODGRAPH = Path(sys.executable).parent / "prodgraph"

# the store with its schema, then a large write whose checkpoint is killed part-way
CHECKPOINTER = """
import sys, ladybug, numpy as np, pyarrow as pa
from graph_service.settings import Settings
from graph_service.store import open_store
open_store(Settings(db_path=sys.argv[1]), create=True).close()
db = ladybug.Database(sys.argv[1])
c = ladybug.Connection(db)
c.execute("CALL auto_checkpoint=false")
c.execute("CREATE NODE TABLE Big(k INT64 PRIMARY KEY, s STRING)")
n = int(sys.argv[2])
big = pa.table({"k": np.arange(n), "s": np.char.add("row", np.arange(n).astype(str))})
c.execute("COPY Big FROM big")
print("written", flush=True)
c.execute("CHECKPOINT")
print("checkpointed", flush=True)
"""


def _kill_mid_checkpoint(db: Path) -> None:
    """Run the writer and SIGKILL it while its checkpoint is under way."""
    for rows in (1_000_000, 3_000_000):
        for f in db.parent.glob(db.name + "*"):
            f.unlink()
        child = subprocess.Popen(
            [sys.executable, "-c", CHECKPOINTER, str(db), str(rows)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "written"
        marker = Path(str(db) + ".wal.checkpoint")
        while not marker.exists() and child.poll() is None:
            time.sleep(0.001)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        try:
            ladybug.Database(str(db), read_only=True).close()
        except RuntimeError as e:
            assert "checkpoint recovery is pending" in str(e)
            return
    pytest.fail("the checkpoint finished before the kill: the pending state was not reached")


def test_read_only_open_recovers_after_a_kill_mid_checkpoint(tmp_path: Path) -> None:
    db = tmp_path / "g.lbug"
    _kill_mid_checkpoint(db)
    store = LadybugStore(db, read_only=True)
    try:
        store.check_schema()
        assert store.query("MATCH (f:Function) RETURN count(f) AS n").rows() == [{"n": 0}]
        assert store.query("MATCH (b:Big) RETURN count(b) AS n").rows()[0]["n"] >= 0
    finally:
        store.close()
    assert not Path(str(db) + ".wal.checkpoint").exists()


def test_read_only_command_answers_right_after_the_crash(tmp_path: Path) -> None:
    db = tmp_path / "g.lbug"
    _kill_mid_checkpoint(db)
    out = subprocess.run(
        [str(PRODGRAPH), "stats", "--json", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PRODGRAPH_LOG": "warning"},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert '"Function": 0' in out.stdout


def test_the_next_writer_recovers_and_readers_open_beside_it(tmp_path: Path) -> None:
    db = tmp_path / "g.lbug"
    _kill_mid_checkpoint(db)
    store = LadybugStore(db)  # the writer: its open completes the recovery
    try:
        reader = open_store(Settings(db_path=db), read_only=True)  # and readers open again
        try:
            assert reader.query("MATCH (f:Function) RETURN count(f) AS n").rows() == [{"n": 0}]
        finally:
            reader.close()
    finally:
        store.close()
