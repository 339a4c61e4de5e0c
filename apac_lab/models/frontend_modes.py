"""The five front-end modes of APAC, chosen with one argument, ``mode``.

=================  ==========================================  =====================
mode               mel spectrogram                             trainable
=================  ==========================================  =====================
``std``            torchaudio (apac_lab.frontends), fixed      nothing
``mel``            nnAudio                                     mel filterbank
``stft``           nnAudio                                     STFT kernels
``mel+stft``       nnAudio                                     both
``mel+stft+fsdd``  nnAudio, loaded from an FSDD checkpoint     both (fine-tuned)
=================  ==========================================  =====================

In ``mel+stft+fsdd`` only the front-end (mel filterbank and STFT kernels) comes from the FSDD
checkpoint; the rest of the model starts from random weights. The paper's "Fine tune trainable
Mel + STFT pretrained on the Digits dataset" says no more, so this is one reading of it.

One power mel spectrogram feeds BOTH pathways of APAC (choice: the MFCC pathway shares
the mel filterbank and STFT, so in the trainable modes it sees -- and trains -- the same
learned filters as the log-mel pathway):

* log-mel = ``safe_log(mel, eps)`` (natural log of ``max(mel, eps)``).
* MFCC = orthonormal DCT-II of ``10 log10(max(mel, 1e-10))``, floored at 80 dB below each
  clip's own maximum, first ``n_mfcc`` coefficients. In ``std`` mode this equals
  ``apac_lab.frontends.MFCC`` (also per clip: a clip's MFCC never depends on its batch-mates).
* Both are computed in float32, also under mixed precision (float16 power spectra overflow).

A trainable mel basis has no sign constraint: after a few optimiser steps some energies
go negative. Both logs clamp first (``safe_log``), so they stay finite; the clamped bins
pass no gradient (choice: clamp, rather than re-parametrising nnAudio's basis).

The trainable modes use :class:`apac_lab.frontends.NNAudioMel`, which starts as torchaudio's
mel (HTK mel scale, unnormalised triangles, Hann window, centred reflect-padded frames,
power 2), so a cold start equals ``std``.

Defaults are the paper's at 16 kHz (n_fft 2048, hop 512, n_mels 128, n_mfcc 64), scaled
to other rates by :func:`apac_lab.frontends.apac_defaults` (8 kHz: n_fft 1024, hop 256).

Notebook: 05_apac_training.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchaudio
from torch import nn

from apac_lab.checkpoints import read_frontend_checkpoint, write_frontend_checkpoint
from apac_lab.frontends import MelSpectrogram, NNAudioMel, frontend_settings, power_to_db, safe_log

__all__ = ["MODES", "TRAINABLE_MEL_STFT", "APACFrontEnd", "check_waveform_batch", "mel_to_mfcc",
           "active_frames", "utterance_cmvn",
           "load_frontend_checkpoint", "save_frontend_checkpoint"]

MODES: tuple[str, ...] = ("std", "mel", "stft", "mel+stft", "mel+stft+fsdd")
#: mode -> (is the mel filterbank trainable, are the STFT kernels trainable)
TRAINABLE_MEL_STFT: dict[str, tuple[bool, bool]] = {
    "std": (False, False), "mel": (True, False), "stft": (False, True),
    "mel+stft": (True, True), "mel+stft+fsdd": (True, True),
}


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"unknown front-end mode {mode!r}; choose one of {list(MODES)}")
    return mode


def check_waveform_batch(waveform: torch.Tensor, min_samples: int, sample_rate: int) -> torch.Tensor:
    """Check a batch of waveforms and return it as ``(batch, samples)``.

    Accepts ``(batch, samples)`` or ``(batch, 1, samples)`` floating tensors with at least
    ``min_samples`` samples; anything else is a ``ValueError`` saying how to fix it.

    >>> check_waveform_batch(torch.zeros(2, 1, 4000), 2048, 16000).shape
    torch.Size([2, 4000])
    >>> check_waveform_batch(torch.zeros(4000), 2048, 16000)
    Traceback (most recent call last):
    ...
    ValueError: expected a batch of waveforms (batch, samples), got shape (4000,); for one clip use x.unsqueeze(0)
    """
    if not isinstance(waveform, torch.Tensor):
        raise ValueError(f"expected a torch.Tensor of waveforms (batch, samples), got {type(waveform).__name__}")
    if waveform.dim() == 3 and waveform.shape[1] == 1:
        waveform = waveform[:, 0]
    if waveform.dim() != 2:
        hint = "; for one clip use x.unsqueeze(0)" if waveform.dim() == 1 else "; mix to mono first"
        raise ValueError(f"expected a batch of waveforms (batch, samples), got shape {tuple(waveform.shape)}{hint}")
    if not waveform.is_floating_point():
        raise ValueError(f"waveforms must be floating point, got {waveform.dtype}; use x.float()")
    if waveform.shape[-1] < min_samples:
        raise ValueError(
            f"audio too short: {waveform.shape[-1]} samples, need at least {min_samples} "
            f"({1000 * min_samples / sample_rate:.0f} ms at {sample_rate} Hz, one analysis window); "
            "pad clips to a fixed length (apac_lab.data.fix_length)"
        )
    return waveform


def mel_to_mfcc(mel: torch.Tensor, dct: torch.Tensor, top_db: float | None = 80.0, amin: float = 1e-10) -> torch.Tensor:
    """MFCC from a power mel spectrogram: dB (floored ``top_db`` below each clip's max), then DCT.

    Args:
        mel (Tensor): ``(batch, n_mels, frames)`` power mel spectrogram.
        dct (Tensor): ``(n_mels, n_mfcc)`` DCT matrix (``torchaudio.functional.create_dct``).
        top_db (float | None, default 80.0): dynamic range kept per clip; None keeps all.
        amin (float, default 1e-10): floor before the log (negative energies are clamped).

    Returns:
        Tensor: ``(batch, n_mfcc, frames)``.

    >>> dct = torchaudio.functional.create_dct(13, 40, "ortho")
    >>> mel_to_mfcc(torch.rand(2, 40, 5), dct).shape
    torch.Size([2, 13, 5])
    """
    db = power_to_db(mel, amin=amin, top_db=top_db)
    return torch.matmul(db.transpose(-1, -2), dct).transpose(-1, -2)


def active_frames(mel: torch.Tensor, active_db: float = 40.0) -> torch.Tensor:
    """Which frames hold sound: total power within ``active_db`` of the clip's loudest frame.

    Args:
        mel (Tensor): ``(batch, n_mels, frames)`` power mel spectrogram.
        active_db (float, default 40.0): range below the loudest frame that counts as sound.

    Returns:
        Tensor: ``(batch, frames)`` bool; every clip has at least its loudest frame.

    >>> mel = torch.ones(1, 4, 5); mel[0, :, :2] = 1e-6   # two silent frames first
    >>> active_frames(mel).tolist()
    [[False, False, True, True, True]]
    """
    energy = mel.clamp(min=0).sum(-2)
    return energy >= energy.amax(-1, keepdim=True) * 10.0 ** (-active_db / 10.0)


def utterance_cmvn(features: torch.Tensor, active: torch.Tensor, *, variance: bool = True,
                   eps: float = 1e-5) -> torch.Tensor:
    """Per-utterance mean (and variance) normalisation over the frames that hold sound.

    Each row (band or coefficient) of each clip has its mean over the active frames taken
    away, the classic cepstral mean normalisation: a fixed filter (microphone, room, a
    speaker's average spectrum) is an additive constant per row of a log spectrum, so it
    goes. With ``variance``, the clip is then divided by one standard deviation (over all
    its active cells). Inactive frames (silence, padding) are set to 0 afterwards, so they
    carry no level of their own.

    Args:
        features (Tensor): ``(batch, rows, frames)`` log-mel or MFCC.
        active (Tensor): ``(batch, frames)`` bool, from :func:`active_frames`.
        variance (bool, default True): also divide by the clip's standard deviation.
        eps (float, default 1e-5): added to the variance.

    Returns:
        Tensor: ``(batch, rows, frames)``.

    >>> x = torch.tensor([[[1.0, 3.0, 9.0], [2.0, 2.0, 9.0]]]); on = torch.tensor([[True, True, False]])
    >>> utterance_cmvn(x, on, variance=False).tolist()
    [[[-1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]
    """
    w = active.to(features.dtype)[:, None, :]
    n = w.sum(-1, keepdim=True).clamp(min=1.0)
    centred = (features - (features * w).sum(-1, keepdim=True) / n) * w
    if variance:
        var = centred.pow(2).sum((-2, -1), keepdim=True) / (n * features.shape[-2])  # over the active cells
        centred = centred / torch.sqrt(var + eps)
    return centred


class APACFrontEnd(nn.Module):
    """Waveform to log-mel and MFCC, in one of the five :data:`MODES`.

    Args:
        mode (str, default "std"): one of :data:`MODES`.
        sample_rate (int, default 16000): Hz.
        n_fft (int | None, default None): window in samples; None scales 2048 @ 16 kHz
            (:func:`apac_lab.frontends.frontend_settings`; 0 is an error, not the default).
        hop_length (int | None, default None): hop in samples; None scales 512 @ 16 kHz.
        n_mels (int, default 128): mel bands.
        n_mfcc (int | None, default None): MFCCs; None is ``min(64, n_mels)``; 0 turns the MFCC
            output off (returns None).
        f_min (float, default 0.0): lowest mel edge in Hz.
        f_max (float | None, default None): highest mel edge in Hz; None is Nyquist.
        eps (float, default 1e-6): floor of the log-mel.
        top_db (float | None, default 80.0): MFCC dynamic range per clip.
        checkpoint (str | Path | None, default None): front-end checkpoint to start from;
            required by ``mel+stft+fsdd`` (see :func:`apac_lab.recipes.pretrain_fsdd_frontend`),
            refused by the other modes.
        peak_norm (bool, default False): divide each clip's power mel by its own maximum
            (per-utterance gain normalisation), so the log-mel is 0 at the clip's loudest
            cell and ``eps`` becomes a floor relative to it (1e-6: 60 dB below); a louder or
            quieter recording of the same words then gives the same features.
        cmvn (bool, default False): per-utterance mean and variance normalisation of both
            outputs over the frames that hold sound (:func:`active_frames`, within
            ``active_db`` of the loudest; :func:`utterance_cmvn`): the log-mel gets mean
            and variance, the MFCC the mean only (cepstral mean normalisation).
        active_db (float, default 40.0): see ``cmvn``.

    Shape: ``(batch, samples)`` -> ``(log_mel (batch, n_mels, frames), mfcc (batch, n_mfcc, frames) | None)``
    with ``frames = samples // hop_length + 1``.

    >>> fe = APACFrontEnd("mel", sample_rate=8000)
    >>> [t.shape for t in fe(torch.randn(2, 8000))]
    [torch.Size([2, 128, 32]), torch.Size([2, 64, 32])]
    """

    def __init__(
        self,
        mode: str = "std",
        *,
        sample_rate: int = 16000,
        n_fft: int | None = None,
        hop_length: int | None = None,
        n_mels: int = 128,
        n_mfcc: int | None = None,
        f_min: float = 0.0,
        f_max: float | None = None,
        eps: float = 1e-6,
        top_db: float | None = 80.0,
        checkpoint: str | Path | None = None,
        peak_norm: bool = False,
        cmvn: bool = False,
        active_db: float = 40.0,
    ) -> None:
        super().__init__()
        self.mode = check_mode(mode)
        if not isinstance(peak_norm, bool):
            raise ValueError(f"peak_norm must be True or False, got {peak_norm!r}")
        if not isinstance(cmvn, bool):
            raise ValueError(f"cmvn must be True or False, got {cmvn!r}")
        if not active_db > 0:
            raise ValueError(f"active_db must be > 0 dB, got {active_db}")
        self.peak_norm, self.cmvn, self.active_db = peak_norm, cmvn, float(active_db)
        n_fft, hop_length, f_max = frontend_settings(sample_rate, n_fft, hop_length, n_mels, f_min, f_max)
        n_mfcc = min(64, n_mels) if n_mfcc is None else n_mfcc
        if not 0 <= n_mfcc <= n_mels:
            raise ValueError(f"n_mfcc must be in 0..n_mels={n_mels} (0 turns the MFCC pathway off), got {n_mfcc}")
        fixed = MelSpectrogram(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
                               f_min=f_min, f_max=f_max)
        self.sample_rate, self.n_fft, self.hop_length = int(sample_rate), int(n_fft), int(hop_length)
        self.n_mels, self.n_mfcc, self.f_min, self.f_max = n_mels, n_mfcc, float(f_min), float(f_max)
        self.eps, self.top_db = eps, top_db
        self.trainable_mel, self.trainable_stft = TRAINABLE_MEL_STFT[mode]
        if mode == "std":
            self.mel = fixed
        else:
            self.mel = NNAudioMel(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
                                  f_min=f_min, f_max=f_max, trainable_mel=self.trainable_mel,
                                  trainable_stft=self.trainable_stft)
        if n_mfcc:
            self.register_buffer("dct", torchaudio.functional.create_dct(n_mfcc, n_mels, "ortho"), persistent=False)
        else:
            self.dct = None
        if mode == "mel+stft+fsdd":
            if checkpoint is None:
                raise ValueError(
                    "mode 'mel+stft+fsdd' starts from a front-end pre-trained on FSDD: pass checkpoint=PATH, "
                    "the frontend.pt of apac_lab.recipes.pretrain_fsdd_frontend(out=..., sample_rate=...)"
                )
            load_frontend_checkpoint(self, checkpoint)
        elif checkpoint is not None:
            raise ValueError(
                f"checkpoint= initialises the front-end of mode 'mel+stft+fsdd' only, not {mode!r}; "
                "to continue a training run use apac_lab.train.fit(..., resume=True)"
            )

    @property
    def min_samples(self) -> int:
        """Shortest accepted clip: one analysis window (``n_fft`` samples)."""
        return self.n_fft

    def num_frames(self, num_samples: int) -> int:
        """Frames for a clip of ``num_samples`` samples (centred frames)."""
        return num_samples // self.hop_length + 1

    def config(self) -> dict:
        """The settings that fix the shapes of the front-end's weights."""
        return {"sample_rate": self.sample_rate, "n_fft": self.n_fft, "hop_length": self.hop_length,
                "n_mels": self.n_mels, "f_min": self.f_min, "f_max": self.f_max}

    def mel_filterbank(self) -> torch.Tensor:
        """The current mel filterbank, ``(n_mels, n_fft // 2 + 1)`` (learned in the trainable modes)."""
        if self.mode == "std":
            return self.mel.mel.mel_scale.fb.T.detach()
        return self.mel.mel_basis.detach()

    def power_mel(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` -> power mel ``(batch, n_mels, frames)`` (may dip below 0 once trained).

        Always computed in float32, also under mixed precision (autocast): power spectra of
        loud clips overflow float16 (max 65504), and the logs would then be inf.
        """
        waveform = check_waveform_batch(waveform, self.min_samples, self.sample_rate)
        with torch.autocast(device_type=waveform.device.type, enabled=False):
            return self.mel(waveform.float())

    def forward(self, waveform: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        mel = self.power_mel(waveform)
        with torch.autocast(device_type=mel.device.type, enabled=False):
            if self.peak_norm:
                mel = mel / mel.detach().amax(dim=(-2, -1), keepdim=True).clamp(min=1e-20)
            log_mel = safe_log(mel, self.eps)
            mfcc = mel_to_mfcc(mel, self.dct, self.top_db) if self.dct is not None else None
            if self.cmvn:
                active = active_frames(mel.detach(), self.active_db)
                log_mel = utterance_cmvn(log_mel, active)
                mfcc = utterance_cmvn(mfcc, active, variance=False) if mfcc is not None else None
        return log_mel, mfcc

    def extra_repr(self) -> str:
        return (f"mode={self.mode!r}, sample_rate={self.sample_rate}, n_fft={self.n_fft}, hop_length={self.hop_length}, "
                f"n_mels={self.n_mels}, n_mfcc={self.n_mfcc}" + (", peak_norm=True" if self.peak_norm else "")
                + (", cmvn=True" if self.cmvn else ""))


def save_frontend_checkpoint(frontend: APACFrontEnd, path: str | Path, **meta) -> Path:
    """Save a front-end's weights and settings (atomically) for ``mode="mel+stft+fsdd"``."""
    return write_frontend_checkpoint(path, mode=frontend.mode, config=frontend.config(),
                                     state=frontend.state_dict(), meta=meta)


def load_frontend_checkpoint(frontend: APACFrontEnd, path: str | Path) -> dict:
    """Load the mel and STFT weights saved by :func:`save_frontend_checkpoint` into ``frontend``.

    Also accepts a training checkpoint of :func:`apac_lab.train.fit` whose model holds a
    ``frontend.`` sub-module (the file format: :mod:`apac_lab.checkpoints`). Returns the
    checkpoint's ``meta`` dict.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the checkpoint is not a front-end one, or its settings differ.
    """
    state, config, meta = read_frontend_checkpoint(path)
    if config is not None:
        want = frontend.config()
        diff = {k: (config.get(k), want[k]) for k in ("sample_rate", "n_fft", "hop_length", "n_mels")
                if config.get(k) != want[k]}
        if diff:
            detail = ", ".join(f"{k}: checkpoint {a} vs model {b}" for k, (a, b) in diff.items())
            raise ValueError(f"{path}: front-end settings differ ({detail}); pre-train again with the model's settings")
    own = frontend.mel.state_dict()
    sub = {k[len("mel."):]: v for k, v in state.items() if k.startswith("mel.")}
    if set(sub) != set(own) or any(sub[k].shape != own[k].shape for k in own):
        raise ValueError(f"{path}: its front-end weights do not fit a {frontend.mode!r} front-end "
                         f"({sorted(sub)} vs {sorted(own)})")
    frontend.mel.load_state_dict(sub)
    return meta
