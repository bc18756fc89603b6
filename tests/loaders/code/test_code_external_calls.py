"""Calls out of the repository: builtins, the standard library and packages as External nodes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from graph_service.batch import DeleteNodes, EdgeBatch, NodeBatch
from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from loaders.base import LoadReport
from loaders.code import make_loader
from loaders.code.loader import CodeConfig, CodeLoader
from tests.loaders.code.code_sample_tree import write_tree

TREE = {
    "app/__init__.py": "",
    "app/util.py": "def helper():\n    return 1\n",
    "app/run.py": """\
import subprocess
import requests
import xml.etree.ElementTree as ET
from os import path
from os.path import join as pjoin

from app import util


def shell(cmd):
    return subprocess.run(cmd, check=True)


def post(url):
    requests.post(url, json={})
    s = requests.Session()
    s.get(url)
    with requests.Session() as c:
        c.put(url)
    requests.get(url).json()


def paths(a):
    print(path.join(a, "x"), pjoin(a, "y"))
    return len(a) + util.helper()


def dyn(code):
    return eval(code)


def shadowed(xs):
    def len(v):
        return 0

    return len(xs)


def by_key(v):
    return v


def ordered(xs):
    return sorted(xs, key=by_key)


class Handler(ET.XMLParser):
    def feed_all(self, data):
        self.feed(data)


class Plain:
    def __init__(self):
        super().__init__()


