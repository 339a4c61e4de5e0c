"""Runtime helpers shared by every notebook: the budget, offline mode, seeds, device choice.

**The budget** says how much a notebook (or a benchmark, or the CLI's recipes) trains, on
ONE code path: only sizes, epochs and datasets change.

=============  ==========================================================================
``quick``      CI's smoke test: seconds to a minute per notebook on 2 CPU cores.
``classroom``  the default: real results on FSDD in minutes on a 2-core laptop or free Colab.
``full``       the papers' scale (Speech Commands v2, ESC-50): a GPU and hours; opt-in.
=============  ==========================================================================

It is chosen by, first to last: :func:`set_budget` (or a recipe's ``budget=`` argument),
``APAC_LAB_BUDGET=quick|classroom|full``, ``APAC_LAB_QUICK=1`` (the older switch, read as
``quick``), else ``classroom`` -- on a GPU too, since a full run can outlast a free Colab
session. ``APAC_LAB_OFFLINE=1`` forbids downloads (data and weights). Environment
variables are read here and only here (:func:`env_flag`); this module imports nothing of
the package, so any layer may use it.
"""

from __future__ import annotations

import os
import random
import warnings
from typing import Any, Callable

import numpy as np
import torch

__all__ = ["results_dir", "BUDGETS", "budget_banner", "by_budget", "current_budget", "budget_reason", "set_budget", "env_flag",
           "is_quick", "is_offline", "quick_or_full", "seed_everything", "seeds_used", "get_device", "renamed"]

_TRUE = {"1", "true", "yes", "on"}


def env_flag(name: str) -> bool:
    """True when the environment variable ``name`` is 1, true, yes or on (any case); unset is False.

    >>> import os
    >>> os.environ["APAC_LAB_EXAMPLE"] = " Yes "; env_flag("APAC_LAB_EXAMPLE")
    True
    >>> env_flag("APAC_LAB_UNSET_EXAMPLE")
    False
    """
    return os.environ.get(name, "0").strip().lower() in _TRUE


def is_offline() -> bool:
    """True when ``APAC_LAB_OFFLINE`` forbids downloads (of data and of pretrained weights).

    >>> import os
    >>> os.environ["APAC_LAB_OFFLINE"] = "1"; is_offline()
    True
    """
    return env_flag("APAC_LAB_OFFLINE")


BUDGETS: tuple[str, ...] = ("quick", "classroom", "full")
_BUDGET_HELP = {
    "quick": "CI's smoke test: the same code on a few clips, numbers near chance",
    "classroom": "real results on FSDD in minutes on a 2-core CPU",
    "full": "the paper's scale: its dataset, a GPU, hours",
}
_chosen: list[str] = []  # set_budget()'s choice for this process


def _check_budget(budget: str, source: str) -> str:
    name = str(budget).strip().lower()
    if name not in BUDGETS:
        raise ValueError(f"{source} must be one of {', '.join(BUDGETS)}, got {budget!r}")
    return name


def set_budget(budget: str | None) -> str | None:
    """Choose the budget for this Python process (a notebook: then re-run it from the top).

    ``None`` forgets the choice, so the environment decides again.

    >>> _ = set_budget("full"); current_budget()
    'full'
    >>> set_budget(None)
    """
    _chosen.clear()
    if budget is None:
        return None
    _chosen.append(_check_budget(budget, "set_budget(budget)"))
    return _chosen[0]


def current_budget(budget: str | None = None) -> str:
    """The budget in force: ``budget`` if given, else :func:`set_budget`'s choice, else
    ``APAC_LAB_BUDGET``, else ``quick`` when ``APAC_LAB_QUICK=1``, else ``classroom``.

    >>> current_budget("quick")
    'quick'
    >>> current_budget("huge")
    Traceback (most recent call last):
    ...
    ValueError: budget must be one of quick, classroom, full, got 'huge'
    """
    return budget_reason(budget)[0]


def budget_reason(budget: str | None = None) -> tuple[str, str]:
    """``(budget, why)``: the budget in force and what chose it, in words.

    >>> import os
    >>> saved = {k: os.environ.pop(k, None) for k in ("APAC_LAB_BUDGET", "APAC_LAB_QUICK")}
    >>> os.environ["APAC_LAB_QUICK"] = "1"; budget_reason()
    ('quick', 'APAC_LAB_QUICK=1 is set')
    >>> os.environ["APAC_LAB_BUDGET"] = "full"; budget_reason()
    ('full', 'APAC_LAB_BUDGET=full is set')
    >>> del os.environ["APAC_LAB_BUDGET"], os.environ["APAC_LAB_QUICK"]; budget_reason()
    ('classroom', 'the default: neither APAC_LAB_BUDGET nor APAC_LAB_QUICK is set')
    >>> os.environ.update({k: v for k, v in saved.items() if v is not None})
    """
    if budget is not None:
        return _check_budget(budget, "budget"), f"budget={budget!r} was passed"
    if _chosen:
        return _chosen[0], f"apac_lab.set_budget({_chosen[0]!r}) was called"
    env = os.environ.get("APAC_LAB_BUDGET", "").strip()
    if env:
        return _check_budget(env, "APAC_LAB_BUDGET"), f"APAC_LAB_BUDGET={env} is set"
    if env_flag("APAC_LAB_QUICK"):
        return "quick", "APAC_LAB_QUICK=1 is set"
    return "classroom", "the default: neither APAC_LAB_BUDGET nor APAC_LAB_QUICK is set"


