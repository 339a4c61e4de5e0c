"""Runtime helpers shared by every notebook: quick mode, offline mode, seeds, device choice.

Quick mode is one environment variable, ``APAC_LAB_QUICK=1``. It shrinks data and
epochs on the same code path as the full run, so CI executes exactly the code a
student runs, only less of it. ``APAC_LAB_OFFLINE=1`` forbids downloads (data and
weights). Both are read here and only here (:func:`env_flag`); this module imports
nothing of the package, so any layer may use it.
"""

from __future__ import annotations

import os
import random
import warnings
from typing import Any, Callable

import numpy as np
import torch

__all__ = ["env_flag", "is_quick", "is_offline", "quick_or_full", "seed_everything", "get_device", "renamed"]

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


def is_quick() -> bool:
    """Return True when ``APAC_LAB_QUICK`` asks for quick mode.

    >>> import os
    >>> os.environ["APAC_LAB_QUICK"] = "1"; is_quick()
    True
    >>> os.environ["APAC_LAB_QUICK"] = "0"; is_quick()
    False
    """
    return env_flag("APAC_LAB_QUICK")


def quick_or_full(quick, full):
    """Pick ``quick`` in quick mode and ``full`` otherwise.

    >>> import os; os.environ["APAC_LAB_QUICK"] = "1"
    >>> quick_or_full(2, 30)
    2
    """
    return quick if is_quick() else full


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) for a reproducible run.

    >>> seed_everything(3); a = torch.rand(1); seed_everything(3)
    >>> bool(torch.equal(a, torch.rand(1)))
    True
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


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
