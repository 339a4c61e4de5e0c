"""nnAudio's STFT, mel spectrogram and MFCC behind the interface of :mod:`.fixed`, optionally trainable.

nnAudio (Cheuk et al., 2020) computes the STFT as a 1D convolution with windowed
Fourier kernels (``wcos``, ``wsin``) and the mel spectrogram as a matrix product with a
mel basis. Both can be made ``nn.Parameter``\\ s and learned with the rest of a model:
``trainable_stft=True`` (nnAudio's ``trainable_STFT``) and ``trainable_mel=True``.

Non-trainable, these classes match :mod:`apac_lab.frontends.fixed` (torchaudio): same
keyword arguments and defaults (:func:`apac_defaults`), HTK mel triangles without area
normalisation, periodic Hann window, centred reflect-padded frames, power 2, dB with an
80 dB floor per clip, orthonormal DCT-II. ``tests/test_frontends_nnaudio.py`` measures
the agreement on real FSDD audio (relative error about 1e-6 for the mel power; see
the test for the stated tolerances). nnAudio is always built with ``verbose=False``.

**A trainable mel basis can go negative.** Nothing in nnAudio keeps the learned
weights >= 0, so mel "energies" can become negative, and ``log(x + eps)`` is then NaN.
We keep nnAudio's raw basis (so what is learned can be inspected as is) and make the
logs safe instead: :class:`NNAudioLogMel` uses :func:`safe_log` (``log(max(x, eps))``),
and :class:`NNAudioMFCC` nnAudio's own dB, ``10 log10(max(x, amin))``. A band whose
energy is negative is read as silence (``log(eps)``) and passes no gradient for that
frame, so training stays finite; its basis keeps learning from the frames where it
is positive.

nnAudio is optional: importing :mod:`apac_lab` does not need it; building one of these
classes without it raises an ImportError saying ``pip install nnAudio==0.3.4``.

Notebook: 01_spectrogram_and_mfcc (fixed and the trainable flags).
"""

from __future__ import annotations

import torch
from torch import nn

from apac_lab.frontends.fixed import _check_length, frontend_settings, safe_log

__all__ = ["nnaudio_features", "NNAudioSpectrogram", "NNAudioMel", "NNAudioLogMel", "NNAudioMFCC"]

NNAUDIO_PIN = "nnAudio==0.3.4"


def nnaudio_features():
    """Import and return ``nnAudio.features``, or raise an ImportError saying how to install it."""
    try:
        from nnAudio import features
    except ImportError as exc:  # pragma: no cover - exercised by monkeypatching sys.modules
        raise ImportError(
            f"This front-end needs nnAudio, which is not installed. Install it with: pip install {NNAUDIO_PIN}"
        ) from exc
    return features


def _per_clip(layer: nn.Module, waveform: torch.Tensor) -> torch.Tensor:
    """Run an nnAudio layer on ``(..., samples)``: flatten to ``(clips, samples)`` and back."""
    lead = waveform.shape[:-1]
    out = layer(waveform.reshape(-1, waveform.shape[-1]))  # (clips, rows, frames)
    return out.reshape(*lead, *out.shape[-2:])


class _NNAudioBase(nn.Module):
    """Shared argument handling; subclasses build ``self.layer``."""

    def __init__(
        self,
        *,
        sample_rate: int,
        n_fft: int | None,
        hop_length: int | None,
        n_mels: int,
        f_min: float,
        f_max: float | None,
        trainable_stft: bool,
    ) -> None:
        super().__init__()
        n_fft, hop_length, f_max = frontend_settings(sample_rate, n_fft, hop_length, n_mels, f_min, f_max)
        self.sample_rate, self.n_fft, self.hop_length, self.n_mels = sample_rate, n_fft, hop_length, n_mels
        self.f_min, self.f_max = float(f_min), f_max
        self.trainable_stft = bool(trainable_stft)

    def _mel_kwargs(self, trainable_mel: bool) -> dict:
        return dict(
            sr=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length, n_mels=self.n_mels,
            fmin=self.f_min, fmax=self.f_max, window="hann", center=True, pad_mode="reflect", power=2.0,
            htk=True, norm=None, trainable_mel=bool(trainable_mel), trainable_STFT=self.trainable_stft,
            verbose=False,
        )

    def _stft_layer(self) -> nn.Module:
        raise NotImplementedError

    @property
    def fourier_kernels(self) -> tuple[torch.Tensor, torch.Tensor]:
        """nnAudio's windowed Fourier kernels ``(wcos, wsin)``, each ``(n_fft // 2 + 1, 1, n_fft)``."""
        stft = self._stft_layer()
        return stft.wcos, stft.wsin

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        _check_length(waveform, self.n_fft)
        return _per_clip(self.layer, waveform)


class NNAudioSpectrogram(_NNAudioBase):
    """Power spectrogram ``|STFT|^2`` with nnAudio's (optionally trainable) Fourier kernels.

    Args:
        sample_rate (int, default 16000): Hz.
        n_fft (int | None, default None): None scales 2048 @ 16 kHz.
        hop_length (int | None, default None): None scales 512 @ 16 kHz.
        trainable_stft (bool, default False): learn the kernels ``wcos``, ``wsin``.

    Shape: ``(..., samples)`` -> ``(..., n_fft // 2 + 1, samples // hop_length + 1)``.

    >>> NNAudioSpectrogram(sample_rate=8000)(torch.randn(2, 8000)).shape
    torch.Size([2, 513, 32])
    """

    def __init__(
        self, *, sample_rate: int = 16000, n_fft: int | None = None, hop_length: int | None = None,
        trainable_stft: bool = False,
    ) -> None:
        super().__init__(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=1, f_min=0.0,
                         f_max=None, trainable_stft=trainable_stft)
        self.layer = nnaudio_features().STFT(
            n_fft=self.n_fft, hop_length=self.hop_length, window="hann", freq_scale="no", center=True,
            pad_mode="reflect", sr=sample_rate, trainable=self.trainable_stft, output_format="Magnitude",
            verbose=False,
        )

    def _stft_layer(self) -> nn.Module:
        return self.layer

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return super().forward(waveform) ** 2


