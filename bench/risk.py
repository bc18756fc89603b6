"""Risk model benchmark: one-change scoring p99 on a large synthetic graph, training time, memory.

Run: .venv/bin/python bench/risk.py [--nodes 1000000] [--commits N] [--samples 100]
     .venv/bin/python bench/risk.py --eval-repo PATH [--report DIR] [--pool PATH ...] [--ablation]
         [--code-option KEY=VALUE ...]   (e.g. value_flow=false: the call graph by name only)
The baseline in the same run is Kamei-LR scoring the same changes from the same neighbourhood
reads (features + logistic regression, no graph network), so the ratio isolates the GNN cost.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from code_options import code_options, parse_options  # bench/, the script's own folder

from graph_service.settings import Settings
from graph_service.store import open_store
from models.baselines import KameiLR
from models.config import RiskConfig
from models.history import History
from models.neighbourhood import load_neighbourhood, touched_by_commit
from models.registry import load
from models.score import score_commit, score_paths
from models.snapshot import SnapshotCache
from models.synthetic import SyntheticSpec, synthetic_batches
from models.train import train

logger = logging.getLogger(__name__)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _kamei_score(store, model: KameiLR, uid: str, author: str) -> float:  # type: ignore[no-untyped-def]
    files, funcs = touched_by_commit(store, uid)
    h = History(load_neighbourhood(store, [uid], files, funcs, [author]))
    return float(model.score(h.commit_features(h.commit_ix[uid])[None, :])[0])


_CALLS_BY_RESOLUTION = (
    "MATCH (:Function)-[e:CALLS]->(:Function) RETURN e.resolution AS resolution, count(*) AS n "
    "ORDER BY n DESC"
)


def _calls_by_resolution(db: Path) -> dict[str, int]:
    """CALLS edges per resolution in the store the evaluation loaded (all its repositories)."""
    store = open_store(Settings(db_path=db, backend="ladybug"))
    try:
        return {str(r["resolution"]): int(r["n"]) for r in store.query(_CALLS_BY_RESOLUTION).rows()}
    finally:
        store.close()


def _eval_repo(
    repo: Path,
    report: Path | None,
    pool: list[Path],
    ablation: bool,
    code: dict[str, str],
    store: Path | None = None,
) -> None:
    from models.evaluate import evaluate, evaluate_repo, write_predictions
    from models.report import comparison_table, markdown_table, write_report

    if store is not None:  # a store an earlier evaluation loaded: the models only, no load
        reader = open_store(Settings(db_path=store), read_only=True, db_path=store)
        try:
            result = evaluate(reader, repo=repo.name, ablation=ablation)
        finally:
            reader.close()
        result["load_seconds"] = 0.0
        db = store
    else:
        work = Path(tempfile.mkdtemp(prefix="risk-eval-"))
        with code_options(code):
            result = evaluate_repo(
                repo,
                work,
                Settings(db_path=work / "g.lbug", model_dir=work / "m"),
                pool=pool,
                ablation=ablation,
            )
        db = work / "eval.lbug"
    result["code_options"] = code
    result["calls_by_resolution"] = calls = _calls_by_resolution(db)
    print(f"CALLS in {db} (code options {code}): {sum(calls.values())} {calls}")
    pooled = (
        f", trained with {', '.join(result['pool'])} ({result['pooled_commits']} commits)"
        if pool
        else ""
    )
    pops = result["populations"]
    print(
        f"## {repo.name}{pooled}: {result['commits']} commits ({pops['code']['commits']} "
        f"code-changing), buggy rate {result['buggy_rate']:.3f}, {result['cutoffs']} cutoffs, "
        f"horizon {result['horizon_days']} days, load {result['load_seconds']} s, "
        f"eval {result['seconds']} s\n"
    )
    for pop in ("code", "all"):
        p = pops[pop]
        print(
            f"### {pop}: {p['test_commits']} matured test commits "
            f"({p['censored_test_commits']} censored), buggy rate {p['test_buggy_rate']:.3f}\n"
        )
        print(markdown_table(result, pop))
        print()
        print(comparison_table(result, pop))
        print()
    if report:
        write_report(result, report)
        write_predictions(result, report / "predictions.csv")
        summary = {k: v for k, v in result.items() if k != "predictions"}
        (report / "risk_eval.json").write_text(json.dumps(summary, indent=1, default=str))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--nodes", type=int, default=1_000_000, help="Function nodes")
    ap.add_argument("--commits", type=int, default=0, help="default: nodes // 50, at least 500")
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument(
        "--store-samples",
        type=int,
        default=50,
        help="the two store-read baselines score only the first N of the samples (each read "
        "takes seconds at 1M nodes; 0: all)",
    )
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--eval-repo", type=Path, help="evaluate all models on this git work tree")
    ap.add_argument("--report", type=Path, help="with --eval-repo: write report.md + plots here")
    ap.add_argument(
        "--pool", type=Path, nargs="*", default=[], help="with --eval-repo: repositories to pool"
    )
    ap.add_argument(
        "--ablation",
        action="store_true",
        help="with --eval-repo: also the GNN and flat LR without risk v2's features (gnn_v1, "
        "flat_lr_v1), same splits",
    )
    ap.add_argument(
        "--code-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with --eval-repo: a code-loader option for the loads (repeatable), e.g. "
        "value_flow=false",
    )
    ap.add_argument(
        "--store",
        type=Path,
        help="with --eval-repo: evaluate this embedded store (an earlier run's eval.lbug) "
        "instead of loading the repository again",
    )
    args = ap.parse_args()
    if args.eval_repo:
        code = parse_options(args.code_option)
        _eval_repo(args.eval_repo, args.report, args.pool, args.ablation, code, args.store)
        return
    commits = args.commits or max(500, args.nodes // 50)
    # one file in 20 renamed half-way, so scoring follows rename chains as on real histories
    spec = SyntheticSpec(
        functions=args.nodes, commits=commits, seed=7, renamed_files=max(1, args.nodes // 200)
    )
    work = Path(tempfile.mkdtemp(prefix="risk-bench-"))
    settings = Settings(db_path=work / "g.lbug", model_dir=work / "models")
    store = open_store(settings, create=True)
    t0 = time.perf_counter()
    for batch in synthetic_batches(spec):
        store.write(batch, loaded_by="bench", run_id="b1")
    build_s = time.perf_counter() - t0
    counts = store.counts()
    n_nodes, n_edges = sum(counts["nodes"].values()), sum(counts["edges"].values())
    rss0 = _peak_mb()
    t0 = time.perf_counter()
    model = load(train(store, settings, RiskConfig(epochs=args.epochs)))
    train_s = time.perf_counter() - t0
    train_peak = _peak_mb()
    t0 = time.perf_counter()
    h = SnapshotCache(store).build_now().history  # what the service keeps warm
    snapshot_s = time.perf_counter() - t0
    snapshot_peak = _peak_mb()
    t0 = time.perf_counter()
    feats = np.stack([h.commit_features(i) for i in range(1, len(h.commit_uids))])
    kamei = KameiLR().fit(feats, h.labels()[1:])
    kamei_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    picks = rng.choice(np.arange(len(h.commit_uids) // 2, len(h.commit_uids)), args.samples)
    t0 = time.perf_counter()
    for i in picks[:3]:  # warm caches
        score_commit(store, model, h.commit_uids[i])
        score_commit(store, model, h.commit_uids[i], history=h)
    warm_s = time.perf_counter() - t0
    t_loop = time.perf_counter()
    served_ms: list[float] = []
    store_ms: list[float] = []
    lr_ms: list[float] = []
    paths_ms: list[float] = []
    for i in picks:
        uid = h.commit_uids[i]
        t0 = time.perf_counter()
        score_commit(store, model, uid, history=h)
        served_ms.append((time.perf_counter() - t0) * 1000)
        if not args.store_samples or len(store_ms) < args.store_samples:
            t0 = time.perf_counter()
            score_commit(store, model, uid)
            store_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            _kamei_score(store, kamei, uid, h.author_uids[h.author[i]])
            lr_ms.append((time.perf_counter() - t0) * 1000)
        touched = [h.ent_uids[e] for e in h.touched(i)][:8]
        t0 = time.perf_counter()
        score_paths(store, model, touched, author=h.author_uids[h.author[i]], history=h)
        paths_ms.append((time.perf_counter() - t0) * 1000)
    loop_s = time.perf_counter() - t_loop

    def pct(xs: list[float]) -> tuple[float, float]:
        p50, p99 = np.percentile(xs, [50, 99])
        return float(p50), float(p99)

    s50, s99 = pct(served_ms)
    g50, g99 = pct(store_ms)
    k50, k99 = pct(lr_ms)
    d50, d99 = pct(paths_ms)
    print(f"## Risk model benchmark ({n_nodes:,} nodes, {n_edges:,} edges, {commits:,} commits)\n")
    print(
        f"{args.samples} changes scored, each path in turn, same process, same run; the "
        f"store-read baselines on the first {len(store_ms)} of them.\n"
    )
    print("| path | p50 ms | p99 ms | p99 vs served |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| **served**: `score_commit` on the warm snapshot (the API's path) | {s50:.1f} | "
        f"{s99:.1f} | 1.00x |"
    )
    print(
        f"| served: proposed change by paths + author (`score_paths`) | {d50:.1f} | {d99:.1f} | "
        f"{d99 / s99:.2f}x |"
    )
    print(
        f"| baseline: `score_commit` from the store (neighbourhood reads) | {g50:.1f} | "
        f"{g99:.1f} | {g99 / s99:.2f}x |"
    )
    print(
        f"| baseline: Kamei-LR from the same store reads | {k50:.1f} | {k99:.1f} | "
        f"{k99 / s99:.2f}x |"
    )
    print(
        f"\nbuild graph {build_s:.1f} s; train ({args.epochs} epochs, export + features + "
        f"calibration) {train_s:.1f} s; snapshot build {snapshot_s:.1f} s; peak RSS "
        f"{rss0:.0f} MB before training, {train_peak:.0f} MB after, {snapshot_peak:.0f} MB with "
        f"the snapshot; served p99 target 50 ms: {'met' if s99 <= 50 else 'NOT met'}"
    )
    print(
        f"Kamei-LR fit (features of {len(feats):,} commits) {kamei_s:.1f} s; warm-up "
        f"{warm_s:.1f} s; scoring loop {loop_s:.1f} s (served {sum(served_ms) / 1000:.1f} s, "
        f"paths {sum(paths_ms) / 1000:.1f} s, store {sum(store_ms) / 1000:.1f} s, Kamei-LR "
        f"from the store {sum(lr_ms) / 1000:.1f} s)"
    )
    store.close()


if __name__ == "__main__":
    main()
