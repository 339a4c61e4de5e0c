"""The modulation view: where sounds and Gabor STRFs live in the modulation plane.

The 2D Fourier transform of a log-mel (bands x frames) is its *modulation spectrum*:
how much energy the spectrogram has at each **temporal modulation** (Hz: how fast the
envelope in a band goes up and down; syllables are around 4 Hz) and each **spectral
modulation** (cycles per band, or per octave: how finely the spectrum is rippled;
harmonics and formants). Speech fills the low temporal (< 16 Hz) and low spectral
modulations (Elliott & Theunissen 2009).

A Gabor STRF with modulation frequency ``F`` (cycles per sample) and orientation
``gamma`` is a plane wave ``exp(i 2 pi F (t cos(gamma) + f sin(gamma)))`` under an
envelope: it picks out the modulation ``(F cos(gamma) * frame_rate Hz, F sin(gamma)
cycles per band)``, with a spread of ``1 / (2 pi sigma)`` around it. That point is the
filter's place in the plane: the quantitative view of learned filters in Riad et al.
(2021). The spectrum of a real log-mel is point-symmetric, so both are drawn on the half
plane with spectral modulation >= 0; the sign of the temporal modulation then tells
downward (> 0) from upward (< 0) frequency sweeps.

Notebook: 02_gabor_filter_learning.
"""

from __future__ import annotations

import math

import torch

from apac_lab.frontends.db import power_to_db
from apac_lab.frontends.scratch import hz_to_mel, mel_per_octave

__all__ = ["modulation_axes", "modulation_spectrum", "gabor_modulation_position", "bands_per_octave"]


