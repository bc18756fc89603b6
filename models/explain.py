"""Explanations of a risk score: gradient x input over the change's ego graph, in words.

Attribution of an input = (x - training mean) * d(logit)/dx, so it says how much that value,
compared with an average change, pushed this change's score. Features of the commit become
sentences about the change; nodes (touched files and functions, their callers and callees, the
author) become sentences naming the real function, its history and its production traffic.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel

from models.egograph import EgoBatch
from models.gnn import RiskGNN
from models.history import COMMIT_FEATURES, ENTITY_FEATURES, History
from models.population import is_code_path

logger = logging.getLogger(__name__)

__all__ = ["Explanation", "attributions", "explain", "score_and_explain"]

_E = {name: i for i, name in enumerate(ENTITY_FEATURES)}
_C = {name: i for i, name in enumerate(COMMIT_FEATURES)}

_FEATURE_TEXT: dict[str, str] = {
    "la": "adds {v:.0f} lines",
    "ld": "deletes {v:.0f} lines",
    "nf": "changes {v:.0f} files",
    "ns": "spans {v:.0f} top-level subsystems",
    "nd": "spans {v:.0f} directories",
    "entropy": "spreads its edits across files (entropy {v:.2f})",
    "lt": "touches files of about {v:.0f} lines",
    "fix": "is itself a fix",
    "ndev": "{v:.0f} developers changed these files before",
    "age": "these files last changed {v:.0f} days earlier on average",
    "nuc": "these files saw {v:.0f} earlier changes",
    "exp": "the author has {v:.0f} earlier commits",
    "rexp": "the author's recent experience is {v:.1f} (recency-weighted commits)",
    "sexp": "the author has {v:.0f} earlier commits in these subsystems",
    "n_functions": "touches {v:.0f} functions",
    "prior_bugs_files": "these files had {v:.0f} earlier bug-introducing changes",
    "prior_bugs_functions": "these functions had {v:.0f} earlier bug-introducing changes",
    "prior_fixes_files": "{v:.0f} earlier fixes changed these files",
    "prior_fixes_functions": "{v:.0f} earlier fixes changed these functions",
    "author_bugs": "the author's earlier changes caused {v:.0f} known bugs",
    "author_file_first": "it is the author's first change in {p:.0f}% of these files",
    "fan_in": "{v:.0f} functions call the touched functions",
    "fan_out": "the touched functions call {v:.0f} functions",
    "traffic_rate": "{r} req/s in production pass through the touched functions",
    "error_rate": "up to {p:.1f}% of those requests fail",
    "is_merge": "it is a merge",
    "conds_added": "adds {v:.0f} conditions",
    "conds_removed": "removes {v:.0f} conditions",
    "loops_added": "adds {v:.0f} loops",
    "loops_removed": "removes {v:.0f} loops",
    "excepts_added": "adds {v:.0f} exception-handling constructs",
    "excepts_removed": "removes {v:.0f} exception-handling constructs",
    "calls_added": "adds {v:.0f} calls",
    "calls_removed": "removes {v:.0f} calls",
    "returns_added": "adds {v:.0f} returns",
    "returns_removed": "removes {v:.0f} returns",
    "signature_changed": "changes the signature of {v:.0f} functions",
    "fn_changes": "the changed functions saw {v:.0f} earlier changes",
    "fn_ndev": "{v:.0f} developers changed these functions before",
    "fn_age_days": "the oldest changed function is {v:.0f} days old",
    "fn_days_since_last": "one of the changed functions changed {v:.0f} days earlier",
    "fn_new_share": "{p:.0f}% of the changed functions are new",
    "nbr_count": "the changed functions have {v:.0f} callers and callees",
    "nbr_fixes": "{v:.0f} earlier fixes changed their callers and callees",
    "nbr_bugs": "their callers and callees had {v:.0f} earlier bug-introducing changes",
    "nbr_tickets": "{v:.0f} bug or incident tickets name their callers and callees",
    "nbr_errors": "{v:.0f} error signatures are raised in their callers and callees",
    "nbr_traffic_rate": "{r} req/s in production pass through their callers and callees",
    "nbr_error_rate": "up to {p:.1f}% of requests through their callers and callees fail",
    "cc_partners": "{v:.0f} files and functions usually change together with these",
    "cc_missing_conf": "leaves out a file or function that changed with these in {p:.0f}% of "
    "their recent commits",
    "cc_fixes": "{v:.0f} earlier fixes changed what usually changes together with these",
    "cc_bugs": "what usually changes together with these had {v:.0f} earlier bug-introducing "
    "changes",
    "cc_tickets": "{v:.0f} bug or incident tickets name what usually changes together with these",
    "cc_errors": "{v:.0f} error signatures are raised in what usually changes together with these",
}


class Explanation(BaseModel):
    """One reason behind a score; `weight` > 0 raised the risk, < 0 lowered it."""

    text: str
    weight: float
    kind: str  # feature | file | function | neighbour | author
    uid: str | None = None

    @property
    def direction(self) -> str:
        return "raises" if self.weight > 0 else "lowers"


def _forward(
    net: RiskGNN, egos: EgoBatch
) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, np.ndarray]]:
    """One forward + backward pass: commit logits, node logits (detached) and the
    (x - mean) * grad attributions of the first commit's logit."""
    if net.training:
        net.eval()
    x = {k: v.clone().requires_grad_(True) for k, v in egos.data.x_dict.items()}
    logits, nodes = net(x, egos.data.edge_index_dict)
    logits[0].backward()
    out = {}
    for k, v in x.items():
        grad = v.grad if v.grad is not None else torch.zeros_like(v)
        out[k] = ((v.detach() - getattr(net, f"mean_{k}")) * grad).numpy()
    return logits.detach(), {k: v.detach() for k, v in nodes.items()}, out


