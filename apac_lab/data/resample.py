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

__all__ = ["MIN_SAMPLE_RATE", "MAX_SAMPLE_RATE", "ChunkResampler", "ResamplePlan", "check_sample_rate", "resample_plan",
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


class ChunkResampler:
    """Resample a stream that arrives in chunks, giving what :func:`resample_waveform` gives
    for the whole stream (to float32 rounding), chunk by chunk, in bounded memory.

    An output sample is emitted as soon as every input sample its filter reaches has arrived;
    the input kept is only what later outputs still reach (a few filter lengths). A live
    recording streamed at the browser's rate (often 48 kHz) becomes the model's rate this way.

    Args:
        orig_freq (int): the stream's rate in Hz, 1000 to 384000.
        new_freq (int): the wanted rate in Hz, 1000 to 384000.

    ``push(chunk)`` takes ``(samples,)`` and returns the new output samples (maybe none);
    ``flush()`` ends the stream and returns the rest, so that all outputs together have
    ``ceil(new_freq * samples / orig_freq)`` samples. ``samples_in`` and ``samples_out``
    count them.

    >>> x = torch.randn(4800)
    >>> r = ChunkResampler(48000, 8000)
    >>> y = torch.cat([r.push(c) for c in x.split(480)] + [r.flush()])
    >>> y.shape, bool(torch.allclose(y, resample_waveform(x, 48000, 8000), atol=1e-6))
    (torch.Size([800]), True)
    """

    def __init__(self, orig_freq: int, new_freq: int) -> None:
        self.orig, self.new = check_sample_rate(orig_freq, "orig_freq"), check_sample_rate(new_freq, "new_freq")
        g = math.gcd(self.orig, self.new)
        self._o, self._n = self.orig // g, self.new // g  # input block and output block of one filter phase cycle
        plan = resample_plan(self.orig, self.new)
        width = math.ceil(_WIDTH * self._o / (min(self._o, self._n) * _ROLLOFF))
        # input samples each side of an output instant that its filter may reach (torchaudio's
        # block of o + 2 * width samples, or the direct method's taps), plus one block of slack
        self._reach = self._o + 2 * width + plan.taps
        self._buffer = torch.zeros(0)
        self._start = 0  # global index of _buffer[0]; always a multiple of _o
        self.samples_in = self.samples_out = 0
        self._done = False

    def _resampled_from(self, start_out: int, stop_out: int) -> torch.Tensor:
        """Outputs ``start_out:stop_out`` (global indices), from the buffer."""
        if stop_out <= start_out:
            return torch.zeros(0)
        y = resample_waveform(self._buffer, self.orig, self.new)
        offset = self._start // self._o * self._n  # the output index of the buffer's first sample
        return y[start_out - offset: stop_out - offset]

    def push(self, chunk: torch.Tensor) -> torch.Tensor:
        """Add ``chunk`` ``(samples,)``; return the output samples it completed."""
        if self._done:
            raise ValueError("this ChunkResampler was flushed: make a new one for a new stream")
        chunk = torch.as_tensor(chunk, dtype=torch.float32).reshape(-1)
        self._buffer = torch.cat([self._buffer, chunk])
        self.samples_in += chunk.numel()
        if self.orig == self.new:
            self._buffer = torch.zeros(0)
            self.samples_out += chunk.numel()
            return chunk
        # output j reaches input up to about j * o / n + reach: final once those samples are in
        ready = max(self.samples_out, (self.samples_in - self._reach) * self._n // self._o)
        out = self._resampled_from(self.samples_out, ready)
        self.samples_out = ready
        # later outputs (j >= ready) reach back to about ready * o / n - reach: drop what is before
        keep_from = max(self._start, (ready * self._o // self._n - self._reach) // self._o * self._o)
        self._buffer = self._buffer[keep_from - self._start:]
        self._start = keep_from
        return out

    def flush(self) -> torch.Tensor:
        """End the stream (zeros after it, as :func:`resample_waveform` pads); return the last outputs."""
        if self._done:
            return torch.zeros(0)
        self._done = True
        total = math.ceil(self.new * self.samples_in / self.orig)
        if self.orig == self.new:
            return torch.zeros(0)
        out = self._resampled_from(self.samples_out, total)
        self.samples_out = total
        self._buffer = torch.zeros(0)
        return out
