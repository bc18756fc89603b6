"""Generates the sample production system: repository, traces, deployments, tickets, truth."""

from __future__ import annotations

import json
import logging
import random
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sample_system.config import GENERATOR_VERSION, SampleManifest, SizeSpec, size_spec
from sample_system.history import PY_SERVICES, CommitRecord, build_history, write_repo
from sample_system.plan import BugPlan, Plan, make_plan
from sample_system.runtime import ErrorEvent, WindowSpec, run_window
from sample_system.tickets import iso_z, matches, render_ticket
from sample_system.workload import Workload

logger = logging.getLogger(__name__)

__all__ = ["generate"]

MARKER = ".prodgraph-sample.json"
SERVICES = (*PY_SERVICES, "pricing")
Progress = Callable[[str, float], None]


def _service_digest(files: dict[str, str], service: str) -> int:
    """Equal for equal contents within one run (str hashes are cached on the objects)."""
    prefixes = (f"services/{service}/",) + (("libs/",) if service != "pricing" else ())
    return hash(tuple((p, files[p]) for p in sorted(files) if p.startswith(prefixes)))


def _deployments(
    plan: Plan, shas: list[str], snapshots: dict[int, dict[str, str]], rng: random.Random
) -> tuple[list[dict], list[dict[str, tuple[str, str]]]]:
    """Deployment records, and per release the (version, sha) running for every service."""
    records: list[dict] = []
    last: dict[str, int] = {}
    running: dict[str, tuple[str, str]] = {}
    counts: dict[str, int] = {}
    per_release = []
    for commit, at in zip(plan.releases, plan.release_times, strict=True):
        for k, service in enumerate(SERVICES):
            digest = _service_digest(snapshots[commit], service)
            if last.get(service) == digest:
                continue
            last[service] = digest
            counts[service] = counts.get(service, -1) + 1
            version = f"1.{counts[service]}.0"
            started = at + timedelta(minutes=2 * k)
            if rng.random() < 0.05:
                failed_end = started + timedelta(minutes=rng.randrange(3, 9))
                records.append(
                    _deploy(records, service, version, shas[commit], started, failed_end, "failed")
                )
                started = failed_end + timedelta(minutes=rng.randrange(5, 20))
            finished = started + timedelta(minutes=rng.randrange(2, 9))
            records.append(
                _deploy(records, service, version, shas[commit], started, finished, "succeeded")
            )
            running[service] = (version, shas[commit])
        per_release.append(dict(running))
    return records, per_release


def _deploy(
    records: list[dict],
    service: str,
    version: str,
    sha: str,
    started: datetime,
    finished: datetime,
    status: str,
) -> dict:
    return {
        "id": f"dep-{len(records) + 1:05d}",
        "service": service,
        "version": version,
        "environment": "production",
        "sha": sha,
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "status": status,
    }


def _windows(
    plan: Plan, shas: list[str], running: list[dict[str, tuple[str, str]]], requests: int
) -> list[WindowSpec]:
    ends = [*plan.release_times[1:], plan.release_times[-1] + timedelta(days=2)]
    total = sum((e - s).total_seconds() for s, e in zip(plan.release_times, ends, strict=True))
    out = []
    for k, (start, end) in enumerate(zip(plan.release_times, ends, strict=True)):
        share = (end - start).total_seconds() / total
        start_at = start + timedelta(minutes=20)
        out.append(
            WindowSpec(
                k,
                shas[plan.releases[k]],
                start_at,
                max(end, start_at),
                max(40, round(requests * share)),
                running[k],
            )
        )
    return out


def _bug_errors(bug: BugPlan, plan: Plan, errors: list[list[ErrorEvent]]) -> list[ErrorEvent]:
    fix_release = next(r for r, c in enumerate(plan.releases) if c >= bug.fix)
    found = [
        e
        for k in range(bug.ship_release, fix_release)
        for e in errors[k]
        if matches(bug.spec.exc_type, bug.spec.raises_in, e)
    ]
    return sorted(found, key=lambda e: e.time_ns)


