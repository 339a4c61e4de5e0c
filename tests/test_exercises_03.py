"""Notebook 03's exercises: the reference solutions pass, typical wrong answers do not."""

import pytest

from apac_lab.exercises import check
from conftest import teacher_solutions

sol = teacher_solutions("03")


@pytest.mark.parametrize("ex, solve", [("03.unwrap", sol.solve_unwrap), ("03.steps_for_4s", sol.solve_steps_for_4s),
                                       ("03.mean_view", sol.solve_mean_view)])
def test_solutions_pass(ex, solve):
    assert check(ex, solve(), quiet=True)


@pytest.mark.parametrize("ex, wrong", [
    ("03.unwrap", lambda storage, write, count: list(storage[:count])),  # forgets the wrap-around
    ("03.unwrap", "not a function"),
    ("03.steps_for_4s", 8),  # 2.55 s: too short
    ("03.steps_for_4s", 10),  # covers 4 s but is not the fewest
    ("03.steps_for_4s", 8.5),
    ("03.mean_view", [10.0, 8.5, 5.5]),  # newest first
    ("03.mean_view", [7.0, 9.0, 10.0]),  # lookup, not mean
    ("03.mean_view", [1, 2]),
])
def test_wrong_answers_fail(ex, wrong):
    assert not check(ex, wrong, quiet=True)


def test_blank_prints_a_hint(capsys):
    assert not check("03.unwrap", None)
    assert "not answered" in capsys.readouterr().out
