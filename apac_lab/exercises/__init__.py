"""Exercise checks for the notebooks.

Each notebook's exercises register a checker here under an id such as ``"01.dct"``.
In a notebook, ``check("01.dct", answer)`` prints a tick or a hint and returns a bool;
it never raises on a wrong answer, so the notebooks run top to bottom with the students'
blanks. Reference solutions live apart, in ``teacher/solutions/``, and the tests run them
through the same checks.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable

__all__ = ["register", "check", "checkers"]

_CHECKERS: dict[str, Callable[[Any], tuple[bool, str]]] = {}


def register(exercise_id: str):
    """Decorator: register ``fn(answer) -> (ok, message)`` under ``exercise_id``."""

    def deco(fn: Callable[[Any], tuple[bool, str]]):
        if exercise_id in _CHECKERS:
            raise ValueError(f"exercise {exercise_id!r} is registered twice")
        _CHECKERS[exercise_id] = fn
        return fn

    return deco


def checkers() -> dict[str, Callable[[Any], tuple[bool, str]]]:
    """All registered checkers, loading every ``apac_lab.exercises.nb*`` module first."""
    for mod in pkgutil.iter_modules(__path__):
        if mod.name.startswith("nb"):
            importlib.import_module(f"{__name__}.{mod.name}")
    return dict(_CHECKERS)


def check(exercise_id: str, answer: Any, *, quiet: bool = False) -> bool:
    """Check ``answer`` for ``exercise_id``; print a tick or a hint; return whether it passed.

    ``None`` (the blank in the students' notebooks) is reported as not answered yet.

    >>> @register("00.demo")
    ... def _demo(answer):
    ...     return answer == 42, "the answer to everything is a number between 41 and 43"
    >>> check("00.demo", 42)
    ✓ 00.demo: correct
    True
    >>> check("00.demo", None)
    … 00.demo: not answered yet (replace the None)
    False
    """
    table = checkers()
    if exercise_id not in table:
        raise KeyError(f"unknown exercise {exercise_id!r}; known: {sorted(table)}")
    if answer is None:
        ok, msg = False, "not answered yet (replace the None)"
    else:
        try:
            ok, msg = table[exercise_id](answer)
        except Exception as exc:  # a student's answer of the wrong type should teach, not crash
            ok, msg = False, f"could not check this answer ({type(exc).__name__}: {exc})"
    if not quiet:
        print(f"✓ {exercise_id}: correct" if ok else f"… {exercise_id}: {msg}")
    return bool(ok)
