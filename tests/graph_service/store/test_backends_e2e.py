"""End to end on every backend: each loader (twice), the named queries, risk training and
scoring, triage and similar tickets, the CLI, and one test that compares the answers of the
two backends on the same sample. The Neo4j legs run against `PRODGRAPH_TEST_NEO4J_URI` and
are skipped, with that reason, without it."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from graph_service.queries import load_library, run_named
from graph_service.settings import Settings
from graph_service.store import GraphStore
from sample_system import generate
from sample_system.config import SampleManifest
from tests.conftest import StoreBackend, make_backend

PRODGRAPH = Path(sys.executable).parent / "prodgraph"


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleManifest:
    """The demo's sample system (size small), generated once for the session."""
    return generate(tmp_path_factory.mktemp("sample") / "sample", seed=7, size="small")


def _sources(m: SampleManifest) -> list[tuple[str, list[str], dict[str, str]]]:
    def p(x: Path) -> str:
        return str(x if x.is_absolute() else m.root / x)

    return [
        ("code", [p(m.repo)], {"repo": "shop"}),
        ("config", [p(m.repo)], {}),
        ("git", [p(m.repo)], {"repo": "shop"}),
        ("deployments", [p(m.deployments)], {"repo": "shop"}),
        ("traces", [p(t) for t in m.traces], {}),
        ("tickets", [p(m.tickets)], {}),
    ]


def load_sample(store: GraphStore, settings: Settings, m: SampleManifest) -> dict[str, Any]:
    """Every loader of the demo in order; returns each one's report."""
    from graph_service.cli.ingest_cmds import make_loader, run_loader

    return {
        source: run_loader(store, make_loader(source, paths, settings, options), quiet=True)
        for source, paths, options in _sources(m)
    }


# named queries whose default parameters answer on the sample (the others need a uid)
SAMPLE_QUERIES = (
    "hotspots_bugs",
    "hotspots_churn",
    "service_map",
    "recent_deployments",
    "escaped_deployments",
    "mttr_by_service",
    "repeat_errors",
    "functions_most_open_tickets",
    "escape_defect_rate",
)


def _best_connected(store: GraphStore, label: str, n: int, prop: str = "uid") -> list[Any]:
    q = (f"MATCH (x:{label}) OPTIONAL MATCH (x)--(y) WITH x, count(y) AS deg "
         f"RETURN x.uid AS uid, x.{prop} AS v ORDER BY deg DESC, uid LIMIT $n")  # fmt: skip
    return [r["v"] for r in store.query(q, {"n": n}).rows()]


def sample_params(store: GraphStore, text: str) -> dict[str, Any]:
    """Required parameters of a named query, from the graph: `$uid` the best-connected node of
    the label the query matches it against, `$uids` the three best, `$name` the best-connected
    function's qualname, `$since`/`$until` the whole history (a day either side)."""
    params: dict[str, Any] = {}
    if m := re.search(r"\(\w*:(\w+)[^)]*\{uid: \$uid\}", text):
        params["uid"] = next(iter(_best_connected(store, m.group(1), 1)), "")
    if m := re.search(r"UNWIND \$uids AS (\w+)", text):
        hit = re.search(r"\(\w*:(\w+)[^)]*\{uid: " + m.group(1) + r"\}", text)
        label = hit.group(1) if hit else "Function"
        params["uids"] = _best_connected(store, label, 3)
    if "$name" in text:
        params["name"] = next(iter(_best_connected(store, "Function", 1, "qualname")), "")
    span = store.query(
        "MATCH (c:Commit) RETURN min(c.authored_at) AS lo, max(c.authored_at) AS hi"
    ).rows()[0]
    if span["lo"] is not None:
        day = dt.timedelta(days=1)
        params["since"] = (span["lo"] - day).isoformat()
        params["until"] = (span["hi"] + day).isoformat()
    return params