def by_budget(*, quick: Any, classroom: Any, full: Any, budget: str | None = None) -> Any:
    """The value for the budget in force (:func:`current_budget`).

    >>> by_budget(quick=2, classroom=20, full=80, budget="classroom")
    20
    """
    return {"quick": quick, "classroom": classroom, "full": full}[current_budget(budget)]


def budget_banner(notebook: str, *, expect: dict[str, str] | None = None, budget: str | None = None) -> str:
    """The lines a notebook prints first: which budget it runs, why, and how to change it.

    Args:
        notebook (str): the notebook's name, e.g. ``"05_apac_training"``.
        expect (dict[str, str] | None, default None): budget -> what it runs and how long
            (from a recorded benchmark run, never a guess), e.g. ``{"classroom": "5 modes on
            FSDD, 10 min on 2 CPU cores"}``; budgets missing from it get a generic line.
        budget (str | None, default None): as :func:`current_budget`.

    >>> print(budget_banner("demo", budget="quick").splitlines()[0])
    demo: budget 'quick' (budget='quick' was passed)
    """
    name, why = budget_reason(budget)
    expect = expect or {}
    lines = [f"{notebook}: budget {name!r} ({why})"]
    for b in BUDGETS:
        mark = "->" if b == name else "  "
        lines.append(f"  {mark} {b:<9} {expect.get(b, _BUDGET_HELP[b])}")
    lines.append("  change it: apac_lab.set_budget('quick' | 'classroom' | 'full') here and re-run from the top, "
                 "or set APAC_LAB_BUDGET before starting Jupyter")
    return "\n".join(lines)


def results_dir() -> str | None:
    """The folder named by ``APAC_LAB_RESULTS``, where notebooks leave their results for
    ``benchmarks/classroom.py`` (:func:`apac_lab.recipes.record_results`); None when unset.

    >>> import os
    >>> os.environ.pop("APAC_LAB_RESULTS", None) and None; results_dir() is None
    True
    """
    value = os.environ.get("APAC_LAB_RESULTS", "").strip()
    return value or None


def is_quick(budget: str | None = None) -> bool:
    """True when the budget in force is ``quick`` (:func:`current_budget`).

    >>> is_quick("quick"), is_quick("classroom")
    (True, False)
    """
    return current_budget(budget) == "quick"


def quick_or_full(quick, full):
    """The previous release's switch: ``quick`` in the quick budget, ``full`` in the others.

    Deprecated: use :func:`by_budget`, which also has the classroom budget.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     quick_or_full(2, 30) == (2 if is_quick() else 30)
    True
    """
    warnings.warn("apac_lab.quick_or_full is replaced by apac_lab.by_budget(quick=..., classroom=..., full=...)",
                  DeprecationWarning, stacklevel=2)
    return quick if is_quick() else full


_seeds: list[int] = []  # every seed given to seed_everything() in this process, in order, once each


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) for a reproducible run.

    >>> seed_everything(3); a = torch.rand(1); seed_everything(3)
    >>> bool(torch.equal(a, torch.rand(1)))
    True
    """
    if seed not in _seeds:
        _seeds.append(int(seed))
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def seeds_used() -> list[int]:
    """The seeds :func:`seed_everything` was given in this process, first use first (what a
    recorded result names as its seeds, :func:`apac_lab.recipes.record_results`).

    >>> seed_everything(3); 3 in seeds_used()
    True
    """
    return list(_seeds)


def get_device(prefer: str | None = None) -> torch.device:
    """Choose a device: ``prefer`` if given, else CUDA, then Apple MPS, then the CPU.

    >>> get_device("cpu")
    device(type='cpu')
    """
    if prefer is not None:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def renamed(module: str, old_names: dict[str, tuple[str, Any]]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` that keeps names of an earlier release working, with a warning.

    Each old name maps to ``(new name, object)``; reading the old name (``module.old``, or
    ``from module import old``) returns the object and emits a ``DeprecationWarning``
    naming the new one (a new name with a dot is given in full, else it is in ``module``).
    Only names that a notebook of the previous release used are kept.

    >>> __getattr__ = renamed("example", {"old": ("new", 42)})
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     __getattr__("old"), str(w[0].message)
    (42, 'example.old is renamed example.new; the old name will be removed')
    """

    def __getattr__(name: str) -> Any:
        if name in old_names:
            new, obj = old_names[name]
            where = new if "." in new.split("(")[0] else f"{module}.{new}"
            warnings.warn(f"{module}.{name} is renamed {where}; the old name will be removed",
                          DeprecationWarning, stacklevel=2)
            return obj
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
