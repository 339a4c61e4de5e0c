"""The pinned set is one: requirements.txt, environment.yml and the README agree."""

import re
import tomllib

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
