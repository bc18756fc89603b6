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
    assert "no risk model yet" in text
    assert any(o.get("data", {}).get("image/png") for outs in outputs.values() for o in outs)
