"""Every notebook under the classroom budget, as a class runs it, in one table: notebook,
result, value, target, met or not, time (issue 11 §4).

Each notebook runs top to bottom in a fresh Jupyter kernel (:mod:`notebook_runner`: nbclient,
as nbmake), one at a time, with ``APAC_LAB_BUDGET=<budget>`` and ``APAC_LAB_RESULTS`` set to a
temporary folder, where the notebook's :func:`apac_lab.recipes.record_results` leaves its rows.
Data comes by the resolution rule (``APAC_LAB_DATA`` when set, as for the notebooks). A notebook
that fails, outruns its timeout or records no rows is reported so, never skipped.

The run is recorded in the repository: ``benchmarks/results/<budget>.json`` (and a readable
``<budget>.md``) with, for each notebook, its time, rows, seeds, the commit (and whether the
tree was dirty), the machine (CPU model, cores, torch threads, OS) and the date. A run of some
notebooks (``--notebooks 02 05``) replaces theirs and keeps the others'. The classroom run also
rewrites the README's "classroom result (2-core CPU)" column and each teacher note's "recorded
classroom run" section (``--update-readme`` alone does only that, from the recorded file);
``tests/test_benchmark_classroom.py`` checks they agree.

Usage (measure under the lock, with 2 threads, as PHASE2.md says)::

    flock /tmp/apac-heavy.lock env APAC_LAB_DATA=/work/shared/data APAC_LAB_OFFLINE=1 \\
        python benchmarks/classroom.py                  # every notebook, classroom budget
    python benchmarks/classroom.py --notebooks 02 05    # some, merged into the record
    python benchmarks/classroom.py --dry-run            # what would run, with which settings
    python benchmarks/classroom.py --update-readme      # the README column from the record

Exit status: 0 when every notebook that ran met every target within its time; 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from notebook_runner import (  # noqa: E402
    NotebookFailed, execute_notebook, format_seconds, git_state, machine_info, time_limit_s,
)

from apac_lab.notebook_tools import list_notebooks  # noqa: E402
from apac_lab.recipes.results import format_value  # noqa: E402

RESULTS = HERE / "results"
README = ROOT / "README.md"
README_COLUMN = "classroom result (2-core CPU)"
README_BEGIN = "<!-- classroom-results: begin (the column is written by python benchmarks/classroom.py --update-readme) -->"
README_END = "<!-- classroom-results: end -->"
TEACHER = ROOT / "teacher"
NOTE_BEGIN = "<!-- classroom-results: begin (written by python benchmarks/classroom.py --update-readme) -->"
NOTE_END = "<!-- classroom-results: end -->"
STATUSES = ("ok", "no rows", "failed", "timed out")


# --------------------------------------------------------------------------- choosing and running


def select_notebooks(wanted: list[str] | None, folder: Path = ROOT / "notebooks") -> list[Path]:
    """The notebooks named by ``wanted`` (their two digits, e.g. ``["02", "05"]``, or names), in
    order; every notebook when ``wanted`` is empty. An unknown name is a one-line error."""
    every = list_notebooks(folder)
    if not wanted:
        return every
    chosen = []
    for w in wanted:
        found = [p for p in every if p.stem == w or p.stem.startswith(w if len(w) > 2 else f"{w}_")]
        if len(found) != 1:
            raise SystemExit(f"classroom.py: --notebooks {w} matches {len(found)} notebooks of {folder} "
                             f"(choose among {', '.join(p.stem[:2] for p in every)})")
        chosen += [p for p in found if p not in chosen]
    return sorted(chosen)


def kernel_env(budget: str, results: Path, threads: int | None = None, base: dict | None = None) -> dict[str, str]:
    """The environment a notebook's kernel gets: this one, with the budget and the results folder
    (and ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` when ``threads`` is given)."""
    env = dict(os.environ if base is None else base)
    env.pop("APAC_LAB_QUICK", None)  # the budget below decides
    env.update(APAC_LAB_BUDGET=budget, APAC_LAB_RESULTS=str(results))
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


def _collect(folder: Path, budget: str) -> tuple[list[dict], dict, str | None]:
    """The rows every record in ``folder`` holds, facts about them, and a problem (or None)."""
    rows, facts, problem = [], {"recorded_as": [], "seed": None, "seeds_used": [], "torch_threads": None}, None
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except ValueError as exc:
            return rows, facts, f"{path.name} is not JSON ({exc})"
        rows += record.get("rows", [])
        facts["recorded_as"].append(record.get("notebook"))
        facts["seed"] = record.get("seed", facts["seed"]) if facts["seed"] is None else facts["seed"]
        facts["seeds_used"] += [s for s in record.get("seeds_used", []) if s not in facts["seeds_used"]]
        facts["torch_threads"] = record.get("torch_threads", facts["torch_threads"])
        if record.get("budget") != budget:
            problem = f"{path.name} was recorded under the {record.get('budget')!r} budget, not {budget!r}"
    return rows, facts, problem


def run_notebook(path: Path, *, budget: str, timeout: float, threads: int | None = None,
                 execute: Callable[..., float] = execute_notebook) -> dict:
    """Run one notebook and return its entry of the record: ``status`` (one of
    :data:`STATUSES`), ``error``, ``seconds``, ``time_limit_s``, ``within_time``, ``rows``,
    ``met`` (ran, recorded rows, met each target, within its time), seeds and torch threads."""
    with tempfile.TemporaryDirectory(prefix=f"classroom-{path.stem[:2]}-") as tmp:
        t0 = time.perf_counter()
        status, error = "ok", None
        try:
            execute(path, env=kernel_env(budget, Path(tmp), threads), timeout=timeout)
        except NotebookFailed as exc:
            status, error = ("timed out" if exc.timed_out else "failed"), str(exc)
        seconds = time.perf_counter() - t0
        rows, facts, problem = _collect(Path(tmp), budget)
    if status == "ok" and problem:
        status, error = "failed", problem
    elif status == "ok" and not rows:
        status, error = "no rows", "the notebook ran to the end but recorded no results (record_results)"
    limit = time_limit_s(path.stem, budget)
    within = None if limit is None else seconds <= limit
    return {"status": status, "error": error, "seconds": round(seconds, 1), "time_limit_s": limit,
            "within_time": within, "rows": rows,
            "met": status == "ok" and all(r.get("met") for r in rows) and within is not False, **facts}


def default_timeout(notebook: str, budget: str) -> float:
    """Twice the budget's time for the notebook (at least 5 min); 12 h where it has none."""
    limit = time_limit_s(notebook, budget)
    return 12 * 3600.0 if limit is None else max(2 * limit, 300.0)


# --------------------------------------------------------------------------- the record


def record_path(budget: str, folder: Path = RESULTS) -> Path:
    return folder / f"{budget}.json"


def load_record(path: Path) -> dict | None:
    """The recorded run at ``path``, or None when there is none yet."""
    return json.loads(path.read_text()) if path.is_file() else None


def merge_record(old: dict | None, entries: dict[str, dict], *, budget: str) -> dict:
    """``old`` with the notebooks of ``entries`` replaced (the others kept as recorded)."""
    notebooks = dict((old or {}).get("notebooks", {}))
    notebooks.update(entries)
    return {"benchmark": "benchmarks/classroom.py", "budget": budget, "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "notebooks": dict(sorted(notebooks.items()))}


def write_record(record: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, text in ((path, json.dumps(record, indent=1) + "\n"), (path.with_suffix(".md"), format_markdown(record))):
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, target)


# --------------------------------------------------------------------------- tables


def _table_rows(name: str, entry: dict) -> list[tuple[str, ...]]:
    limit = entry.get("time_limit_s")
    when = format_seconds(entry["seconds"]) + ("" if limit is None else
                                               f" ({'within' if entry['within_time'] else 'OVER'} {format_seconds(limit)})")
    if entry["status"] != "ok":
        first = [(name, f"{entry['status'].upper()}: {entry['error']}", "", "", "NO", when)]
    else:
        first = []
    rows = [(name, r["result"], format_value(r), r["target"], "yes" if r["met"] else "NO", when) for r in entry["rows"]]
    out = first + rows
    return [row if i == 0 else ("", *row[1:5], "") for i, row in enumerate(out)]


def format_table(record: dict, only: list[str] | None = None) -> str:
    """The one table: notebook, result, value, target, met, time (each notebook's time on its
    first line, with the budget's limit)."""
    header = ("notebook", "result", "value", "target", "met", "time")
    table = [header]
    for name, entry in record["notebooks"].items():
        if only is None or name in only:
            table += _table_rows(name, entry)
    widths = [max(len(row[c]) for row in table) for c in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)


def _provenance(entry: dict) -> str:
    m = entry.get("machine", {})
    commit = (entry.get("commit") or "unknown")[:10] + (" (dirty)" if entry.get("dirty") else "")
    seeds = entry.get("seeds_used") or ([entry["seed"]] if entry.get("seed") is not None else [])
    return (f"commit {commit}, {entry.get('date', '?')}; {m.get('cpu', '?')}, {m.get('usable_cores', '?')} cores, "
            f"torch threads {entry.get('torch_threads') or m.get('torch_threads', '?')}, {m.get('os', '?')}; "
            f"seeds {', '.join(map(str, seeds)) or 'not recorded'}; data {entry.get('data', '?')}")


def format_markdown(record: dict) -> str:
    """The record as a page: the table, then where and when each notebook ran."""
    lines = [f"# The {record['budget']} budget, every notebook (`benchmarks/classroom.py`)", "",
             f"Written by `python benchmarks/classroom.py`; last updated {record['updated']}. Each notebook ran top to "
             "bottom in a fresh kernel; the values are what its `record_results` call recorded.", "",
             "| notebook | result | value | target | met | time |", "|---|---|---|---|---|---|"]
    for name, entry in record["notebooks"].items():
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in _table_rows(name, entry)]
    lines += ["", "## Where and when", ""]
    lines += [f"- `{name}`: {_provenance(entry)}" for name, entry in record["notebooks"].items()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the README column


def readme_cell(entry: dict | None) -> str:
    """The README's "classroom result (2-core CPU)" cell of one notebook."""
    if entry is None:
        return "not recorded yet"
    when = format_seconds(entry["seconds"])
    if entry["status"] != "ok":
        return f"{entry['status']} in the recorded run ({when}; see `benchmarks/results/classroom.md`)"
    parts = [f"{r['result']}: **{format_value(r)}** (target {r['target']}{'' if r['met'] else ', not met'})"
             for r in entry["rows"]]
    over = "" if entry.get("within_time") is not False else f", over its {format_seconds(entry['time_limit_s'])}"
    return "; ".join(parts).replace("|", "\\|") + f"; in {when}{over}"


def _split_row(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def update_readme(text: str, record: dict | None) -> str:
    """``text`` (the README) with the classroom column of the table between the markers written
    from ``record``; rows are matched by their first cell (the notebook's two digits)."""
    if README_BEGIN not in text or README_END not in text:
        raise ValueError(f"README.md lacks the markers {README_BEGIN!r} ... {README_END!r} around the notebook table")
    head, rest = text.split(README_BEGIN, 1)
    region, tail = rest.split(README_END, 1)
    lines = region.split("\n")
    table = [i for i, line in enumerate(lines) if line.lstrip().startswith("|")]
    header = _split_row(lines[table[0]])
    if README_COLUMN not in header:
        raise ValueError(f"README.md: the table between the markers has no column {README_COLUMN!r}")
    col = header.index(README_COLUMN)
    by_digits = {name[:2]: e for name, e in ((record or {}).get("notebooks") or {}).items()}
    for i in table[2:]:
        cells = _split_row(lines[i])
        cells[col] = readme_cell(by_digits.get(cells[0]))
        lines[i] = "| " + " | ".join(cells) + " |"
    return head + README_BEGIN + "\n".join(lines) + README_END + tail


def teacher_note_section(name: str, entry: dict | None) -> str:
    """The recorded classroom run of one notebook, as its teacher note shows it (between the markers)."""
    if entry is None:
        return "## The recorded classroom run\n\nNot recorded yet: `python benchmarks/classroom.py` records it.\n"
    when = format_seconds(entry["seconds"])
    limit = entry.get("time_limit_s")
    timing = f"{when}" + ("" if not limit else f" (its budget {format_seconds(limit)}"
                          + (", over it)" if entry.get("within_time") is False else ")"))
    lines = ["## The recorded classroom run", "",
             f"What a class sees, from the recorded run of `benchmarks/classroom.py` "
             f"([`benchmarks/results/classroom.md`](../benchmarks/results/classroom.md)): {_provenance(entry)}. "
             + (f"It ran top to bottom in {timing}." if entry["status"] == "ok" else
              f"It did not finish: {entry['status']}, after {timing}."), ""]
    if entry["status"] != "ok":
        lines.append(f"- {entry.get('error') or 'no rows recorded'}")
    for r in entry["rows"]:
        lines.append(f"- {r['result']}: **{format_value(r)}** (target {r['target']}; "
                     f"{'met' if r['met'] else 'not met'})")
    return "\n".join(lines) + "\n"


def update_teacher_note(text: str, name: str, entry: dict | None) -> str:
    """``text`` (a teacher note) with its recorded-run section (between the markers, appended at the end
    when the note has none yet) written from ``entry``."""
    section = NOTE_BEGIN + "\n" + teacher_note_section(name, entry) + NOTE_END
    if NOTE_BEGIN in text and NOTE_END in text:
        head, rest = text.split(NOTE_BEGIN, 1)
        return head + section + rest.split(NOTE_END, 1)[1]
    return text.rstrip("\n") + "\n\n" + section + "\n"


def update_teacher_notes(record: dict | None, folder: Path = TEACHER) -> list[Path]:
    """Write the recorded-run section into the teacher note of every recorded notebook; the notes changed."""
    changed = []
    for name, entry in ((record or {}).get("notebooks") or {}).items():
        path = folder / f"{name}.md"
        if path.is_file():
            text = path.read_text()
            new = update_teacher_note(text, name, entry)
            if new != text:
                path.write_text(new)
                changed.append(path)
    return changed


def write_results_pages(readme: Path, record: dict | None) -> None:
    """Write the README's classroom column from ``record``, and the teacher notes' recorded-run
    sections when ``readme`` is the repository's own README (not a test's copy)."""
    readme.write_text(update_readme(readme.read_text(), record))
    if readme == README:
        update_teacher_notes(record)


def readme_column(text: str) -> dict[str, str]:
    """The classroom column's cells of the README, by the notebook's two digits."""
    region = text.split(README_BEGIN, 1)[1].split(README_END, 1)[0]
    rows = [_split_row(line) for line in region.split("\n") if line.lstrip().startswith("|")]
    col = rows[0].index(README_COLUMN)
    return {cells[0]: cells[col] for cells in rows[2:]}


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None, *, execute: Callable[..., float] = execute_notebook,
         notebooks_dir: Path = ROOT / "notebooks", results_dir: Path = RESULTS, readme: Path = README) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--notebooks", nargs="+", metavar="NN", help="run these (their two digits or names); default: all")
    p.add_argument("--budget", choices=["quick", "classroom", "full"], default="classroom")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds per notebook before its kernel is killed (default: twice its budget, at least 300)")
    p.add_argument("--threads", type=int, default=None, help="OMP/MKL threads for the kernels (default: as set)")
    p.add_argument("--dry-run", action="store_true", help="say what would run, run nothing, write nothing")
    p.add_argument("--update-readme", action="store_true",
                   help="only rewrite the README's classroom column from the recorded file")
    args = p.parse_args(argv)

    out = record_path(args.budget, results_dir)
    if args.update_readme:
        record = load_record(record_path("classroom", results_dir))
        write_results_pages(readme, record)
        print(f"{readme}: column {README_COLUMN!r} written from {record_path('classroom', results_dir)}"
              + ("" if record else " (no recorded run yet: every cell says so)"))
        return 0
    paths = select_notebooks(args.notebooks, notebooks_dir)
    data = os.environ.get("APAC_LAB_DATA") or "not set: the cache ~/.cache/apac_lab or a download"
    print(f"{args.budget} budget: {len(paths)} notebook(s), one at a time; data: {data}; record: {out}")
    if args.dry_run:
        for path in paths:
            limit = time_limit_s(path.stem, args.budget)
            print(f"  would run {path.relative_to(notebooks_dir.parent) if path.is_relative_to(notebooks_dir.parent) else path}"
                  f" with APAC_LAB_BUDGET={args.budget}, timeout {format_seconds(args.timeout or default_timeout(path.stem, args.budget))}"
                  + ("" if limit is None else f", its budget {format_seconds(limit)}"))
        return 0

    state, machine = git_state(), machine_info()
    if args.threads:
        machine["torch_threads"] = args.threads
    entries = {}
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        entry = run_notebook(path, budget=args.budget, timeout=args.timeout or default_timeout(path.stem, args.budget),
                             threads=args.threads, execute=execute)
        entry.update(commit=state["commit"], dirty=state["dirty"], dirty_files=state["dirty_files"],
                     date=time.strftime("%Y-%m-%dT%H:%M:%S%z"), machine=machine, data=data, budget=args.budget)
        entries[path.stem] = entry
        print(f"  {entry['status']} in {format_seconds(entry['seconds'])}"
              + (f": {entry['error']}" if entry["error"] else ""), flush=True)
    record = merge_record(load_record(out), entries, budget=args.budget)
    write_record(record, out)
    if args.budget == "classroom":
        write_results_pages(readme, record)
    print()
    print(f"{args.budget} budget, commit {(state['commit'] or '?')[:10]}{' (dirty)' if state['dirty'] else ''}; "
          f"{machine['cpu']}, {machine['usable_cores']} cores, torch threads {machine['torch_threads']}")
    print(format_table(record, only=list(entries)))
    print(f"\nrecorded in {out} and {out.with_suffix('.md')}" + (f"; README column updated" if args.budget == "classroom" else ""))
    return 0 if all(e["met"] for e in entries.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
