"""Print each notebook's run time under a budget, the quick one (CI's) by default.

Usage::

    python benchmarks/notebook_times.py                            # quick budget, every notebook
    python benchmarks/notebook_times.py --budget classroom notebooks/01_*.ipynb

``make bench`` runs it with CI's environment. Each notebook runs top to bottom in a fresh
kernel with ``APAC_LAB_BUDGET`` set (:mod:`notebook_runner`, as ``benchmarks/classroom.py``);
nothing is written back. The goal is the budget's time per notebook on 2 CPU cores (quick: 60 s;
classroom: 5 min, notebook 05 12 min); the exit status is 1 when one is over or fails. For the
classroom results themselves, recorded in the repository, run ``benchmarks/classroom.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from notebook_runner import NotebookFailed, execute_notebook, format_seconds, time_limit_s  # noqa: E402

from apac_lab.notebook_tools import list_notebooks  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebooks", nargs="*", type=Path, help="notebooks to time (default: every one)")
    p.add_argument("--budget", choices=["quick", "classroom", "full"], default="quick")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per notebook before its kernel is killed")
    args = p.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if k != "APAC_LAB_QUICK"}
    env["APAC_LAB_BUDGET"] = args.budget
    paths = args.notebooks or list_notebooks(ROOT / "notebooks")
    print(f"budget {args.budget}  data={os.environ.get('APAC_LAB_DATA', '(the resolution rule: cache or download)')}")
    print(f"{'notebook':45s} {'time':>12s}  goal")
    ok = True
    for path in paths:
        limit = time_limit_s(path.stem, args.budget)
        goal = "none" if limit is None else f"<= {format_seconds(limit)}"
        try:
            seconds = execute_notebook(path, env=env, timeout=args.timeout)
        except NotebookFailed as exc:
            ok = False
            print(f"{path.name:45s} {'FAILED':>12s}  {exc}", flush=True)
            continue
        over = limit is not None and seconds > limit
        ok &= not over
        print(f"{path.name:45s} {format_seconds(seconds):>12s}  {goal}{' OVER' if over else ''}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
