"""Run every notebook with a kernel as Colab would, then move every widget once as a browser does.

Part of ``make test-colab`` (``.ci/test-colab``), run with the Colab-like environment's Python.
For each notebook:

1. execute every cell with nbclient (cells tagged ``skip-execution`` are skipped, as nbmake
   does: the set-up cell's install was done beforehand, from the checkout);
2. then, in the same kernel, send each slider, dropdown, play button and file upload a
   ``comm_msg`` shaped like a browser's (``{"method": "update", "state": {...}}``, an upload
   with its file as a binary buffer), wait for the kernel to go idle, and count the bytes the
   kernel sent back;
3. fail on a cell error, a traceback in the kernel's log (a widget callback that raised),
   an update that sent more than ``--max-update-bytes``, or a cell that reached its timeout.

A cell whose output is large can make nbclient wait for the whole timeout and then go on as if
nothing happened (jupyter/nbclient#312: the shell reply is missed by one long poll). Here the
shell channel is polled in 1 s slices, so that stall cannot happen, and a cell that still takes
its whole timeout fails.

    python .ci/colab_notebooks.py notebooks --timeout 300
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import time
import wave
from pathlib import Path
from queue import Empty

import nbformat
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

DRIVEN = {"IntSliderModel", "FloatSliderModel", "FloatLogSliderModel", "SelectionSliderModel", "DropdownModel",
          "PlayModel", "IntRangeSliderModel", "ToggleButtonsModel", "RadioButtonsModel", "CheckboxModel",
          "FileUploadModel"}


def slice_shell_polls(kc) -> None:
    """Poll the shell channel of ``kc`` in 1 s slices (no missed reply can cost the whole timeout)."""
    channel, get_msg = kc.shell_channel, kc.shell_channel.get_msg

    async def sliced(timeout=None, **kw):
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            left = 1.0 if end is None else min(1.0, max(0.0, end - time.monotonic()))
            try:
                return await get_msg(timeout=left, **kw)
            except Empty:
                if end is not None and time.monotonic() >= end:
                    raise

    channel.get_msg = sliced


def _size(msg: dict) -> int:
    return len(json.dumps(msg.get("content", {}), default=str)) + sum(len(b) for b in msg.get("buffers") or [])


def _wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(b"".join(int(8000 * math.sin(0.05 * i)).to_bytes(2, "little", signed=True)
                               for i in range(int(seconds * rate))))
    return buf.getvalue()


def _browser_update(state: dict) -> tuple[dict, list[bytes]] | None:
    """What a browser sends when a user moves this control: (state, buffers), or None to leave it."""
    name = state.get("_model_name")
    if name == "FileUploadModel":
        data = _wav()
        if "_counter" in state:  # ipywidgets 7 (Colab)
            meta = {"name": "word.wav", "type": "audio/wav", "size": len(data), "lastModified": 0}
            return {"_counter": state["_counter"] + 1, "metadata": [meta], "data": [None]}, [data]
        meta = {"name": "word.wav", "type": "audio/wav", "size": len(data), "last_modified": 0, "content": None}
        return {"value": [meta]}, [data]
    if "index" in state and state.get("_options_labels") is not None:
        n = len(state["_options_labels"])
        if n < 2:
            return None
        index = state.get("index") or 0
        return {"index": n - 1 if index != n - 1 else 0}, []
    if name == "CheckboxModel":
        return {"value": not state.get("value")}, []
    if "value" in state and "max" in state and "min" in state and not isinstance(state["value"], list):
        value = state["value"]
        return {"value": state["max"] if value != state["max"] else state["min"]}, []
    return None


async def _drive(client: NotebookClient, widget_state: dict, max_bytes: int, timeout: float) -> list[dict]:
    """Send each control one browser-shaped update; return what each sent back."""
    kc, results = client.kc, []
    for comm_id, state in list(widget_state.items()):
        if state.get("_model_name") not in DRIVEN or state.get("disabled"):
            continue
        update = _browser_update(state)
        if update is None:
            continue
        new, buffers = update
        paths = [["data", 0]] if "_counter" in new else ([["value", 0, "content"]] if buffers else [])
        content = {"comm_id": comm_id, "data": {"method": "update", "state": new, "buffer_paths": paths}}
        msg = kc.session.msg("comm_msg", content)
        kc.session.send(kc.shell_channel.socket, msg, buffers=buffers or None)
        label = f"{state['_model_name'].removesuffix('Model')} {state.get('description') or ''}".strip()
        sent, deadline, problems = 0, time.monotonic() + timeout, []
        while True:
            try:
                reply = await kc.iopub_channel.get_msg(timeout=1)
            except Empty:
                if time.monotonic() > deadline:
                    results.append({"widget": label, "error": f"no idle reply in {timeout} s"})
                    break
                continue
            if reply.get("parent_header", {}).get("msg_id") != msg["header"]["msg_id"]:
                continue
            if reply["msg_type"] == "status" and reply["content"].get("execution_state") == "idle":
                results.append({"widget": label, "bytes": sent, "too_big": sent > max_bytes,
                                "error": "; ".join(problems) or None})
                break
            if reply["msg_type"] != "status":
                sent += _size(reply)
            if reply["msg_type"] == "error":  # ipykernel 7 shows a callback's exception as an error output
                problems.append(f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}")
    return results


def run_notebook(path: Path, *, timeout: int, max_bytes: int, log_dir: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "skip-execution" in cell.get("metadata", {}).get("tags", []):
            cell.source = ""  # as nbmake skips it (the install it does was done from the checkout)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False, record_timing=True,
                          resources={"metadata": {"path": str(path.parent)}})
    log = log_dir / f"{path.stem}.kernel.log"
    report = {"notebook": path.name, "cells": [], "errors": [], "drives": []}
    start = time.monotonic()
    with open(log, "w") as stderr:
        with client.setup_kernel(stderr=stderr, stdout=stderr):
            slice_shell_polls(client.kc)
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                t0 = time.monotonic()
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    report["errors"].append(f"cell {index} reached its timeout ({timeout} s)")
                    break
                except CellExecutionError as exc:
                    report["errors"].append(f"cell {index}: {str(exc).strip().splitlines()[-1]}")
                    break
                took = time.monotonic() - t0
                report["cells"].append((index, round(took, 2)))
                if took >= 0.98 * timeout:
                    report["errors"].append(f"cell {index} took {took:.0f} s: it reached its timeout ({timeout} s)")
            if not report["errors"]:
                stderr.flush()
                before = log.stat().st_size
                report["drives"] = run_sync(_drive)(client, client.widget_state, max_bytes, timeout)
                time.sleep(0.5)  # let the kernel's log reach the file
                with open(log) as f:  # ipykernel 6 logs a callback's exception instead
                    f.seek(before)
                    logged = f.read()
                if "Traceback" in logged:
                    report["errors"].append(f"the kernel logged a traceback while widgets were moved (a callback "
                                            f"raised): see {log}\n" + logged[logged.index("Traceback"):][:2000])
    for d in report["drives"]:
        if d.get("error"):
            report["errors"].append(f"{d['widget']}: a callback raised {d['error']}")
        elif d["too_big"]:
            report["errors"].append(f"{d['widget']}: one update sent {d['bytes']} bytes (> {max_bytes})")
    report["seconds"] = round(time.monotonic() - start, 1)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run notebooks Colab-style and drive their widgets.")
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks or folders of notebooks")
    parser.add_argument("--timeout", type=int, default=300, help="seconds a cell may take (default 300)")
    parser.add_argument("--max-update-bytes", type=int, default=200_000)
    parser.add_argument("--log-dir", type=Path, default=Path("artifacts/colab"))
    args = parser.parse_args(argv)
    args.log_dir.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(p for a in args.paths for p in ([a] if a.is_file() else a.glob("*.ipynb")))
    failed = 0
    for path in notebooks:
        r = run_notebook(path, timeout=args.timeout, max_bytes=args.max_update_bytes, log_dir=args.log_dir)
        slowest = max(r["cells"], key=lambda c: c[1], default=(None, 0))
        drives = ", ".join(f"{d['widget']} {d.get('bytes', 0) / 1000:.1f} KB" for d in r["drives"])
        print(f"{r['notebook']}: {r['seconds']} s, {len(r['cells'])} cells (slowest: cell {slowest[0]}, "
              f"{slowest[1]} s); drove {len(r['drives'])} controls: {drives or 'none'}")
        for e in r["errors"]:
            print(f"  FAILED: {e}")
        failed += bool(r["errors"])
        (args.log_dir / f"{path.stem}.json").write_text(json.dumps(r, indent=1))
    print(f"{len(notebooks) - failed} passed, {failed} failed")
    return 1 if failed or not notebooks else 0


if __name__ == "__main__":
    sys.exit(main())
