"""Gammatone spectrogram: a spectrogram seen through ERB-spaced gammatone filters.

A gammatone filter (a gamma envelope times a tone) fits the cochlea's frequency
tuning: centre frequencies are evenly spaced on the ERB-rate scale (Glasberg & Moore,
1990), and each filter is about one ERB wide, ``ERB(f) = 24.7 (4.37 f / 1000 + 1)`` Hz.
Here the filters act in the frequency domain, on a short-time power spectrum (as Ellis's
``gtgram`` FFT approximation and nnAudio's ``Gammatonegram`` do), with the magnitude
response of an order-``n`` gammatone, ``|H(f)| = (1 + ((f - fc) / (1.019 ERB(fc)))**2)**(-n/2)``.

Defaults follow the listener articles (Rothmann, 2018) where their values are known
here: 100 filters (and 8-step buffers downstream). The article calls
``gammatone.gtgram.gtgram(samples, sample_rate, window_time, hop_time, num_filters,
cutoff_low)`` (PyPI ``gammatone`` 1.0.3) without giving the window, hop or cutoff; the
25 ms window, 10 ms hop and 100 Hz low cutoff of :func:`echoic_defaults` are the usual
gammatonegram settings. ``backend="nnaudio"`` swaps in nnAudio's ``Gammatonegram``
(Ellis's filter shapes) with the same arguments.

Against ``gtgram``: ``gtgram`` runs Slaney's IIR gammatone filters over the waveform and
returns, per window, the RMS of each filter's output (rectangular 25 ms windows, no
centring). This module's power with ``center=False``, divided by
:attr:`Gammatonegram.gtgram_power_scale` (``n_fft * sum(window**2) / 2``), estimates
``gtgram``'s output squared: the same centre frequencies and frames, the total energy of
a real FSDD recording within 0.1 dB, and the filter outputs within 40 dB of the loudest
within 1.5 dB (median) and 5.5 dB (90th percentile), 1 and 3 dB above 950 Hz
(``tests/test_gammatone.py``). The differences are largest in the low filters, narrower
than a 25 ms window's resolution, where the FFT approximation smooths across harmonics
and the IIR filters ring and delay.

Notebook: 03_echoic_buffers.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from apac_lab.frontends.fixed import safe_log

__all__ = ["echoic_defaults", "erb", "hz_to_erb_rate", "erb_rate_to_hz", "erb_space", "gammatone_filterbank",
           "Gammatonegram", "LogGammatonegram"]

_EAR_Q, _MIN_BW = 9.26449, 24.7  # Glasberg & Moore (1990): ERB = f / EAR_Q + MIN_BW


def echoic_defaults(sample_rate: int = 8000) -> dict:
    """Gammatone settings for the listener, in samples at ``sample_rate``.

    100 filters from 100 Hz to Nyquist, 25 ms Hann windows every 10 ms (100 frames per
    second, so 8 dilated steps of base 2 span 2.55 s, inside echoic memory), and an FFT
    of at least 2 windows so the narrowest low filters fall on several bins.

    >>> echoic_defaults(8000)
    {'sample_rate': 8000, 'win_length': 200, 'hop_length': 80, 'n_fft': 512, 'n_filters': 100, 'f_min': 100.0, 'f_max': 4000.0}
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be > 0 Hz, got {sample_rate}")
    win = max(2, int(round(0.025 * sample_rate)))
    return {
        "sample_rate": int(sample_rate),
        "win_length": win,
        "hop_length": max(1, int(round(0.010 * sample_rate))),
        "n_fft": 2 ** math.ceil(math.log2(2 * win)),
        "n_filters": 100,
        "f_min": 100.0,
        "f_max": sample_rate / 2,
    }


def erb(f: torch.Tensor | float) -> torch.Tensor:
    """Equivalent rectangular bandwidth in Hz at frequency ``f`` Hz (Glasberg & Moore, 1990).

    >>> round(float(erb(1000.0)), 1)
    132.6
    """
    return torch.as_tensor(f, dtype=torch.float64) / _EAR_Q + _MIN_BW


def hz_to_erb_rate(f: torch.Tensor | float) -> torch.Tensor:
    """ERB-rate (number of ERBs below ``f``): ``21.4 log10(1 + 4.37e-3 f)``.

    >>> round(float(hz_to_erb_rate(1000.0)), 2)
    15.62
    """
    return 21.4 * torch.log10(1 + torch.as_tensor(f, dtype=torch.float64) / (_EAR_Q * _MIN_BW))


def erb_rate_to_hz(e: torch.Tensor | float) -> torch.Tensor:
    """Inverse of :func:`hz_to_erb_rate`."""
    return (torch.pow(10.0, torch.as_tensor(e, dtype=torch.float64) / 21.4) - 1) * (_EAR_Q * _MIN_BW)


