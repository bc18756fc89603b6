"""Model artefacts: `state_dict` + `config.json` (schema version, data fingerprint, calibrator,
the store and repositories it was trained on).

A model lives in `settings.model_dir/<version>/` as `model.pt` (a plain tensor dict loaded with
`weights_only=True`) and `config.json`. Nothing is pickled. A model belongs to its store: the
loaders here only return models trained on the store the settings name (`store_identity`), so
a model directory shared by several stores never scores one store with another's model. A store
holding several repositories gets one model per repository (`ModelSet`), unless a pooled model
was chosen at training time.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from graph_service import schema
from graph_service.errors import ModelMissingError
from graph_service.settings import Settings
from graph_service.store.base import GraphReader, store_id
from models.calibration import IsotonicCalibrator
from models.config import RiskConfig
from models.gnn import RiskGNN, fuse
from models.history import COMMIT_FEATURES, ENTITY_FEATURES

logger = logging.getLogger(__name__)

__all__ = [
    "ModelSet",
    "RiskModel",
    "load",
    "load_latest",
    "require_latest",
    "resolve",
    "save",
    "store_identity",
]

FORMAT = 1


def store_identity(settings: Settings, store: GraphReader | None = None) -> str:
    """The store a model is trained on and may score: the id the store was given when it was
    created (kept by copies and moves of the store), or, for a store made before ids existed,
    the embedded database's absolute path or the Neo4j URI and database."""
    sid = store_id(store) if store is not None else None
    if sid:
        return f"{store.backend}:{sid}"  # type: ignore[union-attr]
    if settings.backend == "neo4j" or (settings.backend is None and settings.neo4j_uri):
        return f"neo4j:{settings.neo4j_uri}/{settings.neo4j_database or 'neo4j'}"
    return f"ladybug:{Path(settings.db_path).expanduser().resolve()}"


@dataclass
class RiskModel:
    """A trained GNN with its calibrator and provenance."""

    net: RiskGNN
    config: RiskConfig
    calibrator: IsotonicCalibrator
    version: str
    fingerprint: str = ""
    cutoff: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    schema_version: int = schema.SCHEMA_VERSION
    store: str = ""
    repositories: list[str] = field(default_factory=list)
    pooled: bool = False
    _fused: RiskGNN | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def inference_net(self) -> RiskGNN:
        """The network scoring uses: the ensemble fused into one (same logits, one pass)."""
        if self._fused is None:
            self._fused = fuse(self.net)
        return self._fused

    def manifest(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "schema_version": self.schema_version,
            "fingerprint": self.fingerprint,
            "cutoff": self.cutoff,
            "config": self.config.model_dump(),
            "calibrator": self.calibrator.to_dict(),
            "commit_features": list(COMMIT_FEATURES),
            "entity_features": list(ENTITY_FEATURES),
            "metrics": self.metrics,
            "store": self.store,
            "repositories": list(self.repositories),
            "pooled": self.pooled,
        }


def save(model: RiskModel, model_dir: Path) -> Path:
    """Write `model.pt` (state_dict) and `config.json` under `model_dir/<version>/`."""
    out = Path(model_dir) / model.version
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.net.state_dict(), out / "model.pt")
    (out / "config.json").write_text(json.dumps(model.manifest(), indent=2, sort_keys=True))
    logger.info("saved risk model %s to %s", model.version, out)
    return out


def load(path: Path) -> RiskModel:
    """Rebuild a model from its folder (no pickle: `weights_only=True`)."""
    manifest = json.loads((Path(path) / "config.json").read_text())
    # artefacts written before ensembles hold one network and no `ensemble` setting
    config = RiskConfig(**{"ensemble": 1, **manifest["config"]})
    net = RiskGNN(
        config.hidden, config.layers, config.dropout, config.use_edges, members=config.ensemble
    )
    state = torch.load(Path(path) / "model.pt", weights_only=True, map_location="cpu")
    net.load_state_dict(state)
    net.eval()
    return RiskModel(
        net=net,
        config=config,
        calibrator=IsotonicCalibrator.from_dict(manifest["calibrator"]),
        version=manifest["version"],
        fingerprint=manifest.get("fingerprint", ""),
        cutoff=manifest.get("cutoff"),
        metrics=manifest.get("metrics", {}),
        schema_version=int(manifest["schema_version"]),
        store=manifest.get("store", ""),
        repositories=list(manifest.get("repositories", [])),
        pooled=bool(manifest.get("pooled", False)),
    )


