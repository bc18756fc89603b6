"""The sample generator: a real repository, real OTLP traces, deployments, tickets and truth."""

from __future__ import annotations

import json
import re
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from graph_service.errors import CallerError
from sample_system import SampleManifest, generate, size_spec
from sample_system.bugs import BUGS


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True)
    return out.stdout.decode()


PROGRESS: list[tuple[str, float]] = []


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> SampleManifest:
    out = tmp_path_factory.mktemp("tiny") / "sample"
    return generate(out, seed=11, size="tiny", progress=lambda s, f: PROGRESS.append((s, f)))


def test_progress_is_reported(tiny: SampleManifest) -> None:
    stages = [stage for stage, _ in PROGRESS]
    assert stages[0] == "history" and stages[-1] == "done"
    traces = [f for stage, f in PROGRESS if stage == "traces"]
    assert len(traces) == len(tiny.traces) and traces == sorted(traces) and traces[-1] == 1.0


@pytest.fixture(scope="module")
def truth(tiny: SampleManifest) -> dict:
    return json.loads(tiny.ground_truth.read_text())


@pytest.fixture(scope="module")
def spans(tiny: SampleManifest) -> list[tuple[str, dict, Span]]:
    """(file name, resource attributes, span) for every span of every trace file."""
    out: list[tuple[str, dict, Span]] = []
    for path in tiny.traces:
        request = ExportTraceServiceRequest.FromString(path.read_bytes())
        for rs in request.resource_spans:
            resource = {a.key: a.value.string_value for a in rs.resource.attributes}
            for ss in rs.scope_spans:
                out.extend((path.name, resource, span) for span in ss.spans)
    return out


def attrs(span: Span) -> dict:
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in span.attributes}


def test_repository_history(tiny: SampleManifest, truth: dict) -> None:
    assert git(tiny.repo, "rev-parse", "--is-inside-work-tree").strip() == "true"
    git(tiny.repo, "fsck", "--no-progress")
    shas = git(tiny.repo, "rev-list", "main").split()
    assert len(shas) == size_spec("tiny").commits == tiny.commits
    authors = set(git(tiny.repo, "log", "--format=%an <%ae>").splitlines())
    assert len(authors) >= 4
    fixes = [m for m in git(tiny.repo, "log", "--format=%B%x00").split("\0") if "Fixes #" in m]
    assert len(fixes) == len(truth["bugs"]) >= 1
    dates = [int(d) for d in git(tiny.repo, "log", "--format=%at").split()]
    assert max(dates) - min(dates) > 20 * 86400
    files = git(tiny.repo, "ls-files").split()
    services = {p.split("/")[1] for p in files if p.startswith("services/")}
    assert {"gateway", "orders", "payments", "inventory", "notifications", "pricing"} <= services
    assert any(p.endswith(".go") for p in files)
    assert git(tiny.repo, "status", "--porcelain") == ""


def test_traces_are_otlp_with_server_client_and_code_attributes(spans: list) -> None:
    kinds = {span.kind for _, _, span in spans}
    assert {Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_INTERNAL} <= kinds
    services = {resource["service.name"] for _, resource, _ in spans}
    assert {"gateway", "orders", "payments", "inventory", "notifications", "pricing"} <= services
    for _, resource, _ in spans[:50]:
        assert resource["deployment.environment.name"] == "production"
        assert re.fullmatch(r"[0-9a-f]{40}", resource["vcs.ref.head.revision"])
        assert resource["service.version"].startswith("1.")
    for _, _, span in spans:
        a = attrs(span)
        assert {"code.function.name", "code.file.path", "code.line.number"} <= a.keys()
        assert a["code.file.path"].startswith(("services/", "libs/"))
        assert span.end_time_unix_nano >= span.start_time_unix_nano
    clients = [attrs(s) for _, _, s in spans if s.kind == Span.SPAN_KIND_CLIENT]
    assert any(a.get("db.system") == "postgresql" for a in clients)
    assert any(a.get("db.system") == "redis" for a in clients)
    assert {"orders", "payments", "inventory", "pricing", "acquirer"} <= {
        a.get("peer.service") for a in clients
    }
    go = [attrs(s) for _, r, s in spans if r["service.name"] == "pricing"]
    assert go and all(a["code.file.path"].endswith(".go") for a in go)


