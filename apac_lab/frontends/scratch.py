"""The five MFCC steps from scratch, as plain functions, for teaching.

waveform --(1) :func:`frame_signal`--> frames --(2) :func:`power_spectrum`--> power
spectrogram --(3) :func:`mel_filterbank` (a matrix product)--> mel spectrogram --(4)
:func:`log_compress`--> log-mel --(5) :func:`dct`--> MFCC.

Every step is a few lines of torch, and :func:`mfcc_from_scratch` chains them. With the
same settings the chain reproduces ``torchaudio.transforms.MFCC`` (and
:class:`apac_lab.frontends.MFCC`): centred frames with reflect padding, a periodic Hann
window, power 2, HTK mel triangles without area normalisation, decibels with
``top_db=80``, and the orthonormal DCT-II. ``tests/test_frontends_scratch.py`` checks
each step against its torchaudio counterpart and the chain on real FSDD recordings.

Layout convention (torchaudio's): spectra are ``(..., frequency, frames)``, and each
step after framing is a matrix applied on the left, ``mel = fb @ power`` and
``mfcc = D @ log_mel``. Matrices are built in float64 and returned as float32.

Notebook: 01_spectrogram_and_mfcc.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from apac_lab.frontends.db import power_to_db
from apac_lab.frontends.fixed import frontend_settings, safe_log

__all__ = [
    "HTK_MEL_SCALE", "HTK_MEL_BREAK_HZ", "MEL_SCALES", "hz_to_mel", "mel_to_hz", "slaney_hz_to_mel", "slaney_mel_to_hz",
    "mel_per_octave",
    "fft_frequencies", "frame_times", "num_frames",
    "frame_signal", "power_spectrum", "mel_band_edges", "mel_filterbank",
    "log_compress", "dct_matrix", "dct", "mfcc_from_scratch",
]


# ----------------------------------------------------------------------------- scales and axes
#: The HTK mel scale's constants: ``mel = HTK_MEL_SCALE * log10(1 + f / HTK_MEL_BREAK_HZ)``.
HTK_MEL_SCALE = 2595.0
HTK_MEL_BREAK_HZ = 700.0


def hz_to_mel(f):
    """HTK mel scale: ``2595 * log10(1 + f / 700)``. Floats or tensors.

    Roughly linear below 700 Hz and logarithmic above, like the ear's resolution.

    >>> round(hz_to_mel(1000.0), 2)
    999.99
    """
    if isinstance(f, torch.Tensor):
        return HTK_MEL_SCALE * torch.log10(1.0 + f / HTK_MEL_BREAK_HZ)
    return HTK_MEL_SCALE * math.log10(1.0 + f / HTK_MEL_BREAK_HZ)


def mel_to_hz(m):
    """Inverse of :func:`hz_to_mel`: ``700 * (10 ** (m / 2595) - 1)``.

    >>> round(mel_to_hz(hz_to_mel(440.0)), 6)
    440.0
    """
    return HTK_MEL_BREAK_HZ * (10.0 ** (m / HTK_MEL_SCALE) - 1.0)


#: The two mel scales of the kit: ``"htk"`` (its own, torchaudio's default) and ``"slaney"``
#: (librosa's default, from Slaney's Auditory Toolbox: linear below 1 kHz, logarithmic above).
MEL_SCALES = ("htk", "slaney")
_SLANEY_HZ_PER_MEL = 200.0 / 3  # linear part: 3 mels per 200 Hz
_SLANEY_BREAK_HZ = 1000.0
_SLANEY_LOG_STEP = math.log(6.4) / 27.0  # log part: 27 mels per factor 6.4 in frequency


def slaney_hz_to_mel(f):
    """Slaney's mel scale (librosa's default, ``htk=False``): ``f / (200/3)`` below 1 kHz, then
    ``15 + log(f / 1000) / (log(6.4) / 27)``. Floats or tensors.

    >>> round(slaney_hz_to_mel(1000.0), 6), round(slaney_hz_to_mel(6400.0), 6)
    (15.0, 42.0)
    """
    t = torch.as_tensor(f, dtype=torch.float64)
    lin = t / _SLANEY_HZ_PER_MEL
    log = _SLANEY_BREAK_HZ / _SLANEY_HZ_PER_MEL + torch.log(t.clamp_min(_SLANEY_BREAK_HZ) / _SLANEY_BREAK_HZ) / _SLANEY_LOG_STEP
    out = torch.where(t >= _SLANEY_BREAK_HZ, log, lin)
    return out if isinstance(f, torch.Tensor) else float(out)


def slaney_mel_to_hz(m):
    """Inverse of :func:`slaney_hz_to_mel`.

    >>> round(slaney_mel_to_hz(slaney_hz_to_mel(440.0)), 6), round(slaney_mel_to_hz(42.0), 6)
    (440.0, 6400.0)
    """
    t = torch.as_tensor(m, dtype=torch.float64)
    brk = _SLANEY_BREAK_HZ / _SLANEY_HZ_PER_MEL
    out = torch.where(t >= brk, _SLANEY_BREAK_HZ * torch.exp(_SLANEY_LOG_STEP * (t - brk)), t * _SLANEY_HZ_PER_MEL)
    return out if isinstance(m, torch.Tensor) else float(out)


def mel_per_octave(f: float) -> float:
    """Slope of the HTK mel scale per octave at ``f`` Hz: ``d mel / d log2(f)``.

    ``d mel / d f = 2595 / (ln(10) (700 + f))``, times ``f ln(2)`` Hz per octave.

    >>> round(mel_per_octave(1000.0), 1)
    459.5
    """
    return HTK_MEL_SCALE / math.log(10.0) / (HTK_MEL_BREAK_HZ + f) * f * math.log(2.0)


def fft_frequencies(n_fft: int, sample_rate: int) -> torch.Tensor:
    """Centre frequency in Hz of each of the ``n_fft // 2 + 1`` real-FFT bins: ``k * sample_rate / n_fft``.

    >>> fft_frequencies(8, 8000)
    tensor([   0., 1000., 2000., 3000., 4000.])
    """
    return torch.arange(n_fft // 2 + 1, dtype=torch.float64).mul(sample_rate / n_fft).float()


def num_frames(num_samples: int, hop_length: int, *, n_fft: int | None = None, center: bool = True) -> int:
    """How many frames :func:`frame_signal` makes.

    Centred (the default, like torchaudio): the signal grows by ``2 * (n_fft // 2)``, so
    an even ``n_fft`` gives ``num_samples // hop_length + 1`` frames, whatever its size
    (``n_fft=None`` assumes an even one). Not centred: ``1 + (num_samples - n_fft) // hop_length``.

    >>> num_frames(8000, 80)
    101
    >>> num_frames(8000, 80, n_fft=256, center=False)
    97
    """
    if n_fft is None:
        if not center:
            raise ValueError("num_frames(center=False) needs n_fft")
        return num_samples // hop_length + 1
    padded = num_samples + 2 * (n_fft // 2) if center else num_samples
    return 1 + (padded - n_fft) // hop_length


def frame_times(n_frames: int, hop_length: int, sample_rate: int) -> torch.Tensor:
    """Time in seconds of each frame's centre (centred framing): ``i * hop_length / sample_rate``.

    >>> frame_times(3, 80, 8000)
    tensor([0.0000, 0.0100, 0.0200])
    """
    return torch.arange(n_frames, dtype=torch.float64).mul(hop_length / sample_rate).float()


# ----------------------------------------------------------------------------- step 1: framing
def frame_signal(
    waveform: torch.Tensor, *, n_fft: int, hop_length: int, center: bool = True, pad_mode: str = "reflect"
) -> torch.Tensor:
    """Step 1: cut the waveform into overlapping frames of ``n_fft`` samples, every ``hop_length``.

    With ``center=True`` (torchaudio's and librosa's default) the signal is first padded
    with ``n_fft // 2`` samples on each side, mirrored (``"reflect"``) by default, so
    that frame ``i`` is centred on sample ``i * hop_length``.

    Args:
        waveform (Tensor): ``(..., samples)``.
        n_fft (int): frame length in samples (the FFT size).
        hop_length (int): samples between frame starts.
        center (bool, default True): pad so that frames are centred on ``i * hop_length``.
        pad_mode (str, default "reflect"): ``"reflect"``, ``"constant"`` (zeros) or ``"replicate"``.

    Returns:
        Tensor: ``(..., n_frames, n_fft)``, one frame per row; see :func:`num_frames`.

    >>> frame_signal(torch.arange(6.0), n_fft=4, hop_length=2)
    tensor([[2., 1., 0., 1.],
            [0., 1., 2., 3.],
            [2., 3., 4., 5.],
            [4., 5., 4., 3.]])
    """
    if n_fft < 1 or hop_length < 1:
        raise ValueError(f"n_fft and hop_length must be >= 1 sample, got n_fft={n_fft}, hop_length={hop_length}")
    n = waveform.shape[-1]
    if center:
        pad = n_fft // 2
        if pad_mode == "reflect" and n <= pad:
            raise ValueError(
                f"reflect padding needs more than n_fft // 2 = {pad} samples, got {n}; "
                "use a smaller n_fft or pad_mode='constant'"
            )
        lead = waveform.shape[:-1]
        flat = waveform.reshape(-1, 1, n)  # F.pad's reflect mode wants (batch, channel, samples)
        waveform = F.pad(flat, (pad, pad), mode=pad_mode).reshape(*lead, n + 2 * pad)
    if waveform.shape[-1] < n_fft:
        raise ValueError(f"the signal ({waveform.shape[-1]} samples) is shorter than one frame (n_fft={n_fft})")
    return waveform.unfold(-1, n_fft, hop_length)


# ----------------------------------------------------------------------------- step 2: window + power
def power_spectrum(frames: torch.Tensor, *, window: torch.Tensor | None = None) -> torch.Tensor:
    """Step 2: taper each frame with a window, then take ``|rfft|^2``.

    The default window is the periodic Hann window of torchaudio and librosa
    (``torch.hann_window(n_fft)``); it tapers the frame ends to zero, so the FFT does not
    see the jump where the frame was cut (spectral leakage).

    Args:
        frames (Tensor): ``(..., n_frames, n_fft)`` from :func:`frame_signal`.
        window (Tensor | None, default None): ``(n_fft,)``; None is the periodic Hann window.

    Returns:
        Tensor: power spectrogram ``(..., n_fft // 2 + 1, n_frames)``, frequency along rows
        (bin ``k`` is at ``k * sample_rate / n_fft`` Hz, see :func:`fft_frequencies`).

    >>> power_spectrum(torch.ones(3, 8)).shape
    torch.Size([5, 3])
    """
    n_fft = frames.shape[-1]
    if window is None:
        window = torch.hann_window(n_fft, periodic=True, dtype=frames.dtype, device=frames.device)
    if window.shape != (n_fft,):
        raise ValueError(f"window must have shape ({n_fft},) like a frame, got {tuple(window.shape)}")
    spectrum = torch.fft.rfft(frames * window, dim=-1)
    return (spectrum.real**2 + spectrum.imag**2).transpose(-1, -2)


# ----------------------------------------------------------------------------- step 3: mel filterbank
def mel_band_edges(*, n_mels: int, f_min: float, f_max: float, scale: str = "htk") -> torch.Tensor:
    """The ``n_mels + 2`` corner frequencies in Hz of the mel triangles, equally spaced in mel.

    Filter ``m`` rises from ``edges[m]`` to its peak at ``edges[m + 1]`` and falls to ``edges[m + 2]``.
    ``scale`` is ``"htk"`` (:func:`hz_to_mel`) or ``"slaney"`` (:func:`slaney_hz_to_mel`, librosa's default).

    >>> mel_band_edges(n_mels=2, f_min=0.0, f_max=4000.0).round()
    tensor([   0.,  621., 1791., 4000.], dtype=torch.float64)
    >>> mel_band_edges(n_mels=2, f_min=0.0, f_max=4000.0, scale="slaney").round()
    tensor([   0.,  781., 1787., 4000.], dtype=torch.float64)
    """
    if scale not in MEL_SCALES:
        raise ValueError(f"scale must be one of {MEL_SCALES}, got {scale!r}")
    to_mel, to_hz = (hz_to_mel, mel_to_hz) if scale == "htk" else (slaney_hz_to_mel, slaney_mel_to_hz)
    mels = torch.linspace(to_mel(float(f_min)), to_mel(float(f_max)), n_mels + 2, dtype=torch.float64)
    return to_hz(mels)


def mel_filterbank(
    *, sample_rate: int, n_fft: int, n_mels: int, f_min: float = 0.0, f_max: float | None = None
) -> torch.Tensor:
    """Step 3: the HTK triangular mel filterbank as a matrix, one filter per row.

    Triangles of height 1 at their centre frequency (no area normalisation; sampled at
    the FFT bins, a row's largest weight is at most 1), as
    ``torchaudio.functional.melscale_fbanks(n_fft // 2 + 1, f_min, f_max, n_mels,
    sample_rate, norm=None, mel_scale="htk")``, which returns the TRANSPOSE
    ``(n_freqs, n_mels)``. The bins sit at ``k * sample_rate / n_fft`` Hz; torchaudio
    spaces them evenly from 0 to ``sample_rate // 2``, which is the same for an even
    ``n_fft`` but slightly off for an odd one (so use even sizes to compare). With many bands and a short FFT some
    narrow low bands fall between FFT bins and are all zero: raise ``n_fft`` or lower ``n_mels``.

    Args:
        sample_rate (int): Hz.
        n_fft (int): FFT size; the matrix has ``n_fft // 2 + 1`` columns.
        n_mels (int): number of bands (rows).
        f_min (float, default 0.0): lowest edge in Hz.
        f_max (float | None, default None): highest edge in Hz; None is ``sample_rate / 2``.

    Returns:
        Tensor: ``(n_mels, n_fft // 2 + 1)`` float32; ``mel = fb @ power``.

    >>> fb = mel_filterbank(sample_rate=8000, n_fft=256, n_mels=40)
    >>> fb.shape, bool(0.9 < fb.max() <= 1.0)
    (torch.Size([40, 129]), True)
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    if n_mels < 1:
        raise ValueError(f"n_mels must be >= 1, got {n_mels}")
    if not 0 <= f_min < f_max <= sample_rate / 2:
        raise ValueError(
            f"need 0 <= f_min < f_max <= sample_rate/2 = {sample_rate / 2:g} Hz, got f_min={f_min:g}, f_max={f_max:g}"
        )
    freqs = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * (sample_rate / n_fft)  # (n_freqs,)
    edges = mel_band_edges(n_mels=n_mels, f_min=f_min, f_max=f_max)  # (n_mels + 2,)
    lo, peak, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]  # (n_mels, 1) each
    rising = (freqs - lo) / (peak - lo)
    falling = (hi - freqs) / (hi - peak)
    return torch.clamp(torch.minimum(rising, falling), min=0.0).float()


# ----------------------------------------------------------------------------- step 4: log
def log_compress(
    mel: torch.Tensor, *, kind: str = "db", top_db: float | None = 80.0, amin: float = 1e-10, eps: float = 1e-6
) -> torch.Tensor:
    """Step 4: compress the energies' huge dynamic range with a logarithm.

    - ``kind="db"`` (the MFCC default here and in torchaudio): ``10 * log10(max(x, amin))``,
      then, if ``top_db`` is set, floor every value at (the spectrogram's maximum − top_db):
      :func:`apac_lab.frontends.power_to_db`, the kit's one dB conversion.
      The maximum is taken PER SPECTROGRAM (over the last two dimensions), like
      ``torchaudio.transforms.AmplitudeToDB("power", top_db)`` on one clip. On a 2D or 3D
      batch torchaudio takes one maximum over the whole batch instead, so a loud clip
      changes a quiet one's floor; here each clip keeps its own.
    - ``kind="ln"``: natural log, ``log(max(x, eps))`` (:func:`safe_log`; defined even for
      negative energies, which a trainable filterbank can produce). No floor. The log-mel
      of :class:`apac_lab.frontends.LogMel`. ``ln = dB * ln(10) / 10``.

    Args:
        mel (Tensor): non-negative energies ``(..., n_mels, n_frames)``.
        kind (str, default "db"): ``"db"`` or ``"ln"``.
        top_db (float | None, default 80.0): dynamic range kept in dB (``"db"`` only).
        amin (float, default 1e-10): smallest power before the dB log.
        eps (float, default 1e-6): smallest power before the natural log.

    Returns:
        Tensor: same shape as ``mel``.

    >>> log_compress(torch.tensor([[1.0, 1e-12]]))
    tensor([[  0., -80.]])
    >>> log_compress(torch.tensor([[1.0, 1e-12]]), kind="ln")
    tensor([[  0.0000, -13.8155]])
    """
    if kind == "ln":
        return safe_log(mel, eps)
    if kind != "db":
        raise ValueError(f"kind must be 'db' (decibels) or 'ln' (natural log), got {kind!r}")
    return power_to_db(mel, amin=amin, top_db=top_db)


# ----------------------------------------------------------------------------- step 5: DCT
def dct_matrix(n_mfcc: int, n_mels: int) -> torch.Tensor:
    """Step 5's matrix: the orthonormal DCT-II, row ``k`` a cosine of ``k`` half-periods across the bands.

    ``D[k, m] = s_k * cos(pi * k * (m + 1/2) / n_mels)`` with ``s_0 = sqrt(1/n_mels)`` and
    ``s_k = sqrt(2/n_mels)``, so the full square matrix is orthogonal (``D @ D.T = I``).
    Equals ``torchaudio.functional.create_dct(n_mfcc, n_mels, norm="ortho").T``.

    Returns:
        Tensor: ``(n_mfcc, n_mels)`` float32; ``mfcc = D @ log_mel``.

    >>> D = dct_matrix(4, 4)
    >>> torch.allclose(D @ D.T, torch.eye(4), atol=1e-6)
    True
    """
    if not 1 <= n_mfcc <= n_mels:
        raise ValueError(f"n_mfcc must be in 1..n_mels={n_mels}, got {n_mfcc}")
    k = torch.arange(n_mfcc, dtype=torch.float64)[:, None]
    m = torch.arange(n_mels, dtype=torch.float64)[None, :]
    D = torch.cos(math.pi * k * (m + 0.5) / n_mels) * math.sqrt(2.0 / n_mels)
    D[0] /= math.sqrt(2.0)
    return D.float()


def dct(log_mel: torch.Tensor, n_mfcc: int) -> torch.Tensor:
    """Step 5: keep the first ``n_mfcc`` DCT coefficients of each frame's log-mel.

    The low coefficients describe the smooth spectral envelope (the vocal tract's
    formants); the high ones, fine ripples (pitch harmonics) that are dropped.

    Args:
        log_mel (Tensor): ``(..., n_mels, n_frames)``.
        n_mfcc (int): coefficients kept.

    Returns:
        Tensor: ``(..., n_mfcc, n_frames)``.

    >>> dct(torch.ones(4, 2), 2)  # a flat log-mel has only a constant term
    tensor([[2., 2.],
            [0., 0.]])
    """
    D = dct_matrix(n_mfcc, log_mel.shape[-2]).to(log_mel)
    return torch.matmul(D, log_mel)


# ----------------------------------------------------------------------------- the chain
def mfcc_from_scratch(
    waveform: torch.Tensor,
    *,
    sample_rate: int = 16000,
    n_fft: int | None = None,
    hop_length: int | None = None,
    n_mels: int = 128,
    n_mfcc: int = 64,
    f_min: float = 0.0,
    f_max: float | None = None,
    top_db: float | None = 80.0,
) -> torch.Tensor:
    """The five steps chained: frames -> Hann + |rfft|^2 -> mel -> dB -> DCT.

    Matches ``torchaudio.transforms.MFCC(sample_rate, n_mfcc, norm="ortho",
    melkwargs=dict(n_fft, hop_length, n_mels, f_min, f_max, mel_scale="htk"))`` on one clip
    and :class:`apac_lab.frontends.MFCC` on any batch (relative error about 1e-6, tested).

    Args:
        waveform (Tensor): ``(..., samples)``.
        sample_rate (int, default 16000): Hz.
        n_fft (int | None, default None): None scales 2048 @ 16 kHz
            (:func:`apac_lab.frontends.frontend_settings`; 0 is an error).
        hop_length (int | None, default None): None scales 512 @ 16 kHz.
        n_mels (int, default 128): mel bands.
        n_mfcc (int, default 64): coefficients kept.
        f_min (float, default 0.0): Hz.
        f_max (float | None, default None): Hz; None is Nyquist.
        top_db (float | None, default 80.0): dB range kept by :func:`log_compress`.

    Returns:
        Tensor: ``(..., n_mfcc, samples // hop_length + 1)``.

    >>> mfcc_from_scratch(torch.randn(8000), sample_rate=8000, n_mfcc=13).shape
    torch.Size([13, 32])
    """
    n_fft, hop_length, f_max = frontend_settings(sample_rate, n_fft, hop_length, n_mels, f_min, f_max)
    frames = frame_signal(waveform, n_fft=n_fft, hop_length=hop_length)  # (..., n_frames, n_fft)
    power = power_spectrum(frames)  # (..., n_freqs, n_frames)
    fb = mel_filterbank(sample_rate=sample_rate, n_fft=n_fft, n_mels=n_mels, f_min=f_min, f_max=f_max)
    mel = torch.matmul(fb.to(power), power)  # (..., n_mels, n_frames)
    return dct(log_compress(mel, kind="db", top_db=top_db), n_mfcc)  # (..., n_mfcc, n_frames)
