"""The Colab set-up (issue 15): one generated cell in every notebook, one address and version
for the install and every "Open in Colab" badge, held in ``apac_lab/_release.py``."""

from __future__ import annotations

import json
import re
import shutil
import sys
import tomllib
import types

import pytest
from IPython.core.inputtransformer2 import TransformerManager

import apac_lab
from apac_lab import _release
from apac_lab.notebook_tools import (
    BADGE_URL, GIT_URL, colab_badge_url, colab_requirements, colab_setup_cell, colab_setup_source, list_notebooks, main,
    write_colab_setup,
)
from conftest import REPO

NOTEBOOKS = list_notebooks(REPO / "notebooks")
README = REPO / "README.md"


def _first_code_cell(path):
    return next(c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")


class TestOneCell:
    @pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
    def test_every_notebook_starts_with_the_generated_cell(self, path):
        cell = _first_code_cell(path)
        assert "".join(cell["source"]) == colab_setup_source(), (
            f"{path.name}: its Colab cell differs; run python -m apac_lab.notebook_tools colab notebooks README.md")
        assert cell["metadata"].get("tags") == ["skip-execution"] and cell["outputs"] == []

    def test_the_cells_are_identical_in_every_notebook(self):
        sources = {"".join(_first_code_cell(p)["source"]) for p in NOTEBOOKS}
        assert len(NOTEBOOKS) >= 6 and len(sources) == 1

    def test_check_mode_finds_nothing_to_rewrite(self, capsys):
        assert main(["colab", "--check", str(REPO / "notebooks"), str(README)]) == 0
        assert capsys.readouterr().out == ""

    def test_check_mode_names_a_notebook_whose_cell_was_edited_by_hand(self, tmp_path, capsys):
        nb = tmp_path / "x.ipynb"
        shutil.copy(NOTEBOOKS[1], nb)
        data = json.loads(nb.read_text())
        data["cells"][0]["source"] = ["import sys\n", 'if "google.colab" in sys.modules:\n', "    !pip install apac-lab"]
        nb.write_text(json.dumps(data))
        assert main(["colab", "--check", str(nb)]) == 1 and "x.ipynb" in capsys.readouterr().out
        assert write_colab_setup(nb) is True and write_colab_setup(nb, check=True) is False
        assert "".join(_first_code_cell(nb)["source"]) == colab_setup_source()

    def test_a_notebook_without_the_cell_gets_it_first(self, tmp_path):
        nb = tmp_path / "y.ipynb"
        nb.write_text(json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# t"]},
                                            {"cell_type": "code", "metadata": {}, "source": ["1"], "outputs": [],
                                             "execution_count": None}],
                                  "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        write_colab_setup(nb)
        cells = json.loads(nb.read_text())["cells"]
        assert [c["cell_type"] for c in cells] == ["markdown", "code", "code"]
        assert "".join(cells[1]["source"]) == colab_setup_source() and cells[2]["source"] == ["1"]


class TestOneAddress:
    def test_the_install_is_pinned_to_this_releases_tag(self):
        assert _release.RELEASE_REF == f"v{apac_lab.__version__}"
        assert colab_requirements()[-1] == (f"apac-lab @ git+https://github.com/{_release.REPOSITORY}"
                                            f"@{_release.RELEASE_REF}")
        pip_line = next(line for line in colab_setup_source().splitlines() if "pip install" in line)
        assert all(f'"{r}"' in pip_line for r in colab_requirements())
        assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", r) for r in colab_requirements()[:-1])

    def test_no_unpinned_git_install_anywhere(self):
        texts = {p.name: p.read_text() for p in [*NOTEBOOKS, README]}
        for name, text in texts.items():
            urls = GIT_URL.findall(text)
            assert urls, f"{name} names no install address"
            for url in urls:
                assert url == f"git+https://github.com/{_release.REPOSITORY}@{_release.RELEASE_REF}", (name, url)

    def test_every_badge_opens_a_notebook_of_this_release(self):
        names = {p.stem for p in NOTEBOOKS}
        badges = [(p.name, m) for p in [*NOTEBOOKS, README] for m in BADGE_URL.finditer(p.read_text())]
        assert {m[1] for _, m in badges if _ == "README.md"} == names  # the README has one badge per notebook
        for where, m in badges:
            assert m[1] in names, f"{where}: a badge opens {m[1]}, which is not a notebook"
            assert m[0] == colab_badge_url(m[1]), f"{where}: {m[0]}"

    def test_pyproject_reads_the_version_from_the_release_module(self):
        project = tomllib.loads((REPO / "pyproject.toml").read_text())
        assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
        assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "apac_lab._release.__version__"}
        assert apac_lab.__version__ is _release.__version__

    def test_pyproject_licence_is_an_spdx_string_with_a_setuptools_that_reads_it(self):
        toml = tomllib.loads((REPO / "pyproject.toml").read_text())
        assert toml["project"]["license"] == "MIT"
        assert not any(c.startswith("License ::") for c in toml["project"].get("classifiers", []))
        req = next(r for r in toml["build-system"]["requires"] if r.startswith("setuptools"))
        assert int(re.search(r">=\s*(\d+)", req)[1]) >= 77  # PEP 639 license expressions

    def test_a_fork_changes_one_place(self, monkeypatch, tmp_path):
        monkeypatch.setattr(_release, "REPOSITORY", "someone/apac-lab-fork")
        monkeypatch.setattr(_release, "RELEASE_REF", "main")
        assert colab_badge_url("00_start_here").startswith(
            "https://colab.research.google.com/github/someone/apac-lab-fork/blob/main/")
        readme = tmp_path / "README.md"
        shutil.copy(README, readme)
        assert write_colab_setup(readme) is True
        assert "someone/apac-lab-fork/blob/main/notebooks/05_apac_training.ipynb" in readme.read_text()
        assert "git+https://github.com/someone/apac-lab-fork@main" in readme.read_text()
        assert "git+https://github.com/someone/apac-lab-fork@main" in colab_setup_source()

    def test_readme_tells_a_fork_how_to_change_them(self):
        colab = README.read_text().split("## Open in Colab", 1)[1].split("\n## ", 1)[0]
        assert "apac_lab/_release.py" in colab and "python -m apac_lab.notebook_tools colab notebooks README.md" in colab