def test_exception_stack_traces_point_into_the_repository(
    tiny: SampleManifest, spans: list, truth: dict
) -> None:
    by_window = {p.name: p.name.split("-")[2].split(".")[0] for p in tiny.traces}
    traces = 0
    raised_in: set[str] = set()
    for name, _, span in spans:
        for event in span.events:
            assert event.name == "exception"
            a = {x.key: x.value.string_value for x in event.attributes}
            stack = a["exception.stacktrace"]
            assert "/tmp" not in stack and "prodgraph-sample" not in stack
            paths = re.findall(r'File "([^"]+)", line (\d+)', stack)
            assert paths
            short = by_window[name]
            for path, _ in paths:
                git(tiny.repo, "cat-file", "-e", f"{_full(tiny, short)}:{path}")
            if span.kind == Span.SPAN_KIND_SERVER and "Upstream" not in a["exception.type"]:
                assert paths[-1][0].startswith("services/")
                frames = [x for x in stack.splitlines() if x.startswith("  File ")]
                raised_in.add(frames[-1].rsplit(", in ", 1)[-1])
            traces += 1
    assert traces > 0
    # every non-cascading exception comes from one of the planted bugs
    expected = {b.raises_in for b in BUGS if b.key in {x["key"] for x in truth["bugs"]}}
    assert raised_in and raised_in <= expected
    assert sum(b["errors_in_traces"] for b in truth["bugs"]) > 0


def _full(tiny: SampleManifest, short: str) -> str:
    return git(tiny.repo, "rev-parse", short).strip()


def test_deployments(tiny: SampleManifest) -> None:
    lines = tiny.deployments.read_text().splitlines()
    assert lines
    shas = set(git(tiny.repo, "rev-list", "main").split())
    ids = set()
    for line in lines:
        d = json.loads(line)
        assert {
            "id",
            "service",
            "version",
            "environment",
            "sha",
            "started_at",
            "finished_at",
            "status",
        } <= d.keys()
        assert d["sha"] in shas and d["environment"] == "production"
        started = datetime.fromisoformat(d["started_at"])
        finished = datetime.fromisoformat(d["finished_at"])
        assert started.tzinfo is not None and finished >= started
        assert d["status"] in ("succeeded", "failed")
        ids.add(d["id"])
    assert len(ids) == len(lines)
    services = {json.loads(line)["service"] for line in lines}
    assert len(services) == 6


def test_tickets_look_like_github_issues(tiny: SampleManifest, truth: dict) -> None:
    tickets = json.loads(tiny.tickets.read_text())
    assert [t["number"] for t in tickets] == list(range(1, len(tickets) + 1))
    for t in tickets:
        assert {
            "number",
            "title",
            "body",
            "state",
            "labels",
            "user",
            "created_at",
            "closed_at",
            "html_url",
            "comments",
        } <= t.keys()
        assert t["state"] == ("closed" if t["closed_at"] else "open")
        assert all(set(label) == {"name"} for label in t["labels"])
        if t["closed_at"]:
            assert t["closed_at"] >= t["created_at"]
    created = [t["created_at"] for t in tickets]
    assert created == sorted(created)
    with_trace = [
        x["number"]
        for b in truth["bugs"]
        for x in b["tickets"]
        if x["kind"] == "bug" and b["errors_in_traces"]
    ]
    for number in with_trace:
        assert 'File "' in tickets[number - 1]["body"]
    for bug in truth["bugs"]:
        for t in bug["tickets"]:
            assert t["has_trace"] == ('File "' in tickets[t["number"] - 1]["body"])
            if t["kind"] == "incident":
                assert "incident" in {x["name"] for x in tickets[t["number"] - 1]["labels"]}


