"""The Colab-like CI job's notebook runner (``.ci/colab_notebooks.py``): the nbclient stall of a
large output does not happen there, a cell that reaches its timeout fails, a widget callback
that raises fails, and controls are moved the way a browser moves them."""

from __future__ import annotations

import importlib.util
import json

import nbformat
import pytest

from conftest import REPO

spec = importlib.util.spec_from_file_location("colab_notebooks", REPO / ".ci" / "colab_notebooks.py")
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)


def _notebook(tmp_path, *sources, name="nb.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def _run(path, tmp_path, timeout=20):
    return runner.run_notebook(path, timeout=timeout, max_bytes=200_000, log_dir=tmp_path)


@pytest.mark.slow
def test_a_1_mb_output_does_not_stall_the_run(tmp_path):
    """jupyter/nbclient#312: plain nbclient waits out the whole timeout on such a cell, then goes on."""
    path = _notebook(tmp_path, "import ipywidgets as W\nfrom IPython.display import display, HTML\n"
                               "out = W.Output(); display(out)\nwith out:\n    display(HTML('x' * 1_000_000))")
    report = _run(path, tmp_path, timeout=20)
    assert report["errors"] == [] and report["cells"][0][1] < 10


@pytest.mark.slow
def test_a_cell_that_reaches_its_timeout_fails(tmp_path):
    report = _run(_notebook(tmp_path, "import time; time.sleep(30)"), tmp_path, timeout=5)
    assert report["errors"] == ["cell 0 reached its timeout (5 s)"]


@pytest.mark.slow
def test_a_slider_is_moved_and_a_callback_that_raises_fails(tmp_path):
    path = _notebook(tmp_path, "import ipywidgets as W\ns = W.IntSlider(value=1, min=0, max=9, description='n')\n"
                               "seen = []\ns.observe(lambda c: seen.append(c['new']), names='value')\ns",
                     "d = W.Dropdown(options=['a', 'b'], description='bad')\n"
                     "def boom(change):\n    raise RuntimeError('callback broke')\n"
                     "d.observe(boom, names='value')\nd")
    report = _run(path, tmp_path)
    assert [d["widget"] for d in report["drives"]] == ["IntSlider n", "Dropdown bad"]
    assert report["errors"] and all("Dropdown bad" in e or "kernel logged a traceback" in e for e in report["errors"])
    assert "RuntimeError: callback broke" in " ".join(report["errors"])


def test_a_skip_execution_cell_is_skipped(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("raise SystemExit('should not run')", metadata={"tags": ["skip-execution"]})]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "s.ipynb")
    report = _run(tmp_path / "s.ipynb", tmp_path)
    assert report["errors"] == [] and report["cells"] == []


class TestBrowserShapedUpdates:
    def test_a_slider_goes_to_its_other_end(self):
        assert runner._browser_update({"_model_name": "IntSliderModel", "value": 1, "min": 0, "max": 9}) == (
            {"value": 9}, [])
        assert runner._browser_update({"_model_name": "FloatSliderModel", "value": 9.0, "min": 0.0, "max": 9.0}) == (
            {"value": 0.0}, [])

    def test_a_selection_sends_an_index(self):
        state = {"_model_name": "DropdownModel", "index": 0, "_options_labels": ["a", "b", "c"]}
        assert runner._browser_update(state) == ({"index": 2}, [])

    def test_an_upload_sends_its_file_as_a_buffer_in_each_protocol(self):
        v7, buffers = runner._browser_update({"_model_name": "FileUploadModel", "_counter": 0, "value": {}})
        assert v7["_counter"] == 1 and v7["metadata"][0]["name"] == "word.wav" and buffers[0][:4] == b"RIFF"
        v8, buffers = runner._browser_update({"_model_name": "FileUploadModel", "value": []})
        assert v8["value"][0]["name"] == "word.wav" and buffers[0][:4] == b"RIFF"
        assert json.dumps(v8)  # the state is JSON; the file travels as a binary buffer
