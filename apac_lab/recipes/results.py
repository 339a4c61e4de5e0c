"""A notebook's headline results, kept in one shape for the notebook and for
``benchmarks/classroom.py``.

Each notebook ends its main experiment with :func:`record_results`: a list of rows, each a
result with its value, the budget's target and whether it was met. The function checks the
rows, prints them as a small table, and, when ``APAC_LAB_RESULTS`` names a folder (as the
benchmark sets it), also writes ``<folder>/<notebook>.json``, which the benchmark collects
into one table. Nothing is written otherwise, so a student's run leaves no files behind.

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

from apac_lab.utils import current_budget, results_dir

__all__ = ["record_results", "format_result_rows"]

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
        if not isinstance(row["met"], bool):
            raise ValueError(f"record_results({notebook!r}): row {i} ({row['result']!r}) met must be True or False, "
                             f"got {row['met']!r}")
        out.append({**row, "value": float(value), "result": str(row["result"]), "target": str(row["target"])})
    return out


def format_result_rows(rows: list[dict]) -> str:
    """The rows as a plain-text table (values in [0, 1] as percentages).

    >>> print(format_result_rows([{"result": "test accuracy", "value": 0.95, "target": ">= 0.93", "met": True}]))
    result         value  target   met
    test accuracy  95.0%  >= 0.93  yes
    """
    def show(v: float) -> str:
        return f"{100 * v:.1f}%" if 0 <= v <= 1 else f"{v:.4g}"

    table = [("result", "value", "target", "met")]
    table += [(r["result"], show(r["value"]), r["target"], "yes" if r["met"] else "NO") for r in rows]
    widths = [max(len(row[c]) for row in table) for c in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)


def record_results(notebook: str, rows: list[dict], *, budget: str | None = None, seconds: float | None = None,
                   seed: int | None = None, quiet: bool = False) -> list[dict]:
    """Check, print and (under ``APAC_LAB_RESULTS``) save a notebook's headline results.

    Args:
        notebook (str): the notebook's name, e.g. ``"02_gabor_filter_learning"``.
        rows (list[dict]): each ``{"result": str, "value": number, "target": str, "met": bool}``;
            keep the ``result`` strings stable, the benchmark's table uses them.
        budget (str | None, default None): the budget that ran (None: :func:`apac_lab.current_budget`).
        seconds (float | None, default None): how long the experiment took, if measured.
        seed (int | None, default None): the run's seed.
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
        record = {"notebook": notebook, "budget": budget, "rows": rows, "seconds": seconds, "seed": seed,
                  "torch_threads": torch.get_num_threads(), "machine": platform.machine(),
                  "cpus": os.cpu_count(), "written": time.strftime("%Y-%m-%dT%H:%M:%S")}
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        tmp.write_text(json.dumps(record, indent=1) + "\n")
        os.replace(tmp, path)
    return rows
