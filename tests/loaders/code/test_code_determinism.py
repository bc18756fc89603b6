"""A code load gives the same graph in every process, whatever Python's string hashing.

Each load runs in its own Python process with its own PYTHONHASHSEED (set iteration order
differs between them) into its own Ladybug database; every node and edge with its properties
must be the same. The tree holds the two shapes where set order once decided an edge:
- an attribute declared with a base class whose default is a subclass instance
  (`iface: Base = Impl()`, flask's `session_interface`): the declared-types pass found
  `Impl.open` both as the instance's own method (`annotation`, 0.7) and as the constructed
  override below the declared class (`override`, 0.5), and kept whichever came first;
- a protocol method bound to one of two functions (`__iter__ = a if flag else b`; `__len__`
  for `len(x)`): value flow took the first function of the attribute's value set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from graph_service import schema
from tests.loaders.code.code_sample_tree import write_tree
from tests.loaders.code.conftest import _VOLATILE

ROOT = Path(__file__).resolve().parents[3]
COPIES = 12  # each copy is a coin flip under set order: 12 make a false pass ~1 in 4,000
SEEDS = ("0", "1", "2")

_CHILD = """
import json, sys
from pathlib import Path
from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import open_store
from loaders.code import make_loader
from tests.loaders.code.conftest import snapshot

root, db = Path(sys.argv[1]), Path(sys.argv[2])
settings = Settings(backend="ladybug", db_path=db)
store = open_store(settings, create=True)
ingest(store, make_loader([str(root)], settings, {"repo": "det"}))
print(json.dumps(snapshot(store), default=str))
store.close()
"""


def _tree(root: Path) -> Path:
    files: dict[str, str] = {"pkg/__init__.py": ""}
    sessions, apps, client = ["import sys\n"], [], []
    for i in range(COPIES):
        sessions.append(
            f"\n\nclass Base{i}:\n    def open(self):\n        return None\n\n\n"
            f"class Impl{i}(Base{i}):\n    def open(self):\n        return {i}\n"
        )
        apps.append(f"\n\nclass App{i}:\n    iface: Base{i} = Impl{i}()\n")
        client.append(
            f"\n\ndef use{i}(app: App{i}):\n    iface = app.iface\n    return iface.open()\n"
        )
    for i in range(3):
        sessions.append(
            f"\n\nclass Stream{i}:\n"
            "    def first_iter(self):\n        return iter(())\n\n"
            "    def second_iter(self):\n        return iter(())\n\n"
            "    def alpha_enter(self):\n        return self\n\n"
            "    def beta_enter(self):\n        return self\n\n"
            "    def __exit__(self, *exc):\n        return None\n\n"
            "    def size_a(self):\n        return 0\n\n"
            "    def size_b(self):\n        return 1\n\n"
            "    __iter__ = first_iter if sys.argv else second_iter\n"
            "    __enter__ = beta_enter if sys.argv else alpha_enter\n"
            "    __len__ = size_b if sys.argv else size_a\n"
        )
        client.append(
            f"\n\ndef drain{i}():\n    for _ in Stream{i}():\n        pass\n"
            f"    with Stream{i}():\n        pass\n"
            f"    return len(Stream{i}())\n"
        )
    names = ", ".join([f"Base{i}, Impl{i}" for i in range(COPIES)])
    files["pkg/sessions.py"] = "".join(sessions)
    files["pkg/app.py"] = f"from pkg.sessions import {names}\n" + "".join(apps)
    apps_names = ", ".join(f"App{i}" for i in range(COPIES))
    streams = ", ".join(f"Stream{i}" for i in range(3))
    files["pkg/client.py"] = (
        f"from pkg.app import {apps_names}\nfrom pkg.sessions import {streams}\n" + "".join(client)
    )
    return write_tree(root, files)


def _load(root: Path, db: Path, seed: str) -> dict[str, list[list[object]]]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root), str(db)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _calls(graph: dict[str, list[list[object]]]) -> dict[tuple[str, str], dict[str, object]]:
    """CALLS rows by (caller uid, callee uid): their properties by name."""
    names = [p.name for p in schema.rel("CALLS").all_props if p.name not in _VOLATILE]
    return {(str(r[0]), str(r[1])): dict(zip(names, r[2:], strict=True)) for r in graph["CALLS"]}


def test_every_process_loads_the_same_graph(tmp_path: Path) -> None:
    root = _tree(tmp_path / "tree")
    graphs = {s: _load(root, tmp_path / f"g{s}.lbug", s) for s in SEEDS}
    first = graphs[SEEDS[0]]
    assert first.get("CALLS") and first.get("CALLS_EXTERNAL")
    for seed in SEEDS[1:]:
        other = graphs[seed]
        assert sorted(other) == sorted(first)
        for key in first:
            moved = sorted(set(map(repr, other[key])) ^ set(map(repr, first[key])))
            assert other[key] == first[key], f"{key} differs at seed {seed}: {moved[:4]}"


def test_one_edge_per_pair_the_strongest_reading(tmp_path: Path) -> None:
    """The instance's own method (0.7) over the same method reached as an override (0.5)."""
    root = _tree(tmp_path / "tree")
    calls = _calls(_load(root, tmp_path / "g.lbug", "3"))
    seen = [k for k in calls if k[0].startswith("fn:det:pkg/client.py:use")]
    assert len(seen) == len(set(seen)) == COPIES  # no Base{i}.open: every Impl overrides it
    for i in range(COPIES):
        row = calls[(f"fn:det:pkg/client.py:use{i}", f"fn:det:pkg/sessions.py:Impl{i}.open")]
        assert (row["resolution"], row["confidence"]) == ("annotation", 0.7), row
    for i in range(3):
        out = {k[1].rpartition(".")[2] for k in calls if k[0].endswith(f"drain{i}")}
        # one function of each pair Python may bind (the same one in every process)
        assert len(out & {"first_iter", "second_iter"}) == 1, out
        assert len(out & {"alpha_enter", "beta_enter"}) == 1, out
        assert len(out & {"size_a", "size_b"}) == 1, out
