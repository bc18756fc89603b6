"""The example notebook runs top to bottom in a real kernel."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "explore.ipynb"


@pytest.mark.slow
def test_explore_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat", reason="notebook tests need the dev extra")
    nbclient = pytest.importorskip("nbclient", reason="notebook tests need the dev extra")
    from jupyter_client.kernelspec import NoSuchKernel

    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws PNGs
    monkeypatch.chdir(tmp_path)
    # a model directory that holds a real model, trained on another store: the notebook's
    # store must not be scored with it, and `risk` must say so instead of crashing
    models = tmp_path / "models"
    _train_elsewhere(tmp_path / "elsewhere.lbug", models)
    monkeypatch.setenv("PRODGRAPH_MODEL_DIR", str(models))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    except NoSuchKernel as e:
        pytest.skip(f"no Jupyter kernel is installed: {e}")
    except RuntimeError as e:
        if "kernel died" not in str(e).lower():
            raise
        pytest.skip(f"a Jupyter kernel cannot start here: {e}")
    outputs = {i: c.get("outputs", []) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    text = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for outs in outputs.values()
        for o in outs
    )
    assert "fn:shop:shop/cart.py:Cart.checkout" in text  # the callers of charge()
    assert "HeteroData" in text
    assert "no risk model yet" in text and "trained on" in text
    assert any(o.get("data", {}).get("image/png") for outs in outputs.values() for o in outs)


class _SyntheticHistory:
    name = "synthetic"

    def extract(self, report: object, reader: object = None) -> object:
        from models.synthetic import SyntheticSpec, synthetic_batches

        yield from synthetic_batches(SyntheticSpec(functions=200, commits=100))


def _train_elsewhere(db: Path, models: Path) -> None:
    from graph_service.ingest import ingest
    from graph_service.settings import Settings
    from graph_service.store import open_store
    from models.config import RiskConfig
    from models.train import train

    settings = Settings(db_path=db, model_dir=models)
    store = open_store(settings, create=True)
    try:
        ingest(store, _SyntheticHistory())  # type: ignore[arg-type]
        train(store, settings, RiskConfig(epochs=3))
    finally:
        store.close()
