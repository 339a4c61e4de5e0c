"""Notebook 04's exercises: each reference solution passes its check and wrong answers fail."""

from __future__ import annotations

import torch

from apac_lab.exercises import check, checkers
from conftest import teacher_solutions

sol = teacher_solutions("04")


def test_every_exercise_has_a_solution():
    ids = {k for k in checkers() if k.startswith("04.")}
    assert ids == {"04.offset", "04.probability_vote", "04.freeze"}


def test_offset(capsys):
    assert sol.solve_offset() == 256
    assert check("04.offset", sol.solve_offset(), quiet=True)
    assert not check("04.offset", -256, quiet=False)
    assert "direction" in capsys.readouterr().out
    assert not check("04.offset", 512, quiet=True)
    assert not check("04.offset", None, quiet=True)


def test_probability_vote():
    assert check("04.probability_vote", sol.solve_probability_vote(), quiet=True)
    from apac_lab.models import vote_majority, vote_probability

    assert check("04.probability_vote", vote_probability, quiet=True)  # the package's own, returning (clips, labels)
    assert not check("04.probability_vote", vote_majority, quiet=True)
    assert not check("04.probability_vote", 3, quiet=True)


def test_freeze(capsys):
    assert check("04.freeze", sol.solve_freeze(), quiet=True)

    def weights_only(model):  # the classic mistake: BatchNorm statistics still move
        for p in model.frontend.parameters():
            p.requires_grad_(False)

    assert not check("04.freeze", weights_only, quiet=False)
    assert "BatchNorm" in capsys.readouterr().out

    def everything(model):
        for p in model.parameters():
            p.requires_grad_(False)

    assert not check("04.freeze", everything, quiet=True)
    assert not check("04.freeze", lambda model: None, quiet=True)  # nothing frozen
    assert not check("04.freeze", torch.zeros(1), quiet=True)
