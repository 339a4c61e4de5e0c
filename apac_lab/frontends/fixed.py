"""Fixed (non-trainable) front-ends built on torchaudio: mel spectrogram, log-mel, MFCC.

Defaults are the APAC paper's at 16 kHz (n_fft 2048, hop 512, n_mels 128, n_mfcc 64);
:func:`apac_defaults` scales the window and hop with the sample rate, so that they keep
their duration in milliseconds (128 ms and 32 ms).

Notebook: 01_spectrogram_and_mfcc.
"""

from __future__ import annotations

import torch
import torchaudio
from torch import nn

from apac_lab.frontends.db import power_to_db

__all__ = ["apac_defaults", "frontend_settings", "safe_log", "MelSpectrogram", "LogMel", "MFCC"]

_REF_RATE = 16000


def apac_defaults(sample_rate: int = 16000) -> dict:
    """The APAC front-end settings scaled to ``sample_rate``.

    Window and hop keep their durations (2048 and 512 samples at 16 kHz); n_mels and
    n_mfcc stay 128 and 64; f_max is the Nyquist frequency.

    >>> apac_defaults(8000)
    {'sample_rate': 8000, 'n_fft': 1024, 'hop_length': 256, 'n_mels': 128, 'n_mfcc': 64, 'f_min': 0.0, 'f_max': 4000.0}
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be > 0 Hz, got {sample_rate}")
    scale = sample_rate / _REF_RATE
    return {
        "sample_rate": int(sample_rate),
        "n_fft": max(16, int(round(2048 * scale))),
        "hop_length": max(1, int(round(512 * scale))),
        "n_mels": 128,
        "n_mfcc": 64,
        "f_min": 0.0,
        "f_max": sample_rate / 2,
    }


def safe_log(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """``log(max(x, eps))``: defined for every input, also negative energies.

    A trainable mel basis can make energies negative, where ``log(x + eps)`` is NaN.

    >>> safe_log(torch.tensor([-1.0, 1.0]))
    tensor([-13.8155,   0.0000])
    """
    return torch.log(torch.clamp(x, min=eps))


def frontend_settings(
    sample_rate: int,
    n_fft: int | None = None,
    hop_length: int | None = None,
    n_mels: int = 128,
    f_min: float = 0.0,
    f_max: float | None = None,
) -> tuple[int, int, float]:
    """The one place front-end defaults are filled: ``n_fft`` and ``hop_length`` (None:
    :func:`apac_defaults` at this rate) and ``f_max`` (None: Nyquist), then every setting checked.

    Every front-end (torchaudio, nnAudio, the MFCC from scratch, APAC's five modes, the
    mel explorer) calls it and keeps what it returns. Only None means "the default": 0 is
    rejected, not silently replaced.

    Returns:
        tuple: ``(n_fft, hop_length, f_max)`` as ``(int, int, float)``.

    Raises:
        ValueError: one line naming the impossible setting.

    >>> frontend_settings(8000)
    (1024, 256, 4000.0)
    >>> frontend_settings(8000, n_fft=0)
    Traceback (most recent call last):
    ...
    ValueError: n_fft must be >= 2 samples, got 0; pass None for the APAC default at 8000 Hz (1024)
    """
    d = apac_defaults(sample_rate)
    for name, value in (("n_fft", n_fft), ("hop_length", hop_length)):
        if value is not None and (isinstance(value, bool) or int(value) != value):
            raise ValueError(f"{name} must be a whole number of samples or None, got {value!r}")
    n_fft = d["n_fft"] if n_fft is None else int(n_fft)
    hop_length = d["hop_length"] if hop_length is None else int(hop_length)
    if n_fft < 2:
        raise ValueError(f"n_fft must be >= 2 samples, got {n_fft}; pass None for the APAC default at "
                         f"{sample_rate} Hz ({d['n_fft']})")
    if hop_length < 1:
        raise ValueError(f"hop_length must be >= 1 sample, got {hop_length}; pass None for the APAC default at "
                         f"{sample_rate} Hz ({d['hop_length']})")
    if n_mels < 1:
        raise ValueError(f"n_mels must be >= 1, got {n_mels}")
    top = sample_rate / 2 if f_max is None else f_max
    if not 0 <= f_min < top <= sample_rate / 2:
        raise ValueError(
            f"need 0 <= f_min < f_max <= sample_rate/2 = {sample_rate / 2:g} Hz, got f_min={f_min:g}, f_max={top:g}"
        )
    return n_fft, hop_length, float(top)


def _check_length(waveform: torch.Tensor, n_fft: int) -> None:
    """Centred frames mirror n_fft // 2 samples at each end: the clip must be longer than that."""
    if waveform.dim() == 0 or waveform.shape[-1] <= n_fft // 2:
        n = 0 if waveform.dim() == 0 else waveform.shape[-1]
        raise ValueError(
            f"the waveform has {n} samples, but centred frames need more than n_fft // 2 = {n_fft // 2}; "
            "pass a longer clip (samples last) or a smaller n_fft"
        )


_MEL_SCALES = ("htk", "slaney")
_MEL_NORMS = (None, "slaney")
_PAD_MODES = ("reflect", "constant")


