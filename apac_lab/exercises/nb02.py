"""Checks for notebook 02 (Gabor filter learning).

- ``"02.param_count"``: learnable numbers in the notebook's STRF layer, free kernels
  against Gabor filters: ``(free, gabor)`` for 16 pairs of 9 x 111 kernels.
- ``"02.modulation"``: where a Gabor filter sits in the modulation plane:
  ``(temporal Hz, spectral cycles/band)`` for F = 0.1 cycles/sample, gamma = pi / 3,
  at 100 frames per second.
- ``"02.gabor_kernel"``: a function ``(sigma_t, sigma_f, gamma, freq, size_f, size_t) ->
  complex (size_f, size_t)`` kernel, the formula of the notebook.

Each checker returns ``(ok, message)``; :func:`apac_lab.exercises.check` prints it.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from apac_lab.exercises import register
from apac_lab.frontends.gabor import gabor_kernels

N_FILTERS, KERNEL = 16, (9, 111)
FRAME_RATE, FREQ, GAMMA = 100.0, 0.1, math.pi / 3


def _pair(answer) -> tuple[float, float] | None:
    try:
        a, b = (float(v) for v in answer)
    except (TypeError, ValueError):
        return None
    return a, b


@register("02.param_count")
def _param_count(answer) -> tuple[bool, str]:
    got = _pair(answer)
    if got is None:
        return False, "give two numbers: answer = (free, gabor)"
    free, gabor = got
    taps = KERNEL[0] * KERNEL[1]
    ok_free, ok_gabor = free == 2 * taps * N_FILTERS, gabor == 4 * N_FILTERS
    if ok_free and ok_gabor:
        return True, ""
    if free == taps * N_FILTERS:
        return False, "each filter is a PAIR of kernels (real and imaginary parts): count both"
    if free == taps or free == 2 * taps:
        return False, "that is one filter; the layer has 16"
    if not ok_free:
        return False, "free: every tap of every kernel is learned; 9 x 111 taps, two kernels per filter, 16 filters"
    if gabor in (5 * N_FILTERS, 4, 5):
        return False, "the layer is built without a phase (with_phase=False), and it has 16 filters"
    return False, "Gabor: sigma_t, sigma_f, gamma and F per filter"


@register("02.modulation")
def _modulation(answer) -> tuple[bool, str]:
    got = _pair(answer)
    if got is None:
        return False, "give two numbers: answer = (temporal_hz, spectral_cycles_per_band)"
    temporal, spectral = got
    want_t = FREQ * math.cos(GAMMA) * FRAME_RATE  # 5 Hz
    want_s = FREQ * math.sin(GAMMA)  # 0.0866 cycles per band
    if math.isclose(temporal, want_t, abs_tol=0.05) and math.isclose(spectral, want_s, abs_tol=1e-3):
        return True, ""
    if math.isclose(temporal, FREQ * math.sin(GAMMA) * FRAME_RATE, abs_tol=0.05):
        return False, "sine and cosine swapped: gamma = 0 is a purely temporal modulation (t cos(gamma))"
    if math.isclose(temporal, FREQ * math.cos(GAMMA), abs_tol=1e-3):
        return False, "F cos(gamma) is in cycles per FRAME; multiply by the frame rate for Hz"
    if math.isclose(temporal, want_t, abs_tol=0.05):
        return False, "temporal is right; the spectral part is F sin(gamma), in cycles per band"
    return False, "project F on the two axes: F cos(gamma) along time, F sin(gamma) along bands"


def _to_tensor(x) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().to(torch.complex128) if x.is_complex() else x.detach().double()
    return torch.as_tensor(np.asarray(x))


@register("02.gabor_kernel")
def _gabor_kernel(answer) -> tuple[bool, str]:
    if not callable(answer):
        return False, "give the function itself, e.g. answer = my_gabor (no parentheses)"
    for st, sf, g, fr, size in ((6.0, 2.0, 0.4, 0.12, (9, 21)), (3.0, 1.5, -2.0, 0.3, (4, 10))):
        got = answer(st, sf, g, fr, *size)
        if got is None:
            return False, "your function returns None: finish it and return the kernel"
        got = _to_tensor(got)
        ref = gabor_kernels(torch.tensor(st, dtype=torch.float64), sf, g, fr, size_f=size[0], size_t=size[1])
        if got.shape == ref.T.shape and got.shape != ref.shape:
            return False, "transposed: rows are mel bands (f), columns frames (t)"
        if got.shape != ref.shape:
            return False, f"expected shape {tuple(ref.shape)}, got {tuple(got.shape)}"
        if not got.is_complex():
            if torch.allclose(got.double(), ref.real, atol=1e-6):
                return False, "that is the real part; return the complex kernel (or torch.complex(real, imag))"
            return False, "return a complex kernel: envelope times exp(i * phase)"
        if torch.allclose(got, ref, atol=1e-6):
            continue
        if torch.allclose(got, ref * (2 * math.pi * st * sf), atol=1e-6):
            return False, "almost: divide by 2 pi sigma_t sigma_f"
        if torch.allclose(got, ref.conj(), atol=1e-6):
            return False, "conjugated: the carrier is exp(+i 2 pi F (...))"
        if torch.allclose(got.abs(), ref.abs(), atol=1e-6):
            return False, "the envelope is right; check the carrier's phase 2 pi F (t cos(gamma) + f sin(gamma))"
        return False, "check the centred grid: f = k - (size_f - 1) / 2, t = k - (size_t - 1) / 2"
    return True, ""
