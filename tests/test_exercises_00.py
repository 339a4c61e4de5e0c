"""Notebook 00's exercise: the teacher's solution passes its check, wrong answers get a hint."""

import pytest

from apac_lab.exercises import check
from conftest import teacher_solutions


def test_solution_passes():
    assert check("00.seconds", teacher_solutions("00").solve_seconds(), quiet=True)


@pytest.mark.parametrize("wrong", [8000 / 6000, 6000 * 8000, 750, 1.0, "abc"])
def test_wrong_answers_fail_with_a_hint(wrong, capsys):
    assert not check("00.seconds", wrong)
    out = capsys.readouterr().out
    assert "00.seconds" in out and "correct" not in out


def test_blank_is_not_answered_yet(capsys):
    assert not check("00.seconds", None)
    assert "not answered yet" in capsys.readouterr().out
