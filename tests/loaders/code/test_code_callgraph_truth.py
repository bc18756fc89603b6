"""Precision/recall of Python CALLS edges against hand-checked ground truth from real packages."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest

from graph_service.batch import EdgeBatch
from loaders.base import LoadReport
from loaders.code.loader import CodeConfig, CodeLoader

TRUTH = Path(__file__).resolve().parents[2] / "data" / "callgraph_truth"
Edge = tuple[str, str, str, str]  # caller path, caller, callee path, callee


def _manifest() -> list[dict[str, object]]:
    return json.loads((TRUTH / "manifest.json").read_text())["modules"]  # type: ignore[no-any-return]


def _predicted(package: str) -> set[Edge]:
    module = __import__(package)
    root = Path(module.__file__).parent  # type: ignore[arg-type]
    loader = CodeLoader(CodeConfig(root=root, repo=package, use_git=False))
    prefix = f"fn:{package}:"
    out: set[Edge] = set()
    for batch in loader.extract(LoadReport("code")):
        if isinstance(batch, EdgeBatch) and batch.type == "CALLS":
            for src, dst in zip(
                batch.table.column("src").to_pylist(),
                batch.table.column("dst").to_pylist(),
                strict=True,
            ):
                a_path, _, a = src[len(prefix) :].partition(":")
                b_path, _, b = dst[len(prefix) :].partition(":")
                out.add((a_path, a, b_path, b))
    return out


def evaluate() -> dict[str, dict[str, object]]:
    """Per module and overall: true/false positives, misses, precision, recall."""
    results: dict[str, dict[str, object]] = {}
    predicted: dict[str, set[Edge]] = {}
    all_tp = all_fp = all_fn = 0
    for entry in _manifest():
        pkg, file = str(entry["package"]), str(entry["file"])
        if importlib.metadata.version(pkg) != entry["version"]:
            pytest.skip(
                f"ground truth is for {pkg} {entry['version']}; "
                f"{importlib.metadata.version(pkg)} is installed"
            )
        if pkg not in predicted:
            predicted[pkg] = _predicted(pkg)
        truth = set()
        for line in (TRUTH / str(entry["truth"])).read_text().splitlines():
            row = json.loads(line)
            truth.add((row["caller_path"], row["caller"], row["callee_path"], row["callee"]))
        mine = {e for e in predicted[pkg] if e[0] == file}
        tp, fp, fn = mine & truth, mine - truth, truth - mine
        all_tp, all_fp, all_fn = all_tp + len(tp), all_fp + len(fp), all_fn + len(fn)
        results[f"{pkg}/{file}"] = {
            "truth": len(truth),
            "predicted": len(mine),
            "tp": len(tp),
            "false_positives": sorted(fp),
            "missed": sorted(fn),
        }
    results["overall"] = {
        "tp": all_tp,
        "fp": all_fp,
        "fn": all_fn,
        "precision": all_tp / max(all_tp + all_fp, 1),
        "recall": all_tp / max(all_tp + all_fn, 1),
    }
    return results


def test_python_call_edges_precision_and_recall() -> None:
    results = evaluate()
    overall = results["overall"]
    for name, r in results.items():
        print(name, {k: v for k, v in r.items()})
    assert overall["tp"] > 50  # type: ignore[operator]
    assert overall["precision"] >= 0.9, results  # type: ignore[operator]
    assert overall["recall"] >= 0.6, results  # type: ignore[operator]
