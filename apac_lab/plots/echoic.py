"""Figures for echoic memory: dilated spans, views, reconstructions, embeddings in 2D.

Notebook: 03_echoic_buffers.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from apac_lab.frontends.buffers import dilated_spans
from apac_lab.plots.core import COLORSCALE, style, to_numpy

__all__ = ["SAFE_COLORS", "pca_2d", "plot_spans", "plot_views", "plot_embedding_2d"]

#: Paul Tol's colour-blind-safe qualitative palette (plotly's "Safe"), for classes.
SAFE_COLORS = ["#88CCEE", "#CC6677", "#DDCC77", "#117733", "#332288", "#AA4499", "#44AA99", "#999933",
               "#882255", "#661100", "#888888"]


def pca_2d(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Project rows of ``x`` (n, d) on their first two principal components.

    Returns the ``(n, 2)`` coordinates and the share of variance each component explains.

    >>> xy, share = pca_2d(torch.randn(50, 6) * torch.tensor([5.0, 1, 1, 1, 1, 1]))
    >>> xy.shape, bool(share[0] > share[1])
    (torch.Size([50, 2]), True)
    """
    x = x.double() - x.double().mean(0)
    _, s, v = torch.linalg.svd(x, full_matrices=False)
    share = (s ** 2) / (s ** 2).sum()
    return (x @ v[:2].T).float(), share[:2].float()


def plot_spans(n_steps: int = 8, base: float = 2.0, hop_s: float = 0.01, *, title: str | None = None) -> go.Figure:
    """Which past frames each step of a dilated buffer summarises: one bar per step on a time axis.

    >>> len(plot_spans(4).data)
    1
    """
    starts, widths = dilated_spans(n_steps, base)
    ms = 1000 * hop_s
    fig = go.Figure(go.Bar(
        y=[f"step {j}" for j in range(n_steps)], x=[w * ms for w in widths], base=[-(a + w) * ms for a, w in zip(starts, widths)],
        orientation="h", marker=dict(color=np.arange(n_steps), colorscale=COLORSCALE, line=dict(color="black", width=1)),
        hovertemplate="%{y}: %{base:.0f} to %{customdata:.0f} ms<extra></extra>",
        customdata=[-a * ms for a in starts],
    ))
    total = (starts[-1] + widths[-1]) * ms
    style(fig, title=title or f"{n_steps} steps, base {base:g}: {n_steps} frames cover the last {total:.0f} ms",
          x_title="Time before now (ms)", y_title="Buffer step", height=320)
    return fig


def plot_views(views: Sequence, titles: Sequence[str], *, center_freqs=None, hop_s: float = 0.01, base: float = 2.0,
               title: str, zmin: float | None = 0.0, zmax: float | None = 1.0, colorbar_title: str = "level (0-1)",
               credit: str | None = None) -> go.Figure:
    """Dilated views (each ``(n_steps, n_bins)``) side by side as heatmaps, oldest step on the left.

    >>> fig = plot_views([torch.rand(8, 10)] * 2, ["a", "b"], title="t")
    >>> len(fig.data)
    2
    """
    views = [to_numpy(v) for v in views]
    n_steps, n_bins = views[0].shape
    starts, widths = dilated_spans(n_steps, base)
    ms = lambda lag: f"{-lag * hop_s * 1000:.0f}" if lag else "0"  # noqa: E731
    labels = [ms(a) if w == 1 else f"{ms(a + w - 1)}…{ms(a)}" for a, w in zip(starts[::-1], widths[::-1])]
    y = to_numpy(center_freqs) if center_freqs is not None else np.arange(n_bins)
    fig = make_subplots(rows=1, cols=len(views), subplot_titles=list(titles), horizontal_spacing=0.04, shared_yaxes=True)
    for i, v in enumerate(views):
        fig.add_trace(go.Heatmap(z=v.T, x=labels, y=y, colorscale=COLORSCALE, zmin=zmin, zmax=zmax,
                                 showscale=i == 0, colorbar=dict(title=colorbar_title)), 1, i + 1)
    style(fig, title=title, x_title="Span before now (ms)",
          y_title="Centre frequency (Hz)" if center_freqs is not None else "Filter", height=360, credit=credit)
    if center_freqs is not None:
        fig.update_yaxes(type="log")
    return fig


def plot_embedding_2d(embeddings: torch.Tensor, labels: Sequence[int], classes: Sequence[str], *, title: str,
                      credit: str | None = None) -> go.Figure:
    """Embeddings projected on 2 principal components, one colour and one printed label per class.

    Each point is drawn as its class name, so the figure reads in grey-scale too.

    >>> fig = plot_embedding_2d(torch.randn(20, 5), [i % 2 for i in range(20)], ["a", "b"], title="t")
    >>> len(fig.data)
    2
    """
    xy, share = pca_2d(embeddings)
    xy, labels = to_numpy(xy), np.asarray(labels)
    fig = go.Figure()
    for c, name in enumerate(classes):
        m = labels == c
        if not m.any():
            continue
        fig.add_trace(go.Scatter(x=xy[m, 0], y=xy[m, 1], mode="text", text=[name] * int(m.sum()), name=name,
                                 textfont=dict(color=SAFE_COLORS[c % len(SAFE_COLORS)], size=13)))
    style(fig, title=title, x_title=f"PC 1 ({100 * float(share[0]):.0f}% of variance, a.u.)",
          y_title=f"PC 2 ({100 * float(share[1]):.0f}% of variance, a.u.)", height=440, credit=credit)
    fig.update_layout(legend_title_text="class")
    return fig
