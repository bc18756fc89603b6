"""The notebook client: the same calls on an embedded store and over HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import pytest

from graph_service.api import create_app
from graph_service.client import Client, RemoteError, connect
from graph_service.errors import CallerError, ModelMissingError
from graph_service.settings import Settings
from graph_service.store import open_store
from tests.conftest import make_backend
from tests.fixtures.graph import FUNCS, build_fixture_graph
from tests.graph_service.api.conftest import KEYS
from tests.graph_service.api.otlp_util import otlp_request, running_server

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("client-graph")
    store = open_store(Settings(db_path=root / "graph.lbug"), create=True)
    build_fixture_graph(store)
    store.close()
    return root


@pytest.fixture(params=["embedded", "http", pytest.param("http-neo4j", marks=pytest.mark.neo4j)])
def client(request: pytest.FixtureRequest, fixture_db: Path, tmp_path: Path) -> Iterator[Client]:
    shutil.copytree(fixture_db, tmp_path / "db")
    db = tmp_path / "db" / "graph.lbug"
    settings = Settings(db_path=db, model_dir=tmp_path / "models")
    if request.param == "http-neo4j":  # the service over Neo4j (skipped without its server)
        neo = make_backend("neo4j", tmp_path)
        store = neo.open()
        try:
            build_fixture_graph(store)
        finally:
            store.close()
        settings = neo.with_settings(model_dir=tmp_path / "models")
    if request.param == "embedded":
        with connect(path=db, settings=settings) as c:
            yield c
        return
    from graph_service.api.auth import hash_key

    served = settings.model_copy(update={"api_keys": [f"writer:{hash_key(KEYS['writer'])}"]})
    with running_server(create_app(served)) as url, connect(url=url, api_key=KEYS["writer"]) as c:
        yield c


def test_query_and_run_give_frames(client: Client) -> None:
    df = client.query("MATCH (f:Function {uid: $u}) RETURN f.name AS name", u=FUNCS["charge"])
    assert df.to_dict("records") == [{"name": "charge"}]
    callers = client.run("callers", uid=FUNCS["charge"])
    assert callers["uid"].tolist() == [FUNCS["checkout"]]


def test_errors_keep_their_code(client: Client) -> None:
    with pytest.raises((RemoteError, CallerError)) as err:
        client.query("MATCH (f:Function) DETACH DELETE f")
    assert err.value.code == "read_only"
    with pytest.raises((RemoteError, ModelMissingError)) as missing:
        client.risk(FUNCS["charge"][:8])
    assert missing.value.code == "model_missing"


def test_subgraph_hops_and_drawing(client: Client) -> None:
    one = client.subgraph(FUNCS["charge"], hops=1)
    assert {FUNCS["checkout"], FUNCS["validate"], FUNCS["query"]} <= set(one)
    assert one.nodes[FUNCS["charge"]]["label"] == "Function"
    assert one.has_edge(FUNCS["checkout"], FUNCS["charge"], key="CALLS")
    assert set(one.graph["pos"]) == set(one)
    two = client.subgraph(FUNCS["charge"], hops=2)
    assert set(one) < set(two) and FUNCS["handle"] in two
    fig = client.draw_subgraph(FUNCS["charge"])
    legend = fig.axes[0].get_legend()
    assert legend is not None
    assert {t.get_text() for t in legend.get_texts()} >= {"Function", "File"}


def test_to_pyg_of_a_subgraph(client: Client) -> None:
    data = client.to_pyg(FUNCS["charge"], hops=1)
    calls = data["Function", "CALLS", "Function"].edge_index
    uids = data["Function"].uid
    pairs = {(uids[s], uids[t]) for s, t in calls.t().tolist()}
    assert (FUNCS["checkout"], FUNCS["charge"]) in pairs
    assert (FUNCS["charge"], FUNCS["validate"]) in pairs


def test_ingest_through_the_client(client: Client, tmp_path: Path) -> None:
    spans = tmp_path / "in" / "spans.pb"
    spans.parent.mkdir()
    spans.write_bytes(otlp_request("client-svc").SerializeToString())
    report = client.ingest("traces", spans)
    assert report["written"]["Service"] == 1
    again = client.ingest("traces", spans)
    assert again["written"].get("Service", 0) in (0, 1)
    assert client.query("MATCH (s:Service {uid: 'svc:client-svc'}) RETURN count(*) AS n")[
        "n"
    ].tolist() == [1]


def test_connect_needs_one_target() -> None:
    with pytest.raises(CallerError):
        connect()
    with pytest.raises(CallerError):
        connect(url="http://x", path="y")


def test_code_upload_keeps_local_uids(client: Client, tmp_path: Path) -> None:
    """A folder sent over HTTP gets the same uids as one loaded in-process."""
    repo = tmp_path / "tiny"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "mod.py").write_text("def f():\n    return g()\n\n\ndef g():\n    return 1\n")
    report = client.ingest("code", repo, use_git="false")
    assert report["written"]["Function"] == 2
    calls = client.query(
        "MATCH (a:Function)-[:CALLS]->(b:Function) WHERE a.path = 'pkg/mod.py' "
        "RETURN a.uid AS a, b.uid AS b"
    )
    assert calls.to_dict("records") == [{"a": "fn:tiny:pkg/mod.py:f", "b": "fn:tiny:pkg/mod.py:g"}]


class _SyntheticHistory:
    name = "synthetic"

    def extract(self, report: object, reader: object = None) -> object:
        from models.synthetic import SyntheticSpec, synthetic_batches

        yield from synthetic_batches(SyntheticSpec(functions=200, commits=100))


def test_risk_with_a_trained_model(tmp_path: Path) -> None:
    """The notebook's `risk` scores through the same route code as the API, with a real model."""
    from graph_service.ingest import ingest
    from models.config import RiskConfig
    from models.train import train

    db = tmp_path / "g.lbug"
    settings = Settings(db_path=db, model_dir=tmp_path / "models")
    store = open_store(settings, create=True)
    ingest(store, _SyntheticHistory())  # type: ignore[arg-type]
    train(store, settings, RiskConfig(epochs=3))
    store.close()
    with connect(path=db, settings=settings) as g:
        sha = g.query("MATCH (c:Commit) RETURN c.sha AS sha ORDER BY sha LIMIT 1")["sha"].item()
        body = g.risk(sha)
    assert body["target"] == f"commit:{sha}"
    assert 0.0 <= body["overall"] <= 1.0
    assert body["nodes"] and body["model_version"]


