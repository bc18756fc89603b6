"""Kubernetes manifests, a compose file and `.env` files into a real store: USES and problems."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from graph_service.batch import edges, nodes
from graph_service.errors import CallerError
from graph_service.ingest import ingest
from graph_service.settings import Settings
from graph_service.store import GraphStore
from loaders.base import LoadReport
from loaders.config import make_loader
from tests.loaders.config.config_inputs import K8S, snapshot, write_tree


@pytest.fixture
def traced(store: GraphStore) -> GraphStore:
    """A store where traces already created two services."""
    store.write(
        nodes(
            "Service",
            [
                {"uid": "svc:orders", "name": "orders", "language": "go"},
                {"uid": "svc:Payments", "name": "Payments"},
            ],
        ),
        loaded_by="traces",
        run_id="t-1",
    )
    return store


def load(store: GraphStore, paths: list[str], **options: str) -> LoadReport:
    return ingest(store, make_loader(paths, Settings(), dict(options)))


def uses(store: GraphStore) -> dict[tuple[str, str], dict[str, object]]:
    rows = store.query(
        "MATCH (s:Service)-[u:USES]->(r:Resource) RETURN s.uid AS s, r.uid AS r, "
        "r.kind AS kind, r.system AS system, u.via AS via, u.source AS source, "
        "u.confidence AS confidence"
    ).rows()
    return {(row.pop("s"), row.pop("r")): row for row in rows}


def test_kubernetes_manifests(traced: GraphStore, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo")
    load(traced, [str(root / "k8s" / "app.yaml")])

    got = uses(traced)
    orders = {r for s, r in got if s == "svc:orders"}
    assert orders == {
        "res:database:orders-db.shop",  # envFrom ConfigMap, credentials and port dropped
        "res:feature_flag:FEATURE_NEW_CHECKOUT",
        "res:config_key:LOG_LEVEL",
        "res:config_key:DB_POOL",  # configMapKeyRef
        "res:cache:cache",
        "res:queue:kafka-0,kafka-1",
        "res:host:payments-svc.shop",
        "res:config_key:secret/orders-secrets",
        "res:config_key:configmap/pricing-rules",
    }
    db = got[("svc:orders", "res:database:orders-db.shop")]
    assert db == {
        "kind": "database",
        "system": "postgresql",
        "source": "config",
        "confidence": 1.0,
        "via": str(root / "k8s" / "app.yaml"),
    }
    assert got[("svc:orders", "res:queue:kafka-0,kafka-1")]["system"] == "kafka"
    assert {r for s, r in got if s == "svc:reporter"} == {
        "res:queue:rabbit",
        "res:config_key:configmap/missing-config",
    }
    services = traced.query(
        "MATCH (s:Service) RETURN s.uid AS uid, s.loaded_by AS by, s.language AS lang"
    ).rows()
    # orders-service matched the traced `orders`, payments-svc the traced `Payments`;
    # the traced nodes were not rewritten; the ExternalName Service is not a service
    assert sorted((r["uid"], r["by"], r["lang"]) for r in services) == [
        ("svc:Payments", "traces", None),
        ("svc:orders", "traces", "go"),
        ("svc:reporter", "config", None),
    ]


def test_no_secret_reaches_the_graph(traced: GraphStore, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo")
    load(traced, [str(root)])

    text = repr(snapshot(traced))
    for secret in (
        "s3cret-pw",
        "hunter2",
        "guest:guest",
        "abc123",
        "SESSION_SECRET=abc",
        "BEGIN KEY",
        "u:p@",
    ):
        assert secret not in text


def test_compose_and_env_files(traced: GraphStore, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo")
    load(traced, [str(root / "compose"), str(root / "services")])

    got = uses(traced)
    compose = str(root / "compose" / "docker-compose.yml")
    assert {r for s, r in got if s == "svc:web"} == {
        "res:database:db",
        "res:cache:redis",
        "res:queue:kafka",
        "res:host:api",
        "res:feature_flag:FLAG_DARK_MODE",
        "res:host:o1.ingest.sentry.io",
        "res:config_key:API_TIMEOUT",
        "res:config_key:SESSION_SECRET",
        "res:queue:mq.internal",
    }
    assert got[("svc:web", "res:database:db")]["system"] == "postgresql"
    assert got[("svc:web", "res:database:db")]["via"] == compose
    assert got[("svc:web", "res:queue:mq.internal")]["via"] == str(root / "compose" / "web.env")
    # OTEL_SERVICE_NAME renames the compose service; search is elasticsearch by its image
    assert {r for s, r in got if s == "svc:checkout-api"} == {
        "res:queue:kafka",
        "res:database:search",
    }
    assert got[("svc:checkout-api", "res:database:search")]["system"] == "elasticsearch"
    assert {r for s, r in got if s == "svc:billing"} == {
        "res:host:api.stripe.com",
        "res:feature_flag:FEATURE_INVOICES",
        "res:config_key:PORT",
        "res:config_key:PEM",
    }
    # infrastructure compose services are resources, not services; compose's .env is not
    # a service of its own
    names = {r["uid"] for r in traced.query("MATCH (s:Service) RETURN s.uid AS uid").rows()}
    assert not names & {"svc:db", "svc:redis", "svc:kafka", "svc:search", "svc:compose"}


def test_bad_documents_and_lines_are_reported(traced: GraphStore, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo")
    report = load(traced, [str(root)])

    problems = {(Path(p.item).name, p.position): p.reason for p in report.skipped}
    assert set(problems) == {("broken.yaml", "line 12"), ("web.yaml", "line 1"), (".env", "line 4")}
    assert problems[("web.yaml", "line 1")].startswith("unrendered Helm/Go template")
    assert problems[("broken.yaml", "line 12")].startswith("invalid YAML")
    assert [(Path(w.item).name, w.position) for w in report.warnings] == [("app.yaml", "line 51")]
    got = uses(traced)
    # the documents around the broken one and after the template still load
    assert ("svc:audit", "res:config_key:AUDIT_TOPIC") in got
    assert ("svc:debug-pod", "res:cache:mc1") in got
    assert ("svc:ledger", "res:database:ledger-pg") in got
    assert not report.failed_batches


def test_load_twice_changes_nothing(traced: GraphStore, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo")
    first_report = load(traced, [str(root)])
    first = snapshot(traced)
    second_report = load(traced, [str(root)])

    assert snapshot(traced) == first
    assert first["USES"] and first["Resource"]
    assert [str(p) for p in second_report.skipped] == [str(p) for p in first_report.skipped]


def test_config_attaches_to_traced_names_once_they_exist(store: GraphStore, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo")
    manifest = str(root / "k8s" / "app.yaml")
    load(store, [manifest])
    assert ("svc:orders-service", "res:cache:cache") in uses(store)

    store.write(
        nodes("Service", [{"uid": "svc:orders", "name": "orders"}]),
        loaded_by="traces",
        run_id="t-1",
    )
    load(store, [manifest])
    got = uses(store)
    assert ("svc:orders", "res:cache:cache") in got
    # the stand-in config created before traces knew the service is gone, with its edges,
    # but one that another loader links to is kept
    assert not [s for s, _ in got if s == "svc:orders-service"]
    assert not store.query("MATCH (s:Service {uid: 'svc:orders-service'}) RETURN s.uid").rows()
    assert ("svc:reporter", "res:queue:rabbit") in got
    store.write(
        nodes("Deployment", [{"uid": "deploy:prod:reporter:1", "service": "reporter"}]),
        loaded_by="deployments",
        run_id="d-1",
    )
    store.write(
        edges(
            "OF",
            "Deployment",
            "Service",
            [
                {
                    "src": "deploy:prod:reporter:1",
                    "dst": "svc:reporter",
                    "source": "deploy",
                    "confidence": 1.0,
                }
            ],
        ),
        loaded_by="deployments",
        run_id="d-1",
    )
    store.write(
        nodes("Service", [{"uid": "svc:Reporter", "name": "Reporter"}]),
        loaded_by="traces",
        run_id="t-2",
    )
    load(store, [manifest])
    got = uses(store)
    assert ("svc:Reporter", "res:queue:rabbit") in got
    assert store.query("MATCH (s:Service {uid: 'svc:reporter'}) RETURN s.uid AS u").rows()


def test_stdin_needs_a_format_and_a_service(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("REDIS_URL=redis://r1:6379\n"))
    report = load(store, ["-"], format="dotenv", service="Cart")
    assert not report.skipped
    assert set(uses(store)) == {("svc:cart", "res:cache:r1")}

    monkeypatch.setattr(sys, "stdin", io.StringIO(K8S))
    load(store, ["-"])
    assert ("svc:orders-service", "res:cache:cache") in uses(store)

    with pytest.raises(CallerError, match="format"):
        make_loader(["-"], Settings(), {"format": "toml"})


def test_globs_and_missing_paths(store: GraphStore, tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo")
    report = load(store, [str(root / "k8s" / "*.yaml"), str(root / "nowhere"), str(root / "*.x")])

    assert {s for s, _ in uses(store)} == {
        "svc:orders-service",
        "svc:reporter",
        "svc:audit",
        "svc:debug-pod",
    }
    assert sorted(p.reason for p in report.skipped if p.position is None) == [
        "glob matched no files",
        "no such file or folder",
    ]
