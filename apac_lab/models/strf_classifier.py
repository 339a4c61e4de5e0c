"""Small log-mel classifiers whose first layer is a bank of 2D spectro-temporal filters.

Two first layers of the same size and the same non-linearity, so that a comparison
isolates the parametrisation:

* ``"gabor"``: :class:`~apac_lab.frontends.GaborSTRF`, 4 numbers per filter
  (sigma_t, sigma_f, gamma, F);
* ``"conv"``: :class:`FreeSTRF`, the same quadrature pairs of kernels, but every tap
  free: ``2 * size_f * size_t`` numbers per filter (1998 for 9 x 111).

Both give the magnitude ``sqrt(re^2 + im^2)`` of each pair ("energy" of a complex
cell), then the same small CNN: log compression, batch norm, two conv blocks, average
pooling to a coarse 4 x 4 time-frequency map and a linear read-out.

Notebook: 02_gabor_filter_learning.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from apac_lab.frontends.fftconv import conv2d_same
from apac_lab.frontends.gabor import GaborSTRF

__all__ = ["FreeSTRF", "STRFClassifier", "STRF_LAYER_KINDS"]

#: The values of ``STRFClassifier(layer=...)``: a Gabor bank, or free convolution kernels.
STRF_LAYER_KINDS = ("gabor", "conv")


class FreeSTRF(nn.Module):
    """A plain convolution with free kernels, shaped like :class:`~apac_lab.frontends.GaborSTRF`.

    ``n_filters`` pairs of free ``(size_f, size_t)`` kernels (2N output channels: the
    first kernels of the pairs, then the second ones), "same" padding, no bias, PyTorch's
    default ``Conv2d`` initialisation; ``output="magnitude"`` gives ``sqrt(a^2 + b^2)``
    per pair. The convolution picks direct or FFT like the Gabor layer.

    Args:
        n_filters (int, default 64): number of kernel pairs N.
        kernel_size (tuple[int, int], default (9, 111)): (mel bands, frames).
        output (str, default "magnitude"): ``"magnitude"`` or ``"complex"`` (2N channels).
        method (str, default "auto"): see :func:`apac_lab.frontends.conv2d_same`.

    >>> layer = FreeSTRF(4, kernel_size=(9, 111))
    >>> layer(torch.randn(2, 1, 64, 101)).shape, layer.weight.numel()
    (torch.Size([2, 4, 64, 101]), 7992)
    """

    def __init__(self, n_filters: int = 64, *, kernel_size: tuple[int, int] = (9, 111), output: str = "magnitude",
                 method: str = "auto") -> None:
        super().__init__()
        if not isinstance(n_filters, int) or n_filters < 1:
            raise ValueError(f"n_filters must be a positive int, got {n_filters!r}")
        if output not in ("magnitude", "complex"):
            raise ValueError(f"output must be 'magnitude' or 'complex', got {output!r}")
        self.n_filters, self.kernel_size, self.output, self.method = n_filters, tuple(kernel_size), output, method
        self.weight = nn.Parameter(torch.empty(2 * n_filters, 1, *self.kernel_size))
        bound = 1.0 / math.sqrt(self.kernel_size[0] * self.kernel_size[1])  # as nn.Conv2d
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        y = conv2d_same(x, self.weight, method=self.method)  # casts to x's precision
        if self.output == "magnitude":
            n = self.n_filters
            y = torch.sqrt(y[:, :n] ** 2 + y[:, n:] ** 2 + 1e-12)
        return y


class STRFClassifier(nn.Module):
    """Log-mel -> STRF bank (Gabor or free) -> small CNN -> class scores.

    Args:
        n_classes (int, default 10): output classes.
        layer (str, default "gabor"): ``"gabor"`` (:class:`~apac_lab.frontends.GaborSTRF`)
            or ``"conv"`` (:class:`FreeSTRF`).
        n_filters (int, default 16): STRF pairs N.
        kernel_size (tuple[int, int], default (9, 111)): (mel bands, frames).
        trainable (bool, default True): learn the STRF layer (False freezes it: a fixed
            Gabor bank, or fixed random kernels).
        channels (tuple[int, int], default (32, 64)): widths of the two conv blocks.
        pool (tuple[int, int], default (4, 4)): (bands, frames) kept by the final average
            pooling: a coarse map of where in frequency and time the patterns were.
        dropout (float, default 0.2): before the read-out.
        init (dict | None): initial Gabor parameters (``layer="gabor"`` only).

    Input ``(batch, n_mels, frames)`` (or with a channel axis of 1); each clip is
    standardised (zero mean, unit variance) first. Output ``(batch, n_classes)`` logits.

    >>> model = STRFClassifier(10, n_filters=4, kernel_size=(5, 21))
    >>> model(torch.randn(3, 32, 40)).shape
    torch.Size([3, 10])
    >>> model.strf_parameters()
    16
    """

    def __init__(self, n_classes: int = 10, *, layer: str = "gabor", n_filters: int = 16,
                 kernel_size: tuple[int, int] = (9, 111), trainable: bool = True, channels: tuple[int, int] = (32, 64),
                 pool: tuple[int, int] = (4, 4), dropout: float = 0.2, init: dict | None = None) -> None:
        super().__init__()
        if layer not in STRF_LAYER_KINDS:
            raise ValueError(f"layer must be one of {STRF_LAYER_KINDS}, got {layer!r}")
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        if init is not None and layer != "gabor":
            raise ValueError("init sets Gabor parameters; it needs layer='gabor'")
        self.layer_kind = layer
        if layer == "gabor":
            self.strf = GaborSTRF(n_filters, kernel_size=kernel_size, output="magnitude", trainable=trainable, init=init)
        else:
            self.strf = FreeSTRF(n_filters, kernel_size=kernel_size, output="magnitude")
            self.strf.weight.requires_grad_(trainable)
        c1, c2 = channels
        self.norm = nn.BatchNorm2d(n_filters)
        self.body = nn.Sequential(
            nn.MaxPool2d(2),
            nn.Conv2d(n_filters, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(pool), nn.Flatten(), nn.Dropout(dropout),
        )
        self.head = nn.Linear(c2 * pool[0] * pool[1], n_classes)

    def strf_parameters(self) -> int:
        """Number of learnable numbers in the STRF layer (4 per Gabor filter, 2 kf kt per free pair)."""
        return sum(p.numel() for p in self.strf.parameters() if p.requires_grad)

    def features(self, logmel: torch.Tensor) -> torch.Tensor:
        """The STRF layer's log-magnitude responses, ``(batch, n_filters, n_mels, frames)``."""
        if logmel.dim() == 4:
            if logmel.shape[1] != 1:
                raise ValueError(f"expected one input channel, got shape {tuple(logmel.shape)}")
            logmel = logmel[:, 0]
        if logmel.dim() != 3:
            raise ValueError(f"expected log-mels (batch, n_mels, frames), got shape {tuple(logmel.shape)}")
        x = logmel - logmel.mean(dim=(1, 2), keepdim=True)
        x = x / (x.std(dim=(1, 2), keepdim=True) + 1e-5)
        return torch.log(self.strf(x[:, None]) + 1e-3)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.norm(self.features(logmel))))
