"""Checks for notebook 01 (spectrogram and MFCC).

- ``"01.n_frames"``: how many centred frames a 1 s, 8 kHz clip gives with n_fft 256, hop 80.
- ``"01.dct_matrix"``: a function ``(n_mfcc, n_mels) -> (n_mfcc, n_mels)`` building the
  orthonormal DCT-II matrix of step 5.

Each checker returns ``(ok, message)``; :func:`apac_lab.exercises.check` prints it.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from apac_lab.exercises import register
from apac_lab.frontends.scratch import dct_matrix, num_frames


@register("01.n_frames")
def _n_frames(answer) -> tuple[bool, str]:
    expected = num_frames(8000, 80)  # 101
    if isinstance(answer, bool) or not isinstance(answer, (int, np.integer)):
        return False, "give a whole number of frames (an int)"
    if answer == expected:
        return True, ""
    if answer == num_frames(8000, 80, n_fft=256, center=False):
        return False, ("that is the count WITHOUT centring; centred framing first pads n_fft // 2 samples "
                       "at each end")
    if answer == 8000 // 80:
        return False, "almost: count the frame centred on the very last sample too (a fence-post)"
    return False, "frame i is centred on sample i * hop_length; how many such i fit in 0..8000?"


@register("01.dct_matrix")
def _dct_matrix(answer) -> tuple[bool, str]:
    if not callable(answer):
        return False, "give the function itself, e.g. answer = my_dct_matrix (no parentheses)"
    for n_mfcc, n_mels in ((13, 40), (5, 8)):
        got = answer(n_mfcc, n_mels)
        if got is None:
            return False, "your function returns None: finish it and return the matrix"
        got = torch.as_tensor(np.asarray(got, dtype=np.float64))
        ref = dct_matrix(n_mfcc, n_mels).double()
        if got.shape == ref.T.shape and got.shape != ref.shape:
            return False, f"shape {tuple(got.shape)}: transposed; rows are coefficients k, columns mel bands m"
        if got.shape != ref.shape:
            return False, f"expected shape ({n_mfcc}, {n_mels}), got {tuple(got.shape)}"
        if torch.allclose(got, ref, atol=1e-5):
            continue
        if torch.allclose(got[1:], ref[1:], atol=1e-5):
            return False, "row 0 is off: it is scaled by sqrt(1 / n_mels), the others by sqrt(2 / n_mels)"
        unscaled = torch.cos(math.pi * torch.arange(n_mfcc)[:, None] * (torch.arange(n_mels)[None] + 0.5) / n_mels)
        if torch.allclose(got, unscaled.double(), atol=1e-5):
            return False, "the cosines are right; now scale the rows so that D @ D.T is the identity"
        return False, "compare with D[k, m] = s_k * cos(pi * k * (m + 1/2) / n_mels) (check the half-sample shift)"
    return True, ""