def _compatible(manifest: dict[str, Any]) -> bool:
    return (
        manifest.get("format") == FORMAT
        and manifest.get("schema_version") == schema.SCHEMA_VERSION
        and manifest.get("commit_features") == list(COMMIT_FEATURES)
        and manifest.get("entity_features") == list(ENTITY_FEATURES)
    )


@dataclass
class ModelSet:
    """One model per repository of a store that holds several (`resolve` picks one)."""

    models: dict[str, RiskModel]

    @property
    def version(self) -> str:
        return ", ".join(f"{r}: {m.version}" for r, m in sorted(self.models.items()))

    @property
    def store(self) -> str:
        return next(iter(self.models.values())).store

    def for_repo(self, repo: str | None) -> RiskModel:
        if repo in self.models:
            return self.models[str(repo)]
        raise ModelMissingError(
            f"no risk model for repository {repo!r} in this store (models exist for "
            f"{', '.join(sorted(self.models))}): run `prodgraph train --repo {repo}`"
        )


def resolve(model: RiskModel | ModelSet, repo: str | None) -> RiskModel:
    """The model that scores a change of `repo`: the one model, or that repository's."""
    if isinstance(model, ModelSet):
        return model.for_repo(repo)
    if repo and model.repositories and not model.pooled and repo not in model.repositories:
        raise ModelMissingError(
            f"the risk model {model.version} was trained on {', '.join(model.repositories)}, "
            f"not {repo!r}: run `prodgraph train --repo {repo}` (or `--pooled`)"
        )
    return model


def _manifests(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(folder, manifest) of every readable model folder, newest first."""
    out = []
    for folder in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True):
        cfg = folder / "config.json"
        if not cfg.is_file() or not (folder / "model.pt").is_file():
            continue
        try:
            out.append((folder, json.loads(cfg.read_text())))
        except (OSError, json.JSONDecodeError):
            logger.warning("skipping unreadable model folder %s", folder)
    return out


def load_latest(
    settings: Settings, repo: str | None = None, *, store: GraphReader | None = None
) -> RiskModel | ModelSet | None:
    """The newest models under `settings.model_dir` compatible with this schema version and
    trained on the store `settings` names. `repo`: that repository's model (or a pooled one).

    The newest pooled model wins when it is newer than every per-repository model; otherwise
    the newest model of each repository, as a `ModelSet` when there are several.
    """
    root = Path(settings.model_dir)
    if not root.is_dir():
        return None
    here = store_identity(settings, store)
    newest: dict[str, Path] = {}
    for folder, manifest in _manifests(root):
        if not _compatible(manifest):
            logger.info(
                "skipping model %s: incompatible with schema %s",
                folder.name,
                schema.SCHEMA_VERSION,
            )
            continue
        if manifest.get("store") != here:
            continue
        repos = list(manifest.get("repositories", []))
        if manifest.get("pooled") or not repos:
            # a pooled model newer than any per-repository one
            if (repo is None or repo in repos or not repos) and not newest:
                return load(folder)
            continue
        if repo is not None:
            if repos == [repo]:
                return load(folder)
            continue
        newest.setdefault(repos[0], folder)
    if not newest:
        return None
    models = {r: load(f) for r, f in newest.items()}
    return next(iter(models.values())) if len(models) == 1 else ModelSet(models)


def require_latest(
    settings: Settings, repo: str | None = None, *, store: GraphReader | None = None
) -> RiskModel | ModelSet:
    """Like `load_latest`, but an operator must act when there is none (the error says why:
    no model at all, or models trained on other stores only)."""
    model = load_latest(settings, repo, store=store)
    if model is not None:
        return model
    root = Path(settings.model_dir)
    elsewhere = sorted(
        {
            str(m.get("store") or "an unrecorded store")
            for _, m in (_manifests(root) if root.is_dir() else [])
        }
    )
    what = f" for repository {repo!r}" if repo else ""
    if elsewhere:
        raise ModelMissingError(
            f"no risk model{what} trained on this store ({store_identity(settings, store)}) in "
            f"{settings.model_dir}; the models there were trained on {', '.join(elsewhere)} and "
            "are not used here: run `prodgraph train` on this store"
            + (f" (`--repo {repo}`)" if repo else "")
        )
    raise ModelMissingError(
        f"no risk model{what} compatible with schema version {schema.SCHEMA_VERSION} in "
        f"{settings.model_dir}: run `prodgraph train`"
    )
