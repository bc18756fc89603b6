"""Model artefacts: `state_dict` + `config.json` (schema version, data fingerprint, calibrator).

A model lives in `settings.model_dir/<version>/` as `model.pt` (a plain tensor dict loaded with
`weights_only=True`) and `config.json`. Nothing is pickled.
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
from models.calibration import IsotonicCalibrator
from models.config import RiskConfig
from models.gnn import RiskGNN, fuse
from models.history import COMMIT_FEATURES, ENTITY_FEATURES

logger = logging.getLogger(__name__)

__all__ = ["RiskModel", "load", "load_latest", "require_latest", "save"]

FORMAT = 1


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
    )


def _compatible(manifest: dict[str, Any]) -> bool:
    return (
        manifest.get("format") == FORMAT
        and manifest.get("schema_version") == schema.SCHEMA_VERSION
        and manifest.get("commit_features") == list(COMMIT_FEATURES)
        and manifest.get("entity_features") == list(ENTITY_FEATURES)
    )


def load_latest(settings: Settings) -> RiskModel | None:
    """The newest model under `settings.model_dir` compatible with this schema version."""
    root = Path(settings.model_dir)
    if not root.is_dir():
        return None
    for folder in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True):
        cfg = folder / "config.json"
        if not cfg.is_file() or not (folder / "model.pt").is_file():
            continue
        try:
            manifest = json.loads(cfg.read_text())
        except (OSError, json.JSONDecodeError):
            logger.warning("skipping unreadable model folder %s", folder)
            continue
        if _compatible(manifest):
            return load(folder)
        logger.info(
            "skipping model %s: incompatible with schema %s", folder.name, schema.SCHEMA_VERSION
        )
    return None


def require_latest(settings: Settings) -> RiskModel:
    """Like `load_latest`, but an operator must act when there is none."""
    model = load_latest(settings)
    if model is None:
        raise ModelMissingError(
            f"no risk model compatible with schema version {schema.SCHEMA_VERSION} in "
            f"{settings.model_dir}: run `prodgraph train`"
        )
    return model
