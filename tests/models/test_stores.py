"""Models belong to their store: per-repository models in a store holding two real
repositories, a model trained on another store refused, code-changing commits only scored."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph_service.errors import CallerError, ModelMissingError
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from models.config import RiskConfig
from models.population import NO_CODE_LABEL, is_code_path
from models.registry import ModelSet, load_latest, require_latest, store_identity
from models.score import score_commit
from models.train import train, train_all
from tests.conftest import BACKEND_PARAMS, make_backend
from tests.models.real_repos import load_repos, make_repo

QUICK = RiskConfig(epochs=5, hidden=8, ensemble=1)


@pytest.fixture(scope="module", params=BACKEND_PARAMS)
def two_repos(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("two")
    backend = make_backend(request.param, root)  # the Neo4j leg skips without its server
    shas = {name: make_repo(root, name) for name in ("alpha", "beta")}
    db = root / "g.lbug"
    settings = backend.with_settings(model_dir=root / "models")
    if backend.name == "ladybug":
        settings = Settings(db_path=db, backend="ladybug", model_dir=root / "models")
    store = load_repos(db, [root / "alpha", root / "beta"], settings)
    yield {"store": store, "settings": settings, "shas": shas, "root": root}
    store.close()


def test_code_paths() -> None:
    assert is_code_path("src/pkg/core.py") and is_code_path("cmd/root.go")
    for path in (
        "README.md",
        "tests/test_core.py",
        "pkg/core_test.go",
        ".github/ci.yml",
        "vendor/lib/x.go",
        "api/v1/x_pb2.py",
        "pyproject.toml",
        "docs/conf.txt",
    ):
        assert not is_code_path(path), path


def test_one_model_per_repository_each_scoring_its_own(two_repos: dict[str, Any]) -> None:
    store: GraphStore = two_repos["store"]
    settings: Settings = two_repos["settings"]
    with pytest.raises(CallerError, match="2 repositories"):
        train(store, settings, QUICK)  # which one? the caller must say
    paths = train_all(store, settings, QUICK)
    assert len(paths) == 2
    manifests = [json.loads((p / "config.json").read_text()) for p in paths]
    assert sorted(m["repositories"][0] for m in manifests) == ["alpha", "beta"]
    for m in manifests:
        assert m["store"] == store_identity(settings, store) and len(m["fingerprint"]) == 16
        assert m["pooled"] is False
    assert load_latest(settings) is None  # without the store, its id is unknown: no model
    models = load_latest(settings, store=store)
    assert isinstance(models, ModelSet) and set(models.models) == {"alpha", "beta"}
    for name in ("alpha", "beta"):
        result = score_commit(store, models, two_repos["shas"][name]["code"])
        assert result.model_version == models.models[name].version
        assert result.code_change and result.score is not None and 0 <= result.score <= 1
    only_beta = load_latest(settings, repo="beta", store=store)
    assert only_beta is not None and not isinstance(only_beta, ModelSet)
    assert only_beta.repositories == ["beta"]


def test_docs_and_test_only_commits_get_a_label_not_a_probability(
    two_repos: dict[str, Any],
) -> None:
    store: GraphStore = two_repos["store"]
    settings: Settings = two_repos["settings"]
    if load_latest(settings, store=store) is None:
        train_all(store, settings, QUICK)
    models = require_latest(settings, store=store)
    for kind in ("docs", "tests"):
        result = score_commit(store, models, two_repos["shas"]["alpha"][kind])
        assert result.score is None and not result.code_change
        assert result.label == NO_CODE_LABEL


def test_a_model_trained_on_another_store_is_refused(
    two_repos: dict[str, Any], tmp_path: Path
) -> None:
    store: GraphStore = two_repos["store"]
    settings: Settings = two_repos["settings"]
    pooled = train(store, settings, QUICK, pooled=True)
    assert json.loads((pooled / "config.json").read_text())["pooled"] is True
    # the same model directory, another store: nothing trained there is used
    other = Settings(
        db_path=tmp_path / "other.lbug", backend="ladybug", model_dir=settings.model_dir
    )
    other_store = open_store(other, create=True)
    try:
        assert load_latest(other, store=other_store) is None
        with pytest.raises(ModelMissingError) as err:
            require_latest(other, store=other_store)
    finally:
        other_store.close()
    text = err.value.message
    assert store_identity(settings, store) in text and "prodgraph train" in text
    assert "trained on" in text


@pytest.mark.embedded_only  # copies the store's files
def test_a_copy_of_the_store_keeps_its_models(two_repos: dict[str, Any], tmp_path: Path) -> None:
    """A model belongs to the store's data, not its path: a copied or moved store scores."""
    store: GraphStore = two_repos["store"]
    settings: Settings = two_repos["settings"]
    if load_latest(settings, store=store) is None:
        train_all(store, settings, QUICK)
    here = store_identity(settings, store)
    src = Path(settings.db_path)
    for path in src.parent.glob(src.name + "*"):
        shutil.copy2(path, tmp_path / path.name)
    copy_settings = settings.model_copy(update={"db_path": tmp_path / src.name})
    copy = open_store(copy_settings, read_only=True)
    try:
        assert store_identity(copy_settings, copy) == here
        assert load_latest(copy_settings, store=copy) is not None
    finally:
        copy.close()