def _incident_context(
    plan: Plan,
    records: list[CommitRecord],
    deployments: list[dict],
    bug: BugPlan,
    found: list[ErrorEvent],
) -> dict[str, str]:
    sha = records[plan.releases[bug.ship_release]].sha
    shipped = [d for d in deployments if d["sha"] == sha and d["service"] == bug.spec.service]
    context = {"count": str(len(found))}
    if shipped:
        context["deploy"] = f"{bug.spec.service} {shipped[-1]['version']}"
        context["since"] = shipped[-1]["finished_at"]
    return context


def _truth_bug(
    plan: Plan,
    records: list[CommitRecord],
    deployments: list[dict],
    bug: BugPlan,
    tickets: list[dict],
    bug_errors: dict[str, list[ErrorEvent]],
) -> dict:
    path = records[bug.intro].bug_path
    gold = {"gold_functions": [f"{path}::{bug.spec.function}"], "gold_files": [path]}
    fix_release = next(r for r, c in enumerate(plan.releases) if c >= bug.fix)

    def shipped(release: int) -> list[str]:
        sha = records[plan.releases[release]].sha
        return [
            d["id"]
            for d in deployments
            if d["sha"] == sha and d["service"] == bug.spec.service and d["status"] == "succeeded"
        ]

    return {
        "key": bug.spec.key,
        "service": bug.spec.service,
        "exception_type": bug.spec.exc_type,
        "introducing_commit": records[bug.intro].sha,
        "fixing_commit": records[bug.fix].sha,
        "introduced_at": iso_z(plan.times[bug.intro]),
        "fixed_at": iso_z(plan.times[bug.fix]),
        "primary_ticket": bug.primary.number,
        "shipped_by_deployments": shipped(bug.ship_release),
        "fix_shipped_by_deployments": shipped(fix_release),
        "tickets": [
            {
                "number": t.number,
                "kind": t.kind,
                "has_trace": 'File "' in tickets[t.number - 1]["body"],
                **gold,
            }
            for t in bug.tickets
        ],
        "errors_in_traces": len(bug_errors[bug.spec.key]),
        **gold,
    }


def _tickets_and_truth(
    plan: Plan,
    records: list[CommitRecord],
    deployments: list[dict],
    errors: list[list[ErrorEvent]],
    seed: int,
    spec: SizeSpec,
) -> tuple[list[dict], dict]:
    rng = random.Random(f"tickets:{seed}")
    by_ticket = {id(t): b for b in plan.bugs for t in b.tickets}
    bug_errors = {b.spec.key: _bug_errors(b, plan, errors) for b in plan.bugs}
    tickets = []
    for ticket in plan.tickets:
        bug = by_ticket.get(id(ticket))
        found = bug_errors[bug.spec.key] if bug else []
        created_ns = int(ticket.created_at.timestamp() * 1e9)
        found = [e for e in found if e.time_ns < created_ns] or found
        context = (
            _incident_context(plan, records, deployments, bug, found)
            if (bug is not None and ticket.kind == "incident")
            else {}
        )
        tickets.append(render_ticket(ticket, bug, found, rng, context))
    truth_bugs = [
        _truth_bug(plan, records, deployments, bug, tickets, bug_errors) for bug in plan.bugs
    ]
    dups = [t for b in plan.bugs for t in b.tickets if t.kind == "duplicate"]
    truth = {
        "seed": seed,
        "size": spec.name,
        "generator_version": GENERATOR_VERSION,
        "bugs": truth_bugs,
        "duplicates": {
            "declared": [[t.number, t.duplicate_of] for t in dups if t.declared],
            "undeclared": [[t.number, t.duplicate_of] for t in dups if not t.declared],
        },
        "noise_tickets": [t.number for t in plan.tickets if t.bug is None],
    }
    return tickets, truth


def _load_existing(out_dir: Path, seed: int, spec: SizeSpec) -> SampleManifest | None:
    marker = out_dir / MARKER
    if not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    if (data.get("seed"), data.get("size"), data.get("generator_version")) != (
        seed,
        spec.name,
        GENERATOR_VERSION,
    ):
        return None
    manifest = SampleManifest.model_validate(data["manifest"])
    manifest.root = out_dir
    for name in ("repo", "deployments", "tickets", "ground_truth"):
        setattr(manifest, name, out_dir / getattr(manifest, name))
    manifest.traces = [out_dir / p for p in manifest.traces]
    if not all(p.exists() for p in (manifest.repo, manifest.tickets, *manifest.traces)):
        return None
    return manifest


