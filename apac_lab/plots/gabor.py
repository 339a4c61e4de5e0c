"""Figures of Gabor STRFs: kernels, a grid of kernels, the modulation plane, responses.

Kernels are signed: drawn with the diverging map (``DIVERGING``, centred on 0). Axes are
in physical units where the frame rate is known: time lag in ms, band offset in mel
bands, temporal modulation in Hz, spectral modulation in cycles per band (or octave).
Markers differ in shape as well as colour, so that groups (initial / learned) stay
apart in grey-scale print.

Notebook: 02_gabor_filter_learning (and the Gabor widgets).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from apac_lab.plots.core import COLORSCALE, DIVERGING, MARKERS, style, to_numpy

__all__ = [
    "gabor_kernel_figure", "kernel_grid_figure", "modulation_plane_figure", "gabor_response_figure",
    "kernel_axes", "kernel_trace",
]


def kernel_axes(size_f: int, size_t: int, frame_rate: float | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """Band offsets, time lags (ms if ``frame_rate`` is given, else frames) and the lag axis title.

    >>> f, t, title = kernel_axes(3, 5, frame_rate=100.0)
    >>> f.tolist(), t.tolist(), title
    ([-1.0, 0.0, 1.0], [-20.0, -10.0, 0.0, 10.0, 20.0], 'Time lag (ms)')
    """
    f = np.arange(size_f) - (size_f - 1) / 2
    t = np.arange(size_t) - (size_t - 1) / 2
    if frame_rate:
        return f, t * 1000.0 / frame_rate, "Time lag (ms)"
    return f, t, "Time lag (frames)"


def kernel_trace(z, f, t, zmax: float, showscale: bool, colorbar_x: float | None = None) -> go.Heatmap:
    """One signed kernel ``(size_f, size_t)`` as a heatmap trace on the diverging map, ``-zmax..zmax``.

    ``f`` and ``t`` are its axes (:func:`kernel_axes`); the building block of every kernel
    figure here and of the Gabor widgets.

    >>> f, t, _ = kernel_axes(3, 5)
    >>> kernel_trace(np.ones((3, 5)), f, t, 1.0, False).zmid
    0.0
    """
    return go.Heatmap(z=z, x=t, y=f, colorscale=DIVERGING, zmid=0.0, zmin=-zmax, zmax=zmax, showscale=showscale,
                      colorbar=dict(title="weight", x=colorbar_x) if showscale else None)


def gabor_kernel_figure(real, imag, *, frame_rate: float | None = None, title: str = "A Gabor STRF",
                        height: int = 300) -> go.Figure:
    """Real (even) and imaginary (odd) parts of one kernel, side by side.

    Args:
        real, imag (Tensor | array): ``(size_f, size_t)`` each.
        frame_rate (float | None): frames per second, for a lag axis in ms.

    >>> import torch
    >>> fig = gabor_kernel_figure(torch.ones(3, 5), torch.zeros(3, 5))
    >>> len(fig.data), fig.data[0].z.shape
    (2, (3, 5))
    """
    re, im = to_numpy(real), to_numpy(imag)
    if re.ndim != 2 or re.shape != im.shape:
        raise ValueError(f"real and imag must be two 2D kernels of one shape, got {re.shape} and {im.shape}")
    f, t, t_title = kernel_axes(*re.shape, frame_rate)
    zmax = float(max(np.abs(re).max(), np.abs(im).max(), 1e-12))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("real part (even)", "imaginary part (odd)"),
                        horizontal_spacing=0.08)
    fig.add_trace(kernel_trace(re, f, t, zmax, False), 1, 1)
    fig.add_trace(kernel_trace(im, f, t, zmax, True), 1, 2)
    style(fig, title=title, x_title=t_title, y_title="Band offset (mel bands)", height=height)
    fig.update_xaxes(title_text=t_title, row=1, col=2)
    return fig


def kernel_grid_figure(kernels, *, n_cols: int = 8, max_filters: int = 32, frame_rate: float | None = None,
                       title: str = "Gabor filter bank (real parts)", labels: Sequence[str] | None = None,
                       x_title: str | None = None, y_title: str = "Band") -> go.Figure:
    """A grid of kernels ``(n, size_f, size_t)``, each on its own colour range (blue > 0 > red).

    ``x_title`` defaults to the time-lag axis; pass other titles for other kernels (images).

    >>> import torch
    >>> kernel_grid_figure(torch.randn(5, 3, 7), n_cols=4).layout.height  # two rows
    450
    """
    k = to_numpy(kernels)
    if k.ndim != 3:
        raise ValueError(f"kernels must be (n, size_f, size_t), got shape {k.shape}")
    k = k[:max_filters]
    n = k.shape[0]
    rows = math.ceil(n / n_cols)
    names = list(labels[:n]) if labels is not None else [f"#{i}" for i in range(n)]
    fig = make_subplots(rows=rows, cols=min(n_cols, n), subplot_titles=names, horizontal_spacing=0.02,
                        vertical_spacing=0.12 / max(rows, 1))
    f, t, t_title = kernel_axes(k.shape[1], k.shape[2], frame_rate)
    for i in range(n):
        zmax = float(max(np.abs(k[i]).max(), 1e-12))
        fig.add_trace(kernel_trace(k[i], f, t, zmax, False), i // n_cols + 1, i % n_cols + 1)
    style(fig, title=title, x_title=t_title if x_title is None else x_title, y_title=y_title, height=150 + 150 * rows)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_annotations(font_size=10)
    return fig


def modulation_plane_figure(
    power=None,
    spectral=None,
    temporal=None,
    *,
    filters: Mapping[str, Mapping[str, object]] | None = None,
    spectral_unit: str = "cycles/band",
    title: str = "Modulation plane",
    height: int = 380,
    credit: str | None = None,
) -> go.Figure:
    """The modulation spectrum of sound (heatmap) and Gabor filters on it (markers).

    Args:
        power (Tensor | None): ``(n_spectral, n_temporal)`` in dB, e.g. the mean over clips
            of :func:`apac_lab.frontends.modulation_spectrum`; None draws markers only.
        spectral, temporal: its axes (cycles per band or octave, Hz).
        filters (dict | None): group name -> output of
            :func:`apac_lab.frontends.gabor_modulation_position` (``temporal_hz``,
            ``spectral``); one marker trace per group, in insertion order.
        spectral_unit (str, default "cycles/band"): label of the spectral axis.

    >>> import torch
    >>> fig = modulation_plane_figure(filters={"init": {"temporal_hz": torch.tensor([1.0]), "spectral": torch.tensor([0.1])}})
    >>> fig.data[0].name, fig.data[0].x.tolist()
    ('init', [1.0])
    """
    fig = go.Figure()
    if power is not None:
        fig.add_trace(go.Heatmap(z=to_numpy(power), x=to_numpy(temporal), y=to_numpy(spectral), colorscale=COLORSCALE,
                                 colorbar=dict(title="dB"), name="sound", hovertemplate=(
                                     "%{x:.1f} Hz, %{y:.3f} " + spectral_unit + ": %{z:.1f} dB<extra></extra>")))
    for i, (name, pos) in enumerate((filters or {}).items()):
        symbol, colour = MARKERS[i % len(MARKERS)]
        fig.add_trace(go.Scatter(
            x=to_numpy(pos["temporal_hz"]).ravel(), y=to_numpy(pos["spectral"]).ravel(), mode="markers", name=name,
            marker=dict(symbol=symbol, color=colour, size=9, line=dict(width=2, color=colour)),
            hovertemplate="%{x:.1f} Hz, %{y:.3f} " + spectral_unit + "<extra>" + name + "</extra>",
        ))
    style(fig, title=title, x_title="Temporal modulation (Hz)", y_title=f"Spectral modulation ({spectral_unit})",
          height=height, credit=credit)
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"))
    return fig


def gabor_response_figure(logmel, response, *, frame_rate: float, title: str = "Response of a Gabor STRF",
                          credit: str | None = None, height: int = 420) -> go.Figure:
    """A log-mel (top) and a filter's response to it (bottom), on one time axis.

    Args:
        logmel, response (Tensor): ``(n_mels, frames)`` each (e.g. the magnitude of one
            filter's output).
        frame_rate (float): frames per second.

    >>> import torch
    >>> len(gabor_response_figure(torch.zeros(4, 10), torch.ones(4, 10), frame_rate=100.0).data)
    2
    """
    x, y = to_numpy(logmel), to_numpy(response)
    if x.ndim != 2 or x.shape != y.shape:
        raise ValueError(f"logmel and response must be 2D of one shape, got {x.shape} and {y.shape}")
    seconds = np.arange(x.shape[1]) / frame_rate
    bands = np.arange(x.shape[0])
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=("log-mel", "filter response magnitude"))
    fig.add_trace(go.Heatmap(z=x, x=seconds, y=bands, colorscale=COLORSCALE, colorbar=dict(title="log", y=0.78, len=0.45)), 1, 1)
    fig.add_trace(go.Heatmap(z=y, x=seconds, y=bands, colorscale=COLORSCALE, colorbar=dict(title="|y|", y=0.22, len=0.45)), 2, 1)
    style(fig, title=title, x_title="", y_title="Mel band", height=height, credit=credit)
    fig.update_xaxes(title_text="Time (s)", row=2, col=1)
    fig.update_yaxes(title_text="Mel band", row=2, col=1)
    return fig
