"""Notebooks 00 and 01's headline results, as rows for :func:`apac_lab.recipes.record_results`:
the set-up check (real recordings were found) and the from-scratch MFCC against torchaudio and
nnAudio. Neither notebook trains, so the three budgets differ only in how many clips 01 compares.

Notebooks: 00_start_here, 01_spectrogram_and_mfcc.
"""

from __future__ import annotations

from apac_lab.utils import by_budget

__all__ = ["MFCC_TOLERANCE", "mfcc_clips", "setup_rows", "mfcc_agreement_rows"]

#: Largest relative error (``||a - b|| / ||b||``) allowed between two MFCC implementations
#: that compute the same thing: float32 rounding is about 1e-6 on FSDD.
MFCC_TOLERANCE = 1e-5


def mfcc_clips(n_available: int, budget: str | None = None) -> int:
    """How many test clips notebook 01 compares nnAudio with torchaudio on: 20 in the quick
    budget, all of them otherwise.

    >>> mfcc_clips(250, "quick"), mfcc_clips(250, "classroom")
    (20, 250)
    """
    return min(n_available, by_budget(quick=20, classroom=n_available, full=n_available, budget=budget))


def setup_rows(dataset) -> list[dict]:
    """Notebook 00's row: the clips of the test split it read, met when they are real
    recordings (not the synthetic fallback).

    >>> from apac_lab.data import load_dataset
    >>> setup_rows(load_dataset("synthetic", "test", verbose=False))[0]["met"]
    False
    """
    real = not dataset.name.startswith("synthetic")
    return [{"result": "set-up check: FSDD test clips read (real recordings)", "value": len(dataset) if real else 0,
             "target": "> 0, not the synthetic fallback", "met": real and len(dataset) > 0, "percent": False}]


def mfcc_agreement_rows(scratch_error: float, nnaudio_error: float, n_clips: int) -> list[dict]:
    """Notebook 01's rows: the relative error of the from-scratch MFCC against torchaudio's
    (one clip), and the worst of nnAudio's against torchaudio's over ``n_clips`` clips, each
    against :data:`MFCC_TOLERANCE`.

    >>> [r["met"] for r in mfcc_agreement_rows(4e-7, 2e-5, 20)]
    [True, False]
    """
    target = f"<= {MFCC_TOLERANCE:g}"
    return [
        {"result": "MFCC from scratch vs torchaudio: relative error", "value": float(scratch_error), "target": target,
         "met": bool(scratch_error <= MFCC_TOLERANCE), "percent": False},
        {"result": "nnAudio MFCC vs torchaudio: worst clip's relative error", "value": float(nnaudio_error),
         "target": f"{target} on each of {n_clips} clips", "met": bool(nnaudio_error <= MFCC_TOLERANCE), "percent": False},
    ]
