"""Teacher notes and solutions: one note per notebook, every exercise solved, every solution checked.

Conventions (for every notebook ``notebooks/NN_<name>.ipynb``):

* ``teacher/NN_<name>.md`` has four sections (headings): *Learning goals*, *A 45-minute lesson*,
  *Common pitfalls*, *Solutions to the exercises*; the last names every exercise id of the notebook;
  ``teacher/README.md`` links every note.
* Every exercise id a notebook checks (``check("NN.id", answer)``) has a checker registered in
  ``apac_lab/exercises/nbNN.py`` and a solution in ``teacher/solutions/NN_<name>.py``.
* A solutions module maps ids to solvers in a dict ``SOLUTIONS = {"NN.id": solve_id, ...}``; where it has
  none, each ``solve_<id>`` function solves exercise ``NN.<id>`` of its notebook.
  Each solver takes no argument and returns the answer; it must pass ``check(id, answer)``.
* The students' notebooks never import the solutions.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Callable

import pytest

from apac_lab.exercises import check, checkers
from conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TEACHER = REPO / "teacher"
SOLUTION_FILES = sorted((TEACHER / "solutions").glob("[0-9][0-9]_*.py"))
SECTIONS = {
    "learning goals": r"learning goals",
    "a 45-minute lesson": r"45[- ]minute",
    "common pitfalls": r"pitfalls",
    "solutions to the exercises": r"solutions?",
}
CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d\d\.[A-Za-z0-9_.\-]+)["']""")


def _prefix(path: Path) -> str:
    return path.name[:2]


def _code(nb_path: Path) -> str:
    cells = json.loads(nb_path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def exercise_ids(nb_path: Path) -> list[str]:
    """Exercise ids checked in a notebook, in order of appearance."""
    return list(dict.fromkeys(CHECK_CALL.findall(_code(nb_path))))


def note_for(nb_path: Path) -> Path | None:
    exact = TEACHER / f"{nb_path.stem}.md"
    if exact.exists():
        return exact
    found = sorted(TEACHER.glob(f"{_prefix(nb_path)}_*.md"))
    return found[0] if found else None


def _section(markdown: str, key: str) -> str | None:
    """The text of the section whose heading matches ``SECTIONS[key]``, sub-sections included."""
    lines, out, level = markdown.splitlines(), None, 0
    for line in lines:
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if m and out is not None and len(m[1]) <= level:
            break
        if m and out is None and re.search(SECTIONS[key], m[2], re.I):
            out, level = [], len(m[1])
            continue
        if out is not None:
            out.append(line)
    return None if out is None else "\n".join(out)


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"teacher_solutions_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _slug(exercise_id: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", exercise_id.split(".", 1)[1].lower()).strip("_")


def solutions() -> dict[str, Callable[[], object]]:
    """Every solver in teacher/solutions, by exercise id."""
    table: dict[str, Callable[[], object]] = {}
    registered = checkers()
    for path in SOLUTION_FILES:
        module = _load(path)
        found = getattr(module, "SOLUTIONS", None)
        if found is None:
            by_slug = {_slug(i): i for i in registered if i.startswith(_prefix(path) + ".")}
            found = {by_slug.get(name[len("solve_"):], f"{_prefix(path)}.?{name}"): fn
                     for name, fn in vars(module).items() if name.startswith("solve_") and callable(fn)}
        for exercise_id, fn in found.items():
            assert exercise_id not in table, f"{exercise_id} is solved twice ({path.name})"
            table[exercise_id] = fn
    return table


ALL_IDS = sorted({i for nb in NOTEBOOKS for i in exercise_ids(nb)})


# ----------------------------------------------------------------------------- notes

