"""Figures for echoic memory: gammatone spectrograms, a ring buffer's storage, gammatone
against mel, dilated spans, views, reconstructions, embeddings in 2D.

Levels in dB are :func:`apac_lab.frontends.power_to_db`'s: re the loudest point (0 dB),
floored ``top_db`` below it. Gammatone centre frequencies are drawn on a log axis.

Notebook: 03_echoic_buffers.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from apac_lab.frontends.buffers import dilated_spans
from apac_lab.frontends.db import power_to_db
from apac_lab.frontends.scratch import mel_filterbank
from apac_lab.plots.core import COLORSCALE, heatmap, style, to_numpy

__all__ = ["SAFE_COLORS", "pca_2d", "plot_spans", "plot_views", "plot_embedding_2d", "gammatone_figure",
           "ring_storage_figure", "gammatone_vs_mel_figure", "mel_and_gammatone_figure"]

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


def _db_re_max(power, ref: float | None = None, top_db: float = 80.0) -> np.ndarray:
    """Power ``(n_bins, frames)`` in dB re ``ref`` (None: its maximum), floored ``top_db`` below its maximum."""
    p = torch.as_tensor(to_numpy(power), dtype=torch.float32)
    return to_numpy(power_to_db(p, ref=None if ref is None else float(ref), amin=1e-30, top_db=top_db, dims=None))


def gammatone_figure(power, *, center_freqs, hop_s: float, title: str = "Gammatone spectrogram",
                     top_db: float = 80.0, credit: str | None = None, height: int = 360) -> go.Figure:
    """A gammatone power spectrogram ``(n_filters, frames)`` in dB re its loudest point, on a log frequency axis.

    Args:
        power (Tensor): filter output power, e.g. ``Gammatonegram(sample_rate=SR)(wave)``.
        center_freqs (Tensor): ``(n_filters,)`` Hz (``Gammatonegram.center_freqs``).
        hop_s (float): seconds between frames.
        top_db (float, default 80.0): the range shown below the loudest point.

    >>> fig = gammatone_figure(torch.rand(4, 10), center_freqs=torch.tensor([100., 200, 400, 800]), hop_s=0.01)
    >>> fig.layout.yaxis.type, float(fig.data[0].z.max())
    ('log', 0.0)
    """
    z = _db_re_max(power, top_db=top_db)
    fig = heatmap(z, x=np.arange(z.shape[1]) * hop_s, y=to_numpy(center_freqs), title=title, x_title="Time (s)",
                  y_title="Gammatone centre frequency (Hz)", colorbar_title="dB re max", height=height, credit=credit)
    fig.data[0].update(zmin=-top_db, zmax=0)
    fig.update_yaxes(type="log")
    return fig


def ring_storage_figure(storage, unwrapped, *, write: int, center_freqs, ref: float, top_db: float = 80.0,
                        credit: str | None = None, height: int = 360) -> go.Figure:
    """A ring buffer's frames as written (left, with the seam at the write slot) and in time order (right).

    Args:
        storage, unwrapped (Tensor): ``(capacity, n_bins)`` each: ``ring.storage[0]`` and
            ``ring.unwrap()[0]`` of a :class:`~apac_lab.frontends.RingBuffer`.
        write (int): the next slot written (``ring.write``).
        center_freqs (Tensor): ``(n_bins,)`` Hz.
        ref (float): the 0 dB power (e.g. the recording's loudest value), shared by both panels.
        top_db (float, default 80.0): the range shown below ``ref``.

    >>> fig = ring_storage_figure(torch.rand(6, 3), torch.rand(6, 3), write=2, center_freqs=[100., 200, 400], ref=1.0)
    >>> len(fig.data), fig.layout.annotations[0].text
    (2, 'storage as written (seam at slot 2)')
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(f"storage as written (seam at slot {write})", "unwrap(): oldest to newest"))
    y = to_numpy(center_freqs)
    for col, frames in ((1, storage), (2, unwrapped)):
        z = _db_re_max(to_numpy(frames).T, ref=ref, top_db=top_db)
        fig.add_trace(go.Heatmap(z=z, y=y, colorscale=COLORSCALE, zmin=-top_db, zmax=0, showscale=col == 1,
                                 colorbar=dict(title="dB re max")), 1, col)
    style(fig, title=f"The same {len(to_numpy(storage))} frames in a ring buffer: as stored, and in time order",
          x_title="Storage slot (index)", y_title="Centre frequency (Hz)", height=height, credit=credit)
    fig.update_xaxes(title_text="Frame, oldest first (index)", row=1, col=2)
    fig.update_yaxes(type="log")
    return fig


