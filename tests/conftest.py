"""Shared fixtures: real FSDD recordings when available, small generated trees otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_FSDD = REPO.parent / "shared" / "data" / "fsdd"

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """No test may reach the internet: downloads are off unless a test turns them on."""
    monkeypatch.setenv("APAC_LAB_OFFLINE", "1")


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