def test_ground_truth_is_consistent(tiny: SampleManifest, truth: dict) -> None:
    tickets = {t["number"]: t for t in json.loads(tiny.tickets.read_text())}
    lines = tiny.deployments.read_text().splitlines()
    deployments = {d["id"]: d for d in map(json.loads, lines)}
    for bug in truth["bugs"]:
        intro, fix = bug["introducing_commit"], bug["fixing_commit"]
        assert git(tiny.repo, "merge-base", "--is-ancestor", intro, fix) == ""
        message = git(tiny.repo, "log", "-1", "--format=%B", fix)
        assert f"Fixes #{bug['primary_ticket']}" in message
        assert "Fixes" not in git(tiny.repo, "log", "-1", "--format=%B", intro)
        (gold_file,) = bug["gold_files"]
        assert gold_file in git(tiny.repo, "show", "--name-only", "--format=", intro).split()
        assert gold_file in git(tiny.repo, "show", "--name-only", "--format=", fix).split()
        path, qualname = bug["gold_functions"][0].split("::")
        assert path == gold_file
        source = git(tiny.repo, "show", f"{intro}:{path}")
        assert f"def {qualname.split('.')[-1]}(" in source
        fixed_at = git(tiny.repo, "log", "-1", "--format=%cI", fix).strip()
        primary = tickets[bug["primary_ticket"]]
        assert primary["created_at"] < _z(fixed_at) <= (primary["closed_at"] or "9999")
        assert {t["number"] for t in bug["tickets"]} <= tickets.keys()
        for key, commit in (("shipped_by_deployments", intro), ("fix_shipped_by_deployments", fix)):
            assert bug[key]
            for dep_id in bug[key]:
                dep = deployments[dep_id]
                assert dep["service"] == bug["service"] and dep["status"] == "succeeded"
                git(tiny.repo, "merge-base", "--is-ancestor", commit, dep["sha"])
    for kind in ("declared", "undeclared"):
        for dup, original in truth["duplicates"][kind]:
            assert dup > original
            has_text = f"Duplicate of #{original}" in tickets[dup]["body"]
            assert tickets[dup]["user"] != tickets[original]["user"]
            assert has_text == (kind == "declared")


def _z(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_bug_commits_look_like_ordinary_commits(tiny: SampleManifest, truth: dict) -> None:
    intro = {b["introducing_commit"] for b in truth["bugs"]}
    fixes = {b["fixing_commit"] for b in truth["bugs"]}
    log = git(tiny.repo, "log", "--format=%H%x00%s", "--shortstat", "--skip=0")
    stats: dict[str, int] = {}
    subjects: dict[str, str] = {}
    current = ""
    for line in log.splitlines():
        if "\0" in line:
            current, subjects[current] = line.split("\0")
        elif "changed" in line:
            stats[current] = sum(int(n) for n in re.findall(r"(\d+) (?:insertion|deletion)", line))
    ordinary = [stats[s] for s in stats if s not in intro | fixes]
    for sha in intro:
        assert not re.search(r"bug|fix|broken|wrong", subjects[sha], re.I)
        assert stats[sha] <= max(ordinary)


def test_same_seed_same_sample_and_reuse(tiny: SampleManifest, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", seed=11, size="tiny")
    assert git(again.repo, "rev-list", "main") == git(tiny.repo, "rev-list", "main")
    assert again.tickets.read_bytes() == tiny.tickets.read_bytes()
    assert again.ground_truth.read_bytes() == tiny.ground_truth.read_bytes()
    assert again.deployments.read_bytes() == tiny.deployments.read_bytes()
    assert [p.read_bytes() for p in again.traces] == [p.read_bytes() for p in tiny.traces]
    stamp = again.ground_truth.stat().st_mtime_ns
    started = time.perf_counter()
    reused = generate(tmp_path / "again", seed=11, size="tiny")
    assert time.perf_counter() - started < 1.0
    assert again.ground_truth.stat().st_mtime_ns == stamp
    assert reused.traces == again.traces
    other = generate(tmp_path / "again", seed=12, size="tiny")
    assert git(other.repo, "rev-list", "main") != git(tiny.repo, "rev-list", "main")


def test_size_spec() -> None:
    assert size_spec("small").commits > size_spec("tiny").commits
    assert size_spec(3).requests == 3 * size_spec(1).requests
    assert size_spec("2").name == "x2"
    with pytest.raises(CallerError):
        size_spec("huge")
    with pytest.raises(CallerError):
        size_spec(0)


@pytest.mark.slow
def test_small_generates_under_a_minute(tmp_path: Path) -> None:
    started = time.perf_counter()
    manifest = generate(tmp_path / "small", size="small")
    assert time.perf_counter() - started < 60
    truth = json.loads(manifest.ground_truth.read_text())
    assert 8 <= len(truth["bugs"]) <= 12
    assert 20 <= manifest.tickets_count <= 45
    assert manifest.spans >= 20_000
    assert 100 <= manifest.commits <= 200
    renames = git(manifest.repo, "log", "--diff-filter=R", "-M", "--format=%h")
    assert renames.strip()
