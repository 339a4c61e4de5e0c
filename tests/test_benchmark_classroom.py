"""benchmarks/classroom.py: every notebook under a budget, one table, a record in the repository,
and the README's classroom column written from it.

The logic runs on tiny generated notebooks executed in this process (a stand-in for the kernel,
so each test takes well under a second); one test starts a real kernel on a notebook without
torch, to check the environment and the failure report the kernel path gives.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys

import pytest

from conftest import REPO

BENCH = REPO / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


classroom = _load("classroom")
runner = sys.modules["notebook_runner"]  # imported by classroom.py from benchmarks/


def _notebook(path, *sources, colab_first=True):
    cells = []
    if colab_first:  # the Colab set-up cell: skipped, as nbclient skips it
        cells.append({"id": "colab", "cell_type": "code", "metadata": {"tags": ["skip-execution"]},
                      "source": "raise SystemExit('Colab only')", "outputs": [], "execution_count": None})
    cells += [{"id": f"c{i}", "cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
              for i, s in enumerate(sources)]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def in_process(path, *, env, timeout):
    """The kernel's stand-in: run the code cells here, under ``env``."""
    from apac_lab.utils import set_budget

    nb = json.loads(path.read_text())
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    set_budget(None)
    try:
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] != "code" or "skip-execution" in cell["metadata"].get("tags", []):
                continue
            try:
                exec(cell["source"], {"__name__": "__main__"})
            except runner.NotebookFailed:
                raise
            except Exception as exc:
                raise runner.NotebookFailed(f"cell {i}: {type(exc).__name__}: {exc}") from None
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return 0.01


RECORDS = """
from apac_lab.recipes import record_results
import apac_lab
apac_lab.seed_everything(7)
met = apac_lab.current_budget() == "quick"
record_results("00_tiny", [{"result": "tiny accuracy", "value": 0.875, "target": ">= 0.8", "met": met},
                           {"result": "tiny error", "value": 3e-7, "target": "<= 1e-5", "met": True, "percent": False}])
"""
README = """# kit

<!-- classroom-results: begin (the column is written by python benchmarks/classroom.py --update-readme) -->
| # | notebook | what it teaches | classroom result (2-core CPU) | full budget |
|---|---|---|---|---|
| 00 | tiny | records | old text | same |
| 01 | fails | raises | old text | same |
| 02 | silent | nothing | old text | same |
| 03 | absent | not run | old text | same |
<!-- classroom-results: end -->

After the table.
"""


