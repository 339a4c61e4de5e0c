"""The MSTmodel: three 1D convolutions that learn the log-mel transform from raw audio.

Tax, Diez Antich, Purwins and Maaløe (2017), "Utilizing domain knowledge in end-to-end
audio processing" (NIPS ML4Audio workshop, arXiv:1712.00254), train the first layers of a
raw-audio CNN to reproduce a log-scaled mel spectrogram, then use those layers as the
front of a classifier. The layers follow the public reference (corticph/MSTmodel):

=====  =======  ======  ======  =======  ==========
layer  filters  kernel  stride  padding  activation
=====  =======  ======  ======  =======  ==========
1      512      1024    512     same     ReLU
2      256      3       1       same     ReLU
3      n_mels   3       1       same     tanh
=====  =======  ======  ======  =======  ==========

each convolution followed by BatchNorm. Layer 1 is a bank of 512 filters as long as the
target's FFT window and hopping like it, so one output frame per spectrogram frame.

Alignment. ``padding="center"`` (the default) pads layer 1 by half a window at both ends
(reflect, as torch.stft does), so frame ``t`` sees samples ``[t*hop - n_fft/2, t*hop + n_fft/2)``
exactly like a centred STFT frame: same count (``samples // hop + 1``) and same centres as
:class:`apac_lab.frontends.LogMel`. ``padding="same"`` is TensorFlow's "SAME", as in the
reference: ``ceil(samples / hop)`` frames centred half a hop later; the reference then drops
the target's last frame to match the count (and lives with the half-hop offset).

Notebook: 04_learning_the_mel_mstmodel.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MST_LAYERS", "MSTmodel", "mst_num_frames", "mst_frame_centers", "set_trainable"]

#: The layer table of the reference: (filters, kernel, stride, activation); "n_mels" is layer 3's width.
MST_LAYERS = (
    {"filters": 512, "kernel": 1024, "stride": 512, "activation": "relu"},
    {"filters": 256, "kernel": 3, "stride": 1, "activation": "relu"},
    {"filters": "n_mels", "kernel": 3, "stride": 1, "activation": "tanh"},
)

_PADDINGS = ("center", "same")


def mst_num_frames(num_samples: int, *, hop_length: int = 512, padding: str = "center") -> int:
    """Frames the MSTmodel gives for ``num_samples`` samples.

    ``"center"``: ``num_samples // hop_length + 1`` (a centred STFT's count);
    ``"same"``: ``ceil(num_samples / hop_length)`` (TensorFlow SAME).

    >>> mst_num_frames(51200), mst_num_frames(51200, padding="same")
    (101, 100)
    """
    if padding not in _PADDINGS:
        raise ValueError(f"padding must be one of {_PADDINGS}, got {padding!r}")
    if num_samples < 1 or hop_length < 1:
        raise ValueError(f"num_samples and hop_length must be >= 1, got {num_samples} and {hop_length}")
    if padding == "center":
        return num_samples // hop_length + 1
    return math.ceil(num_samples / hop_length)


def _same_pad(num_samples: int, n_fft: int, hop_length: int) -> tuple[int, int]:
    frames = math.ceil(num_samples / hop_length)
    total = max((frames - 1) * hop_length + n_fft - num_samples, 0)
    return total // 2, total - total // 2


def mst_frame_centers(
    num_samples: int, *, n_fft: int = 1024, hop_length: int = 512, padding: str = "center"
) -> torch.Tensor:
    """The sample at the centre of each MSTmodel frame's window (``start + n_fft // 2``, as torch.stft).

    >>> mst_frame_centers(2048).tolist()
    [0.0, 512.0, 1024.0, 1536.0, 2048.0]
    >>> mst_frame_centers(2048, padding="same").tolist()
    [256.0, 768.0, 1280.0, 1792.0]
    """
    frames = mst_num_frames(num_samples, hop_length=hop_length, padding=padding)
    left = n_fft // 2 if padding == "center" else _same_pad(num_samples, n_fft, hop_length)[0]
    return torch.arange(frames, dtype=torch.float64) * hop_length - left + n_fft // 2


def set_trainable(module: nn.Module, trainable: bool) -> nn.Module:
    """Freeze (``False``) or unfreeze (``True``) every parameter of ``module``; return it.

    Frozen BatchNorm layers must also stop updating their running statistics: the
    MSTmodel's ``train()`` keeps them in eval mode while it is frozen.

    >>> m = set_trainable(nn.Linear(2, 2), False)
    >>> any(p.requires_grad for p in m.parameters())
    False
    """
    for p in module.parameters():
        p.requires_grad_(trainable)
    for m in module.modules():  # the module itself, or MSTmodels inside it
        if isinstance(m, MSTmodel):
            m._frozen = not trainable
            m.train(m.training)
    return module


class MSTmodel(nn.Module):
    """Three Conv1d + BatchNorm layers mapping a waveform to a (normalised) log-mel spectrogram.

    Args:
        n_mels (int, default 60): output bands (layer 3's filters).
        n_filters (int, default 512): layer 1's filters.
        n_hidden (int, default 256): layer 2's filters.
        n_fft (int, default 1024): layer 1's kernel, in samples (the target's window).
        hop_length (int, default 512): layer 1's stride, in samples (the target's hop).
        padding (str, default "center"): ``"center"`` aligns frames with a centred STFT;
            ``"same"`` is the reference's TensorFlow SAME (see the module docstring).
        batch_norm (bool, default True): BatchNorm after each convolution, as the reference.
        dropout (float, default 0.0): dropout after each activation (0.5 in configuration (b)).
        trainable (bool, default True): False freezes every parameter and the BatchNorm statistics.

    Shape: ``(batch, samples)`` or ``(batch, 1, samples)`` -> ``(batch, n_mels, frames)``,
    values in (-1, 1), ``frames = mst_num_frames(samples, hop_length=hop_length, padding=padding)``.

    The learned layers are ``conv1, bn1, conv2, bn2, conv3, bn3`` (``.layers`` lists them in
    order); the whole module is a front-end: put it in front of another model
    (:class:`apac_lab.models.PiczakCNN` does), frozen or not.

    >>> m = MSTmodel().eval()
    >>> m(torch.randn(2, 51200)).shape
    torch.Size([2, 60, 101])
    """

    def __init__(
        self,
        *,
        n_mels: int = 60,
        n_filters: int = 512,
        n_hidden: int = 256,
        n_fft: int = 1024,
        hop_length: int = 512,
        padding: str = "center",
        batch_norm: bool = True,
        dropout: float = 0.0,
        trainable: bool = True,
    ) -> None:
        super().__init__()
        if min(n_mels, n_filters, n_hidden) < 1:
            raise ValueError(f"n_mels, n_filters and n_hidden must be >= 1, got {n_mels}, {n_filters}, {n_hidden}")
        if hop_length < 1 or n_fft < hop_length:
            raise ValueError(
                f"need 1 <= hop_length <= n_fft (samples), got hop_length={hop_length}, n_fft={n_fft}; "
                "a hop longer than the window would skip samples"
            )
        if padding not in _PADDINGS:
            raise ValueError(f"padding must be one of {_PADDINGS}, got {padding!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.n_mels, self.n_filters, self.n_hidden = n_mels, n_filters, n_hidden
        self.n_fft, self.hop_length, self.padding = n_fft, hop_length, padding
        self.dropout = dropout
        self.conv1 = nn.Conv1d(1, n_filters, n_fft, stride=hop_length)
        self.conv2 = nn.Conv1d(n_filters, n_hidden, 3, padding=1)
        self.conv3 = nn.Conv1d(n_hidden, n_mels, 3, padding=1)
        norm = (lambda c: nn.BatchNorm1d(c)) if batch_norm else (lambda c: nn.Identity())
        self.bn1, self.bn2, self.bn3 = norm(n_filters), norm(n_hidden), norm(n_mels)
        self.drop = nn.Dropout(dropout)
        self._frozen = False
        self.reset_parameters()
        set_trainable(self, trainable)

    @property
    def layers(self) -> list[nn.Module]:
        """The learned layers in order: conv1, bn1, conv2, bn2, conv3, bn3."""
        return [self.conv1, self.bn1, self.conv2, self.bn2, self.conv3, self.bn3]

    @property
    def trainable(self) -> bool:
        """False while the model is frozen (see :func:`set_trainable`)."""
        return not self._frozen

    def reset_parameters(self) -> None:
        """Xavier-uniform weights and zero biases, as the reference; BatchNorm to identity."""
        for conv in (self.conv1, self.conv2, self.conv3):
            nn.init.xavier_uniform_(conv.weight)
            nn.init.zeros_(conv.bias)
        for bn in (self.bn1, self.bn2, self.bn3):
            if isinstance(bn, nn.BatchNorm1d):
                bn.reset_parameters()

    def train(self, mode: bool = True) -> "MSTmodel":
        super().train(mode)
        if self._frozen:  # frozen: BatchNorm statistics and dropout stay as at test time
            for m in self.modules():
                if m is not self:
                    m.train(False)
        return self

    def num_frames(self, num_samples: int) -> int:
        """Output frames for ``num_samples`` input samples."""
        return mst_num_frames(num_samples, hop_length=self.hop_length, padding=self.padding)

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[-1]
        if self.padding == "center":
            half = self.n_fft // 2
            if n <= half:
                raise ValueError(
                    f"MSTmodel: input of {n} samples is too short for reflect padding by {half}; "
                    f"give at least {half + 1} samples (one window is {self.n_fft})"
                )
            return F.pad(x, (half, half), mode="reflect")
        return F.pad(x, _same_pad(n, self.n_fft, self.hop_length))

    def first_layer(self, waveform: torch.Tensor) -> torch.Tensor:
        """Layer 1 only (conv, BatchNorm, ReLU): ``(batch, samples)`` -> ``(batch, n_filters, frames)``."""
        x = self._check(waveform)
        return torch.relu(self.bn1(self.conv1(self._pad(x))))

    def _check(self, waveform: torch.Tensor) -> torch.Tensor:
        if not isinstance(waveform, torch.Tensor):
            raise TypeError(f"MSTmodel expects a torch.Tensor waveform, got {type(waveform).__name__}")
        if waveform.dim() == 2:
            waveform = waveform.unsqueeze(1)
        if waveform.dim() != 3 or waveform.shape[1] != 1:
            raise ValueError(
                f"MSTmodel expects (batch, samples) or (batch, 1, samples), got shape {tuple(waveform.shape)}"
            )
        return waveform

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.first_layer(waveform))
        x = self.drop(torch.relu(self.bn2(self.conv2(x))))
        return self.drop(torch.tanh(self.bn3(self.conv3(x))))

    def extra_repr(self) -> str:
        return f"n_mels={self.n_mels}, n_fft={self.n_fft}, hop_length={self.hop_length}, padding={self.padding!r}, trainable={self.trainable}"