def test_teacher_readme_links_every_note():
    readme = (TEACHER / "README.md").read_text()
    for nb in NOTEBOOKS:
        note = note_for(nb)
        assert note is not None and note.name in readme, f"teacher/README.md does not link the note of {nb.name}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_has_a_note_with_the_four_sections(nb):
    note = note_for(nb)
    assert note is not None, f"no teacher note for {nb.name}: write teacher/{nb.stem}.md"
    text = note.read_text()
    for key in SECTIONS:
        body = _section(text, key)
        assert body is not None, f"{note.name} has no section '{key}'"
        assert len(body.split()) >= 15, f"{note.name}: section '{key}' is nearly empty"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_the_note_solves_every_exercise_of_its_notebook(nb):
    note = note_for(nb)
    if note is None:
        pytest.fail(f"no teacher note for {nb.name}")
    body = _section(note.read_text(), "solutions to the exercises") or ""
    missing = [i for i in exercise_ids(nb) if i not in body]
    assert not missing, f"{note.name}: the solutions section does not cover {missing}"


# ----------------------------------------------------------------------------- exercises and solutions

@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_exercise_ids_belong_to_their_notebook_and_are_registered(nb):
    registered = checkers()
    for exercise_id in exercise_ids(nb):
        assert exercise_id.startswith(_prefix(nb) + "."), f"{nb.name} checks {exercise_id}: ids start with {_prefix(nb)}."
        assert exercise_id in registered, f"{nb.name} checks {exercise_id}, which no apac_lab/exercises module registers"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_leave_the_answers_blank_and_the_solutions_apart(nb):
    code = _code(nb)
    assert not re.search(r"teacher[/.]solutions|\bsolve_\w+\(", code), f"{nb.name} reaches into the teacher's solutions"
    if exercise_ids(nb):
        assert re.search(r"^answer\s*=\s*None", code, re.M), f"{nb.name}: the students' blank is `answer = None`"


def test_every_solution_solves_a_registered_exercise():
    registered = checkers()
    stray = sorted(i for i in solutions() if i not in registered)
    assert not stray, f"solutions for unknown exercises (rename solve_<id> or fix SOLUTIONS): {stray}"


@pytest.mark.parametrize("exercise_id", ALL_IDS)
def test_each_exercise_has_a_solution_that_passes_its_check(exercise_id):
    table = solutions()
    assert exercise_id in table, (
        f"no solution for {exercise_id} in teacher/solutions/{exercise_id[:2]}_*.py "
        f"(add solve_{_slug(exercise_id)} and SOLUTIONS = {{'{exercise_id}': solve_{_slug(exercise_id)}}})")
    assert check(exercise_id, table[exercise_id](), quiet=True), f"the teacher's solution of {exercise_id} fails its check"


# ----------------------------------------------------------------------------- the papers' numbers

def test_note_05_holds_the_papers_tables_2_3_4_as_apac_lab_papers_has_them():
    """Cassetta (2023) Tables 2-4 in the teacher note: the text apac_lab.recipes.apac_modes writes
    from apac_lab.papers (whose quotes tests/test_papers.py checks against the paper)."""
    from apac_lab.recipes.apac_modes import paper_tables_markdown

    note = (TEACHER / "05_apac_training.md").read_text()
    assert paper_tables_markdown() in note
    for row in ("| APAC (std) | `std` | printed | 91.4% |", "| APAC (pretrain) | `mel+stft+fsdd` | printed | 90% |",
                "| MobileNetV2 | `std` | printed | 84.7% |", "| MobileNetV2 | yes | full budget | 95% | 87% | — |"):
        assert row in note


def test_no_see_paper_is_left_in_the_kit():
    """Issue 10: where the paper's numbers belong, the kit shows them; it never says "see paper"."""
    files = [REPO / "README.md", *sorted((REPO / "notebooks").glob("*.ipynb")), *sorted(TEACHER.rglob("*.md")),
             *sorted(TEACHER.rglob("*.py")), *sorted((REPO / "apac_lab").rglob("*.py"))]
    found = [str(p.relative_to(REPO)) for p in files if re.search(r"see (the )?paper", p.read_text(), re.I)]
    assert not found, f"'see paper' in {found}: show the paper's figure (apac_lab.papers) instead"
