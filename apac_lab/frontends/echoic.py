"""From waveforms to the listener's input: gammatone power -> dilated buffer -> dB in [0, 1].

The dilated buffer runs on power (so a span's mean is its mean energy, and the padding
before the signal's start, 0, is silence); the log comes after. Levels become
``1 + dB / top_db`` re a reference, clamped to ``[0, 1]``: 1 is the reference level, 0 is
``top_db`` below it or silence.

Notebook: 03_echoic_buffers.
"""

from __future__ import annotations

import torch
from torch import nn

from apac_lab.frontends.buffers import dilate
from apac_lab.frontends.db import power_to_db
from apac_lab.frontends.gammatone import Gammatonegram

__all__ = ["power_to_unit", "EchoicFrontend"]


def power_to_unit(power: torch.Tensor, *, ref: torch.Tensor | float | None = None, top_db: float = 80.0,
                  dims: tuple[int, ...] = (-2, -1)) -> torch.Tensor:
    """Power to ``clamp(1 + 10 log10(power / ref) / top_db, 0, 1)``.

    The dB are :func:`apac_lab.frontends.power_to_db`'s; this only rescales them to [0, 1].

    Args:
        power (Tensor): non-negative powers.
        ref (Tensor | float | None, default None): the 0 dB level; None takes the maximum
            over ``dims`` of each item (the loudest point of each clip is 1).
        top_db (float, default 80.0): the dynamic range kept, in dB.
        dims (tuple[int, ...], default (-2, -1)): the dims ``ref=None`` takes the maximum over.

    >>> power_to_unit(torch.tensor([[1.0, 0.1, 1e-9]]), top_db=20.0)
    tensor([[1.0000, 0.5000, 0.0000]])
    """
    if top_db <= 0:
        raise ValueError(f"top_db must be > 0 dB, got {top_db}")
    if ref is None:
        ref = power.amax(dim=dims, keepdim=True)
    # a silent clip (ref 0) stays silent: its reference is clamped well above the power floor
    ref = torch.as_tensor(ref, dtype=power.dtype, device=power.device).clamp_min(1e-20)
    db = power_to_db(power, ref=ref, amin=1e-30, top_db=None)
    return (1 + db / top_db).clamp(0, 1)


class EchoicFrontend(nn.Module):
    """Waveforms to dilated gammatone views, ready for :class:`apac_lab.models.Listener`.

    Args:
        sample_rate (int, default 8000): Hz.
        n_steps (int, default 8): frames per view.
        base (float, default 2.0): dilation base (spans 1, 2, 4, ... frames).
        mode (str | None, default None): "lookup", "mean" or "median" (see :func:`dilate`);
            None is "mean" for ``rule="kit"``, "lookup" (the only one) for "rothmann2018".
        rule (str, default "kit"): which frames a view holds, see :func:`dilate`: the
            kit's spans from the current frame back (oldest first), or "rothmann2018",
            the article's frames ``base**j`` back (newest first, the current one left out).
        view_stride (int | None, default None): one view every ``view_stride`` frames,
            ending at the last frame; None gives the last frame's view only.
        top_db (float, default 80.0): dynamic range of the [0, 1] scale.
        ref (float | None, default None): fixed 0 dB power; None is each clip's loudest
            gammatone value (level-invariant).
        gammatone (Gammatonegram | None, default None): the filterbank; None builds
            ``Gammatonegram(sample_rate=sample_rate)`` (100 filters, 25 ms, 10 ms hop).

    Shape: ``(batch, samples)`` -> ``(batch, n_steps, n_filters)`` (``view_stride=None``)
    or ``(batch, n_views, n_steps, n_filters)``, steps in the rule's order.

    >>> EchoicFrontend()(torch.randn(2, 8000)).shape
    torch.Size([2, 8, 100])
    >>> EchoicFrontend(view_stride=10)(torch.randn(2, 8000)).shape
    torch.Size([2, 11, 8, 100])
    """

    def __init__(self, *, sample_rate: int = 8000, n_steps: int = 8, base: float = 2.0, mode: str | None = None,
                 rule: str = "kit", view_stride: int | None = None, top_db: float = 80.0, ref: float | None = None,
                 gammatone: Gammatonegram | None = None) -> None:
        super().__init__()
        if view_stride is not None and view_stride < 1:
            raise ValueError(f"view_stride must be >= 1 frame or None, got {view_stride}")
        if top_db <= 0:
            raise ValueError(f"top_db must be > 0 dB, got {top_db}")
        self.gammatone = gammatone if gammatone is not None else Gammatonegram(sample_rate=sample_rate)
        if type(self.gammatone) is not Gammatonegram or self.gammatone.power != 2:
            raise ValueError("gammatone must be a (linear, power=2) Gammatonegram: the buffer averages power")
        mode = mode or ("mean" if rule == "kit" else None)
        dilate(torch.zeros(1, 1), n_steps=n_steps, base=base, mode=mode, rule=rule)  # checks the settings early
        self.sample_rate, self.n_steps, self.base, self.rule = sample_rate, n_steps, base, rule
        self.mode = mode or "lookup"
        self.view_stride, self.top_db, self.ref = view_stride, top_db, ref

    @property
    def n_filters(self) -> int:
        return self.gammatone.n_filters

    def views(self, power: torch.Tensor) -> torch.Tensor:
        """Dilated, scaled views of a gammatone power spectrogram ``(batch, n_filters, frames)``."""
        ref = self.ref if self.ref is not None else power.amax(dim=(-2, -1), keepdim=True).unsqueeze(-1)
        v = dilate(power.transpose(-1, -2), n_steps=self.n_steps, base=self.base, mode=self.mode, rule=self.rule)
        if self.view_stride is None:
            v = v[:, -1:]
        else:
            v = v[:, (v.shape[1] - 1) % self.view_stride::self.view_stride]
        v = power_to_unit(v, ref=ref, top_db=self.top_db)
        return v[:, 0] if self.view_stride is None else v

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        if waveform.dim() != 2:
            raise ValueError(f"expected waveforms (batch, samples), got shape {tuple(waveform.shape)}")
        return self.views(self.gammatone(waveform))
