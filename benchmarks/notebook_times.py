"""Print each notebook's execution time in quick mode (the CI path).

Usage: ``APAC_LAB_QUICK=1 python benchmarks/notebook_times.py [notebooks/01_*.ipynb ...]``
(``make bench`` sets the environment as CI does). The goal is <= 90 s per notebook.
Notebooks are executed in memory; nothing is written back.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from apac_lab.notebook_tools import list_notebooks  # noqa: E402

GOAL_S = 90.0


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                            skip_cells_with_tag="skip-execution")
    t0 = time.perf_counter()
    client.execute()
    return time.perf_counter() - t0


def main(argv: list[str]) -> int:
    os.environ.setdefault("APAC_LAB_QUICK", "1")
    paths = [Path(a) for a in argv] or list_notebooks(ROOT / "notebooks")
    print(f"quick mode={os.environ['APAC_LAB_QUICK']}  data={os.environ.get('APAC_LAB_DATA', '(synthetic fallback)')}")
    print(f"{'notebook':45s} {'seconds':>8s}  goal <= {GOAL_S:.0f} s")
    worst = 0.0
    for p in paths:
        s = run(p)
        worst = max(worst, s)
        print(f"{p.name:45s} {s:8.1f}  {'ok' if s <= GOAL_S else 'OVER'}", flush=True)
    return 0 if worst <= GOAL_S else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
