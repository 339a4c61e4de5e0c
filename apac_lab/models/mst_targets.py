"""What the MSTmodel learns to reproduce: a log-mel spectrogram in dB, scaled to [-1, 1].

The target of Tax et al. (2017) follows Piczak (2015): at 22,050 Hz, a 1024-sample
window, a 512-sample hop and 60 mel bands, in decibels (floored 80 dB below each
segment's maximum), then scaled to [-1, 1] with the minimum and maximum of the
*training* targets (the tanh of the MSTmodel's last layer can reach that range). The
scaling is a small fitted module, :class:`RangeNormalizer`, whose statistics are buffers,
so they are saved and loaded with the model's ``state_dict``.

Which mel (``mel=``, :data:`TARGET_MELS`). The paper made its target with librosa, whose
``librosa.feature.melspectrogram`` uses Slaney's mel scale and Slaney's normalisation
(each triangle divided by its width). The kit's own mel (:class:`apac_lab.frontends.MelSpectrogram`)
is HTK's scale with triangles of height 1, like torchaudio's default. Both are offered:

- ``mel="librosa"``: librosa's mel, tested against ``librosa.feature.melspectrogram``
  (``tests/test_mst.py``; librosa is a test-only dependency). Frames are padded by
  reflection, as librosa did before 0.10 (the paper used 0.5); ``pad_mode="constant"``
  gives librosa 0.10+'s zero padding.
- ``mel="htk"``: the kit's mel (the default of :class:`LogMelDB`, as before).

Notebook 04 trains on ``mel="librosa"`` (:class:`apac_lab.recipes.MSTSettings`'s ``target_mel``).

:class:`MSTTargetDataset` pairs each segment's waveform (peak-normalised) with its target:
the ``(input, target)`` items the training loop regresses with MSE.

Notebook: 04_learning_the_mel_mstmodel.
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import nn
from torch.utils.data import Dataset

from apac_lab.data.segments import SegmentDataset
from apac_lab.frontends.db import power_to_db
from apac_lab.frontends.fixed import MelSpectrogram
from apac_lab.frontends.scratch import mel_band_edges

__all__ = ["MST_DEFAULTS", "TARGET_MELS", "LogMelDB", "RangeNormalizer", "MSTTarget", "MSTTargetDataset"]

#: Piczak's and Tax et al.'s settings.
MST_DEFAULTS = {"sample_rate": 22050, "n_fft": 1024, "hop_length": 512, "n_mels": 60, "frames": 101}

#: The targets' mels: name -> (mel scale, triangle normalisation) of :class:`apac_lab.frontends.MelSpectrogram`.
TARGET_MELS = {"htk": ("htk", None), "librosa": ("slaney", "slaney")}


class LogMelDB(nn.Module):
    """Log-mel spectrogram in dB (fixed): :class:`apac_lab.frontends.MelSpectrogram` then
    :func:`apac_lab.frontends.power_to_db` (floored ``top_db`` below each segment's maximum).

    Args:
        sample_rate (int, default 22050): Hz.
        n_fft (int, default 1024): window in samples.
        hop_length (int, default 512): hop in samples.
        n_mels (int, default 60): mel bands.
        top_db (float | None, default 80.0): dynamic range per spectrogram.
        mel (str, default "htk"): ``"htk"`` (the kit's mel) or ``"librosa"`` (Slaney scale and
            normalisation, ``librosa.feature.melspectrogram``'s); see the module docstring.
        pad_mode (str, default "reflect"): padding of the centred frames, ``"reflect"`` or
            ``"constant"`` (librosa 0.10+'s default).

    Shape: ``(..., samples)`` -> ``(..., n_mels, samples // hop_length + 1)`` (centred frames).

    >>> LogMelDB()(torch.randn(2, 51200)).shape
    torch.Size([2, 60, 101])
    >>> LogMelDB(mel="librosa").band_edges()[:3].round().tolist()  # Hz, Slaney scale
    [0.0, 55.0, 109.0]
    """

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        n_fft: int = 1024,
        hop_length: int = 512,
        n_mels: int = 60,
        top_db: float | None = 80.0,
        mel: str = "htk",
        pad_mode: str = "reflect",
    ) -> None:
        super().__init__()
        if mel not in TARGET_MELS:
            raise ValueError(f"mel must be one of {sorted(TARGET_MELS)}, got {mel!r}")
        scale, norm = TARGET_MELS[mel]
        self.mel = MelSpectrogram(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
                                  mel_scale=scale, norm=norm, pad_mode=pad_mode)
        self.sample_rate, self.n_fft, self.hop_length, self.n_mels, self.top_db = (
            sample_rate, n_fft, hop_length, n_mels, top_db,
        )
        self.mel_name, self.pad_mode = mel, pad_mode

    def filterbank(self) -> torch.Tensor:
        """The mel triangles, one per row: ``(n_mels, n_fft // 2 + 1)`` (as the target applies them)."""
        return self.mel.filterbank()

    def band_edges(self) -> torch.Tensor:
        """The ``n_mels + 2`` corner frequencies (Hz) of the triangles; band ``m`` peaks at ``edges[m + 1]``."""
        return mel_band_edges(n_mels=self.n_mels, f_min=self.mel.f_min, f_max=self.mel.f_max,
                              scale=TARGET_MELS[self.mel_name][0])

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        # float32 even under mixed precision: a full-scale tone's power (~1e5) overflows float16
        with torch.autocast(device_type=waveform.device.type, enabled=False):
            return power_to_db(self.mel(waveform.float()), top_db=self.top_db)


class RangeNormalizer(nn.Module):
    """Scale values to [-1, 1] with the minimum and maximum seen by :meth:`fit` (training data).

    ``y = 2 (x - low) / (high - low) - 1``. Values outside the fitted range map outside
    [-1, 1] (nothing is clipped: an unseen loudness should show, not hide).
    ``low``, ``high`` and ``fitted`` are buffers: they travel with ``state_dict``.

    >>> norm = RangeNormalizer().fit(torch.tensor([-80.0, 0.0]))
    >>> norm(torch.tensor([-80.0, -40.0, 0.0]))
    tensor([-1.,  0.,  1.])
    >>> norm.inverse(torch.tensor([0.0]))
    tensor([-40.])
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("low", torch.tensor(0.0))
        self.register_buffer("high", torch.tensor(1.0))
        self.register_buffer("fitted", torch.tensor(False))

    @torch.no_grad()
    def fit(self, data: torch.Tensor | Iterable[torch.Tensor]) -> "RangeNormalizer":
        """Set ``low`` and ``high`` to the minimum and maximum of ``data`` (a tensor or batches)."""
        batches = [data] if isinstance(data, torch.Tensor) else data
        low, high = float("inf"), float("-inf")
        for x in batches:
            x = torch.as_tensor(x)
            if x.numel() == 0:
                continue
            if not torch.isfinite(x).all():
                raise ValueError("RangeNormalizer.fit: the data holds NaN or Inf")
            low, high = min(low, float(x.min())), max(high, float(x.max()))
        if low == float("inf"):
            raise ValueError("RangeNormalizer.fit: no data (empty tensor or iterable)")
        if not high > low:
            raise ValueError(f"RangeNormalizer.fit: all values equal {low}; the range is empty, nothing to scale")
        self.low.fill_(low)
        self.high.fill_(high)
        self.fitted.fill_(True)
        return self

    def _check(self) -> None:
        if not bool(self.fitted):
            raise RuntimeError("RangeNormalizer is not fitted: call .fit(training_data) (or load a state_dict) first")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check()
        return 2.0 * (x - self.low) / (self.high - self.low) - 1.0

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """Back to the original units (dB for the MST target)."""
        self._check()
        return (y + 1.0) / 2.0 * (self.high - self.low) + self.low

    def extra_repr(self) -> str:
        return f"low={float(self.low):.3g}, high={float(self.high):.3g}, fitted={bool(self.fitted)}"


class MSTTarget(nn.Module):
    """The MSTmodel's target: :class:`LogMelDB` then a :class:`RangeNormalizer` fitted on training data.

    Args: as :class:`LogMelDB`.

    Shape: ``(batch, samples)`` -> ``(batch, n_mels, samples // hop_length + 1)``, in [-1, 1]
    on the data it was fitted on. Fit it with :meth:`fit` on the training segments only.
    It is also configuration (a)'s front-end: the classifier on log-mel sees exactly this.

    >>> target = MSTTarget().fit(torch.randn(4, 51200))
    >>> y = target(torch.randn(2, 51200)); y.shape
    torch.Size([2, 60, 101])
    """

    def __init__(self, **kwargs) -> None:
        super().__init__()
        self.logmel = LogMelDB(**kwargs)
        self.normalizer = RangeNormalizer()

    @property
    def n_mels(self) -> int:
        return self.logmel.n_mels

    @property
    def mel(self) -> str:
        """``"htk"`` or ``"librosa"``: which mel the target uses."""
        return self.logmel.mel_name

    @property
    def hop_length(self) -> int:
        return self.logmel.hop_length

    @property
    def sample_rate(self) -> int:
        return self.logmel.sample_rate

    def num_frames(self, num_samples: int) -> int:
        """Frames for ``num_samples`` samples (centred STFT)."""
        return num_samples // self.logmel.hop_length + 1

    @torch.no_grad()
    def fit(self, waveforms: torch.Tensor | Dataset, *, batch_size: int = 256) -> "MSTTarget":
        """Fit the normaliser on the log-mel of training waveforms: a ``(n, samples)`` tensor or a
        dataset whose items start with a waveform (e.g. a :class:`SegmentDataset`)."""
        if isinstance(waveforms, torch.Tensor):
            if waveforms.dim() != 2:
                raise ValueError(f"MSTTarget.fit expects (n, samples) waveforms, got shape {tuple(waveforms.shape)}")
            batches = (waveforms[i : i + batch_size] for i in range(0, len(waveforms), batch_size))
        else:
            n = len(waveforms)
            batches = (
                torch.stack([waveforms[j][0] for j in range(i, min(i + batch_size, n))]) for i in range(0, n, batch_size)
            )
        self.normalizer.fit(self.logmel(b) for b in batches)
        return self

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.normalizer(self.logmel(waveform))


class MSTTargetDataset(Dataset):
    """``(segment waveform, target log-mel)`` pairs for training the MSTmodel with MSE.

    Targets are computed once, in batches, with a FITTED :class:`MSTTarget`.

    Args:
        segments (SegmentDataset): peak-normalised segments (any ClipDataset cut by it).
        target (MSTTarget): fitted on the TRAINING segments (``MSTTarget().fit(train_segments)``).
        batch_size (int, default 256): segments per batch while computing targets.

    Items: ``(waveform (samples,), target (n_mels, frames))``.

    >>> from apac_lab.data import load_synthetic
    >>> seg = SegmentDataset(load_synthetic(n_speakers=1, takes=1, test_takes=0, split="train",
    ...                      sample_rate=22050), frames=41)
    >>> ds = MSTTargetDataset(seg, MSTTarget().fit(seg))
    >>> [tuple(t.shape) for t in ds[0]]
    [(20480,), (60, 41)]
    """

    def __init__(self, segments: SegmentDataset, target: MSTTarget, *, batch_size: int = 256) -> None:
        if segments.sample_rate != target.sample_rate:
            raise ValueError(
                f"the segments are at {segments.sample_rate} Hz but the target expects {target.sample_rate} Hz: "
                f"load the data with load_dataset(..., sample_rate={target.sample_rate})"
            )
        if segments.hop_length != target.hop_length:
            raise ValueError(f"segments were cut for hop {segments.hop_length}, the target hops {target.hop_length}")
        self.segments = segments
        with torch.no_grad():
            chunks = [
                target(segments.segments(range(i, min(i + batch_size, len(segments)))))
                for i in range(0, len(segments), batch_size)
            ]
        self.targets = torch.cat(chunks) if chunks else torch.empty(0)

    def __len__(self) -> int:
        return len(self.segments)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.segments[index][0], self.targets[index]
