"""Changing a clip's sample rate at a cost that stays bounded, whatever rate a header claims.

``torchaudio.functional.resample`` builds one windowed-sinc filter per output phase: a
``(new / g) x (orig / g + 2 * width)`` kernel, ``g = gcd(orig, new)``. For the usual rates
that is small (44.1 kHz -> 16 kHz: 160 phases of 475 taps), but a rate with no common
factor with the target makes it huge: a 76-byte WAV whose header says 96001 Hz asks for a
16000 x 96075 kernel (about 12 GB in float64) when resampled to 16 kHz.

:func:`resample_waveform` therefore chooses between two ways of computing the same filter
(:func:`resample_plan` says which):

- ``"torchaudio"``: torchaudio's kernel, when it has at most :data:`KERNEL_LIMIT` values;
- ``"sinc"``: the same Hann-windowed sinc (``lowpass_filter_width=6``, ``rolloff=0.99``)
  evaluated directly at each output instant ``j * orig / new``, over the input samples
  within 6 zero crossings of it (``2 * ceil(6 * orig / (0.99 * min(orig, new))) + 2``
  taps), in chunks of at most :data:`CHUNK_VALUES` filter values (8 MiB each). The ratio is exact (no
  rational approximation, so no pitch or duration error), the memory is bounded, and the
  time is proportional to the number of output samples times the taps.

Both give torchaudio's output (to float32 rounding). Rates outside
:data:`MIN_SAMPLE_RATE`-:data:`MAX_SAMPLE_RATE` Hz are refused by :func:`check_sample_rate`.

Notebook: 01_spectrogram_and_mfcc.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import torch
import torchaudio.functional as AF

__all__ = ["MIN_SAMPLE_RATE", "MAX_SAMPLE_RATE", "ResamplePlan", "check_sample_rate", "resample_plan",
           "resample_waveform"]

#: The sample rates (Hz) a file may have or a clip may be resampled to; anything else is refused.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1_000, 384_000
#: The largest torchaudio kernel (filter values) built; beyond it the direct "sinc" method is used.
KERNEL_LIMIT = 1 << 20
#: Filter values the direct "sinc" method holds at once, per temporary (float64: 8 MiB).
CHUNK_VALUES = 1 << 20
_WIDTH, _ROLLOFF = 6, 0.99  # torchaudio's defaults (lowpass_filter_width, rolloff)


class ResamplePlan(NamedTuple):
    """How :func:`resample_waveform` changes ``orig`` Hz into ``new`` Hz.

    Attributes:
        method (str): ``"none"`` (same rate), ``"torchaudio"`` or ``"sinc"``.
        kernel_values (int): filter values computed at once (0 for ``"none"``).
        taps (int): input samples weighed per output sample.
    """

    method: str
    kernel_values: int
    taps: int


def check_sample_rate(rate: object, what: str = "sample_rate") -> int:
    """``rate`` as an int number of Hz, or a ValueError naming ``what`` if it is not one in range.

    Args:
        rate (object): the rate to check (an int, or a float holding an integer).
        what (str, default "sample_rate"): how the message names the rate (e.g. a file name).

    >>> check_sample_rate(16000.0)
    16000
    >>> check_sample_rate(0)
    Traceback (most recent call last):
    ...
    ValueError: sample_rate must be a whole number of Hz from 1000 to 384000, got 0; pass e.g. 16000.
    """
    ok = isinstance(rate, numbers.Real) and not isinstance(rate, bool) and float(rate).is_integer()
    if not ok or not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise ValueError(
            f"{what} must be a whole number of Hz from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE}, got {rate!r}; "
            "pass e.g. 16000."
        )
    return int(rate)


def resample_plan(orig_freq: int, new_freq: int) -> ResamplePlan:
    """Which method :func:`resample_waveform` uses for ``orig_freq`` -> ``new_freq`` Hz, and its cost.

    >>> resample_plan(44100, 16000)
    ResamplePlan(method='torchaudio', kernel_values=76000, taps=475)
    >>> resample_plan(96001, 16000)
    ResamplePlan(method='sinc', kernel_values=1048572, taps=76)
    """
    orig, new = check_sample_rate(orig_freq, "orig_freq"), check_sample_rate(new_freq, "new_freq")
    if orig == new:
        return ResamplePlan("none", 0, 1)
    g = math.gcd(orig, new)
    o, n = orig // g, new // g
    width = math.ceil(_WIDTH * o / (min(o, n) * _ROLLOFF))
    if n * (o + 2 * width) <= KERNEL_LIMIT:
        return ResamplePlan("torchaudio", n * (o + 2 * width), o + 2 * width)
    taps = 2 * math.ceil(_WIDTH * orig / (min(orig, new) * _ROLLOFF)) + 2
    return ResamplePlan("sinc", max(taps, CHUNK_VALUES // taps * taps), taps)


def _sinc_resample(waveform: torch.Tensor, orig: int, new: int, taps: int) -> torch.Tensor:
    """torchaudio's Hann-windowed sinc, evaluated output sample by output sample, in chunks."""
    shape = waveform.shape
    x = waveform.reshape(-1, shape[-1]).to(torch.float64)
    length = x.shape[-1]
    out_len = math.ceil(new * length / orig)
    base = min(orig, new) * _ROLLOFF
    half = taps // 2
    x = torch.nn.functional.pad(x, (half + 1, half + 1))  # zeros around the clip, as torchaudio pads
    out = torch.empty(x.shape[0], out_len, dtype=torch.float64)
    chunk = max(1, CHUNK_VALUES // (taps * x.shape[0]))
    offsets = torch.arange(taps, dtype=torch.long) - half + 1
    for start in range(0, out_len, chunk):
        j = torch.arange(start, min(start + chunk, out_len), dtype=torch.float64)
        centre = j * orig / new  # the output instant, in input samples
        i = torch.floor(centre).long()[:, None] + offsets  # (chunk, taps) input indices
        t = (base / orig * (i.to(torch.float64) - centre[:, None])).clamp_(-_WIDTH, _WIDTH)
        window = torch.cos(t * (math.pi / _WIDTH / 2)) ** 2
        t = t * math.pi
        kernel = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / t) * window * (base / orig)
        out[:, start : start + j.numel()] = (x[:, i + half + 1] * kernel).sum(-1)
    return out.to(waveform.dtype).reshape(*shape[:-1], out_len)