@pytest.fixture()
def kit(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _notebook(nbs / "00_tiny.ipynb", RECORDS)
    _notebook(nbs / "01_fails.ipynb", "x = 1", "raise ValueError('a.wav: the file is truncated')")
    _notebook(nbs / "02_silent.ipynb", "print('no results here')")
    (tmp_path / "README.md").write_text(README)
    return tmp_path


def _main(kit, *args):
    return classroom.main(list(args), execute=in_process, notebooks_dir=kit / "notebooks", results_dir=kit / "results",
                          readme=kit / "README.md")


def test_a_run_records_rows_failures_and_silence_and_fills_the_readme(kit, capsys):
    assert _main(kit, "--budget", "quick", "--notebooks", "00", "01", "02") == 1  # one failed, one silent
    record = json.loads((kit / "results" / "quick.json").read_text())
    assert record["budget"] == "quick" and list(record["notebooks"]) == ["00_tiny", "01_fails", "02_silent"]
    tiny, fails, silent = record["notebooks"].values()
    assert tiny["status"] == "ok" and tiny["met"] and [r["value"] for r in tiny["rows"]] == [0.875, 3e-7]
    assert 7 in tiny["seeds_used"] and tiny["time_limit_s"] == 60 and tiny["within_time"] is True
    assert fails["status"] == "failed" and fails["error"] == "cell 2: ValueError: a.wav: the file is truncated"
    assert silent["status"] == "no rows" and not silent["met"]
    for entry in record["notebooks"].values():
        assert len(entry["commit"]) == 40 and isinstance(entry["dirty"], bool)
        assert {"cpu", "cores", "torch_threads", "os"} <= set(entry["machine"]) and entry["budget"] == "quick"
    table = capsys.readouterr().out.split("notebook  ", 1)[1]
    assert "00_tiny" in table and "87.5%" in table and "3e-07" in table and "FAILED: cell 2" in table
    assert "NO ROWS: the notebook ran to the end but recorded no results" in table
    assert (kit / "README.md").read_text() == README  # only the classroom budget writes the README column
    assert "| 00_tiny | tiny accuracy | 87.5% | >= 0.8 | yes |" in (kit / "results" / "quick.md").read_text()


def test_the_classroom_run_writes_the_readme_column_and_a_subset_merges(kit):
    assert _main(kit, "--notebooks", "00") == 1  # under classroom the tiny notebook misses its target
    assert _main(kit, "--notebooks", "02") == 1
    record = json.loads((kit / "results" / "classroom.json").read_text())
    assert list(record["notebooks"]) == ["00_tiny", "02_silent"]  # 00 kept from the first run
    assert record["notebooks"]["00_tiny"]["rows"][0]["met"] is False
    column = classroom.readme_column((kit / "README.md").read_text())
    assert column["00"] == ("tiny accuracy: **87.5%** (target >= 0.8, not met); tiny error: **3e-07** (target <= 1e-5); "
                            "in 0 s")
    assert column["01"] == "not recorded yet" and column["03"] == "not recorded yet"
    assert column["02"].startswith("no rows in the recorded run")
    text = (kit / "README.md").read_text()
    assert text.endswith("<!-- classroom-results: end -->\n\nAfter the table.\n")
    assert classroom.update_readme(text, record) == text  # written once, stable
    (kit / "README.md").write_text(README)
    assert _main(kit, "--update-readme") == 0 and (kit / "README.md").read_text() == text


def test_dry_run_runs_and_writes_nothing(kit, capsys):
    def refuse(*a, **k):
        raise AssertionError("a dry run ran a notebook")

    assert classroom.main(["--dry-run"], execute=refuse, notebooks_dir=kit / "notebooks", results_dir=kit / "results",
                          readme=kit / "README.md") == 0
    out = capsys.readouterr().out
    assert out.count("would run") == 3 and "APAC_LAB_BUDGET=classroom" in out and "timeout 10 min 00 s" in out
    assert not (kit / "results").exists()


def test_a_timeout_is_reported_as_such():
    def slow(path, *, env, timeout):
        raise runner.NotebookFailed(f"timed out after {timeout:.0f} s, in cell 3 (code cell 2 of 2)", timed_out=True)

    entry = classroom.run_notebook(REPO / "notebooks" / "05_apac_training.ipynb", budget="classroom", timeout=1440,
                                   execute=slow)
    assert entry["status"] == "timed out" and entry["error"].startswith("timed out after 1440 s") and not entry["met"]
    assert entry["time_limit_s"] == 720


def test_unknown_notebooks_are_refused_in_one_line(kit):
    with pytest.raises(SystemExit, match=r"--notebooks 7 matches 0 notebooks .*choose among 00, 01, 02"):
        classroom.select_notebooks(["7"], kit / "notebooks")
    assert [p.name for p in classroom.select_notebooks(["02", "00_tiny"], kit / "notebooks")] == [
        "00_tiny.ipynb", "02_silent.ipynb"]


def test_rows_recorded_under_another_budget_fail_the_notebook(kit):
    nb = _notebook(kit / "notebooks" / "03_stubborn.ipynb", RECORDS.replace('"percent": False}]', '"percent": False}], '
                                                                            'budget="full"'))
    entry = classroom.run_notebook(nb, budget="quick", timeout=60, execute=in_process)
    assert entry["status"] == "failed" and "recorded under the 'full' budget, not 'quick'" in entry["error"]


def test_a_real_kernel_gets_the_budget_and_the_results_folder_and_reports_the_failing_cell(tmp_path):
    """One real kernel (nbclient), on a notebook that needs no torch: a few seconds."""
    nb = _notebook(tmp_path / "04_kernel.ipynb",
                   "import json, os, pathlib\n"
                   "rows = [{'result': 'budget seen', 'value': 1, 'target': 'quick', "
                   "'met': os.environ['APAC_LAB_BUDGET'] == 'quick'}]\n"
                   "pathlib.Path(os.environ['APAC_LAB_RESULTS'], '04_kernel.json').write_text(json.dumps("
                   "{'notebook': '04_kernel', 'budget': os.environ['APAC_LAB_BUDGET'], 'rows': rows, "
                   "'cwd': os.getcwd()}))",
                   "raise KeyError('deep')")
    entry = classroom.run_notebook(nb, budget="quick", timeout=120)
    assert entry["status"] == "failed" and entry["error"] == "cell 2 (code cell 3 of 3): KeyError: 'deep'"
    assert entry["rows"] == [{"result": "budget seen", "value": 1, "target": "quick", "met": True}]


# --- the repository's own record and README ---------------------------------------------------------

def test_the_readme_column_is_the_recorded_classroom_run():
    record = classroom.load_record(classroom.record_path("classroom"))
    text = classroom.README.read_text()
    assert classroom.update_readme(text, record) == text, (
        "README.md's classroom column differs from benchmarks/results/classroom.json: "
        "run python benchmarks/classroom.py --update-readme")


def test_each_teacher_note_shows_the_recorded_classroom_run():
    record = classroom.load_record(classroom.record_path("classroom"))
    if record is None:
        pytest.skip("no classroom run recorded yet")
    for name, entry in record["notebooks"].items():
        note = classroom.TEACHER / f"{name}.md"
        text = note.read_text()
        assert classroom.update_teacher_note(text, name, entry) == text, (
            f"{note.name}'s recorded classroom run differs from benchmarks/results/classroom.json: "
            "run python benchmarks/classroom.py --update-readme")


def test_a_teacher_note_gets_its_section_once_and_keeps_the_rest():
    entry = {"status": "ok", "seconds": 61.0, "time_limit_s": 300.0, "within_time": True, "commit": "abc",
             "rows": [{"result": "digit accuracy", "value": 0.912, "target": ">= 0.9", "met": True}]}
    once = classroom.update_teacher_note("# Note\n\nText.\n", "02_x", entry)
    assert once.startswith("# Note\n\nText.\n\n") and once.count(classroom.NOTE_BEGIN) == 1
    assert "- digit accuracy: **91.2%** (target >= 0.9; met)" in once and "1 min 01 s" in once
    again = classroom.update_teacher_note(once + "More.\n", "02_x", {**entry, "rows": []})
    assert again.count(classroom.NOTE_BEGIN) == 1 and "digit accuracy" not in again and again.endswith("More.\n")


def test_the_recorded_classroom_run_names_its_commit_machine_and_rows():
    record = classroom.load_record(classroom.record_path("classroom"))
    if record is None:
        pytest.skip("no classroom run recorded yet")
    assert record["budget"] == "classroom"
    for name, entry in record["notebooks"].items():
        assert (REPO / "notebooks" / f"{name}.ipynb").is_file(), f"{name}: no such notebook"
        assert entry["status"] in classroom.STATUSES and entry["budget"] == "classroom"
        assert entry["commit"] and isinstance(entry["dirty"], bool) and entry["seconds"] > 0
        assert entry["machine"]["cpu"] and entry["machine"]["cores"] and entry["machine"]["torch_threads"]
        assert entry["status"] != "ok" or entry["rows"], name
