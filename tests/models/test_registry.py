"""Artefacts: state_dict + config.json round trip; the newest compatible model wins."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from graph_service import schema
from graph_service.settings import Settings
from models.egograph import build_egos
from models.history import History
from models.registry import RiskModel, load, load_latest, save, store_identity
from models.train import predict_raw


def test_round_trip_restores_weights_config_and_predictions(
    tmp_path: Path,
    trained: RiskModel,
    synth_history: History,
    split: tuple[np.ndarray, np.ndarray, float],
) -> None:
    folder = save(trained, tmp_path)
    manifest = json.loads((folder / "config.json").read_text())
    assert manifest["schema_version"] == schema.SCHEMA_VERSION
    assert manifest["config"] == trained.config.model_dump()
    state = torch.load(folder / "model.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    back = load(folder)
    for k, v in trained.net.state_dict().items():
        assert torch.equal(v, back.net.state_dict()[k]), k
    egos = build_egos(synth_history, split[1][:50])
    a, _ = predict_raw(trained.net, egos)
    b, _ = predict_raw(back.net, egos)
    assert torch.equal(a, b)
    probs = np.linspace(0, 1, 7)
    np.testing.assert_array_equal(trained.calibrator(probs), back.calibrator(probs))


def test_load_latest_skips_incompatible(tmp_path: Path, trained: RiskModel) -> None:
    settings = Settings(db_path=tmp_path / "g.lbug", model_dir=tmp_path / "models")
    assert load_latest(settings) is None
    trained.store = store_identity(settings)
    trained.version = "20200101T000000-old"
    save(trained, settings.model_dir)
    trained.version = "20300101T000000-new"
    newer = save(trained, settings.model_dir)
    manifest = json.loads((newer / "config.json").read_text())
    manifest["schema_version"] = schema.SCHEMA_VERSION + 1
    (newer / "config.json").write_text(json.dumps(manifest))
    latest = load_latest(settings)
    assert latest is not None and latest.version == "20200101T000000-old"
    trained.version, trained.store = "test-model", ""
