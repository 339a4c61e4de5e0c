"""APAC, the dual-pathway speech classifier (Cassetta 2023), from the waveform up.

The model owns its front-end (:class:`~apac_lab.models.frontend_modes.APACFrontEnd`, one of
five modes) and maps ``(batch, samples)`` waveforms to ``(batch, n_classes)`` logits.

Architecture (channels at ``width_mult=1``; shapes for 1 s at 16 or 8 kHz: 128 mels x 32 frames)::

    waveform ─ front-end ─┬─ log-mel (128 x 32) ─ BN per band ─┬─ 3x3 conv /2, BN, GELU (16) ─┐
                          │                                    └─ 7x7 conv /2, BN, GELU (16) ─┴ concat (32) 64 x 16
                          │   CBAM (channel, then spatial attention)                  64 x 16
                          │   depthwise-separable 3x3 /2, GELU (32)                   32 x 8
                          │   inverted residual 48, 48 + SE                           32 x 8
                          │   inverted residual 64 /2, 64 + SE                        16 x 4
                          │   inverted residual 96 /2, 96 + SE (expansion 4, ReLU6)    8 x 2
                          │   CBAM; 1x1 conv, BN, GELU (160); global average pool    -> 160
                          └─ MFCC (64 x 32) ─ BN per coefficient ─ conv1d k3, BN, GELU (64)
                              depthwise-separable conv1d k3, GELU (64); mean over time -> 64
    concat (224) ─ LayerNorm ─ dropout ─ linear 128, GELU ─ dropout ─ linear n_classes

About 0.41 M parameters for 35 classes (``std`` mode; the trainable modes add nnAudio's
mel basis, 0.13 M, and STFT kernels, 4.2 M at n_fft 2048).

Choices where the paper is vague (repeated in notebook 05):

1. **Merge of the two branches**: concatenation along channels (16 + 16), not a sum, so
   that later layers can weigh the fine (3x3) and coarse (7x7) receptive fields.
2. **Input normalisation**: a BatchNorm per mel band (and per MFCC coefficient), a learned
   version of per-band mean/variance normalisation; it also absorbs the change of scale
   of a trainable front-end.
3. **Stride**: both stem branches, the depthwise-separable conv and two inverted residual
   blocks halve the map (x16 in all: 128 x 32 ends at 8 x 2). Down-sampling early is what
   keeps APAC as fast as MobileNetV2 on the CPU (``benchmarks/cost.py``).
4. **Attention**: CBAM twice (after the merged stem, and after the last inverted residual);
   SE inside the second inverted residual of each stage (the stride-1 ones), on the
   expanded features (MobileNetV3 placement).
5. **ConvNeXt touches**: GELU in the feature-extraction stem, the depthwise-separable conv
   and the head; the depthwise-separable conv has one norm and one activation only.
   MobileNetV2's blocks keep ReLU6 and a BatchNorm after every conv, as the paper says.
6. **Auxiliary pathway**: MFCCs treated as a 1-D sequence (coefficients as channels,
   convolution over time), pooled by the mean over time. It shares the front-end's mel
   (trainable in the trainable modes).
7. **Fusion**: concatenation of the pooled vectors just before the classifier.
8. **Inhibition**: LayerNorm on the fused vector, dropout (0.3) before each linear layer,
   and weight decay in the optimiser (``TrainConfig.weight_decay=1e-3``, the paper's value).

Notebook: 05_apac_training.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from apac_lab.models.blocks import CBAM, ConvNormAct, DepthwiseSeparableConv, InvertedResidual, make_divisible
from apac_lab.models.frontend_modes import APACFrontEnd

__all__ = ["APAC", "APAC_STAGES"]

# (out_channels, stride, expand_ratio, squeeze-excitation) of the inverted residual blocks.
APAC_STAGES: tuple[tuple[int, int, int, bool], ...] = (
    (48, 1, 4, False),
    (48, 1, 4, True),
    (64, 2, 4, False),
    (64, 1, 4, True),
    (96, 2, 4, False),
    (96, 1, 4, True),
)


class _AuxMFCC(nn.Module):
    """MFCC pathway: (B, n_mfcc, T) -> (B, channels)."""

    def __init__(self, n_mfcc: int, channels: int) -> None:
        super().__init__()
        self.norm_in = nn.BatchNorm1d(n_mfcc)
        self.conv = nn.Sequential(nn.Conv1d(n_mfcc, channels, 3, padding=1, bias=False), nn.BatchNorm1d(channels), nn.GELU())
        self.dw = nn.Conv1d(channels, channels, 3, padding=1, groups=channels, bias=False)
        self.norm = nn.BatchNorm1d(channels)
        self.pw = nn.Conv1d(channels, channels, 1)
        self.act = nn.GELU()

    def forward(self, mfcc: torch.Tensor) -> torch.Tensor:
        x = self.conv(self.norm_in(mfcc))
        x = self.act(self.pw(self.norm(self.dw(x))))
        return x.mean(-1)


class APAC(nn.Module):
    """Auditory-pathway-inspired audio classifier: log-mel main pathway + MFCC auxiliary pathway.

    See the module docstring for the diagram and the choices made where the paper is vague.

    Args:
        n_classes (int): number of classes.
        sample_rate (int, default 16000): Hz of the input waveforms.
        mode (str, default "std"): front-end mode, one of ``apac_lab.models.MODES``.
        n_fft, hop_length (int | None, default None): None scales 2048 / 512 @ 16 kHz.
        n_mels (int, default 128): mel bands of the main pathway.
        n_mfcc (int | None, default None): MFCCs of the auxiliary pathway (>= 1); None is
            ``min(64, n_mels)``.
        width_mult (float, default 1.0): multiplies every channel count.
        dropout (float, default 0.3): before each linear layer of the classifier.
        checkpoint (str | Path | None, default None): front-end checkpoint (mode ``mel+stft+fsdd``).
        frontend (APACFrontEnd | None, default None): a ready front-end; when given, it replaces
            the front-end settings above (``sample_rate`` ... ``checkpoint``).

    Shape: ``(batch, samples)`` (or ``(batch, 1, samples)``) -> ``(batch, n_classes)``.

    >>> model = APAC(10, sample_rate=8000).eval()
    >>> model(torch.randn(2, 8000)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        n_classes: int,
        *,
        sample_rate: int = 16000,
        mode: str = "std",
        n_fft: int | None = None,
        hop_length: int | None = None,
        n_mels: int = 128,
        n_mfcc: int | None = None,
        width_mult: float = 1.0,
        dropout: float = 0.3,
        checkpoint: str | Path | None = None,
        frontend: APACFrontEnd | None = None,
    ) -> None:
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        if not width_mult > 0:
            raise ValueError(f"width_mult must be > 0, got {width_mult}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        ch = lambda c: make_divisible(c * width_mult, 8)  # noqa: E731
        if frontend is None:
            frontend = APACFrontEnd(mode, sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length,
                                    n_mels=n_mels, n_mfcc=n_mfcc, checkpoint=checkpoint)
        if frontend.n_mfcc < 1:
            raise ValueError(f"APAC needs its MFCC pathway: n_mfcc must be >= 1, got {frontend.n_mfcc}")
        self.frontend = frontend
        self.n_classes, self.mode = n_classes, frontend.mode
        n_mels, n_mfcc = frontend.n_mels, frontend.n_mfcc
        self.mel_norm = nn.BatchNorm1d(n_mels)
        stem = ch(16)
        self.branch3 = ConvNormAct(1, stem, 3, stride=2, act="gelu")
        self.branch7 = ConvNormAct(1, stem, 7, stride=2, act="gelu")
        self.cbam_in = CBAM(2 * stem)
        c = ch(32)
        self.ds = DepthwiseSeparableConv(2 * stem, c, 3, stride=2, act="gelu")
        blocks = []
        for out, stride, t, se in APAC_STAGES:
            blocks.append(InvertedResidual(c, ch(out), stride, t, se=se))
            c = ch(out)
        self.blocks = nn.Sequential(*blocks)
        self.cbam_out = CBAM(c)
        head = ch(160)
        self.head = ConvNormAct(c, head, 1, act="gelu")
        aux = ch(64)
        self.aux = _AuxMFCC(n_mfcc, aux)
        fused = head + aux
        hidden = ch(128)
        self.classifier = nn.Sequential(
            nn.LayerNorm(fused), nn.Dropout(dropout), nn.Linear(fused, hidden), nn.GELU(),
            nn.Dropout(dropout), nn.Linear(hidden, n_classes),
        )
        self._init_weights()

    def _init_weights(self) -> None:
        for m in (m for name, child in self.named_children() if name != "frontend" for m in child.modules()):
            if isinstance(m, (nn.Conv1d, nn.Conv2d)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        # block-by-block output shapes: apac_lab.plots.layer_shapes (forward hooks), notebook 05
        log_mel, mfcc = self.frontend(waveform)  # (B, n_mels, T), (B, n_mfcc, T)
        x = self.mel_norm(log_mel).unsqueeze(1)  # (B, 1, n_mels, T)
        x = torch.cat([self.branch3(x), self.branch7(x)], 1)  # (B, 32, n_mels / 2, T / 2)
        x = self.ds(self.cbam_in(x))
        x = self.cbam_out(self.blocks(x))
        main = self.head(x).mean((2, 3))  # global average pool: (B, 160)
        fused = torch.cat([main, self.aux(mfcc)], 1)  # (B, 160 + 64)
        return self.classifier(fused)