def attributions(net: RiskGNN, egos: EgoBatch) -> tuple[float, dict[str, np.ndarray]]:
    """Commit logit and per-type (x - mean) * grad arrays for the first commit of `egos`."""
    logits, _, attr = _forward(net, egos)
    return float(logits[0]), attr


def _rate(v: float) -> str:
    """A request rate readable at any scale: 120, 3.4, 0.05 (never a misleading 0.0)."""
    if v >= 10:
        return f"{v:.0f}"
    return f"{v:.2g}" if v >= 0.01 else "under 0.01"


def _entity_text(h: History, e: int, raw: np.ndarray, touched: bool, kind: str) -> str:
    name = h.ent_name[e] or h.ent_uids[e]
    where = f" ({h.ent_path[e]})" if kind == "function" and h.ent_path[e] else ""
    head = f"touches `{name}`{where}" if touched else f"calls into / is called by `{name}`{where}"
    facts = []
    if raw[_E["fixes"]] > 0:
        facts.append(f"which {raw[_E['fixes']]:.0f} earlier fixes changed")
    if raw[_E["bugs"]] > 0:
        facts.append(f"{raw[_E['bugs']]:.0f} known bug-introducing changes touched it")
    if touched and raw[_E["author_changes"]] == 0 and raw[_E["changes"]] > 0:
        facts.append(f"the author's first change in this {kind}")
    if raw[_E["changes"]] == 0:
        facts.append("it is new")
    if raw[_E["traffic_rate"]] > 0:
        facts.append(f"{_rate(raw[_E['traffic_rate']])} req/s in production pass through it")
    if raw[_E["fan_in"]] >= 5:
        facts.append(f"{raw[_E['fan_in']]:.0f} functions call it")
    return head + (", " + "; ".join(facts) if facts else "")


def explain(h: History, net: RiskGNN, egos: EgoBatch, top: int = 5) -> list[Explanation]:
    """The strongest reasons (features and nodes) behind the first commit's score in `egos`."""
    return score_and_explain(h, net, egos, top)[2]