class MelSpectrogram(nn.Module):
    """Power mel spectrogram (torchaudio, Hann window, centred frames; HTK mel by default).

    Args:
        sample_rate (int, default 16000): Hz.
        n_fft (int | None, default None): FFT size in samples; None scales 2048 @ 16 kHz.
        hop_length (int | None, default None): hop in samples; None scales 512 @ 16 kHz.
        n_mels (int, default 128): mel bands.
        f_min (float, default 0.0): lowest band edge in Hz.
        f_max (float | None, default None): highest band edge in Hz; None is Nyquist.
        mel_scale (str, default "htk"): ``"htk"`` (the kit's) or ``"slaney"`` (librosa's default).
        norm (str | None, default None): None (triangles of height 1, the kit's) or ``"slaney"``
            (each triangle divided by its width, librosa's default: equal area).
        pad_mode (str, default "reflect"): how centred frames pad the ends, ``"reflect"``
            (torchaudio's, and librosa's before 0.10) or ``"constant"`` (zeros, librosa's since 0.10).

    Shape: ``(..., samples)`` -> ``(..., n_mels, frames)`` with
    ``frames = samples // hop_length + 1``.

    >>> MelSpectrogram(sample_rate=8000)(torch.randn(2, 8000)).shape
    torch.Size([2, 128, 32])
    """

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        n_fft: int | None = None,
        hop_length: int | None = None,
        n_mels: int = 128,
        f_min: float = 0.0,
        f_max: float | None = None,
        mel_scale: str = "htk",
        norm: str | None = None,
        pad_mode: str = "reflect",
    ) -> None:
        super().__init__()
        n_fft, hop_length, f_max = frontend_settings(sample_rate, n_fft, hop_length, n_mels, f_min, f_max)
        if mel_scale not in _MEL_SCALES:
            raise ValueError(f"mel_scale must be one of {_MEL_SCALES}, got {mel_scale!r}")
        if norm not in _MEL_NORMS:
            raise ValueError(f"norm must be one of {_MEL_NORMS}, got {norm!r}")
        if pad_mode not in _PAD_MODES:
            raise ValueError(f"pad_mode must be one of {_PAD_MODES}, got {pad_mode!r}")
        self.sample_rate, self.n_fft, self.hop_length, self.n_mels = sample_rate, n_fft, hop_length, n_mels
        self.f_min, self.f_max = f_min, f_max
        self.mel_scale, self.norm, self.pad_mode = mel_scale, norm, pad_mode
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
            f_min=f_min, f_max=self.f_max, power=2.0, center=True, pad_mode=pad_mode, mel_scale=mel_scale, norm=norm,
        )

    def filterbank(self) -> torch.Tensor:
        """The mel matrix, one triangle per row: ``(n_mels, n_fft // 2 + 1)``; ``mel = fb @ power``.

        >>> MelSpectrogram(sample_rate=8000, n_fft=256, n_mels=10).filterbank().shape
        torch.Size([10, 129])
        """
        return self.mel.mel_scale.fb.detach().T.clone()

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        _check_length(waveform, self.n_fft)
        return self.mel(waveform)


class LogMel(MelSpectrogram):
    """Natural-log mel spectrogram, ``safe_log(mel, eps)``; same arguments plus ``eps``.

    >>> LogMel(sample_rate=16000)(torch.randn(16000)).shape
    torch.Size([128, 32])
    """

    def __init__(self, *, eps: float = 1e-6, **kwargs) -> None:
        super().__init__(**kwargs)
        self.eps = eps

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        _check_length(waveform, self.n_fft)
        return safe_log(self.mel(waveform), self.eps)


class MFCC(nn.Module):
    """MFCC (torchaudio): mel power -> dB (top_db 80) -> orthonormal DCT-II.

    Equals ``torchaudio.transforms.MFCC`` clip by clip. Unlike it, the 80 dB floor is set
    per clip in a batch too (torchaudio sets one floor for a whole 2D/3D batch), so a
    clip's MFCC does not depend on the other clips in its batch.

    Args:
        sample_rate (int, default 16000): Hz.
        n_mfcc (int, default 64): coefficients kept.
        n_fft, hop_length, n_mels, f_min, f_max: as :class:`MelSpectrogram`.

    Shape: ``(..., samples)`` -> ``(..., n_mfcc, frames)``.

    >>> MFCC(sample_rate=8000, n_mfcc=13)(torch.randn(8000)).shape
    torch.Size([13, 32])
    """

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        n_mfcc: int = 64,
        n_fft: int | None = None,
        hop_length: int | None = None,
        n_mels: int = 128,
        f_min: float = 0.0,
        f_max: float | None = None,
    ) -> None:
        super().__init__()
        n_fft, hop_length, f_max = frontend_settings(sample_rate, n_fft, hop_length, n_mels, f_min, f_max)
        if not 1 <= n_mfcc <= n_mels:
            raise ValueError(f"n_mfcc must be in 1..n_mels={n_mels}, got {n_mfcc}")
        self.sample_rate, self.n_mfcc, self.n_fft, self.hop_length, self.n_mels = sample_rate, n_mfcc, n_fft, hop_length, n_mels
        self.mfcc = torchaudio.transforms.MFCC(
            sample_rate=sample_rate, n_mfcc=n_mfcc, norm="ortho", log_mels=False,
            melkwargs={"n_fft": n_fft, "hop_length": hop_length, "n_mels": n_mels, "f_min": f_min,
                       "f_max": f_max, "center": True, "mel_scale": "htk"},
        )

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        _check_length(waveform, self.n_fft)
        mel = self.mfcc.MelSpectrogram(waveform)  # (..., n_mels, frames)
        # torchaudio floors a 2D/3D input at ONE (max - top_db) over the whole batch, so a loud
        # clip would change a quiet clip's MFCC; power_to_db floors each clip on its own, exactly
        # what torchaudio.transforms.MFCC does on a single clip.
        db = power_to_db(mel, amin=1e-10, top_db=80.0)  # torchaudio's MFCC: amin 1e-10, top_db 80
        return torch.matmul(db.transpose(-1, -2), self.mfcc.dct_mat).transpose(-1, -2)
