"""Notebook 05's exercises: every reference solution passes its check, wrong answers do not."""

import pytest
import torch

from apac_lab.exercises import check, checkers
from conftest import teacher_solutions


def _solutions():
    return teacher_solutions("05").SOLUTIONS


def test_every_exercise_of_the_notebook_has_a_solution():
    assert set(_solutions()) == {k for k in checkers() if k.startswith("05.")}


@pytest.mark.parametrize("exercise", sorted(_solutions()))
def test_solution_passes(exercise):
    assert check(exercise, _solutions()[exercise](), quiet=True)


def test_blank_and_wrong_answers_fail_with_a_hint(capsys):
    assert not check("05.separable", None)
    assert not check("05.separable", 48 * 96 * 9)
    assert "standard" in capsys.readouterr().out
    assert not check("05.separable", "many", quiet=True)
    roll = lambda x, s: torch.stack([torch.roll(r, int(k)) for r, k in zip(x, s)])  # noqa: E731
    assert not check("05.time_shift", roll)
    assert "wraps around" in capsys.readouterr().out
    assert not check("05.time_shift", lambda x, s: x)
    assert not check("05.time_shift", 3, quiet=True)
    assert not check("05.time_shift", lambda x, s: 1 / 0, quiet=True)