def modulation_axes(n_bands: int, n_frames: int, *, frame_rate: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Axes of :func:`modulation_spectrum`: spectral (cycles/band, >= 0) and temporal (Hz, ascending).

    >>> spec, temp = modulation_axes(8, 4, frame_rate=100.0)
    >>> spec.tolist(), temp.tolist()
    ([0.0, 0.125, 0.25, 0.375, 0.5], [-50.0, -25.0, 0.0, 25.0])
    """
    if n_bands < 1 or n_frames < 1:
        raise ValueError(f"need at least one band and one frame, got {n_bands} x {n_frames}")
    if not frame_rate > 0:
        raise ValueError(f"frame_rate must be > 0 Hz (sample_rate / hop_length), got {frame_rate}")
    spectral = torch.fft.rfftfreq(n_bands, dtype=torch.float64)
    temporal = torch.fft.fftshift(torch.fft.fftfreq(n_frames, d=1.0 / frame_rate, dtype=torch.float64))
    return spectral, temporal


def modulation_spectrum(
    logmel: torch.Tensor,
    *,
    frame_rate: float,
    window: bool = True,
    db: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """2D modulation power spectrum of log-mels.

    Args:
        logmel (Tensor): ``(..., n_mels, frames)``, e.g. from :class:`apac_lab.frontends.LogMel`.
        frame_rate (float): frames per second (``sample_rate / hop_length``), Hz.
        window (bool, default True): Hann window along both axes before the transform
            (less leakage from the edges); the mean is removed first.
        db (bool, default True): power in dB relative to its peak (0 dB), floored at -80 dB.

    Returns:
        ``(power, spectral, temporal)``: ``power`` is ``(..., n_mels // 2 + 1, frames)``
        (spectral modulation >= 0 along rows, temporal modulation ascending along
        columns), ``spectral`` in cycles per band and ``temporal`` in Hz (see
        :func:`modulation_axes`). Average over clips with ``power.mean(0)``.

    >>> p, spec, temp = modulation_spectrum(torch.randn(3, 16, 40), frame_rate=100.0)
    >>> tuple(p.shape), tuple(spec.shape), tuple(temp.shape)
    ((3, 9, 40), (9,), (40,))
    """
    if logmel.dim() < 2:
        raise ValueError(f"logmel must be (..., n_mels, frames), got shape {tuple(logmel.shape)}")
    n_bands, n_frames = logmel.shape[-2:]
    spectral, temporal = modulation_axes(n_bands, n_frames, frame_rate=frame_rate)
    x = logmel.detach().to(torch.float64)
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    if window:
        wf = torch.hann_window(n_bands, periodic=False, dtype=x.dtype, device=x.device) if n_bands > 1 else x.new_ones(1)
        wt = torch.hann_window(n_frames, periodic=False, dtype=x.dtype, device=x.device) if n_frames > 1 else x.new_ones(1)
        x = x * wf[:, None] * wt[None, :]
    # rfft along bands (keeps spectral >= 0), full fft along frames, then centre 0 Hz.
    X = torch.fft.fft(torch.fft.rfft(x, dim=-2), dim=-1)
    power = torch.fft.fftshift(X.abs() ** 2, dim=-1)
    if db:
        power = power_to_db(power, ref=None, amin=1e-30, top_db=80.0)
    return power.float(), spectral, temporal


def bands_per_octave(at_hz: float, *, sample_rate: int, n_mels: int, f_min: float = 0.0, f_max: float | None = None) -> float:
    """Local density of HTK mel bands, in bands per octave, at frequency ``at_hz``.

    Mel bands are not equally spaced in octaves, so "cycles per octave" is a local
    conversion: cycles per band times this number.

    >>> round(bands_per_octave(1000.0, sample_rate=8000, n_mels=64), 2)
    13.92
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    if not 0 <= f_min < f_max:
        raise ValueError(f"need 0 <= f_min < f_max, got {f_min}, {f_max}")
    if not f_min < at_hz <= f_max:
        raise ValueError(f"at_hz must be in ({f_min}, {f_max}] Hz, got {at_hz}")
    band_spacing = (hz_to_mel(float(f_max)) - hz_to_mel(float(f_min))) / (n_mels + 1)  # mel per band
    return mel_per_octave(at_hz) / band_spacing


def gabor_modulation_position(
    freq: torch.Tensor,
    gamma: torch.Tensor,
    *,
    frame_rate: float,
    sigma_t: torch.Tensor | None = None,
    sigma_f: torch.Tensor | None = None,
    bands_per_octave: float | None = None,
) -> dict[str, torch.Tensor]:
    """Where Gabor filters sit in the modulation plane (spectral modulation >= 0 half).

    Args:
        freq (Tensor): modulation frequency ``F``, cycles per sample.
        gamma (Tensor): orientation, radians.
        frame_rate (float): frames per second of the log-mel, Hz.
        sigma_t, sigma_f (Tensor | None): envelope widths (frames, bands); when given,
            the filters' spreads in the plane are returned too.
        bands_per_octave (float | None, default None): give it (see
            :func:`bands_per_octave`) for spectral modulation in cycles per octave,
            else it is in cycles per band.

    Returns:
        dict with ``temporal_hz`` and ``spectral`` (same shape as ``freq``), and, with
        the widths, ``temporal_bw_hz = frame_rate / (2 pi sigma_t)`` and
        ``spectral_bw = 1 / (2 pi sigma_f)`` (standard deviations of the filters'
        Gaussian spectra, same units).

    >>> pos = gabor_modulation_position(torch.tensor([0.1, 0.1]), torch.tensor([0.0, math.pi / 2]), frame_rate=100.0)
    >>> [round(v, 3) + 0.0 for v in pos["temporal_hz"].tolist()], [round(v, 3) for v in pos["spectral"].tolist()]
    ([10.0, 0.0], [0.0, 0.1])
    """
    if not frame_rate > 0:
        raise ValueError(f"frame_rate must be > 0 Hz, got {frame_rate}")
    freq = torch.as_tensor(freq).detach().double()
    gamma = torch.as_tensor(gamma).detach().double()
    temporal = freq * torch.cos(gamma) * frame_rate
    spectral = freq * torch.sin(gamma)
    # a real log-mel's spectrum is point-symmetric: fold onto spectral >= 0
    flip = (spectral < 0) | ((spectral == 0) & (temporal < 0))
    temporal = torch.where(flip, -temporal, temporal)
    spectral = torch.where(flip, -spectral, spectral)
    scale = 1.0 if bands_per_octave is None else float(bands_per_octave)
    out = {"temporal_hz": temporal.float(), "spectral": (spectral * scale).float()}
    if sigma_t is not None:
        out["temporal_bw_hz"] = (frame_rate / (2 * math.pi * torch.as_tensor(sigma_t).detach().double())).float()
    if sigma_f is not None:
        out["spectral_bw"] = (scale / (2 * math.pi * torch.as_tensor(sigma_f).detach().double())).float()
    return out