def test_find_by_name_gives_uids(client: Client) -> None:
    found = client.find("Cart", limit=2)
    assert found["uid"].tolist() == [
        "class:shop:app/cart.py:Cart",  # exact name first
        "class:shop:app/cart.py:BaseCart",  # then substrings, shorter names first
    ]
    assert str(found["line"].dtype) == "Int64" and found["line"].tolist() == [5, 1]
    assert client.find("no_such_name").empty


def test_connect_to_a_path_with_no_store_says_it_made_an_empty_one(
    fixture_db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`connect(path=...)` with a mistyped path answered every query with an empty frame and no
    word; it now warns, naming the path. An existing store opens silently."""
    shutil.copytree(fixture_db, tmp_path / "db")
    settings = Settings(model_dir=tmp_path / "models")
    typo = tmp_path / "db" / "grahp.lbug"
    with caplog.at_level("WARNING", logger="graph_service.client"):
        with connect(path=tmp_path / "db" / "graph.lbug", settings=settings) as g:
            assert len(g.query("MATCH (f:Function) RETURN f.uid AS uid")) > 0
        assert not caplog.records
        with connect(path=typo, settings=settings) as g:
            assert len(g.query("MATCH (f:Function) RETURN f.uid AS uid")) == 0
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert str(typo) in caplog.text and "empty" in caplog.text
