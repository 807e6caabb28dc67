"""notebooks/robustness.ipynb runs top to bottom on a planted table and draws its figures."""

from __future__ import annotations

from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient", reason="needs the dev extra (nbclient, nbformat, ipykernel)")
nbformat = pytest.importorskip("nbformat")

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "robustness.ipynb"


def test_the_notebook_executes_and_draws_every_figure(monkeypatch):
    monkeypatch.delenv("ROBUSTNESS_RESULTS", raising=False)  # no table given: the planted one
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    images = [
        o
        for cell in notebook.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert len(images) == 4  # tier bars, gain against size, gap against size, scale
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