h = Handler()
""",
}

Ext = tuple[str, str, str]  # caller qualname, external qualname, resolution


def _extract(root: Path) -> tuple[dict[tuple[str, str], tuple[str, float]], dict[str, dict]]:
    loader = CodeLoader(CodeConfig(root=root, repo="r", use_git=False, workers=1))
    calls: dict[tuple[str, str], tuple[str, float]] = {}
    nodes: dict[str, dict] = {}
    for batch in loader.extract(LoadReport("code")):
        if isinstance(batch, EdgeBatch) and batch.type == "CALLS_EXTERNAL":
            for row in batch.table.to_pylist():
                assert row["src"].startswith("fn:r:") and row["dst"].startswith("ext:r:")
                key = (row["src"].removeprefix("fn:r:"), row["dst"].removeprefix("ext:r:"))
                assert key not in calls
                calls[key] = (row["resolution"], row["confidence"])
        elif isinstance(batch, EdgeBatch) and batch.type == "CALLS":
            for row in batch.table.to_pylist():
                assert not row["dst"].startswith("ext:")
        elif isinstance(batch, NodeBatch) and batch.label == "External":
            for row in batch.table.to_pylist():
                assert row["uid"] not in nodes
                nodes[row["uid"]] = row
    return calls, nodes


def test_calls_outside_the_repository_reach_external_nodes(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "r", TREE)
    calls, nodes = _extract(root)
    run = "app/run.py"
    got = {(src.removeprefix(run + ":"), dst): res for (src, dst), (res, _) in calls.items()}
    expected = {
        ("shell", "subprocess.run"): "import",
        ("post", "requests.post"): "import",
        ("post", "requests.Session"): "import",
        ("post", "requests.Session.get"): "instance",  # s = requests.Session(); s.get()
        ("post", "requests.Session.put"): "instance",  # with requests.Session() as c
        ("post", "requests.get"): "import",
        ("paths", "<builtin>.print"): "builtin",
        ("paths", "os.path.join"): "import",  # both spellings reach one node
        ("paths", "<builtin>.len"): "builtin",
        ("dyn", "<builtin>.eval"): "builtin",
        ("ordered", "<builtin>.sorted"): "builtin",
        ("Handler.feed_all", "xml.etree.ElementTree.XMLParser.feed"): "inherited",
        ("Plain.__init__", "<builtin>.super"): "builtin",
        ("<module>", "xml.etree.ElementTree.XMLParser.__init__"): "constructor",
    }
    assert got == expected
    # a function's result is of no known type: `requests.get(url).json()` names nothing
    assert not any(dst.startswith("requests.get.") for _, dst in got)
    # a local `len` shadows the builtin; in-repository callees stay CALLS edges
    assert not any(src == "shadowed" for src, _ in got)
    assert calls[(f"{run}:shell", "subprocess.run")][1] == 0.9
    assert calls[(f"{run}:post", "requests.Session.get")][1] == 0.6
    assert nodes["ext:r:<builtin>.eval"] | {"loaded_by": None, "run_id": None} == {
        "uid": "ext:r:<builtin>.eval",
        "repo": "r",
        "qualname": "<builtin>.eval",
        "name": "eval",
        "package": "builtins",
        "kind": "builtin",
        "loaded_by": None,
        "run_id": None,
    }
    kinds = {n["qualname"]: (n["package"], n["kind"]) for n in nodes.values()}
    assert kinds["subprocess.run"] == ("subprocess", "stdlib")
    assert kinds["requests.post"] == ("requests", "package")
    assert set(kinds) == {dst for _, dst in got}


def test_a_module_of_the_repository_is_never_external(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "r",
        {
            "requests/__init__.py": "def post(url):\n    return url\n",
            "client.py": "import requests\n\n\ndef send():\n    return requests.post('x')\n",
        },
    )
    calls, nodes = _extract(root)
    assert calls == {} and nodes == {}


def _externals(store: GraphStore) -> set[tuple[str, str, str]]:
    q = (
        "MATCH (f:Function)-[c:CALLS_EXTERNAL]->(x:External) "
        "RETURN f.path + ':' + f.qualname AS f, x.uid AS x, c.resolution AS r"
    )
    return {(r["f"], r["x"], r["r"]) for r in store.query(q).rows()}


def _external_nodes(store: GraphStore) -> set[str]:
    return {r["u"] for r in store.query("MATCH (x:External) RETURN x.uid AS u").rows()}


def test_external_callers_query_and_incremental_loads(
    tmp_path: Path, store: GraphStore, load: Callable[..., LoadReport]
) -> None:
    from graph_service.queries import run_named

    root = write_tree(tmp_path / "shop", TREE)
    load(root)
    rows = run_named(store, "external_callers", {"name": "subprocess"}).rows()
    assert [(r["qualname"], r["callee"], r["resolution"]) for r in rows] == [
        ("shell", "subprocess.run", "import")
    ]
    rows = run_named(store, "external_callers", {"name": "requests"}).rows()
    assert {r["callee"] for r in rows} == {
        "requests.Session",
        "requests.Session.get",
        "requests.Session.put",
        "requests.get",
        "requests.post",
    }
    rows = run_named(store, "external_callers", {"name": "<builtin>.eval"}).rows()
    assert [(r["path"], r["qualname"], r["confidence"]) for r in rows] == [
        ("app/run.py", "dyn", 0.9)
    ]
    # the package's name alone does not match a longer one that starts with it
    assert run_named(store, "external_callers", {"name": "request"}).rows() == []

    # post() stops using requests and a new file calls subprocess: edges and nodes follow
    run_py = root / "app/run.py"
    text = run_py.read_text()
    start = text.index("def post(url):")
    end = text.index("def paths(a):")
    run_py.write_text(text[:start] + "def post(url):\n    return url\n\n\n" + text[end:])
    (root / "app/tool.py").write_text("import subprocess\n\nsubprocess.call(['ls'])\n")
    report = load(root)
    assert not report.failed_batches
    fresh = open_store(Settings(db_path=tmp_path / "fresh.lbug"), create=True)
    ingest(fresh, make_loader([str(root)], Settings(), {"repo": "shop"}))
    assert _externals(store) == _externals(fresh)
    assert _external_nodes(store) == _external_nodes(fresh)
    assert not any("requests" in u for u in _external_nodes(store))
    assert ("app/tool.py:<module>", "ext:shop:subprocess.call", "import") in _externals(store)


def test_unused_external_nodes_are_deleted_by_an_incremental_load(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "r", TREE)
    store = open_store(Settings(db_path=tmp_path / "g.lbug"), create=True)
    ingest(store, make_loader([str(root)], Settings(), {"repo": "r"}))
    (root / "app/run.py").write_text("def only():\n    return print(1)\n")
    loader = make_loader([str(root)], Settings(), {"repo": "r"})
    deleted: set[str] = set()
    for batch in loader.extract(LoadReport("code"), store):
        if isinstance(batch, DeleteNodes) and batch.label == "External":
            deleted |= set(batch.uids)
    assert "ext:r:subprocess.run" in deleted and "ext:r:<builtin>.print" not in deleted
