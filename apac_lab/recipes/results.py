"""A notebook's headline results, kept in one shape for the notebook and for
``benchmarks/classroom.py``.

Each notebook ends its main experiment with :func:`record_results`: a list of rows, each a
result with its value, the budget's target and whether it was met. The function checks the
rows, prints them as a small table, and, when ``APAC_LAB_RESULTS`` names a folder (as the
benchmark sets it), also writes ``<folder>/<notebook>.json``, which the benchmark collects
into one table. Nothing is written otherwise, so a student's run leaves no files behind.
A notebook with two experiments may call it twice with the same name: within one process
the second call adds its rows to the file (a row of the same ``result`` is replaced).

Notebooks: every one that trains (02-05).
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path

import torch

from apac_lab.utils import current_budget, results_dir, seeds_used

__all__ = ["record_results", "format_result_rows", "format_value", "shows_percent"]

_KEYS = ("result", "value", "target", "met")


def _check_rows(notebook: str, rows) -> list[dict]:
    if not isinstance(notebook, str) or not notebook.strip():
        raise ValueError(f"record_results: notebook must be its name, e.g. '05_apac_training', got {notebook!r}")
    if not isinstance(rows, (list, tuple)) or not rows:
        raise ValueError(f"record_results({notebook!r}): rows must be a non-empty list of dicts with keys {_KEYS}")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or set(_KEYS) - set(row):
            raise ValueError(f"record_results({notebook!r}): row {i} must be a dict with keys {_KEYS}, got {row!r}")
        value = row["value"]
        if isinstance(value, torch.Tensor):
            value = value.item()
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"record_results({notebook!r}): row {i} ({row['result']!r}) value must be a finite "
                             f"number, got {row['value']!r}")
        if not isinstance(row.get("percent", True), bool):
            raise ValueError(f"record_results({notebook!r}): row {i} ({row['result']!r}) percent must be True or "
                             f"False, got {row['percent']!r}")
        if not isinstance(row["met"], bool):
            raise ValueError(f"record_results({notebook!r}): row {i} ({row['result']!r}) met must be True or False, "
                             f"got {row['met']!r}")
        out.append({**row, "value": float(value), "result": str(row["result"]), "target": str(row["target"])})
    return out


def shows_percent(row: dict) -> bool:
    """Whether a row's value is shown as a percentage: a value in [0, 1], unless the row says
    ``"percent": False`` (an error, a ratio, an R²).

    >>> shows_percent({"value": 0.95}), shows_percent({"value": 0.95, "percent": False}), shows_percent({"value": 3})
    (True, False, False)
    """
    return row.get("percent", True) is not False and 0 <= row["value"] <= 1


def format_value(row: dict) -> str:
    """A row's value as the tables print it: ``"95.1%"`` (:func:`shows_percent`), else 4
    significant digits.

    >>> format_value({"value": 0.9512}), format_value({"value": 3.9e-07, "percent": False})
    ('95.1%', '3.9e-07')
    """
    return f"{100 * row['value']:.1f}%" if shows_percent(row) else f"{row['value']:.4g}"


def format_result_rows(rows: list[dict]) -> str:
    """The rows as a plain-text table (values as :func:`format_value` shows them).

    >>> print(format_result_rows([{"result": "test accuracy", "value": 0.95, "target": ">= 0.93", "met": True}]))
    result         value  target   met
    test accuracy  95.0%  >= 0.93  yes
    """
    table = [("result", "value", "target", "met")]
    table += [(r["result"], format_value(r), r["target"], "yes" if r["met"] else "NO") for r in rows]
    widths = [max(len(row[c]) for row in table) for c in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)


def _earlier_rows(path: Path) -> list[dict]:
    """The rows this process recorded in ``path`` before (none from another process's run)."""
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return list(saved.get("rows", [])) if isinstance(saved, dict) and saved.get("pid") == os.getpid() else []


def record_results(notebook: str, rows: list[dict], *, budget: str | None = None, seconds: float | None = None,
                   seed: int | None = None, quiet: bool = False) -> list[dict]:
    """Check, print and (under ``APAC_LAB_RESULTS``) save a notebook's headline results.

    Args:
        notebook (str): the notebook's name, e.g. ``"02_gabor_filter_learning"``.
        rows (list[dict]): each ``{"result": str, "value": number, "target": str, "met": bool}``,
            and optionally ``"percent": False`` for a value in [0, 1] that is not a share (an
            error, a ratio, an R²); keep the ``result`` strings stable, the benchmark's table
            uses them.
        budget (str | None, default None): the budget that ran (None: :func:`apac_lab.current_budget`).
        seconds (float | None, default None): how long the experiment took, if measured.
        seed (int | None, default None): the run's seed (the file also lists every seed
            given to :func:`apac_lab.seed_everything` in this process).
        quiet (bool, default False): do not print the table.

    Returns:
        list[dict]: the checked rows.

    >>> rows = record_results("demo", [{"result": "accuracy", "value": 0.5, "target": ">= 0.4", "met": True}],
    ...                       budget="quick", quiet=True)
    >>> rows[0]["value"]
    0.5
    """
    rows = _check_rows(notebook, rows)
    budget = current_budget(budget)
    if not quiet:
        print(f"{notebook} ({budget} budget):")
        print(format_result_rows(rows))
    folder = results_dir()
    if folder is not None:
        path = Path(folder) / f"{notebook}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        merged = {r["result"]: r for r in _earlier_rows(path)}
        merged.update((r["result"], r) for r in rows)  # a re-run row keeps its place
        record = {"notebook": notebook, "budget": budget, "rows": list(merged.values()),
                  "seconds": seconds, "seed": seed, "seeds_used": seeds_used(), "torch_threads": torch.get_num_threads(),
                  "machine": platform.machine(), "cpus": os.cpu_count(), "pid": os.getpid(),
                  "written": time.strftime("%Y-%m-%dT%H:%M:%S")}
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        tmp.write_text(json.dumps(record, indent=1) + "\n")
        os.replace(tmp, path)
    return rows
