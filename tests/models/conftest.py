"""Fixtures: a synthetic history in a real Ladybug store, and a model trained on it once."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from models.config import RiskConfig
from models.dataset import load_tables
from models.history import History
from models.registry import RiskModel
from models.synthetic import SyntheticSpec, synthetic_batches
from models.train import eligible_commits, fit_gnn

SPEC = SyntheticSpec(functions=1200, commits=600, seed=1, renamed_files=8)
TRAIN_SHARE = 0.7
FAST = RiskConfig(epochs=80, hidden=24)


def build_store(path: Path, spec: SyntheticSpec = SPEC) -> GraphStore:
    store = open_store(Settings(db_path=path), create=True)
    for batch in synthetic_batches(spec):
        result = store.write(batch, loaded_by="synthetic", run_id="r1")
        assert result.missing_endpoints == 0
    return store


@pytest.fixture(scope="session")
def store_factory() -> Callable[[Path], GraphStore]:
    return build_store


@pytest.fixture(scope="session")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    store = build_store(tmp_path_factory.mktemp("risk") / "g.lbug")
    yield store
    store.close()


@pytest.fixture(scope="session")
def synth_history(synth_store: GraphStore) -> History:
    return History(load_tables(synth_store))


@pytest.fixture(scope="session")
def split(synth_history: History) -> tuple[np.ndarray, np.ndarray, float]:
    ix = eligible_commits(synth_history)[1:]  # skip the initial import
    cut = int(len(ix) * TRAIN_SHARE)
    return ix[:cut], ix[cut:], float(synth_history.t[ix[cut - 1]])


@pytest.fixture(scope="session")
def trained(synth_history: History, split: tuple[np.ndarray, np.ndarray, float]) -> RiskModel:
    train, _, cutoff = split
    return fit_gnn(synth_history, train, cutoff, FAST, version="test-model")


def no_cutoff() -> float:
    return math.inf
