"""A percentage in prose is quoted, never remembered (issue 11 §2; PHASE2 "Results: numbers in prose").

In notebook markdown cells, teacher notes (``teacher/*.md``) and the README, every percentage
(``\\d+(\\.\\d+)?\\s?%``) must be one of:

* a figure of the papers, :func:`apac_lab.papers.paper_percentages` (``"91.4%"``, ``"92%"``), in a
  paragraph that names its source (a paper's author, "paper", "Table" or "slides");
* a recorded benchmark figure: a row value or target of ``benchmarks/results/*.json`` (written by
  ``benchmarks/classroom.py``), as the tables print it (``"95.1%"``) or rounded to a whole percent,
  in a paragraph that says it is recorded (it names the classroom run, a benchmark, or "recorded");
* in :data:`NOT_RESULTS`, an explicit list of percentages that are not results.

A run's own number belongs in the notebook's output ("the cell above prints ..."), not in its prose.
A paragraph is a block between blank lines (a markdown table is one, its header included).
"""

from __future__ import annotations

import json
import re

import pytest

from apac_lab.notebook_tools import list_notebooks
from apac_lab.papers import PAPERS, paper_percentages
from apac_lab.recipes.results import shows_percent
from conftest import REPO

PERCENT = re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?%")
PAPER_SOURCE = re.compile(r"\b(?:" + "|".join(sorted({v["cite"].split()[0] for v in PAPERS.values()})) + r")\b"
                          r"|\bpapers?\b|\bTable\b|\bslides\b", re.I)
RECORDED_SOURCE = re.compile(r"classroom|benchmark|recorded", re.I)

#: Percentages that are not results, by file: ``{path: {"50%": "why it is not a result"}}``.
#: Prefer adding a paper's figure to apac_lab/papers.py with its quote. Empty today.
NOT_RESULTS: dict[str, dict[str, str]] = {}

#: Offenders known when this test landed, in notebooks and notes whose owners are rewriting them
#: (issue 11 §2). Strict: a new offender fails, and so does a listed one that is gone (then delete
#: its entry). Keep this list shrinking to empty.
PENDING: dict[str, set[str]] = {}


def recorded_percentages(folder=REPO / "benchmarks" / "results") -> set[str]:
    """Every row value and target of the recorded benchmark files, as prose may quote them."""
    out: set[str] = set()

    def add(fraction: float) -> None:
        out.update({f"{100 * fraction:.1f}%", f"{round(100 * fraction)}%"})

    def walk(node) -> None:
        if isinstance(node, dict):
            for row in node.get("rows", []) if isinstance(node.get("rows"), list) else []:
                if isinstance(row, dict) and isinstance(row.get("value"), (int, float)) and shows_percent(row):
                    add(row["value"])
                    for number in re.findall(r"(?<![\w.])0?\.\d+|1\.0*(?!\d)", str(row.get("target", ""))):
                        add(float(number))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        walk(json.loads(path.read_text()))
    return out


def prose(path) -> list[str]:
    """The paragraphs of a file's prose: a notebook's markdown cells, or a markdown file."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text())["cells"]
        texts = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    else:
        texts = [path.read_text()]
    return [p for text in texts for p in re.split(r"\n\s*\n", text) if p.strip()]


def offenders(path, papers: set[str], recorded: set[str], name: str | None = None) -> dict[str, str]:
    """``{percentage: its paragraph}`` for each percentage of ``path`` (known as ``name``, by
    default its path in the repository) that is neither quoted nor allowed."""
    allowed = NOT_RESULTS.get(name or path.relative_to(REPO).as_posix(), {})
    bad: dict[str, str] = {}
    for paragraph in prose(path):
        for match in PERCENT.finditer(paragraph):
            pct = re.sub(r"\s", "", match.group())
            quoted = ((pct in papers and PAPER_SOURCE.search(paragraph))
                      or (pct in recorded and RECORDED_SOURCE.search(paragraph)))
            if not quoted and pct not in allowed:
                bad.setdefault(pct, " ".join(paragraph.split())[:200])
    return bad


FILES = (list_notebooks(REPO / "notebooks") + sorted((REPO / "teacher").glob("*.md")) + [REPO / "README.md"])


@pytest.fixture(scope="module")
def figures():
    return paper_percentages(), recorded_percentages()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_percentage_in_prose_is_a_paper_or_recorded_figure(path, figures):
    name = path.relative_to(REPO).as_posix()
    bad = offenders(path, *figures)
    new = {p: where for p, where in bad.items() if p not in PENDING.get(name, set())}
    assert not new, (f"{name} states percentages that are neither a paper's figure (named in the paragraph) nor "
                     f"a recorded benchmark figure: print them from code instead, or quote benchmarks/results/"
                     f"classroom.json: {new}")
    gone = PENDING.get(name, set()) - set(bad)
    assert not gone, f"{name} no longer states {sorted(gone)}: delete them from PENDING in {__file__}"


def test_pending_names_only_files_that_exist():
    assert all((REPO / name).is_file() for name in PENDING)


@pytest.mark.parametrize("text, flagged", [
    ("In our full run the Gabor model reached 97% on the test split.", {"97%"}),  # a paper's number by chance
    ("Cassetta's Table 4 reports 91.4% for APAC (std).", set()),                 # quoted, with its source
    ("The paper's APAC reaches 91.4 % on the test set.", set()),                 # a space before % is the same
    ("Our model reached 91.4%.", {"91.4%"}),                                      # a paper figure, unattributed
    ("The recorded classroom run reached 95.1% (benchmarks/results/classroom.json).", set()),
    ("It reached 95.1%.", {"95.1%"}),                                             # recorded, but not said so
    ("Print it with `f\"{acc:.1%}\"`.", set()),                                   # a format spec, not a number
    ("segments of 101 frames with 50% overlap, as in the paper", set()),          # a paper figure (papers.py)
])
def test_what_counts_as_quoted(tmp_path, text, flagged):
    path = tmp_path / "note.md"
    path.write_text(text + "\n")
    assert set(offenders(path, paper_percentages(), {"95.1%", "95%"}, name="teacher/note.md")) == flagged


def test_recorded_figures_are_row_values_and_targets(tmp_path):
    (tmp_path / "classroom.json").write_text(json.dumps({"notebooks": {"02_x": {"rows": [
        {"result": "acc", "value": 0.951, "target": ">= 0.93", "met": True},
        {"result": "error", "value": 0.25, "target": "<= 0.5", "met": True, "percent": False},
    ], "seconds": 0.5}}}))
    assert recorded_percentages(tmp_path) == {"95.1%", "95%", "93.0%", "93%"}
