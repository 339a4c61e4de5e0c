"""The pinned set is one: requirements.txt, environment.yml and the README agree."""

import os
import re
import shutil
import subprocess
import tomllib

import pytest

from conftest import REPO


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip().lstrip("- ").strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s]+)", line)
        if m:
            pins[m[1].lower()] = m[2]
    return pins


def test_environment_yml_matches_requirements():
    req = _pins((REPO / "requirements.txt").read_text().splitlines())
    env_text = (REPO / "environment.yml").read_text()
    env = _pins(env_text.splitlines())
    assert req and env == req
    assert "python=3.11" in env_text and "-e ." in env_text


def test_required_pins_are_exact():
    req = _pins((REPO / "requirements.txt").read_text().splitlines())
    assert req["torch"] == "2.11.0" and req["torchaudio"] == "2.11.0" and req["nnaudio"] == "0.3.4"
    assert req["jupyterlab"].startswith("4.") and req["ipywidgets"].startswith("8.")
    assert int(req["plotly"].split(".")[0]) >= 6
    for name in ("anywidget", "nbmake", "pytest", "soundfile", "tqdm"):
        assert name in req


def test_pyproject_ranges_stay_loose_for_colab():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not any("==" in d for d in deps), "pins belong in requirements.txt, not pyproject"
    names = {re.split(r"[<>=!~ ]", d)[0].lower() for d in deps}
    assert "nnaudio" not in names, "nnAudio is optional so that Colab's install cell adds it"


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    readme = (REPO / "README.md").read_text()
    setup = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", setup, flags=re.S)
    commands = [line.split("#")[0].strip() for b in blocks for line in b.splitlines() if line.split("#")[0].strip()]
    assert commands == ["make lab", "make test"]
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^lab:.*install", makefile, flags=re.M) and "jupyter lab --notebook-dir=notebooks" in makefile
    assert re.search(r"^test:.*install", makefile, flags=re.M)
    assert "make test" in (REPO / ".ci" / "run").read_text()


# --- `make test` on a machine without Chromium -------------------------------------------------------

MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed (the README's set-up needs it)")
NO_CHROMIUM_LINE = (
    "make test: browser tests NOT run (no Chromium at /nonexistent); to run them, install Chromium "
    "(apt-get install chromium, or set APAC_LAB_CHROMIUM to its binary), then: make test-browser"
)


def _make(*args: str, chromium: str) -> subprocess.CompletedProcess:
    """Run make in the repository with APAC_LAB_CHROMIUM set, free of any outer make's flags."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "BROWSER_TESTS")}
    return subprocess.run([MAKE, "--no-print-directory", "-C", str(REPO), *args], capture_output=True, text=True,
                          timeout=60, env={**env, "APAC_LAB_CHROMIUM": chromium})


def test_make_test_ends_with_the_browser_step_and_ci_requires_it():
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^test:.*\n\t(.*)", makefile, flags=re.M)[1]
    assert recipe.split()[-3:] == ["test-unit", "test-notebooks", "test-browser-if-chromium"]
    assert "make test BROWSER_TESTS=required" in (REPO / ".ci" / "run").read_text()


@needs_make
def test_without_chromium_make_test_says_so_in_one_line_and_passes():
    proc = _make("-s", "test-browser-if-chromium", chromium="/nonexistent")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [NO_CHROMIUM_LINE] and proc.stderr == ""


@needs_make
def test_without_chromium_ci_fails():
    proc = _make("-s", "test-browser-if-chromium", "BROWSER_TESTS=required", chromium="/nonexistent")
    assert proc.returncode != 0 and proc.stdout == ""
    assert "BROWSER_TESTS=required, but there is no Chromium at /nonexistent" in proc.stderr


@needs_make
def test_with_chromium_make_test_runs_the_browser_suite(tmp_path):
    """Dry run (-n): the browser suite's command is what would run; nothing is installed or run."""
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\nexit 0\n")
    chromium.chmod(0o755)
    proc = _make("-n", "test-browser-if-chromium", f"VENV={tmp_path / 'venv'}", chromium=str(chromium))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()  # -n echoes each recipe, then runs the one that calls $(MAKE)
    assert lines[-1].rstrip().endswith(f"{tmp_path / 'venv'}/bin/python -m pytest tests/browser -q")
    assert not any(line.startswith("make test: browser tests NOT run") for line in lines)
    assert not (tmp_path / "venv").exists()


@needs_make
@pytest.mark.parametrize("args, budget", [((), "quick"), (("BENCH_BUDGET=classroom",), "classroom")])
def test_make_bench_times_the_quick_budget_unless_told_otherwise(tmp_path, args, budget):
    """Dry run (-n): the timing command `make bench` would run; nothing is installed or run."""
    proc = _make("-n", "bench", f"VENV={tmp_path / 'venv'}", *args, chromium="/nonexistent")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].rstrip().endswith(f"benchmarks/notebook_times.py --budget {budget}")
    assert not (tmp_path / "venv").exists()