def score_and_explain(
    h: History, net: RiskGNN, egos: EgoBatch, top: int = 5
) -> tuple[torch.Tensor, dict[str, torch.Tensor], list[Explanation]]:
    """Commit logits, node logits and the first commit's reasons from one forward pass."""
    logits, node_logits, attr = _forward(net, egos)
    return logits, node_logits, _reasons(h, egos, attr, top)


# Commit features about the author: with the author node they are one factor (never listed
# twice, never once as raising and once as lowering the score).
_AUTHOR_FEATURES = ("exp", "rexp", "sexp", "author_bugs", "author_file_first")


def _feature_items(egos: EgoBatch, attr: dict[str, np.ndarray]) -> list[Explanation]:
    items = []
    raw_c = egos.raw["commit"][0]
    for name, i in _C.items():
        w = float(attr["commit"][0, i])
        template = _FEATURE_TEXT.get(name)
        if name in _AUTHOR_FEATURES or not template or abs(w) <= 1e-6:
            continue
        if raw_c[i] == 0 and name != "nuc":
            continue
        text = template.format(v=raw_c[i], p=100 * raw_c[i], r=_rate(raw_c[i]))
        items.append(Explanation(text=text, weight=w, kind="feature"))
    return items


def _author_item(h: History, egos: EgoBatch, attr: dict[str, np.ndarray]) -> Explanation | None:
    """The author as one factor: the author node and the author's commit features together."""
    w = sum(float(attr["commit"][0, _C[k]]) for k in _AUTHOR_FEATURES)
    if egos.raw["person"].shape[0] == 0:
        return None
    p = egos.raw["person"][0]
    a = h.author_uids[int(egos.entity["person"][0])]
    w += float(attr["person"][0].sum())
    raw_c = egos.raw["commit"][0]
    first = raw_c[_C["author_file_first"]]
    facts = [f"{p[0]:.0f} earlier commits", f"{p[2]:.0f} known bug-introducing"]
    if first > 0:
        facts.append(f"first change in {100 * first:.0f}% of these files")
    text = f"author {a.removeprefix('person:')}: " + ", ".join(facts)
    return Explanation(text=text, weight=w, kind="author", uid=a)


def _reasons(
    h: History, egos: EgoBatch, attr: dict[str, np.ndarray], top: int
) -> list[Explanation]:
    """The `top` factors that moved the score most, either way (`weight` > 0 raised it, < 0
    lowered it), strongest rise first. Each factor appears once: the author's features and
    node are one factor; a touched file that is not code (docs, tests, CI) is not named."""
    items = _feature_items(egos, attr)
    for kind in ("file", "function"):
        for row in range(egos.raw[kind].shape[0]):
            e = int(egos.entity[kind][row])
            touched = bool(egos.touched[kind][row])
            if kind == "file" and not is_code_path(h.ent_path[e]):
                continue
            text = _entity_text(h, e, egos.raw[kind][row], touched, kind)
            items.append(
                Explanation(
                    text=text,
                    weight=float(attr[kind][row].sum()),
                    kind=kind if touched else "neighbour",
                    uid=h.ent_uids[e],
                )
            )
    author = _author_item(h, egos, attr)
    if author is not None:
        items.append(author)
    merged: dict[str, Explanation] = {}  # a node in the ego graph twice is one factor
    for x in items:
        key = x.uid or x.text
        if key in merged:
            first = merged[key]
            keep = first if first.kind != "neighbour" or x.kind == "neighbour" else x
            merged[key] = keep.model_copy(update={"weight": first.weight + x.weight})
        else:
            merged[key] = x
    items = [x for x in merged.values() if abs(x.weight) > 1e-9]
    strongest = sorted(items, key=lambda x: -abs(x.weight))[:top]
    return sorted(strongest, key=lambda x: -x.weight)


def summary(explanations: list[Explanation]) -> dict[str, Any]:
    return {"reasons": [x.text for x in explanations]}
