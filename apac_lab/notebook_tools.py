"""Notebook housekeeping: list the kit's notebooks, strip outputs, write the Colab set-up.

Saving widget state writes megabytes of JavaScript into a notebook, so notebooks are
committed without outputs; ``python -m apac_lab.notebook_tools strip notebooks`` cleans
them, and ``tests/test_notebooks_clean.py`` enforces it.

Every notebook's first code cell is the same Colab set-up cell, generated from
:mod:`apac_lab._release` (the one place the release, its repository and Colab's extra
packages are written), and so are the "Open in Colab" links of the notebooks and the
README: ``python -m apac_lab.notebook_tools colab notebooks README.md`` rewrites them,
``... colab --check notebooks README.md`` says which files differ (``tests/test_colab.py``).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from apac_lab import _release

__all__ = ["list_notebooks", "dirty_cells", "strip_outputs", "colab_requirements", "colab_setup_source",
           "colab_setup_cell", "colab_badge_url", "write_colab_setup"]


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


# --------------------------------------------------------------------------- the Colab set-up cell


def colab_requirements(kit: str | None = None) -> list[str]:
    """What the Colab set-up cell gives to ``pip install``: the extras of
    :data:`apac_lab._release.COLAB_EXTRAS`, exactly pinned, then the kit.

    Args:
        kit (str | None, default None): the kit's requirement; None is this release from
            GitHub (:func:`apac_lab._release.colab_install_spec`). CI passes the checkout's path
            to install it the same way.

    >>> colab_requirements("/src/apac-lab")
    ['nnAudio==0.3.4', 'anywidget==0.11.0', '/src/apac-lab']
    """
    extras = [f"{name}=={version}" for name, version in _release.COLAB_EXTRAS.items()]
    return extras + [kit or _release.colab_install_spec()]


_SETUP = """\
# Colab set-up (written by `python -m apac_lab.notebook_tools colab`; the same in every notebook).
# Outside Colab this cell does nothing. In Colab it installs apac-lab {version} and {extras},
# keeps Colab's own torch, torchaudio, numpy, ipywidgets and plotly, turns on Colab's custom
# widget manager (the microphone recorder needs it), and leaves the budget as it is ("classroom"
# unless you set APAC_LAB_BUDGET). It prints what it did.
import sys
if "google.colab" in sys.modules:
    !pip install -q {pip_args}
    try:
        from google.colab import output as _colab_output
        _colab_output.enable_custom_widget_manager()
        _manager = "on"
    except (ImportError, AttributeError) as _exc:  # an old Colab, or a local runtime
        _manager = f"not available ({{_exc}})"
    import apac_lab
    print(f"Colab set-up: installed apac-lab {{apac_lab.__version__}} from {source} with {extras}; "
          f"custom widget manager {{_manager}}; budget {{apac_lab.current_budget()!r}} "
          f"(change it with apac_lab.set_budget('quick'|'classroom'|'full')).")"""


def colab_setup_source() -> str:
    """The source of the Colab set-up cell (first code cell of every notebook)."""
    reqs = colab_requirements()
    extras = ", ".join(r.replace("==", " ") for r in reqs[:-1])
    return _SETUP.format(version=_release.RELEASE_REF, extras=extras, pip_args=" ".join(f'"{r}"' for r in reqs),
                         source=f"github.com/{_release.REPOSITORY}@{_release.RELEASE_REF}")


def colab_setup_cell(cell_id: str | None = None) -> dict:
    """The Colab set-up cell as notebook JSON, tagged ``skip-execution`` (nbmake and CI skip it).

    >>> cell = colab_setup_cell("abc"); cell["metadata"], cell["id"], "".join(cell["source"]) == colab_setup_source()
    ({'tags': ['skip-execution']}, 'abc', True)
    """
    lines = colab_setup_source().splitlines(keepends=True)
    cell = {"cell_type": "code", "execution_count": None, "metadata": {"tags": ["skip-execution"]}, "outputs": [],
            "source": lines}
    if cell_id is not None:
        cell["id"] = cell_id
    return cell


def colab_badge_url(notebook: str) -> str:
    """The "Open in Colab" address of ``notebooks/<notebook>.ipynb`` at this release.

    >>> colab_badge_url("00_start_here")
    'https://colab.research.google.com/github/apac-lab/apac-lab/blob/v0.2.0/notebooks/00_start_here.ipynb'
    """
    return (f"https://colab.research.google.com/github/{_release.REPOSITORY}/blob/{_release.RELEASE_REF}"
            f"/notebooks/{notebook}.ipynb")


# any repository, any ref: what a fork or an older release left
BADGE_URL = re.compile(r"https://colab\.research\.google\.com/github/[^/\s)]+/[^/\s)]+/blob/[^/\s)]+"
                       r"/notebooks/([A-Za-z0-9_.-]+)\.ipynb")


# the install address, written in prose (README): any repository, any ref
GIT_URL = re.compile(r"git\+https://github\.com/[\w.-]+/[\w.-]+(?:@[\w.+-]+)?")


def _with_badges(text: str) -> str:
    text = GIT_URL.sub(lambda m: _release.git_url(), text)
    return BADGE_URL.sub(lambda m: colab_badge_url(m[1]), text)


def _is_setup_cell(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and "google.colab" in "".join(cell.get("source", []))


def write_colab_setup(path: str | Path, *, check: bool = False) -> bool:
    """Make ``path`` (a notebook, or a Markdown file such as the README) carry this release's
    Colab set-up: the generated first code cell, the badge addresses and (in Markdown) the
    install address.

    A notebook whose first code cell is not a Colab cell gets one inserted before it. Returns
    True if the file differs from what it should be (with ``check=True`` it is left as is).
    """
    path = Path(path)
    text = path.read_text()
    if path.suffix != ".ipynb":
        new = _with_badges(text)
    else:
        nb = json.loads(text)
        cells = nb.setdefault("cells", [])
        for cell in cells:
            if cell.get("cell_type") == "markdown":
                src = "".join(cell.get("source", []))
                if BADGE_URL.search(src):
                    cell["source"] = _with_badges(src).splitlines(keepends=True)
        first = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code"), len(cells))
        if first < len(cells) and _is_setup_cell(cells[first]):
            cells[first].update({k: v for k, v in colab_setup_cell().items() if k != "cell_type"})  # keeps its id
        else:
            cells.insert(first, colab_setup_cell("colab-setup" if nb.get("nbformat_minor", 0) >= 5 else None))
        new = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if new == text:
        return False
    if not check:
        path.write_text(new)
    return True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    usage = ("usage: python -m apac_lab.notebook_tools strip FOLDER\n"
             "       python -m apac_lab.notebook_tools colab [--check] FOLDER_OR_FILE...")
    if len(argv) == 2 and argv[0] == "strip":
        for nb in list_notebooks(argv[1]):
            if strip_outputs(nb):
                print(f"stripped {nb}")
        return 0
    if argv and argv[0] == "colab":
        check = "--check" in argv
        targets = [Path(a) for a in argv[1:] if a != "--check"]
        if not targets:
            print(usage, file=sys.stderr)
            return 2
        files = [p for t in targets for p in (list_notebooks(t) if t.is_dir() else [t])]
        changed = [p for p in files if write_colab_setup(p, check=check)]
        for p in changed:
            print(f"{'differs from the generated Colab set-up' if check else 'wrote the Colab set-up into'}: {p}")
        if check and changed:
            print("run: python -m apac_lab.notebook_tools colab " + " ".join(map(str, targets)), file=sys.stderr)
        return 1 if check and changed else 0
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