def _clear(out_dir: Path) -> None:
    for name in (MARKER, "deployments.jsonl", "tickets.json", "ground_truth.json"):
        (out_dir / name).unlink(missing_ok=True)
    for name in ("repo", "traces"):
        if (out_dir / name).exists():
            shutil.rmtree(out_dir / name)


def _traces(
    plan: Plan, repo: Path, windows: list[WindowSpec], seed: int, out: Path, report: Progress
) -> tuple[list[Path], list[list[ErrorEvent]], int]:
    out.mkdir(parents=True, exist_ok=True)
    workload = Workload(seed)
    paths, errors, spans = [], [], 0
    quiet = [logging.getLogger(name) for name in ("shopkit", *PY_SERVICES)]
    levels = [lg.level for lg in quiet]
    for lg in quiet:
        lg.setLevel(logging.CRITICAL)
    try:
        with tempfile.TemporaryDirectory(prefix="prodgraph-sample-") as tmp:
            for window in windows:
                result = run_window(repo, window, Path(tmp), workload)
                path = out / f"window-{window.index:04d}-{window.sha[:8]}.otlp.pb"
                path.write_bytes(result.payload)
                paths.append(path)
                errors.append(result.errors)
                spans += result.spans
                shutil.rmtree(Path(tmp) / f"w{window.index:04d}", ignore_errors=True)
                report("traces", (window.index + 1) / len(windows))
    finally:
        for lg, level in zip(quiet, levels, strict=True):
            lg.setLevel(level)
    return paths, errors, spans


def generate(
    out_dir: Path, *, seed: int = 7, size: str | int = "small", progress: Progress | None = None
) -> SampleManifest:
    """Generate (or reuse) a complete sample production system under ``out_dir``."""
    out_dir = Path(out_dir)
    spec = size_spec(size)
    existing = _load_existing(out_dir, seed, spec)
    if existing is not None:
        logger.info("reusing the sample in %s (seed %s, size %s)", out_dir, seed, spec.name)
        return existing
    report: Progress = progress or (lambda stage, fraction: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear(out_dir)
    plan = make_plan(spec.commits, spec.bugs, spec.noise_tickets, seed)
    report("history", 0.0)
    records, snapshots = build_history(plan, seed, spec.filler_modules)
    shas = write_repo(out_dir / "repo", plan, records)
    report("history", 1.0)
    deployments, running = _deployments(plan, shas, snapshots, random.Random(f"deploy:{seed}"))
    windows = _windows(plan, shas, running, spec.requests)
    trace_paths, errors, spans = _traces(
        plan, out_dir / "repo", windows, seed, out_dir / "traces", report
    )
    tickets, truth = _tickets_and_truth(plan, records, deployments, errors, seed, spec)
    (out_dir / "deployments.jsonl").write_text("".join(json.dumps(d) + "\n" for d in deployments))
    (out_dir / "tickets.json").write_text(json.dumps(tickets, indent=1) + "\n")
    (out_dir / "ground_truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    manifest = SampleManifest(
        root=out_dir,
        repo=Path("repo"),
        traces=[p.relative_to(out_dir) for p in trace_paths],
        deployments=Path("deployments.jsonl"),
        tickets=Path("tickets.json"),
        ground_truth=Path("ground_truth.json"),
        seed=seed,
        size=spec.name,
        commits=len(shas),
        spans=spans,
        bugs=len(plan.bugs),
        tickets_count=len(tickets),
    )
    marker = {
        "seed": seed,
        "size": spec.name,
        "generator_version": GENERATOR_VERSION,
        "manifest": json.loads(manifest.model_dump_json()),
    }
    (out_dir / MARKER).write_text(json.dumps(marker, indent=1) + "\n")
    report("done", 1.0)
    return _load_existing(out_dir, seed, spec) or manifest
