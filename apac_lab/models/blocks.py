"""Building blocks of APAC: attention (CBAM, SE) and efficient convolutions.

* :class:`ConvNormAct` -- conv, BatchNorm, optional activation (the unit everything uses).
* :class:`SqueezeExcitation` -- channel re-weighting from globally pooled features (Hu et al. 2018).
* :class:`ChannelAttention`, :class:`SpatialAttention`, :class:`CBAM` -- channel then spatial
  attention (Woo et al. 2018).
* :class:`DepthwiseSeparableConv` -- depthwise k x k then pointwise 1 x 1, with ONE norm and ONE
  activation (the "fewer norms and activations" of ConvNeXt).
* :class:`InvertedResidual` -- MobileNetV2's block: 1 x 1 expansion, 3 x 3 depthwise, linear 1 x 1
  bottleneck, BatchNorm after each conv, ReLU6 inside, skip when shapes allow; optional SE.

All blocks map ``(batch, channels, freq, time)`` to ``(batch, channels', freq', time')``.

Notebook: 05_apac_training.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "ConvNormAct", "SqueezeExcitation", "ChannelAttention", "SpatialAttention", "CBAM",
    "DepthwiseSeparableConv", "InvertedResidual", "make_divisible",
]


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor`` (never below 90 % of it).

    The channel rounding of MobileNetV2.

    >>> make_divisible(37.0), make_divisible(3.0), make_divisible(3.0, 1)
    (40, 8, 3)
    """
    min_value = min_value or divisor
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def _act(name: str | None) -> nn.Module:
    acts = {"relu": nn.ReLU, "relu6": nn.ReLU6, "gelu": nn.GELU, "silu": nn.SiLU}
    if name is None:
        return nn.Identity()
    if name not in acts:
        raise ValueError(f"activation must be one of {sorted(acts)} or None, got {name!r}")
    return acts[name]()


class ConvNormAct(nn.Sequential):
    """Conv2d (no bias) -> BatchNorm2d -> activation (``None`` for a linear output).

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels.
        kernel_size (int, default 3): square kernel, "same" padding.
        stride (int, default 1): stride in both axes.
        groups (int, default 1): ``in_channels`` gives a depthwise conv.
        act (str | None, default "relu6"): "relu", "relu6", "gelu", "silu" or None.

    >>> ConvNormAct(1, 8, 7, stride=2, act="gelu")(torch.randn(2, 1, 128, 32)).shape
    torch.Size([2, 8, 64, 16])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 groups: int = 1, act: str | None = "relu6") -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out_channels),
            _act(act),
        )


class SqueezeExcitation(nn.Module):
    """Squeeze (global average pool) and excite (two 1 x 1 convs, sigmoid gate per channel).

    Args:
        channels (int): channels in and out.
        reduction (int, default 4): the bottleneck is ``channels / reduction`` (at least 8).

    Shape: ``(B, C, F, T)`` -> ``(B, C, F, T)``.

    >>> SqueezeExcitation(16)(torch.randn(2, 16, 8, 4)).shape
    torch.Size([2, 16, 8, 4])
    """

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = max(8, channels // reduction)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """The per-channel weights in (0, 1), shape ``(B, C, 1, 1)``."""
        return torch.sigmoid(self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class ChannelAttention(nn.Module):
    """CBAM's channel attention: a shared MLP on average- and max-pooled features, summed, sigmoid.

    >>> ChannelAttention(16).gate(torch.randn(2, 16, 8, 4)).shape
    torch.Size([2, 16, 1, 1])
    """

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(4, channels // reduction)
        self.mlp = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, channels, 1))

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.mlp(x.mean((2, 3), keepdim=True)) + self.mlp(x.amax((2, 3), keepdim=True)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class SpatialAttention(nn.Module):
    """CBAM's spatial attention: channel mean and max stacked, a k x k conv, sigmoid.

    On a spectrogram the "space" is (frequency, time): the gate says which time-frequency
    regions matter.

    >>> SpatialAttention().gate(torch.randn(2, 16, 8, 4)).shape
    torch.Size([2, 1, 8, 4])
    """

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class CBAM(nn.Module):
    """Convolutional Block Attention Module: channel attention, then spatial attention.

    Args:
        channels (int): channels in and out.
        reduction (int, default 8): channel-MLP bottleneck ratio.
        kernel_size (int, default 7): spatial-attention kernel (odd).

    Shape: ``(B, C, F, T)`` -> ``(B, C, F, T)``.

    >>> CBAM(32)(torch.randn(2, 32, 16, 8)).shape
    torch.Size([2, 32, 16, 8])
    """

    def __init__(self, channels: int, reduction: int = 8, kernel_size: int = 7) -> None:
        super().__init__()
        self.channel = ChannelAttention(channels, reduction)
        self.spatial = SpatialAttention(kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial(self.channel(x))


class DepthwiseSeparableConv(nn.Module):
    """Depthwise k x k conv, then pointwise 1 x 1 conv; one BatchNorm and one activation.

    ConvNeXt touch: the depthwise conv is followed by a norm but no activation, and the
    pointwise conv by the block's only activation (GELU by default).

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels.
        kernel_size (int, default 3): depthwise kernel (odd).
        stride (int, default 1): stride of the depthwise conv.
        act (str | None, default "gelu"): activation after the pointwise conv.

    >>> DepthwiseSeparableConv(32, 48, stride=2)(torch.randn(2, 32, 64, 16)).shape
    torch.Size([2, 48, 32, 8])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 act: str | None = "gelu") -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, stride, kernel_size // 2,
                                   groups=in_channels, bias=False)
        self.norm = nn.BatchNorm2d(in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1)
        self.act = _act(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.pointwise(self.norm(self.depthwise(x))))


class InvertedResidual(nn.Module):
    """MobileNetV2 inverted residual: expand (1 x 1), depthwise (3 x 3), project (1 x 1, linear).

    BatchNorm after each conv, ReLU6 after the expansion and the depthwise conv, none after
    the projection (the linear bottleneck); the input is added back when ``stride == 1`` and
    ``in_channels == out_channels``. ``se=True`` puts a Squeeze-and-Excitation gate on the
    expanded features, before the projection (as in MobileNetV3).

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels.
        stride (int, default 1): 1 or 2, on the depthwise conv.
        expand_ratio (int, default 4): hidden channels = ``in_channels * expand_ratio``.
        se (bool, default False): add an SE gate.

    >>> blk = InvertedResidual(32, 32, expand_ratio=4, se=True)
    >>> blk(torch.randn(2, 32, 16, 8)).shape, blk.use_skip
    (torch.Size([2, 32, 16, 8]), True)
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, expand_ratio: int = 4,
                 se: bool = False) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        if expand_ratio < 1:
            raise ValueError(f"expand_ratio must be >= 1, got {expand_ratio}")
        hidden = in_channels * expand_ratio
        self.use_skip = stride == 1 and in_channels == out_channels
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvNormAct(in_channels, hidden, 1, act="relu6"))
        layers.append(ConvNormAct(hidden, hidden, 3, stride, groups=hidden, act="relu6"))
        if se:
            layers.append(SqueezeExcitation(hidden))
        layers += [nn.Conv2d(hidden, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return x + out if self.use_skip else out