class TestTheCellRuns:
    """The cell's code, run as IPython runs it (``!pip`` is a shell escape), with Colab faked."""

    @staticmethod
    def _run(monkeypatch, *, colab: bool, manager_error: Exception | None = None):
        calls = []
        shell = types.SimpleNamespace(system=lambda cmd: calls.append(("pip", cmd)))
        output = types.ModuleType("google.colab.output")

        def enable():
            if manager_error:
                raise manager_error
            calls.append(("manager", "on"))
        output.enable_custom_widget_manager = enable
        if colab:
            google, colab_mod = types.ModuleType("google"), types.ModuleType("google.colab")
            colab_mod.output, google.colab = output, colab_mod
            monkeypatch.setitem(sys.modules, "google", google)
            monkeypatch.setitem(sys.modules, "google.colab", colab_mod)
            monkeypatch.setitem(sys.modules, "google.colab.output", output)
        else:
            monkeypatch.delitem(sys.modules, "google.colab", raising=False)
        code = TransformerManager().transform_cell(colab_setup_source())
        exec(compile(code, "<colab cell>", "exec"), {"get_ipython": lambda: shell})
        return calls

    def test_outside_colab_it_does_nothing(self, monkeypatch, capsys):
        assert self._run(monkeypatch, colab=False) == [] and capsys.readouterr().out == ""

    def test_in_colab_it_installs_turns_on_the_manager_keeps_the_budget_and_says_so(self, monkeypatch, capsys):
        for var in ("APAC_LAB_BUDGET", "APAC_LAB_QUICK"):
            monkeypatch.delenv(var, raising=False)
        calls = self._run(monkeypatch, colab=True)
        assert calls[0] == ("pip", "pip install -q " + " ".join(f'"{r}"' for r in colab_requirements()))
        assert calls[1] == ("manager", "on")
        out = capsys.readouterr().out
        assert out.startswith(f"Colab set-up: installed apac-lab {apac_lab.__version__} from "
                              f"github.com/{_release.REPOSITORY}@{_release.RELEASE_REF}")
        assert "custom widget manager on" in out and "budget 'classroom'" in out
        assert "torch" not in calls[0][1].replace("apac", "")  # Colab keeps its own torch

    def test_an_old_colab_without_the_manager_still_installs(self, monkeypatch, capsys):
        calls = self._run(monkeypatch, colab=True, manager_error=AttributeError("no enable_custom_widget_manager"))
        assert [c[0] for c in calls] == ["pip"]
        assert "custom widget manager not available (no enable_custom_widget_manager)" in capsys.readouterr().out

    def test_the_cell_is_tagged_for_ci_to_skip(self):
        assert colab_setup_cell()["metadata"] == {"tags": ["skip-execution"]}
