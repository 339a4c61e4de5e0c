"""Shared fixtures: real FSDD recordings when available, small generated trees otherwise."""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import soundfile as sf
import torch

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "teacher" / "solutions"
SHARED_FSDD = REPO.parent / "shared" / "data" / "fsdd"

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """No test may reach the internet: downloads are off unless a test turns them on."""
    monkeypatch.setenv("APAC_LAB_OFFLINE", "1")


@functools.cache
def teacher_solutions(notebook: str) -> ModuleType:
    """The teacher's solutions of notebook ``notebook`` ("00".."05"), imported from teacher/solutions/.

    One loader for every tests/test_exercises_NN.py; cached, so each file runs once per session.
    A plain function (not only a fixture) because some tests parametrize over a solution module.
    """
    found = sorted(SOLUTIONS.glob(f"{notebook}_*.py"))
    if len(found) != 1:
        raise FileNotFoundError(f"expected one teacher/solutions/{notebook}_*.py, found {[p.name for p in found]}")
    spec = importlib.util.spec_from_file_location(f"teacher_solutions_{notebook}", found[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def solutions(request) -> ModuleType:
    """The teacher's solutions of the notebook a tests/test_exercises_NN.py file is about."""
    m = re.fullmatch(r"test_exercises_(\d\d)", request.module.__name__.rpartition(".")[2])
    if m is None:
        raise RuntimeError(f"the solutions fixture is for tests/test_exercises_NN.py, not {request.module.__name__}")
    return teacher_solutions(m[1])


def _fsdd_root() -> Path | None:
    env = os.environ.get("APAC_LAB_DATA")
    for cand in ([Path(env) / "fsdd"] if env else []) + [SHARED_FSDD]:
        if (cand / "recordings").is_dir():
            return cand
    return None


@pytest.fixture(scope="session")
def real_fsdd_root() -> Path:
    """The real FSDD recordings (../shared/data/fsdd in CI); skipped with a reason elsewhere."""
    root = _fsdd_root()
    if root is None:
        pytest.skip("real FSDD recordings not found (set APAC_LAB_DATA to a folder holding fsdd/recordings)")
    return root


@pytest.fixture()
def tiny_fsdd(tmp_path) -> Path:
    """A tiny FSDD tree made by the test: 3 digits x 2 speakers x indices 0..6, 8 kHz tones."""
    rec = tmp_path / "fsdd" / "recordings"
    rec.mkdir(parents=True)
    t = np.arange(4000) / 8000
    for d in range(3):
        for spk in ("ann", "bob"):
            for i in range(7):
                wave = 0.3 * np.sin(2 * np.pi * (200 + 100 * d + 5 * i) * t)
                sf.write(rec / f"{d}_{spk}_{i}.wav", wave.astype(np.float32), 8000)
    return tmp_path / "fsdd"
