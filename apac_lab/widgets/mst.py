"""The MSTmodel's learned first layer, one filter at a time: Tax et al.'s Figure 2, browsable.

:class:`MSTFilterInspector` sorts layer 1's kernels by the frequency of their peak
response, and shows the chosen one: its taps, its magnitude response, and the triangle of
the target's mel band whose centre is nearest that peak (the band it would have to feed to
compute the log-mel), with its rank among all the filters beside the mel band centres.

Each update sends only the traces that change (the kernel, the response, the triangle and
one marker: about 2,000 float32 numbers); the rest of the figure stays.

Notebook: 04_learning_the_mel_mstmodel.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import torch

from apac_lab.models.mst_analysis import filter_responses, nearest_mel_bands, sort_filters_by_peak
from apac_lab.plots.core import to_numpy
from apac_lab.plots.mst import learned_filter_figure
from apac_lab.widgets.core import LiveFigure, Widget

__all__ = ["MSTFilterInspector"]

_UPDATED = ("kernel", "response", "triangle", "this filter")


class MSTFilterInspector(Widget):
    """Browse the first-layer filters of an MSTmodel, sorted by peak frequency, beside their mel triangles.

    Args:
        weight (Tensor): layer 1's kernels, ``(filters, 1, kernel)`` or ``(filters, kernel)``
            (``mst.conv1.weight``).
        sample_rate (int): Hz of the model's input.
        filterbank (Tensor): the target's mel triangles, ``(n_mels, kernel // 2 + 1)``
            (``target.logmel.filterbank()``), on the FFT bins of one kernel.
        band_edges (Tensor): the ``n_mels + 2`` corner frequencies of those triangles in Hz
            (``target.logmel.band_edges()``).
        rank (int, default 0): the filter shown first (0 = lowest peak).
        scale (str, default "linear"): ``"linear"`` or ``"dB"`` for the response and triangle.
        backend (str | None, default None): LiveFigure backend (None picks one).

    ``controls``: ``rank`` (a slider over the sorted filters) and ``scale``;
    ``update(rank=..., scale=...)`` moves them and redraws, what the controls do in the
    browser. ``current`` describes the filter on show (its index in the layer, peak, band).
    :meth:`from_models` builds one from a trained MSTmodel and its target.

    >>> import torch
    >>> t = torch.arange(64) / 8000
    >>> w = torch.stack([torch.sin(2 * torch.pi * f * t) for f in (3000.0, 500.0, 1500.0)])
    >>> fb = torch.eye(33)[[4, 12, 24]]  # three "bands" peaking at 500, 1500 and 3000 Hz
    >>> insp = MSTFilterInspector(weight=w, sample_rate=8000, filterbank=fb,
    ...                           band_edges=torch.tensor([0.0, 500.0, 1500.0, 3000.0, 4000.0]), backend="output")
    >>> insp.update(rank=2); insp.current["filter"], insp.current["peak_hz"], insp.current["band"]
    (0, 3000.0, 2)
    """

    def __init__(self, *, weight: torch.Tensor, sample_rate: int, filterbank: torch.Tensor, band_edges: torch.Tensor,
                 rank: int = 0, scale: str = "linear", backend: str | None = None) -> None:
        w = weight.detach().float().cpu()
        w = w[:, 0] if w.dim() == 3 else w
        if w.dim() != 2 or w.shape[0] < 1:
            raise ValueError(f"weight must be (filters, 1, kernel) or (filters, kernel), got shape {tuple(weight.shape)}")
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be > 0 Hz, got {sample_rate}")
        fb = filterbank.detach().float().cpu()
        n_freqs = w.shape[-1] // 2 + 1
        if fb.dim() != 2 or fb.shape[1] != n_freqs:
            raise ValueError(f"filterbank must be (n_mels, {n_freqs}) for {w.shape[-1]}-tap kernels (the target's "
                             f"n_fft equals the kernel), got shape {tuple(fb.shape)}")
        edges = torch.as_tensor(band_edges, dtype=torch.float64).flatten()
        if edges.numel() != fb.shape[0] + 2:
            raise ValueError(f"band_edges needs n_mels + 2 = {fb.shape[0] + 2} corner frequencies, got {edges.numel()}")
        if scale not in ("linear", "dB"):
            raise ValueError(f"scale must be 'linear' or 'dB', got {scale!r}")
        self.sample_rate = int(sample_rate)
        self.order, self.peaks = sort_filters_by_peak(w, self.sample_rate)
        self.kernels = w[self.order]
        self.freqs, self.responses = filter_responses(self.kernels, self.sample_rate)
        self.filterbank, self.band_centers = fb, edges[1:-1].float()
        self.bands = nearest_mel_bands(self.peaks, self.band_centers)
        n = len(self.order)
        if not 0 <= rank < n:
            raise ValueError(f"rank must be in 0..{n - 1}, got {rank}")
        self.controls = {
            "rank": W.IntSlider(value=rank, min=0, max=n - 1, description="rank", continuous_update=False,
                                layout=W.Layout(width="60%")),
            "scale": W.ToggleButtons(options=["linear", "dB"], value=scale, description="response"),
        }
        self.live = LiveFigure(self._figure(), backend=backend)
        self.widget = W.VBox([W.HBox(list(self.controls.values())), self.live.widget])
        self._watch(draw=False)

    @classmethod
    def from_models(cls, mst, target, **kwargs) -> "MSTFilterInspector":
        """From a trained :class:`apac_lab.models.MSTmodel` and its :class:`apac_lab.models.MSTTarget`."""
        return cls(weight=mst.conv1.weight, sample_rate=target.sample_rate, filterbank=target.logmel.filterbank(),
                   band_edges=target.logmel.band_edges(), **kwargs)

    @classmethod
    def example(cls, *, backend: str | None = None) -> "MSTFilterInspector":
        """Notebook 04's size: an untrained MSTmodel (512 filters of 1024 taps) beside its 60-band target."""
        from apac_lab.models.mst import MSTmodel
        from apac_lab.models.mst_targets import MSTTarget

        torch.manual_seed(0)
        return cls.from_models(MSTmodel(), MSTTarget(), backend=backend)

    @property
    def figure(self):
        """The figure on show (a plotly Figure or FigureWidget)."""
        return self.live.figure

    @property
    def current(self) -> dict:
        """The filter on show: ``rank``, ``filter`` (its index in the layer), ``peak_hz``, ``band`` (0-based)."""
        r = self.controls["rank"].value
        return {"rank": r, "filter": int(self.order[r]), "peak_hz": float(self.peaks[r]), "band": int(self.bands[r])}

    def _figure(self):
        r = self.controls["rank"].value
        band = int(self.bands[r])
        return learned_filter_figure(kernel=self.kernels[r], freqs=self.freqs, response=self.responses[r],
                                     triangle=self.filterbank[band], peaks=self.peaks, rank=r,
                                     sample_rate=self.sample_rate, band=band, band_centers=self.band_centers,
                                     scale=self.controls["scale"].value)

    def _draw(self) -> None:
        new = self._figure()
        fresh = {t.name: t for t in new.data}

        def apply(fig):
            for trace in fig.data:
                if trace.name in _UPDATED:
                    trace.update(x=fresh[trace.name].x, y=fresh[trace.name].y)
            fig.layout.title.text = new.layout.title.text
            fig.layout.yaxis2.title.text = new.layout.yaxis2.title.text

        self.live.update(apply)
