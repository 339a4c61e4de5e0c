"""Exercise checks of notebook 05_apac_training.

* ``05.separable``: the weights of a depthwise-separable convolution.
* ``05.time_shift``: a batched, zero-filled time shift (the augmentation of the notebook).
"""

from __future__ import annotations

import torch

from apac_lab.exercises import register

__all__ = []

#: The layer of exercise 05.separable: a 3x3 depthwise conv on 48 channels, then a 1x1
#: pointwise conv to 96 channels, neither with a bias.
SEPARABLE = {"in_channels": 48, "out_channels": 96, "kernel": 3}


@register("05.separable")
def _separable(answer):
    c_in, c_out, k = SEPARABLE["in_channels"], SEPARABLE["out_channels"], SEPARABLE["kernel"]
    depthwise, pointwise, full = c_in * k * k, c_in * c_out, c_in * c_out * k * k
    try:
        value = int(answer)
    except (TypeError, ValueError):
        return False, "give the number of weights as an int"
    if value != answer:
        return False, "give a whole number of weights"
    if value == depthwise + pointwise:
        return True, ""
    if value == full:
        return False, (f"{full} is a standard 3x3 convolution from {c_in} to {c_out} channels; the depthwise part "
                       "has ONE 3x3 filter per input channel, then a 1x1 conv mixes the channels")
    if value in (depthwise, pointwise):
        return False, "that is one of the two parts only: add the depthwise (C_in*k*k) and the pointwise (C_in*C_out)"
    return False, "depthwise: one k x k filter per input channel; pointwise: one weight per (input, output) pair"


def _reference_shift(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    n = x.shape[1]
    for b in range(x.shape[0]):
        s = int(shifts[b])
        for t in range(n):
            if 0 <= t - s < n:
                out[b, t] = x[b, t - s]
    return out


@register("05.time_shift")
def _time_shift(answer):
    if not callable(answer):
        return False, "answer with your function shift(x, shifts), not its result"
    g = torch.Generator().manual_seed(5)
    x = torch.randn(4, 40, generator=g)
    shifts = torch.tensor([3, -5, 0, 39])
    try:
        got = answer(x.clone(), shifts.clone())
    except Exception as exc:  # the student's code: report, never raise
        return False, f"your function raised {type(exc).__name__}: {exc}"
    if not isinstance(got, torch.Tensor) or got.shape != x.shape:
        return False, f"return a tensor of the input's shape {tuple(x.shape)}"
    want = _reference_shift(x, shifts)
    if torch.allclose(got, want):
        return True, ""
    if torch.allclose(got, torch.stack([torch.roll(r, int(s)) for r, s in zip(x, shifts)])):
        return False, "that wraps around (torch.roll): the samples shifted out must be dropped and the gap filled with zeros"
    if torch.allclose(got, _reference_shift(x, -shifts)):
        return False, "right idea, wrong direction: a positive shift delays the clip (out[t] = x[t - shift])"
    return False, "out[b, t] must be x[b, t - shifts[b]] where 0 <= t - shifts[b] < samples, else 0"
