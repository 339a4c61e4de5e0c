"""Notebooks are committed without outputs, and each one follows the kit's shape."""

import json

import pytest

from apac_lab.notebook_tools import dirty_cells, list_notebooks, strip_outputs
from conftest import REPO

NOTEBOOKS = list_notebooks(REPO / "notebooks")


def test_there_are_notebooks():
    assert any(p.name.startswith("01_") for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    assert dirty_cells(nb) == [], f"{path.name} has outputs; run `make clean-outputs`"
    assert "widgets" not in nb.get("metadata", {}), f"{path.name} carries saved widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_first_and_skipped_by_nbmake(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    first = cells[0]
    src = "".join(first["source"])
    assert "google.colab" in src and "pip install" in src
    assert "skip-execution" in first.get("metadata", {}).get("tags", [])
    assert "torch" not in src.split("pip install", 1)[1].split("\n")[0].replace("apac", "")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_imports_the_package(path):
    src = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
    assert "apac_lab" in src


def test_strip_outputs_cleans_a_dirty_notebook(tmp_path):
    p = tmp_path / "x.ipynb"
    nb = {"cells": [{"cell_type": "code", "source": "1", "metadata": {}, "execution_count": 3,
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": "1"}]}],
          "metadata": {"widgets": {"state": {}}}, "nbformat": 4, "nbformat_minor": 5}
    p.write_text(json.dumps(nb))
    assert dirty_cells(json.loads(p.read_text())) == [0]
    assert strip_outputs(p) is True
    assert dirty_cells(json.loads(p.read_text())) == [] and strip_outputs(p) is False