def _named(store: GraphStore) -> dict[str, list[dict[str, Any]]]:
    """Every named query of the library, with the sample's own parameters."""
    lib = load_library()
    out = {}
    for name, q in sorted(lib.items()):
        given = sample_params(store, q.neo4j_text)
        params = {p.name: given[p.name] for p in q.params if p.required and p.name in given}
        if all(p.name in params for p in q.params if p.required):
            out[name] = run_named(store, name, params, library=lib).rows()
    assert set(SAMPLE_QUERIES) <= set(out), set(SAMPLE_QUERIES) - set(out)
    return out


def test_every_loader_twice_gives_the_same_graph(
    backend: StoreBackend, sample: SampleManifest
) -> None:
    store = backend.open()
    try:
        first = load_sample(store, backend.settings, sample)
        for source, report in first.items():
            assert not report.failed_batches, (source, report.failed_batches)
            assert sum(report.written.values()) > 0, source
        counts = store.counts()
        assert counts["nodes"]["Commit"] == sample.commits
        assert counts["nodes"]["Ticket"] > 0 and counts["edges"]["CALLS"] > 0
        answers = _named(store)
        assert answers["hotspots_bugs"], "no hotspots on the sample"
        load_sample(store, backend.settings, sample)  # incremental re-run of every loader
        assert store.counts() == counts
        assert _named(store) == answers
    finally:
        store.close()


def test_named_queries_give_the_known_answers(backend: StoreBackend) -> None:
    """The golden cases of tests/cypher, on this backend's fixture graph."""
    from tests.cypher.test_library_answers import CASES, _sorted_lists
    from tests.fixtures.graph import build_fixture_graph

    lib = load_library()
    store = backend.open()
    try:
        build_fixture_graph(store)
        for name, (params, expected) in CASES.items():
            rows = [_sorted_lists(r) for r in run_named(store, name, params, library=lib).rows()]
            assert rows == [_sorted_lists(r) for r in expected], name
    finally:
        store.close()


EXPLORER_SRC = Path(__file__).resolve().parents[3] / "web" / "explorer" / "src"


def explorer_queries() -> dict[str, str]:
    """The Cypher the explorer's pages send to `/v1/cypher` (`const NAME = `...`` in its
    sources), by page and name."""
    out = {}
    for path in sorted(EXPLORER_SRC.rglob("*.js")):
        for m in re.finditer(r"^const ([A-Z_]+) = `([^`]*)`", path.read_text(), re.M):
            if "${" not in m.group(2):
                out[f"{path.stem}.{m.group(1)}"] = m.group(2)
    return out


def _explorer_params(post: Any, cypher: str) -> dict[str, Any]:
    """Parameters as the pages pass them: `$uid` the best-connected node of the label the
    query matches it against, `$uids` the first 25 uids of theirs."""
    params: dict[str, Any] = {}
    if m := re.search(r"\(\w+:(\w+) \{uid: \$uid\}\)", cypher):
        q = (f"MATCH (n:{m.group(1)}) OPTIONAL MATCH (n)--(x) "
             "RETURN n.uid AS uid, count(x) AS deg ORDER BY deg DESC, uid LIMIT 1")  # fmt: skip
        rows = post(q, {})
        params["uid"] = rows[0]["uid"] if rows else ""
    if m := re.search(r"\(\w+:(\w+) \{uid: u\}\)", cypher):
        q = f"MATCH (n:{m.group(1)}) RETURN n.uid AS uid ORDER BY uid LIMIT 25"
        params["uids"] = [r["uid"] for r in post(q, {})]
    return params


def _without_ids(v: Any) -> Any:
    """Whole nodes and relationships without their store-internal ids (they differ)."""
    if isinstance(v, dict):
        return {k: _without_ids(x) for k, x in v.items() if k not in ("_ID", "_SRC", "_DST")}
    if isinstance(v, list):
        return [_without_ids(x) for x in v]
    return v


