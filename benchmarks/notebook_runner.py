"""Run one notebook top to bottom in a fresh Jupyter kernel, as a student's "Run all" does, and
time it; shared by ``benchmarks/classroom.py`` and ``benchmarks/notebook_times.py``.

The kernel is started by nbclient (the library nbmake uses) with the environment it is given,
in the notebook's folder; cells tagged ``skip-execution`` (the Colab set-up cell) are skipped;
nothing is written back into the notebook. A notebook that outruns its timeout has its kernel
killed, so the next one starts clean.

Also here: the time each budget allows a notebook (:func:`time_limit_s`), and the machine and
commit a recorded run names (:func:`machine_info`, :func:`git_state`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Seconds a notebook may take on 2 CPU cores (PHASE2 / issue 11 §1-2); None: no limit.
TIME_LIMITS_S = {"quick": 60.0, "classroom": 300.0, "full": None}
#: Notebooks with a longer allowance under a budget (notebook 05 trains six models).
LONGER_LIMITS_S = {"classroom": {"05": 720.0}}


def time_limit_s(notebook: str, budget: str) -> float | None:
    """The seconds ``budget`` allows notebook ``notebook`` (its name or its two digits).

    >>> time_limit_s("02_gabor_filter_learning", "classroom"), time_limit_s("05_apac_training", "classroom")
    (300.0, 720.0)
    >>> time_limit_s("05", "full") is None
    True
    """
    return LONGER_LIMITS_S.get(budget, {}).get(notebook[:2], TIME_LIMITS_S[budget])


class NotebookFailed(RuntimeError):
    """A notebook raised, died or ran out of time: ``str()`` is one line saying where and what.

    ``timed_out`` is True when it ran past its timeout (its kernel was killed)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def _cell_name(nb, i: int) -> str:
    code = [k for k, c in enumerate(nb.cells) if c.cell_type == "code"]
    return f"cell {i} (code cell {code.index(i) + 1} of {len(code)})"


def _failed_cell(nb) -> str:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return _cell_name(nb, i)
    return "a cell"




async def _execute(path: Path, env: dict[str, str], timeout: float) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    running: list[int] = []  # the index of the cell that runs now

    def started(cell, cell_index) -> None:
        running[:] = [cell_index]

    client = NotebookClient(nb, timeout=max(1, int(timeout)), kernel_name="python3", shutdown_kernel="immediate",
                            skip_cells_with_tag="skip-execution", resources={"metadata": {"path": str(path.parent)}},
                            on_cell_start=started)

    def where() -> str:
        return _cell_name(nb, running[0]) if running else "the kernel's start"

    run = asyncio.ensure_future(client.async_execute(env=env))  # in the notebook's folder (resources)
    done, _ = await asyncio.wait({run}, timeout=timeout)
    if not done:  # cancelling it kills the kernel (shutdown_kernel="immediate")
        run.cancel()
        with contextlib.suppress(BaseException):
            await run
        raise NotebookFailed(f"timed out after {timeout:.0f} s, in {where()}", timed_out=True)
    try:
        run.result()
    except CellTimeoutError:
        raise NotebookFailed(f"timed out after {timeout:.0f} s, in {where()}", timed_out=True) from None
    except CellExecutionError as exc:
        value = str(exc.evalue).strip().splitlines()
        raise NotebookFailed(f"{_failed_cell(nb)}: {exc.ename}: {value[-1] if value else ''}".rstrip(": ")) from None
    except DeadKernelError as exc:
        raise NotebookFailed(f"the kernel died ({str(exc).strip().splitlines()[0]})") from None


def execute_notebook(path: str | Path, *, env: dict[str, str] | None = None, timeout: float = 600.0) -> float:
    """Run every cell of the notebook at ``path`` in a new kernel; return the wall seconds.

    Args:
        path (str | Path): the ``.ipynb`` file.
        env (dict[str, str] | None, default None): the kernel's whole environment (None: this
            process's). ``PYTHONPATH`` gets this checkout first, so the kernel imports its
            ``apac_lab``.
        timeout (float, default 600): seconds for the whole notebook, kernel start included.

    Raises:
        NotebookFailed: a cell raised, the kernel died, or the timeout passed (one line).
    """
    path = Path(path).resolve()
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    t0 = time.perf_counter()
    asyncio.run(_execute(path, env, timeout))
    return time.perf_counter() - t0


def format_seconds(seconds: float) -> str:
    """``"45 s"``, ``"4 min 05 s"``.

    >>> format_seconds(44.6), format_seconds(245.2)
    ('45 s', '4 min 05 s')
    """
    s = int(round(seconds))
    return f"{s} s" if s < 60 else f"{s // 60} min {s % 60:02d} s"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(torch_threads: int | None = None) -> dict:
    """What a recorded timing ran on: CPU model, cores (and those this process may use),
    torch threads, OS, Python, torch, the GPU if any, and the load average at the start."""
    import torch

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": _cpu_model(), "cores": os.cpu_count(), "usable_cores": usable,
        "torch_threads": torch_threads if torch_threads is not None else torch.get_num_threads(),
        "os": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


#: Paths a benchmark run writes itself; their changes do not make the tree "dirty".
WRITTEN_BY_BENCHMARKS = ("benchmarks/results", "README.md")


def git_state(root: Path = ROOT) -> dict:
    """``{"commit": HEAD, "dirty": bool, "dirty_files": [...]}`` of the checkout at ``root``
    (tracked files only, the benchmarks' own output excluded); commit None outside git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        status = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                     *[f":(exclude){p}" for p in WRITTEN_BY_BENCHMARKS])
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None, "dirty_files": []}
    files = [line[3:] for line in status.splitlines() if line.strip()]
    return {"commit": commit, "dirty": bool(files), "dirty_files": files[:20]}
