"""Evaluation report: a markdown table of every model plus ROC, calibration and capture plots."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from models.metrics import METRICS, _order

logger = logging.getLogger(__name__)

__all__ = ["comparison_table", "markdown_table", "write_report"]

_HEAD = (
    "model",
    "ROC-AUC",
    "PR-AUC",
    "precision@10%",
    "recall@20%effort",
    "Popt",
    "ECE",
    "Brier",
)


def markdown_table(result: dict[str, Any], population: str = "code", key: str = "models") -> str:
    """One row per model on `population`, metrics averaged over the windows (`key`: `models`
    for matured commits with windows weighted by size, or `models_equal_windows`,
    `models_uncensored`)."""
    lines = ["| " + " | ".join(_HEAD) + " |", "|" + " --- |" * len(_HEAD)]
    for name, m in result["populations"][population][key].items():
        cells = [f"{m[k]:.3f}" if m[k] == m[k] else "n/a" for k in METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ci(c: dict[str, float]) -> str:
    return f"{c['diff']:+.3f} [{c['ci95_low']:+.3f}, {c['ci95_high']:+.3f}]"


def comparison_table(result: dict[str, Any], population: str = "code") -> str:
    """The default model minus each other model on `population`, with the 95 % interval of a
    paired bootstrap over the test windows' changes: a difference whose interval spans 0 is not
    resolved by this history."""
    comparisons = result["populations"][population].get("comparisons") or {}
    if not comparisons:
        return ""
    lines = [
        "| comparison | ROC-AUC diff [95 % CI] | precision@10% diff [95 % CI] |",
        "| --- | --- | --- |",
    ]
    for name, by_metric in comparisons.items():
        cells = [_ci(by_metric[k]) for k in ("roc_auc", "precision_at_10pct")]
        lines.append(f"| {name.replace('_vs_', ' − ')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _code_predictions(pred: dict[str, Any]) -> dict[str, Any]:
    """The matured code-changing test commits of `predictions` (what the headline measures)."""
    keep = np.array(pred["code"], bool) & np.array(pred["matured"], bool)
    return {
        "labels": np.asarray(pred["label"], float)[keep],
        "models": {m: np.asarray(v, float)[keep] for m, v in pred["models"].items()},
    }


def _plots(pred: dict[str, Any], out: Path, title: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    y = np.asarray(pred["labels"], dtype=float)
    files = []
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, p in pred["models"].items():
        if len(np.unique(y)) == 2:
            fpr, tpr, _ = roc_curve(y, p)
            ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC: {title}")
    ax.legend(fontsize=7)
    fig.savefig(out / "roc.png", dpi=110, bbox_inches="tight")
    files.append("roc.png")
    fig, ax = plt.subplots(figsize=(5, 5))
    bins = np.linspace(0, 1, 11)
    for name, p in pred["models"].items():
        p = np.asarray(p)
        idx = np.minimum(np.digitize(p, bins) - 1, 9)
        xs = [p[idx == b].mean() for b in range(10) if (idx == b).any()]
        ys = [y[idx == b].mean() for b in range(10) if (idx == b).any()]
        ax.plot(xs, ys, "o-", ms=3, label=name)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(
        xlabel="predicted probability", ylabel="observed bug rate", title=f"Calibration: {title}"
    )
    ax.legend(fontsize=7)
    fig.savefig(out / "calibration.png", dpi=110, bbox_inches="tight")
    files.append("calibration.png")
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, p in pred["models"].items():
        order = _order(np.asarray(p))
        found = np.concatenate([[0], np.cumsum(y[order])]) / max(y.sum(), 1)
        ax.plot(np.linspace(0, 1, len(found)), found, label=name)
    ax.axvline(0.1, color="k", ls=":", lw=0.8)
    ax.set(
        xlabel="share of commits inspected (riskiest first)",
        ylabel="share of bug-introducing commits found",
        title=f"Found in the riskiest share: {title}",
    )
    ax.legend(fontsize=7)
    fig.savefig(out / "capture.png", dpi=110, bbox_inches="tight")
    files.append("capture.png")
    plt.close("all")
    return files


def write_report(result: dict[str, Any], out_dir: str | Path) -> Path:
    """Write `report.md` and PNG plots (when predictions are present) into `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    title = result.get("repo") or "graph"
    pops = result["populations"]
    code, every = pops["code"], pops["all"]
    text = [
        f"# Risk model evaluation: {title}",
        "",
        f"{result['commits']} commits ({code['commits']} code-changing), bug-introducing rate "
        f"{result['buggy_rate']:.3f}, {result.get('cutoffs', '?')} rolling time-ordered cutoffs "
        "(train up to each cutoff, test on the next window). Only test commits at least "
        f"{result['horizon_days']} days (the censoring horizon) before the end of the history "
        "count; windows are weighted by their commit count. precision@10% is the share of "
        "bug-introducing commits among the riskiest 10 %; recall@20%effort the share of all "
        "bug-introducing commits found within 20 % of the lines changed; effort is lines added "
        "+ deleted."
        + (
            f" Every model trained on {result.get('pooled_commits')} commits of this and "
            f"{', '.join(result['pool'])} (all known up to each cutoff)."
            if result.get("pool")
            else ""
        ),
        "",
        f"## Code-changing commits (headline): {code['test_commits']} test commits, "
        f"bug-introducing rate {code['test_buggy_rate']:.3f}",
        "",
        markdown_table(result, "code"),
        "",
        comparison_table(result, "code"),
        "",
        f"## All commits: {every['test_commits']} test commits, bug-introducing rate "
        f"{every['test_buggy_rate']:.3f}",
        "",
        markdown_table(result, "all"),
        "",
        comparison_table(result, "all"),
        "",
    ]
    if result.get("predictions"):
        for f in _plots(_code_predictions(result["predictions"]), out, f"{title} (code)"):
            text.append(f"![{f[:-4]}]({f})")
    path = out / "report.md"
    path.write_text("\n".join(text) + "\n")
    return path
