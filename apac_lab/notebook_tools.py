"""Notebook housekeeping: list the kit's notebooks, find and strip outputs.

Saving widget state writes megabytes of JavaScript into a notebook, so notebooks are
committed without outputs; ``python -m apac_lab.notebook_tools strip notebooks`` cleans
them, and ``tests/test_notebooks_clean.py`` enforces it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["list_notebooks", "dirty_cells", "strip_outputs"]


def list_notebooks(folder: str | Path = "notebooks") -> list[Path]:
    """Every ``*.ipynb`` under ``folder``, sorted, checkpoints excluded."""
    return sorted(p for p in Path(folder).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def dirty_cells(nb: dict) -> list[int]:
    """Indices of code cells that carry outputs or an execution count."""
    return [
        i for i, c in enumerate(nb.get("cells", []))
        if c.get("cell_type") == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]


def strip_outputs(path: str | Path) -> bool:
    """Remove outputs, execution counts and saved widget state; True if the file changed."""
    path = Path(path)
    nb = json.loads(path.read_text())
    before = json.dumps(nb, sort_keys=True)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nb.get("metadata", {}).pop("widgets", None)
    if json.dumps(nb, sort_keys=True) == before:
        return False
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] != "strip":
        print("usage: python -m apac_lab.notebook_tools strip FOLDER", file=sys.stderr)
        return 2
    for nb in list_notebooks(argv[1]):
        if strip_outputs(nb):
            print(f"stripped {nb}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
