"""Notebook 02's exercises: the reference solutions pass their checks, wrong answers do not."""

import ast
import json
import math
import re

import pytest
import torch

from apac_lab.data import FSDD_SAMPLE_RATE
from apac_lab.exercises import check, checkers
from apac_lab.exercises import nb02
from apac_lab.recipes import strf_models
from conftest import REPO


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


# --- the checkers' constants are the notebook's ----------------------------------------------------

NOTEBOOK = REPO / "notebooks" / "02_gabor_filter_learning.ipynb"


def _cells(kind: str) -> list[str]:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == kind]


def _code_trees() -> list[ast.Module]:
    python = [re.sub(r"^(\s*)[%!].*$", r"\1pass", src, flags=re.M) for src in _cells("code")]  # IPython magics
    return [ast.parse(src) for src in python]


def _assignments(name: str) -> list[ast.expr]:
    """The expressions the notebook's code assigns to ``name`` (``a, b = x, y`` included)."""
    found = []
    for tree in _code_trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    found.append(node.value)
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    found += [v for t, v in zip(target.elts, node.value.elts) if isinstance(t, ast.Name) and t.id == name]
    return found


def _literal(name: str):
    (value,) = _assignments(name)
    return ast.literal_eval(value)


def _prose() -> str:
    return re.sub(r"\s+", " ", "\n".join(_cells("markdown")))


def test_layer_constants_are_the_notebooks():
    assert _literal("KERNEL") == nb02.KERNEL == (9, 111)
    assert _literal("N_FILTERS") == nb02.N_FILTERS == 16
    # Exercise 3's prose: "A free convolution kernel of 9 × 111 taps learns 999 numbers; ... 1998. The Gabor
    # filter learns 4." and "the layer of 16 filter pairs".
    m = re.search(r"(\d+) × (\d+) taps learns (\d+) numbers; .*?, (\d+)\. The Gabor filter learns (\d+)", _prose())
    assert m, "exercise 3's prose in notebook 02 changed: update apac_lab/exercises/nb02.py and this test"
    size_f, size_t, taps, pair, gabor = map(int, m.groups())
    assert (size_f, size_t) == nb02.KERNEL and taps == size_f * size_t and pair == 2 * taps and gabor == 4
    assert f"layer of {nb02.N_FILTERS} filter pairs" in _prose()


def test_modulation_constants_are_the_notebooks():
    (rate,) = _assignments("FRAME_RATE")
    assert ast.unparse(rate) == "SR / HOP"  # the notebook's frame rate, from FSDD's 8 kHz and its hop
    assert FSDD_SAMPLE_RATE / _literal("HOP") == nb02.FRAME_RATE == 100.0
    m = re.search(r"At (\d+) frames per second, where in the plane does a filter with \$F = ([\d.]+)\$ cycles per "
                  r"sample and \$\\gamma = \\pi/(\d+)\$ sit\?", _prose())
    assert m, "exercise 2's question in notebook 02 changed: update apac_lab/exercises/nb02.py and this test"
    assert (float(m[1]), float(m[2]), math.pi / int(m[3])) == (nb02.FRAME_RATE, nb02.FREQ, nb02.GAMMA)


def test_param_count_answer_is_what_the_notebooks_models_have():
    calls = [node for tree in _code_trees() for node in ast.walk(tree)
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "strf_models"]
    assert len(calls) == 1
    kwargs = {k.arg: ast.unparse(k.value) for k in calls[0].keywords}
    assert kwargs == {"n_filters": "N_FILTERS", "kernel_size": "KERNEL"}  # no phase, defaults
    models = strf_models(10, n_filters=nb02.N_FILTERS, kernel_size=nb02.KERNEL)
    free, gabor = models["free conv"].strf_parameters(), models["Gabor STRF"].strf_parameters()
    assert (free, gabor) == (31968, 64)
    assert check("02.param_count", (free, gabor), quiet=True)
