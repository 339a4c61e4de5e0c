"""Layers only point down: every import of every module of ``apac_lab`` (parsed with ``ast``,
imports inside functions included) goes to its own layer or a lower one.

The layers, bottom to top:

====  =============================================  ==========================================
rank  packages                                       may import
====  =============================================  ==========================================
0     ``apac_lab`` (its ``__init__``), ``_release``,   nothing of the package (but rank 0)
      ``utils``,
      ``checkpoints``, ``notebook_tools``,
      ``papers``
1     ``frontends``, ``data``                         rank 0 and its own package; the two are
                                                     siblings and do not import each other
2     ``models``                                      ranks 0-1
3     ``train``                                       ranks 0-2
4     ``recipes``                                     ranks 0-3
====  =============================================  ==========================================

The presentation packages sit beside the stack, not in it: ``plots`` (figures), ``widgets``
(interactive explorers) and ``exercises`` (the notebooks' checks) may import anything up to
``train`` (rank 3), and ``widgets`` may use ``plots``; nothing imports ``widgets`` or
``exercises``, and of the stack nothing imports ``plots`` (figures stay out of model and
training code). None of them imports ``recipes``: a notebook calls a recipe, then draws its
result. Notebooks and benchmarks stand on top of everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "apac_lab"

RANK = {"apac_lab": 0, "_release": 0, "utils": 0, "checkpoints": 0, "notebook_tools": 0, "papers": 0, "frontends": 1, "data": 1, "models": 2,
        "train": 3, "recipes": 4}
BESIDE = {"plots": {"plots"}, "widgets": {"widgets", "plots"}, "exercises": {"exercises"}}
STACK_TOP_FOR_BESIDE = 3


def _layer(module: str) -> str:
    """``apac_lab.models.apac`` -> ``models``; ``apac_lab`` -> ``apac_lab``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "apac_lab"


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every ``apac_lab`` import in the file, at any depth (relative
    imports resolved against the module; ``importlib.import_module("apac_lab...")`` counts)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in
                ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
                and str(node.args[0].value).split(".")[0] == "apac_lab"):
            found.append((node.lineno, node.args[0].value))  # importlib.import_module("apac_lab.train")
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "apac_lab"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] == "apac_lab":
                if module == "apac_lab":  # from apac_lab import models: the names are subpackages
                    found += [(node.lineno, f"apac_lab.{a.name}") if a.name in RANK or a.name in BESIDE
                              else (node.lineno, "apac_lab") for a in node.names]
                else:
                    found.append((node.lineno, module))
    return found


def allowed(importer: str, imported: str) -> bool:
    """Whether layer ``importer`` may import layer ``imported`` (the table in the module docstring)."""
    if importer == imported:
        return True
    if importer in BESIDE:
        return imported in BESIDE[importer] or RANK.get(imported, 99) <= STACK_TOP_FOR_BESIDE
    if imported in BESIDE:
        return False
    if RANK[importer] == RANK[imported] and RANK[importer] > 0:  # frontends and data: siblings
        return False
    return RANK[imported] <= RANK[importer]


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_package_has_a_layer():
    layers = {_layer(_module_name(p)) for p in MODULES}
    assert layers <= set(RANK) | set(BESIDE), f"new package(s) {layers - set(RANK) - set(BESIDE)}: give them a layer"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_imports_point_down(path):
    importer = _layer(_module_name(path))
    bad = [f"{path.relative_to(REPO)}:{line} imports {module}" for line, module in imports_of(path)
           if not allowed(importer, _layer(module))]
    assert not bad, "a lower layer imports a higher one:\n" + "\n".join(bad)


class TestTheRule:
    """The checker itself: it sees imports inside functions, relative imports, and judges them by the table."""

    def test_finds_imports_inside_functions_and_relative_ones(self, tmp_path, monkeypatch):
        pkg = tmp_path / "apac_lab" / "models"
        pkg.mkdir(parents=True)
        src = pkg / "x.py"
        src.write_text("def f():\n    from apac_lab.train import fit\n    from ..recipes import mst_piczak\n"
                       "import apac_lab.data\nfrom apac_lab import utils, recipes\n"
                       "import importlib\nimportlib.import_module('apac_lab.train.cli')\n")
        monkeypatch.setattr("test_layers.REPO", tmp_path)
        assert sorted(imports_of(src)) == [(2, "apac_lab.train"), (3, "apac_lab.recipes"), (4, "apac_lab.data"),
                                           (5, "apac_lab.recipes"), (5, "apac_lab.utils"), (7, "apac_lab.train.cli")]
        assert [allowed("models", _layer(m)) for _, m in sorted(imports_of(src))] == [
            False, False, True, False, True, False]

    @pytest.mark.parametrize("importer, imported, ok", [
        ("models", "train", False), ("models", "recipes", False), ("train", "recipes", False),
        ("data", "frontends", False), ("frontends", "models", False), ("checkpoints", "train", False),
        ("models", "checkpoints", True), ("train", "checkpoints", True), ("recipes", "train", True),
        ("plots", "models", True), ("plots", "recipes", False), ("widgets", "plots", True),
        ("plots", "widgets", False), ("models", "plots", False), ("train", "widgets", False),
        ("exercises", "frontends", True), ("recipes", "exercises", False),
    ])
    def test_table(self, importer, imported, ok):
        assert allowed(importer, imported) is ok