def erb_space(f_min: float, f_max: float, n_filters: int) -> torch.Tensor:
    """``n_filters`` centre frequencies in Hz, ascending, evenly spaced in ERB-rate.

    The lowest is ``f_min``; they step by ``(E(f_max) - E(f_min)) / n_filters``, so the
    highest sits one step below ``f_max`` (Slaney's and Ellis's convention, as nnAudio).

    >>> erb_space(100.0, 4000.0, 4).round().tolist()
    [100.0, 394.0, 950.0, 2004.0]
    """
    if not 0 <= f_min < f_max:
        raise ValueError(f"need 0 <= f_min < f_max, got f_min={f_min}, f_max={f_max}")
    if n_filters < 1:
        raise ValueError(f"n_filters must be >= 1, got {n_filters}")
    lo, hi = hz_to_erb_rate(f_min), hz_to_erb_rate(f_max)
    return erb_rate_to_hz(lo + (hi - lo) * torch.arange(n_filters, dtype=torch.float64) / n_filters)


def gammatone_filterbank(*, sample_rate: int, n_fft: int, n_filters: int = 100, f_min: float = 100.0,
                         f_max: float | None = None, order: int = 4, power: float = 2.0) -> torch.Tensor:
    """Gammatone weights on the FFT bins: ``(n_filters, n_fft // 2 + 1)``, peak 1 at each centre.

    Row ``i`` is ``|H_i(f)|**power`` on the bin frequencies, to multiply a spectrum raised
    to the same ``power`` (2: power spectrum in, filter output power out).

    >>> w = gammatone_filterbank(sample_rate=8000, n_fft=512, n_filters=10)
    >>> w.shape, float(w.max()) <= 1.0
    (torch.Size([10, 257]), True)
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    if not 0 <= f_min < f_max <= sample_rate / 2:
        raise ValueError(f"need 0 <= f_min < f_max <= sample_rate/2 = {sample_rate / 2:g} Hz, got {f_min}, {f_max}")
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    centres = erb_space(f_min, f_max, n_filters)[:, None]
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)[None, :]
    h = (1 + ((freqs - centres) / (1.019 * erb(centres))) ** 2) ** (-order / 2)
    return (h ** power).float()


class Gammatonegram(nn.Module):
    """Gammatone spectrogram: Hann-windowed power spectra through ERB-spaced gammatone filters.

    Args:
        sample_rate (int, default 8000): Hz.
        win_length (int | None, default None): window in samples; None is 25 ms.
        hop_length (int | None, default None): hop in samples; None is 10 ms.
        n_fft (int | None, default None): FFT size (>= win_length, zero-padded); None is
            the next power of two >= 2 windows.
        n_filters (int, default 100): gammatone filters.
        f_min (float, default 100.0): lowest centre frequency in Hz.
        f_max (float | None, default None): upper edge in Hz; None is Nyquist.
        order (int, default 4): gammatone order.
        power (float, default 2.0): 2 for power, 1 for magnitude.
        center (bool, default True): pad ``win_length // 2`` (reflect) at both ends so frame
            ``t`` is centred on sample ``t * hop_length``; False starts frame 0 at sample 0
            (what a stream can compute, see :meth:`frame`).
        trainable (bool, default False): make the filter weights a learnable parameter.
        backend (str, default "apac"): ``"apac"`` (this module) or ``"nnaudio"``
            (nnAudio's ``Gammatonegram``, Ellis's filter shapes; needs nnAudio).

    Shape: ``(..., samples)`` -> ``(..., n_filters, frames)``; centred,
    ``frames = samples // hop_length + 1``.

    >>> Gammatonegram(sample_rate=8000)(torch.randn(2, 8000)).shape
    torch.Size([2, 100, 101])
    """

    def __init__(self, *, sample_rate: int = 8000, win_length: int | None = None, hop_length: int | None = None,
                 n_fft: int | None = None, n_filters: int = 100, f_min: float = 100.0, f_max: float | None = None,
                 order: int = 4, power: float = 2.0, center: bool = True, trainable: bool = False,
                 backend: str = "apac") -> None:
        super().__init__()
        d = echoic_defaults(sample_rate)
        win_length = win_length or d["win_length"]
        hop_length = hop_length or d["hop_length"]
        n_fft = n_fft or max(2 ** math.ceil(math.log2(2 * win_length)), 2)
        if win_length < 2:
            raise ValueError(f"win_length must be >= 2 samples, got {win_length}")
        if hop_length < 1:
            raise ValueError(f"hop_length must be >= 1 sample, got {hop_length}")
        if n_fft < win_length:
            raise ValueError(f"n_fft ({n_fft}) must be >= win_length ({win_length}); raise n_fft or shorten the window")
        if power <= 0:
            raise ValueError(f"power must be > 0 (2 for power, 1 for magnitude), got {power}")
        if backend not in ("apac", "nnaudio"):
            raise ValueError(f"backend must be 'apac' or 'nnaudio', got {backend!r}")
        self.sample_rate, self.win_length, self.hop_length, self.n_fft = sample_rate, win_length, hop_length, n_fft
        self.n_filters, self.f_min = n_filters, f_min
        self.f_max = sample_rate / 2 if f_max is None else f_max
        self.order, self.power, self.center, self.trainable, self.backend = order, power, center, trainable, backend
        weights = gammatone_filterbank(sample_rate=sample_rate, n_fft=n_fft, n_filters=n_filters, f_min=f_min,
                                       f_max=self.f_max, order=order, power=power)
        self.register_buffer("center_freqs", erb_space(f_min, self.f_max, n_filters).float())
        if backend == "nnaudio":
            from nnAudio.features import Gammatonegram as NNAudioGammatonegram

            self.nnaudio = NNAudioGammatonegram(
                sr=sample_rate, n_fft=n_fft, win_length=win_length, n_bins=n_filters, hop_length=hop_length,
                center=center, power=power, fmin=f_min, fmax=self.f_max, trainable_bins=trainable, verbose=False,
            )
            return
        self.register_buffer("window", torch.hann_window(win_length, periodic=True))
        if trainable:
            self.weights = nn.Parameter(weights)
        else:
            self.register_buffer("weights", weights)

    @property
    def gtgram_power_scale(self) -> float:
        """``n_fft * sum(window**2) / 2``: this module's power (``power=2``) over the square of
        ``gammatone.gtgram``'s RMS output, for sound broader than a filter's FFT bins (the
        one-sided Hann-windowed power spectrum of unit-variance white noise has
        ``sum(window**2)`` per bin; a filter of unit peak gain passes ``2 B / sample_rate``
        of the variance, ``B`` its noise bandwidth, over ``B * n_fft / sample_rate`` bins).

        >>> Gammatonegram(sample_rate=8000).gtgram_power_scale
        19200.0
        """
        if self.backend != "apac" or self.power != 2:
            raise ValueError("gtgram_power_scale is defined for backend='apac' and power=2")
        window = torch.hann_window(self.win_length, periodic=True, dtype=torch.float64)
        return float(self.n_fft * (window ** 2).sum() / 2)

    def _scale(self, x: torch.Tensor) -> torch.Tensor:
        """The output scale (linear here; :class:`LogGammatonegram` takes the log)."""
        return x

    def _filter(self, samples: torch.Tensor) -> torch.Tensor:
        spec = torch.fft.rfft(samples * self.window, n=self.n_fft).abs() ** self.power
        return spec @ self.weights.T

    def frame(self, samples: torch.Tensor) -> torch.Tensor:
        """Filter outputs of windows of exactly ``win_length`` samples: ``(..., win_length)`` -> ``(..., n_filters)``.

        The one step a stream repeats every hop; ``forward`` with ``center=False`` is this,
        applied to every hop.
        """
        if self.backend != "apac":
            raise NotImplementedError("frame() needs backend='apac'")
        if samples.shape[-1] != self.win_length:
            raise ValueError(f"a frame is win_length={self.win_length} samples, got {samples.shape[-1]}")
        return self._scale(self._filter(samples))

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        if self.backend == "nnaudio":
            lead = waveform.shape[:-1]
            out = self.nnaudio(waveform.reshape(-1, waveform.shape[-1]))
            return self._scale(out.reshape(*lead, *out.shape[-2:]))
        x = waveform
        if self.center:
            pad = self.win_length // 2
            x = nn.functional.pad(x.reshape(-1, 1, x.shape[-1]), (pad, pad), mode="reflect").reshape(*x.shape[:-1], -1)
        if x.shape[-1] < self.win_length:
            raise ValueError(f"need at least win_length={self.win_length} samples, got {waveform.shape[-1]}")
        frames = x.unfold(-1, self.win_length, self.hop_length)  # (..., frames, win_length)
        return self._scale(self._filter(frames)).transpose(-1, -2)


class LogGammatonegram(Gammatonegram):
    """Natural-log gammatone spectrogram, ``safe_log(gammatonegram, eps)``; same arguments plus ``eps``.

    >>> LogGammatonegram(sample_rate=8000, n_filters=40)(torch.randn(4000)).shape
    torch.Size([40, 51])
    """

    def __init__(self, *, eps: float = 1e-6, **kwargs) -> None:
        super().__init__(**kwargs)
        self.eps = eps

    def _scale(self, x: torch.Tensor) -> torch.Tensor:
        return safe_log(x, self.eps)