def explorer_answers(client: Any, headers: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Every explorer query through the service's `/v1/cypher`, as the pages call it; rows
    sorted when the query does not order them."""

    def post(query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        r = client.post("/v1/cypher", json={"query": query, "params": params}, headers=headers)
        assert r.status_code == 200, (query, r.text)
        body = r.json()
        return [dict(zip(body["columns"], row, strict=True)) for row in body["rows"]]

    out = {}
    for name, cypher in explorer_queries().items():
        rows = _without_ids(post(cypher, _explorer_params(post, cypher)))
        out[name] = rows if "ORDER BY" in cypher else sorted(rows, key=repr)
    return out


def _bug_ticket(store: GraphStore) -> dict[str, Any]:
    rows = store.query(
        "MATCH (t:Ticket) WHERE t.kind = 'bug' AND t.body CONTAINS 'Traceback' "
        "RETURN t.uid AS uid, t.title AS title, t.body AS body, t.created_at AS created "
        "ORDER BY created DESC, uid LIMIT 1"
    ).rows()
    assert rows, "the sample has a bug ticket with a stack trace"
    return rows[0]


def _triage(store: GraphStore, settings: Settings) -> Any:
    from graph_service.triage import TicketInput, triage
    from graph_service.triage.models import TriageConfig

    t = _bug_ticket(store)
    ticket = TicketInput(title=t["title"], body=t["body"], created=t["created"], uid=t["uid"])
    return triage(store, ticket, settings, TriageConfig(embedder="hashing"))


def _risk(store: GraphStore, model: Any, n: int = 8) -> dict[str, float | None]:
    from models.score import score_commit

    shas = [
        r["sha"]
        for r in store.query(
            "MATCH (c:Commit) RETURN c.sha AS sha ORDER BY c.authored_at DESC, sha LIMIT $n",
            {"n": n},
        ).rows()
    ]
    out = {}
    for sha in shas:
        score = score_commit(store, model, sha).score
        out[sha] = None if score is None else float(score)
    return out


def test_risk_triage_and_the_api(backend: StoreBackend, sample: SampleManifest) -> None:
    """Train and score, triage, then the service's data endpoints on the same store."""
    from fastapi.testclient import TestClient

    from graph_service.api import create_app
    from graph_service.api.auth import hash_key
    from models.config import RiskConfig
    from models.registry import load
    from models.train import train

    store = backend.open()
    try:
        load_sample(store, backend.settings, sample)
        model = load(train(store, backend.settings, RiskConfig(epochs=3, ensemble=1, hidden=8)))
        scores = _risk(store, model)
        known = [s for s in scores.values() if s is not None]
        assert known and all(0.0 <= s <= 1.0 for s in known)
        result = _triage(store, backend.settings)  # hashing vectors; the API's MiniLM follows
        assert result.functions, "triage names suspect functions"
        assert all(s.score >= 0.0 for s in result.similar)
        ticket = _bug_ticket(store)
        fp = store.query(
            "MATCH (e:ErrorSignature) RETURN e.uid AS uid, e.fingerprint AS fp ORDER BY uid LIMIT 1"
        ).rows()[0]["fp"]
    finally:
        store.close()
    settings = backend.settings.model_copy(update={"api_keys": [f"admin:{hash_key('k-admin')}"]})
    h = {"Authorization": "Bearer k-admin"}
    sha = next(s for s, v in scores.items() if v is not None)
    with TestClient(create_app(settings)) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["backend"] == backend.name
        assert "failed" not in json.dumps(ready.json()["checks"])
        whole = c.post("/v1/cypher", json={"query": "MATCH p = (:Commit)-[:MODIFIES]->() "
                                                    "RETURN p LIMIT 2"}, headers=h)  # fmt: skip
        assert whole.status_code == 200, whole.text
        named = c.post("/v1/queries/hotspots_bugs", json={"params": {}}, headers=h)
        assert named.status_code == 200 and named.json()["rows"], named.text
        risk = c.post("/v1/risk", json={"sha": sha}, headers=h)
        assert risk.status_code == 200, risk.text
        assert risk.json()["overall"] == pytest.approx(scores[sha], abs=1e-6)
        assert c.get("/v1/risk/recent", headers=h).status_code == 200
        body = {"title": ticket["title"], "body": ticket["body"], "uid": ticket["uid"]}
        tri = c.post("/v1/triage", json=body, headers=h)
        assert tri.status_code == 200, tri.text
        assert c.post("/v1/similar", json=body, headers=h).status_code == 200
        assert c.get(f"/v1/errors/{fp}/history", headers=h).status_code == 200
        assert c.get("/v1/schema", headers=h).status_code == 200
        counts = c.get("/v1/admin/counts", headers=h)
        assert counts.status_code == 200, counts.text
        # the explorer's own data calls: schema counts, the query list, and its page queries
        assert c.get("/v1/schema/counts", headers=h).json() == counts.json()
        assert c.get("/v1/queries", headers=h).status_code == 200
        pages = explorer_answers(c, h)
        assert len(pages) >= 10 and all(pages[q] for q in EXPLORER_ROWS), pages.keys()


# explorer queries the sample answers with rows (the others may rightly be empty)
EXPLORER_ROWS = ("services.SERVICES", "home.RECENT_DEPLOYS", "errors.SIGNATURES", "risk.COMMITS")


def test_switching_embedders_keeps_similarity_working(backend: StoreBackend) -> None:
    """MiniLM (384) -> hashing (256) -> MiniLM: each answers, the first and last alike."""
    import datetime as dt

    from graph_service import batch as B
    from graph_service.triage.models import TicketInput, TriageConfig
    from graph_service.triage.similar import similar

    texts = {
        "near": ("Payment fails with card declined", "charge() raises CardDeclined for visa"),
        "far": ("Dark mode for the settings page", "the settings page is too bright"),
        "mid": ("Checkout slow", "payment step takes ten seconds"),
    }
    rows = [
        {"uid": f"ticket:t:{k}", "key": k, "system": "t", "title": t, "body": b, "kind": "bug",
         "status": "closed", "created_at": dt.datetime(2024, 1, i + 1)}
        for i, (k, (t, b)) in enumerate(texts.items())
    ]  # fmt: skip
    store = backend.open()
    try:
        store.write(B.nodes("Ticket", rows), loaded_by="tickets", run_id="1")
        query = TicketInput(title="Card declined on payment", body="charge fails for visa cards")
        runs = []
        for embedder in ("minilm", "hashing", "minilm"):
            found = similar(store, query, k=3, config=TriageConfig(embedder=embedder))
            assert found and found[0].uid == "ticket:t:near", (embedder, found)
            runs.append([(s.uid, round(s.score, 9)) for s in found])
        assert runs[0] == runs[2]
    finally:
        store.close()


def _cli(backend: StoreBackend, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **backend.env, "PRODGRAPH_MODEL_DIR": str(backend.settings.model_dir)}
    return subprocess.run(
        [str(PRODGRAPH), *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.neo4j
def test_demo_runs_on_neo4j_and_says_so(tmp_path: Path) -> None:
    from graph_service import batch as B

    neo = make_backend("neo4j", tmp_path)  # skips without the test server
    store = neo.open()
    try:
        store.write(
            B.nodes("Person", [{"uid": "person:x", "name": "x"}]), loaded_by="t", run_id="1"
        )
    finally:
        store.close()
    work = str(tmp_path / "demo")
    refused = _cli(neo, "demo", "--workdir", work, "--size", "small", timeout=900)
    assert refused.returncode == 2 and "no demo loaded" in refused.stderr, refused.stderr
    store = neo.open()
    try:
        store.delete_all()  # type: ignore[attr-defined]
    finally:
        store.close()
    ran = _cli(neo, "demo", "--workdir", work, "--size", "small", timeout=900)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert "Neo4j at" in ran.stdout and "riskiest of the last" in ran.stdout
    assert "neo4j.notifications" not in ran.stderr
    assert not (tmp_path / "demo" / "graph.lbug").exists()


def test_cli_reads_whole_nodes_on_the_configured_backend(backend: StoreBackend) -> None:
    from tests.fixtures.graph import build_fixture_graph

    store = backend.open()
    try:
        build_fixture_graph(store)
    finally:
        store.close()
    one = _cli(backend, "query", "RETURN 1 AS one", "--format", "json")
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout)["rows"] == [{"one": 1}]
    whole = _cli(backend, "query", "MATCH (c:Commit) RETURN c ORDER BY c.uid LIMIT 1", "-f", "json")
    assert whole.returncode == 0, whole.stderr
    assert "authored_at" in whole.stdout
    assert "neo4j.notifications" not in whole.stderr + one.stderr
    stats = _cli(backend, "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["nodes"]["Commit"] > 0


def _same_floats(a: Any, b: Any) -> bool:
    """Equal, with floats equal to 1e-9 relative (sums can round in another order)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_floats(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_floats(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.neo4j
def test_both_backends_give_the_same_answers(tmp_path: Path, sample: SampleManifest) -> None:
    """Counts after every loader, every sample named query (rows in order), risk scores of
    one model, and the triage ranking: identical on the embedded store and on Neo4j."""
    from models.config import RiskConfig
    from models.registry import load
    from models.train import train

    neo = make_backend("neo4j", tmp_path / "neo4j")  # skips without the test server
    lady = make_backend("ladybug", tmp_path / "ladybug")
    stores = {b.name: b.open() for b in (lady, neo)}
    try:
        counts, named = {}, {}
        for name, store in stores.items():
            load_sample(store, lady.settings if name == "ladybug" else neo.settings, sample)
            counts[name], named[name] = store.counts(), _named(store)
        assert counts["neo4j"] == counts["ladybug"]
        for q in named["ladybug"]:
            assert _same_floats(named["neo4j"][q], named["ladybug"][q]), q
        model = load(train(stores["ladybug"], lady.settings, RiskConfig(epochs=3, ensemble=1)))
        risk = {name: _risk(store, model) for name, store in stores.items()}
        assert risk["neo4j"].keys() == risk["ladybug"].keys()
        for sha, s in risk["ladybug"].items():
            other = risk["neo4j"][sha]
            assert (s is None and other is None) or (
                s is not None and other is not None and math.isclose(other, s, abs_tol=1e-6)
            ), sha
        tri = {
            name: _triage(store, lady.settings if name == "ladybug" else neo.settings)
            for name, store in stores.items()
        }
        for part in ("functions", "files", "commits", "similar"):
            ids = {name: [x.uid for x in getattr(r, part)] for name, r in tri.items()}
            assert ids["neo4j"] == ids["ladybug"], part
        sims = {name: [s.score for s in r.similar] for name, r in tri.items()}
        assert _same_floats(sims["neo4j"], sims["ladybug"])
    finally:
        for store in stores.values():
            store.close()
    # the explorer's data calls through the service: the same rows on both
    from fastapi.testclient import TestClient

    from graph_service.api import create_app
    from graph_service.api.auth import hash_key

    pages = {}
    for b in (lady, neo):
        keyed = b.with_settings(api_keys=[f"reader:{hash_key('k-read')}"])
        with TestClient(create_app(keyed)) as c:
            pages[b.name] = explorer_answers(c, {"Authorization": "Bearer k-read"})
    for q in pages["ladybug"]:
        assert _same_floats(pages["neo4j"][q], pages["ladybug"][q]), q


@pytest.mark.neo4j
def test_ingest_repo_gives_the_same_stats_and_answers(
    tmp_path: Path, sample: SampleManifest
) -> None:
    """`prodgraph ingest repo` of a real repository (the sample's git history), then `stats`
    and every named query: the same on both backends."""
    neo = make_backend("neo4j", tmp_path / "neo4j")  # skips without the test server
    lady = make_backend("ladybug", tmp_path / "ladybug")
    repo = str(sample.repo if sample.repo.is_absolute() else sample.root / sample.repo)
    stats, named = {}, {}
    for b in (lady, neo):
        ran = _cli(b, "ingest", "repo", repo, *b.db_args, "-o", "repo=shop", timeout=900)
        assert ran.returncode == 0, ran.stderr[-3000:]
        out = _cli(b, "stats", "--json", *b.db_args)
        assert out.returncode == 0, out.stderr
        stats[b.name] = json.loads(out.stdout)
        store = b.open()
        try:
            named[b.name] = _named(store)
        finally:
            store.close()
    assert stats["neo4j"] == stats["ladybug"]
    assert stats["ladybug"]["nodes"]["Commit"] == sample.commits
    for q in named["ladybug"]:
        assert _same_floats(named["neo4j"][q], named["ladybug"][q]), q
