"""`POST /v1/risk`: score a commit, a diff or changed paths with the latest risk model."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from fastapi import APIRouter

from graph_service.api.deps import ReaderDep, StateDep
from graph_service.api.errors import ErrorBody
from graph_service.api.schemas import Explanation, NodeScore, RiskRequest, RiskResponse
from graph_service.errors import ModelMissingError
from graph_service.store.base import GraphStore

logger = logging.getLogger(__name__)

__all__ = ["ScoringState", "router", "score", "to_response"]

router = APIRouter(prefix="/v1/risk", tags=["risk"])


class ScoringState(Protocol):
    """What scoring reads: the service's state, or the notebook client's embedded stand-in."""

    store: GraphStore
    model: Any
    model_status: str

    def risk_history(self) -> Any | None: ...


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, Mapping) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def _explanations(value: Any) -> list[Explanation]:
    if value is None:
        return []
    if isinstance(value, str | Mapping) or not isinstance(value, list | tuple):
        value = [value]
    out = []
    for item in value:
        if isinstance(item, str):
            out.append(Explanation(text=item))
        else:
            out.append(
                Explanation(
                    text=str(_get(item, "text", "reason", default=item)),
                    weight=_get(item, "weight"),
                    kind=_get(item, "kind"),
                    uid=_get(item, "uid"),
                )
            )
    return out


def to_response(result: Any, model: Any) -> RiskResponse:
    """The stable response from whatever the scorer returns (object or mapping)."""
    explanations = _explanations(_get(result, "explanations", "explanation", "reasons"))
    nodes = []
    for n in _get(result, "nodes", "per_node", default=None) or []:
        uid = str(_get(n, "uid"))
        own = [e.text for e in _explanations(_get(n, "explanation", "explanations"))]
        nodes.append(
            NodeScore(
                uid=uid,
                label=_get(n, "label", "kind"),
                name=_get(n, "name", default="") or "",
                path=_get(n, "path", default="") or "",
                score=float(_get(n, "score", default=0.0)),
                explanation=own or [e.text for e in explanations if e.uid == uid],
            )
        )
    code_change = bool(_get(result, "code_change", default=True))
    label = _get(result, "label", default=None)
    overall = _get(result, "overall", "score", "risk")
    if overall is None and code_change:
        overall = max((n.score for n in nodes), default=0.0)
    version = _get(result, "model_version", default=None) or _get(
        model, "version", "model_version", default="unknown"
    )
    features = _get(result, "features", default=None) or {}
    return RiskResponse(
        target=str(_get(result, "target", default="") or ""),
        overall=None if overall is None else float(overall),
        label=None if label is None else str(label),
        code_change=code_change,
        nodes=nodes,
        explanations=explanations,
        model_version=str(version),
        features={str(k): float(v) for k, v in dict(features).items()},
    )


def score(state: ScoringState, body: RiskRequest) -> RiskResponse:
    """Call the scorer matching the request; 503 `model_missing` when no model is trained."""
    if state.model is None:
        raise ModelMissingError(
            f"no risk model is loaded ({state.model_status}): run `prodgraph train`, then "
            "reload the model (POST /v1/admin/model/reload) or restart the service",
            {"model": state.model_status},
        )
    scorer = importlib.import_module("models.score")
    history = state.risk_history()
    if body.sha is not None:
        result = scorer.score_commit(state.store, state.model, body.sha, history=history)
    elif body.diff is not None:
        result = scorer.score_diff(state.store, state.model, body.diff, history=history)
    else:
        result = scorer.score_paths(state.store, state.model, body.paths, history=history)
    return to_response(result, state.model)


@router.post("", response_model=RiskResponse, responses={503: {"model": ErrorBody}})
def risk(body: RiskRequest, state: StateDep, _: ReaderDep) -> RiskResponse:
    """Overall score, per-node scores with explanations, and the model version."""
    return state.read("risk", lambda: score(state, body), heavy=True)