def resample_waveform(waveform: torch.Tensor, orig_freq: int, new_freq: int) -> torch.Tensor:
    """Resample the last dimension from ``orig_freq`` to ``new_freq`` Hz, at a bounded cost.

    The result is ``torchaudio.functional.resample``'s (Hann-windowed sinc, 6 zero
    crossings, rolloff 0.99, ``ceil(new * samples / orig)`` samples); :func:`resample_plan`
    says whether torchaudio's kernel or the direct evaluation computes it. The filter values
    held at once stay under a few tens of MiB, whatever the two rates.

    Args:
        waveform (Tensor): ``(..., samples)`` float.
        orig_freq (int): its rate in Hz, 1000 to 384000.
        new_freq (int): the wanted rate in Hz, 1000 to 384000.

    Returns:
        Tensor: ``(..., ceil(new_freq * samples / orig_freq))``, ``waveform``'s dtype.

    Raises:
        ValueError: a rate that is not a whole number of Hz in range.

    >>> resample_waveform(torch.zeros(2, 96001), 96001, 16000).shape
    torch.Size([2, 16000])
    """
    plan = resample_plan(orig_freq, new_freq)
    if plan.method == "none":
        return waveform
    if plan.method == "torchaudio":
        return AF.resample(waveform, int(orig_freq), int(new_freq))
    return _sinc_resample(waveform, int(orig_freq), int(new_freq), plan.taps)
