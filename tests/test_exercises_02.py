"""Notebook 02's exercises: the reference solutions pass their checks, wrong answers do not."""

import importlib.util
import math

import pytest
import torch

from apac_lab.exercises import check, checkers
from conftest import REPO


@pytest.fixture(scope="module")
def solutions():
    path = REPO / "teacher" / "solutions" / "02_gabor_filter_learning.py"
    spec = importlib.util.spec_from_file_location("solutions_02", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_registered():
    assert {"02.param_count", "02.modulation", "02.gabor_kernel"} <= set(checkers())


def test_solutions_pass(solutions):
    assert check("02.param_count", solutions.solve_param_count(), quiet=True)
    assert check("02.modulation", solutions.solve_modulation(), quiet=True)
    assert check("02.gabor_kernel", solutions.solve_gabor_kernel(), quiet=True)


@pytest.mark.parametrize("wrong, hint", [((15984, 64), "PAIR"), ((1998, 64), "one filter"), ((31968, 80), "phase"),
                                         ((31968, 32), "sigma_t, sigma_f"), ("lots", "two numbers")])
def test_wrong_counts_fail_with_a_hint(wrong, hint, capsys):
    assert not check("02.param_count", wrong)
    assert hint in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [((8.66, 0.05), "swapped"), ((0.05, 0.0866), "FRAME"),
                                         ((5.0, 8.66), "spectral part"), ((1.0, 1.0), "project")])
def test_wrong_positions_fail_with_a_hint(wrong, hint, capsys):
    assert not check("02.modulation", wrong)
    assert hint in capsys.readouterr().out


def test_wrong_kernels_fail_with_a_hint(solutions, capsys):
    good = solutions.solve_gabor_kernel()
    cases = [
        (lambda *a: good(*a).real, "real part"),
        (lambda *a: good(*a).T, "transposed"),
        (lambda *a: good(*a) * (2 * math.pi * a[0] * a[1]), "divide"),
        (lambda *a: good(*a).conj(), "conjugated"),
        (lambda *a: None, "returns None"),
        (lambda *a: good(*a).abs().to(torch.complex128), "carrier"),
    ]
    for fn, hint in cases:
        assert not check("02.gabor_kernel", fn)
        assert hint in capsys.readouterr().out
    assert not check("02.gabor_kernel", 3)
    assert "function itself" in capsys.readouterr().out