class NNAudioMel(_NNAudioBase):
    """Power mel spectrogram (nnAudio), same arguments as :class:`apac_lab.frontends.MelSpectrogram` plus the flags.

    Args:
        sample_rate (int, default 16000): Hz.
        n_fft (int | None, default None): None scales 2048 @ 16 kHz.
        hop_length (int | None, default None): None scales 512 @ 16 kHz.
        n_mels (int, default 128): mel bands.
        f_min (float, default 0.0): Hz.
        f_max (float | None, default None): Hz; None is Nyquist.
        trainable_mel (bool, default False): learn the mel basis ``(n_mels, n_fft // 2 + 1)``.
        trainable_stft (bool, default False): learn the Fourier kernels.

    Shape: ``(..., samples)`` -> ``(..., n_mels, samples // hop_length + 1)``. A
    trainable basis can make entries negative (see the module docstring).

    >>> mel = NNAudioMel(sample_rate=8000, n_mels=40, trainable_mel=True)
    >>> mel(torch.randn(8000)).shape, mel.mel_basis.requires_grad
    (torch.Size([40, 32]), True)
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
        trainable_mel: bool = False,
        trainable_stft: bool = False,
    ) -> None:
        super().__init__(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, f_min=f_min,
                         f_max=f_max, trainable_stft=trainable_stft)
        self.trainable_mel = bool(trainable_mel)
        self.layer = nnaudio_features().MelSpectrogram(**self._mel_kwargs(trainable_mel))

    def _stft_layer(self) -> nn.Module:
        return self.layer.stft

    @property
    def mel_basis(self) -> torch.Tensor:
        """The mel basis ``(n_mels, n_fft // 2 + 1)``: a Parameter when ``trainable_mel``, else a buffer."""
        return self.layer.mel_basis


class NNAudioLogMel(NNAudioMel):
    """Natural-log mel spectrogram, ``safe_log(mel, eps)``: finite even when a trained basis gives negative energies.

    Same arguments as :class:`NNAudioMel` plus ``eps`` (float, default 1e-6), as
    :class:`apac_lab.frontends.LogMel`.

    >>> NNAudioLogMel(sample_rate=8000, n_mels=40)(torch.randn(3, 8000)).shape
    torch.Size([3, 40, 32])
    """

    def __init__(self, *, eps: float = 1e-6, **kwargs) -> None:
        super().__init__(**kwargs)
        if eps <= 0:
            raise ValueError(f"eps must be > 0 (the smallest energy before the log), got {eps}")
        self.eps = eps

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return safe_log(super().forward(waveform), self.eps)


class NNAudioMFCC(_NNAudioBase):
    """MFCC (nnAudio): mel power -> dB (floor ``top_db`` below each clip's peak) -> orthonormal DCT-II.

    Same arguments as :class:`apac_lab.frontends.MFCC`, plus ``top_db`` (float, default
    80.0) and the flags ``trainable_mel``, ``trainable_stft`` of :class:`NNAudioMel`.

    nnAudio's MFCC takes its ``norm`` argument for the DCT, so its own mel layer always
    has librosa's Slaney area normalisation (each triangle divided by its width), which
    torchaudio's MFCC does not. We swap in a mel layer with ``norm=None`` so the two agree.

    Shape: ``(..., samples)`` -> ``(..., n_mfcc, samples // hop_length + 1)``.

    >>> NNAudioMFCC(sample_rate=8000, n_mfcc=13)(torch.randn(8000)).shape
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
        top_db: float = 80.0,
        trainable_mel: bool = False,
        trainable_stft: bool = False,
    ) -> None:
        super().__init__(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, f_min=f_min,
                         f_max=f_max, trainable_stft=trainable_stft)
        if not 1 <= n_mfcc <= n_mels:
            raise ValueError(f"n_mfcc must be in 1..n_mels={n_mels}, got {n_mfcc}")
        if top_db < 0:
            raise ValueError(f"top_db must be >= 0 dB, got {top_db}")
        self.n_mfcc, self.top_db, self.trainable_mel = n_mfcc, float(top_db), bool(trainable_mel)
        features = nnaudio_features()
        self.layer = features.MFCC(sr=sample_rate, n_mfcc=n_mfcc, top_db=top_db, verbose=False,
                                   n_fft=self.n_fft, hop_length=self.hop_length, n_mels=n_mels)
        self.layer.melspec_layer = features.MelSpectrogram(**self._mel_kwargs(trainable_mel))

    def _stft_layer(self) -> nn.Module:
        return self.layer.melspec_layer.stft

    @property
    def mel_basis(self) -> torch.Tensor:
        """The mel basis ``(n_mels, n_fft // 2 + 1)``: a Parameter when ``trainable_mel``, else a buffer."""
        return self.layer.melspec_layer.mel_basis