def gammatone_vs_mel_figure(gammatone, *, picks: Sequence[int] = (10, 50, 90), height: int = 380) -> go.Figure:
    """Gammatone (ERB-spaced) against HTK mel filters, as many, over the same range: the centre
    frequency of each filter (left) and a few filters' power responses (right).

    Args:
        gammatone (Gammatonegram): the filterbank (its weights, centre frequencies, rate and range).
        picks (Sequence[int], default (10, 50, 90)): the gammatone filters drawn on the right,
            each beside the mel filter with the nearest centre.

    >>> from apac_lab.frontends import Gammatonegram
    >>> len(gammatone_vs_mel_figure(Gammatonegram(sample_rate=8000, n_filters=20), picks=(5,)).data)
    4
    """
    weights = to_numpy(gammatone.weights)  # (n_filters, n_freqs)
    centres = to_numpy(gammatone.center_freqs)
    n_filters, n_freqs = weights.shape
    sr = gammatone.sample_rate
    mel = to_numpy(mel_filterbank(sample_rate=sr, n_fft=gammatone.n_fft, n_mels=n_filters,
                                  f_min=float(gammatone.f_min), f_max=float(gammatone.f_max)))
    freqs = np.arange(n_freqs) * sr / gammatone.n_fft
    mel_centres = freqs[mel.argmax(1)]
    gt_colour, mel_colour = SAFE_COLORS[4], SAFE_COLORS[1]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                        subplot_titles=("Centre frequency of each filter", "A few filters' responses (power)"))
    fig.add_trace(go.Scatter(y=centres, name="gammatone (ERB-spaced)", line=dict(color=gt_colour)), 1, 1)
    fig.add_trace(go.Scatter(y=mel_centres, name="mel (HTK)", line=dict(color=mel_colour, dash="dash")), 1, 1)
    for i in picks:
        j = int(np.abs(mel_centres - centres[i]).argmin())
        fig.add_trace(go.Scatter(x=freqs, y=weights[i], line=dict(color=gt_colour), showlegend=False), 1, 2)
        fig.add_trace(go.Scatter(x=freqs, y=mel[j], line=dict(color=mel_colour, dash="dash"), showlegend=False), 1, 2)
    style(fig, title=(f"Gammatone (ERB scale) against mel: {n_filters} filters from {gammatone.f_min:g} Hz "
                      f"to {gammatone.f_max / 1000:g} kHz"),
          x_title="Filter index", y_title="Centre frequency (Hz)", height=height)
    fig.update_xaxes(title_text="Frequency (Hz)", type="log", row=1, col=2)
    fig.update_yaxes(title_text="Power gain (1 at the centre)", row=1, col=2)
    return fig


def mel_and_gammatone_figure(mel_power, gammatone_power, *, hop_s: float, title: str,
                             names: tuple[str, str] = ("mel", "gammatone"), top_db: float = 80.0,
                             credit: str | None = None, height: int = 360) -> go.Figure:
    """One clip through mel and gammatone filters, side by side, each in dB re its own loudest point.

    Args:
        mel_power, gammatone_power (Tensor): ``(bands, frames)`` powers with the same hop.
        hop_s (float): seconds between frames.
        names (tuple[str, str], default ("mel", "gammatone")): the panels' titles.

    >>> fig = mel_and_gammatone_figure(torch.rand(8, 10), torch.rand(6, 10), hop_s=0.01, title="t")
    >>> [float(t.z.max()) for t in fig.data]
    [0.0, 0.0]
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08, subplot_titles=names)
    for col, power in ((1, mel_power), (2, gammatone_power)):
        z = _db_re_max(power, top_db=top_db)
        fig.add_trace(go.Heatmap(z=z, x=np.arange(z.shape[1]) * hop_s, colorscale=COLORSCALE, zmin=-top_db, zmax=0,
                                 showscale=col == 1, colorbar=dict(title="dB re max")), 1, col)
    style(fig, title=title, x_title="Time (s)", y_title="Band / filter index (low to high)", height=height,
          credit=credit)
    fig.update_xaxes(title_text="Time (s)", row=1, col=2)
    return fig
