"""Notebook 01's exercises: the reference solutions pass their checks, wrong answers do not."""

import math

import pytest
import torch

from apac_lab.exercises import check, checkers


def test_registered():
    assert {"01.n_frames", "01.dct_matrix"} <= set(checkers())


def test_solutions_pass(solutions):
    assert check("01.n_frames", solutions.solve_n_frames(), quiet=True)
    assert check("01.dct_matrix", solutions.solve_dct_matrix(), quiet=True)


@pytest.mark.parametrize("wrong, hint", [(97, "WITHOUT centring"), (100, "fence-post"), (3, "centred on sample"),
                                         ("101", "whole number"), (True, "whole number")])
def test_wrong_frame_counts_fail_with_a_hint(wrong, hint, capsys):
    assert not check("01.n_frames", wrong)
    assert hint in capsys.readouterr().out


def _cosines(n_mfcc, n_mels):
    return torch.cos(math.pi * torch.arange(n_mfcc)[:, None] * (torch.arange(n_mels)[None] + 0.5) / n_mels)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda k, m: _cosines(k, m), "scale the rows"),
        (lambda k, m: _cosines(k, m).T, "transposed"),
        (lambda k, m: _cosines(k, m) * math.sqrt(2 / m), "row 0"),
        (lambda k, m: torch.cos(math.pi * torch.arange(k)[:, None] * torch.arange(m)[None] / m), "half-sample"),
        (lambda k, m: None, "returns None"),
        (torch.eye(3), "the function itself"),
    ],
)
def test_wrong_dct_matrices_fail_with_a_hint(wrong, hint, capsys):
    assert not check("01.dct_matrix", wrong)
    assert hint in capsys.readouterr().out


def test_blank_answer_is_not_answered_yet(capsys):
    assert not check("01.dct_matrix", None)
    assert "not answered" in capsys.readouterr().out
