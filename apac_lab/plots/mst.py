"""Figures for notebook 04: the MSTmodel's prediction against its target, the error per
band, the first layer's filter responses, one learned filter beside its mel triangle (the
figure of :class:`apac_lab.widgets.MSTFilterInspector`), out-of-domain probes, and the
classifiers compared. (Its training curves: :func:`apac_lab.plots.training_curves`.)

Every function returns a styled ``plotly.graph_objects.Figure``.

Notebook: 04_learning_the_mel_mstmodel.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from apac_lab.models.mst_analysis import filter_responses, mel_band_centers, sort_filters_by_peak
from apac_lab.plots.core import COLORSCALE, DIVERGING, style, to_numpy

__all__ = [
    "prediction_vs_target_figure", "band_error_figure", "filter_responses_figure", "learned_filter_figure",
    "probe_errors_figure", "results_figure",
]


def prediction_vs_target_figure(
    prediction: torch.Tensor,
    target: torch.Tensor,
    *,
    sample_rate: int = 22050,
    hop_length: int = 512,
    title: str = "MSTmodel prediction against the log-mel target",
    credit: str | None = None,
) -> go.Figure:
    """Target, prediction and their difference, side by side, for one segment.

    Args:
        prediction, target (Tensor): ``(n_mels, frames)`` in the normalised units ([-1, 1]).
        sample_rate (int, default 22050), hop_length (int, default 512): for the time axis.

    >>> fig = prediction_vs_target_figure(torch.zeros(60, 11), torch.ones(60, 11))
    >>> [t.text for t in fig.layout.annotations][:3]
    ['target (log-mel)', 'prediction (MSTmodel)', 'prediction - target']
    """
    p, t = to_numpy(prediction), to_numpy(target)
    if p.shape != t.shape or p.ndim != 2:
        raise ValueError(f"expected two (n_mels, frames) arrays of one shape, got {p.shape} and {t.shape}")
    n_mels, frames = t.shape
    x = np.arange(frames) * hop_length / sample_rate
    y = np.arange(1, n_mels + 1)
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=["target (log-mel)", "prediction (MSTmodel)", "prediction - target"])
    for col, z in ((1, t), (2, p)):
        fig.add_trace(go.Heatmap(z=z, x=x, y=y, colorscale=COLORSCALE, zmin=-1, zmax=1, coloraxis=None,
                                 colorbar=dict(title="scaled dB", x=0.64, len=0.9), showscale=col == 2), 1, col)
    d = p - t
    lim = float(max(np.abs(d).max(), 1e-6))
    fig.add_trace(go.Heatmap(z=d, x=x, y=y, colorscale=DIVERGING, zmid=0, zmin=-lim, zmax=lim,
                             colorbar=dict(title="difference", x=1.0, len=0.9)), 1, 3)
    style(fig, title=title, x_title="", y_title="", height=340, credit=credit)
    for col in (1, 2, 3):
        fig.update_xaxes(title_text="Time (s)", row=1, col=col)
    fig.update_yaxes(title_text="Mel band (1 = lowest)", row=1, col=1)
    return fig


def band_error_figure(errors: torch.Tensor, *, sample_rate: int = 22050, title: str | None = None) -> go.Figure:
    """Mean squared error of each mel band, against the band's centre frequency.

    >>> band_error_figure(torch.rand(60)).data[0].type
    'bar'
    """
    e = to_numpy(errors).ravel()
    centers = to_numpy(mel_band_centers(len(e), sample_rate))
    fig = go.Figure(go.Bar(x=centers, y=e, marker_color="#3b528b",
                           hovertemplate="band centre %{x:.0f} Hz<br>MSE %{y:.4f}<extra></extra>"))
    fig.update_xaxes(type="log")
    return style(fig, title=title or "Error per mel band", x_title="Band centre frequency (Hz, log scale)",
                 y_title="Mean squared error (scaled units²)")


def filter_responses_figure(
    weight: torch.Tensor, *, sample_rate: int = 22050, n_examples: int = 4, min_db: float = -40.0,
    title: str = "What layer 1 learned: its filters sorted by peak frequency",
) -> go.Figure:
    """Layer 1's kernels as filters: responses sorted by peak frequency, the peaks, a few kernels.

    Left: each filter's magnitude response (dB, rows sorted from lowest to highest peak).
    Middle: peak frequency against rank (a mel-like filterbank bends like the mel scale).
    Right: ``n_examples`` kernels spread over the ranks, in time.

    >>> fig = filter_responses_figure(torch.randn(16, 1, 64), sample_rate=8000, n_examples=2)
    >>> len(fig.data)
    4
    """
    w = weight.detach().float().cpu()
    w = w[:, 0] if w.dim() == 3 else w
    order, peaks = sort_filters_by_peak(w, sample_rate)
    freqs, db = filter_responses(w[order], sample_rate)
    fig = make_subplots(rows=1, cols=3, column_widths=[0.45, 0.25, 0.30], horizontal_spacing=0.08,
                        subplot_titles=["magnitude responses", "peak frequency", "example kernels"])
    fig.add_trace(go.Heatmap(z=to_numpy(db.clamp_min(min_db)), x=to_numpy(freqs), y=np.arange(len(order)),
                             colorscale=COLORSCALE, zmin=min_db, zmax=0,
                             colorbar=dict(title="dB", x=0.42, len=0.9)), 1, 1)
    fig.add_trace(go.Scatter(x=np.arange(len(order)), y=to_numpy(peaks), mode="markers",
                             marker=dict(size=3, color="#21918c"), name="peak"), 1, 2)
    t_ms = np.arange(w.shape[-1]) / sample_rate * 1000
    ranks = np.linspace(0, len(order) - 1, max(1, n_examples)).round().astype(int)
    for i, r in enumerate(ranks):
        k = to_numpy(w[order[r]])
        k = k / max(np.abs(k).max(), 1e-12) + 2.2 * i
        fig.add_trace(go.Scatter(x=t_ms, y=k, mode="lines", line=dict(width=1),
                                 name=f"rank {r}: {float(peaks[r]):.0f} Hz"), 1, 3)
    style(fig, title=title, x_title="", y_title="", height=380)
    fig.update_xaxes(title_text="Frequency (Hz)", row=1, col=1)
    fig.update_yaxes(title_text="Filter (sorted by peak)", row=1, col=1)
    fig.update_xaxes(title_text="Filter rank", row=1, col=2)
    fig.update_yaxes(title_text="Peak frequency (Hz)", row=1, col=2)
    fig.update_xaxes(title_text="Time (ms)", row=1, col=3)
    fig.update_yaxes(title_text="Kernel (scaled, offset)", showticklabels=False, row=1, col=3)
    fig.update_layout(legend=dict(orientation="h", y=-0.25))
    return fig


def _f32(x) -> np.ndarray:
    """Float32 arrays: plotly sends them as compact binary, half the bytes of float64."""
    return np.asarray(to_numpy(x), dtype=np.float32)


def learned_filter_figure(
    *,
    kernel,
    freqs,
    response,
    triangle,
    peaks,
    rank: int,
    sample_rate: int,
    band: int,
    band_centers,
    scale: str = "linear",
    min_db: float = -60.0,
    title: str | None = None,
) -> go.Figure:
    """One learned first-layer filter: its kernel, its frequency response beside the mel triangle
    it sits in, and where it ranks among all the filters sorted by peak frequency.

    Args:
        kernel (array): ``(kernel,)`` the filter's taps.
        freqs (array): ``(n_freqs,)`` Hz of ``response`` and ``triangle``.
        response (array): ``(n_freqs,)`` magnitude response in dB re its peak (max 0).
        triangle (array): ``(n_freqs,)`` the mel band's weights (any scale; drawn with peak 1).
        peaks (array): ``(n_filters,)`` every filter's peak frequency (Hz), sorted.
        rank (int): this filter's place in ``peaks``.
        sample_rate (int): Hz (the kernel's time axis).
        band (int): the mel band (0-based) whose centre is nearest the peak.
        band_centers (array): ``(n_mels,)`` the bands' centres (Hz).
        scale (str, default "linear"): the response and triangle on a linear magnitude axis
            (each with peak 1) or in ``"dB"`` (re peak, floored at ``min_db``).

    Traces, by name: ``kernel``, ``response``, ``triangle``, ``peaks``, ``mel centres``,
    ``this filter`` (the widget updates the first three and the last).

    >>> fig = learned_filter_figure(kernel=np.ones(8), freqs=np.arange(5.0), response=np.zeros(5),
    ...     triangle=np.ones(5), peaks=np.arange(4.0), rank=1, sample_rate=8, band=0, band_centers=[2.0])
    >>> [t.name for t in fig.data]
    ['kernel', 'response', 'triangle', 'peaks', 'mel centres', 'this filter']
    """
    if scale not in ("linear", "dB"):
        raise ValueError(f"scale must be 'linear' or 'dB', got {scale!r}")
    k, f, r, tri = _f32(kernel), _f32(freqs), _f32(response), _f32(triangle)
    peaks, centers = _f32(peaks), _f32(band_centers)
    if not (f.shape == r.shape == tri.shape) or f.ndim != 1:
        raise ValueError(f"freqs, response and triangle must be 1D of one length, got {f.shape}, {r.shape}, {tri.shape}")
    if not 0 <= rank < len(peaks):
        raise ValueError(f"rank must be in 0..{len(peaks) - 1}, got {rank}")
    tri = tri / max(float(tri.max()), 1e-12)
    if scale == "dB":
        r_y = np.maximum(r, min_db)
        tri_y = np.maximum(20 * np.log10(np.maximum(tri, 1e-12)), min_db)
        y_title = "dB re peak"
    else:
        r_y, tri_y, y_title = 10 ** (r / 20), tri, "Magnitude (peak = 1)"
    fig = make_subplots(rows=1, cols=3, column_widths=[0.32, 0.40, 0.28], horizontal_spacing=0.08,
                        subplot_titles=["kernel (taps)", "frequency response and its mel band",
                                        "all filters, sorted by peak"])
    t_ms = np.arange(len(k), dtype=np.float32) / sample_rate * 1000
    fig.add_trace(go.Scatter(x=t_ms, y=k, mode="lines", line=dict(width=1, color="#3b528b"), name="kernel"), 1, 1)
    fig.add_trace(go.Scatter(x=f, y=r_y.astype(np.float32), mode="lines", line=dict(width=1.5, color="#21918c"),
                             name="response"), 1, 2)
    fig.add_trace(go.Scatter(x=f, y=tri_y.astype(np.float32), mode="lines", line=dict(width=1.5, dash="dash",
                             color="#440154"), name="triangle"), 1, 2)
    ranks = np.arange(len(peaks), dtype=np.float32)
    fig.add_trace(go.Scatter(x=ranks, y=peaks, mode="lines", line=dict(width=1.5, color="#5ec962"), name="peaks"), 1, 3)
    band_x = (np.arange(len(centers), dtype=np.float32) + 0.5) * len(peaks) / max(len(centers), 1)
    fig.add_trace(go.Scatter(x=band_x, y=centers, mode="markers", marker=dict(size=4, color="#440154"),
                             name="mel centres"), 1, 3)
    fig.add_trace(go.Scatter(x=[float(rank)], y=[float(peaks[rank])], mode="markers",
                             marker=dict(size=11, symbol="circle-open", color="#fde725", line=dict(width=2)),
                             name="this filter"), 1, 3)
    title = title or (f"Filter ranked {rank} of {len(peaks)} by peak: peak {float(peaks[rank]):.0f} Hz, "
                      f"nearest mel band {band + 1} (centre {float(centers[band]):.0f} Hz)")
    style(fig, title=title, x_title="", y_title="", height=360)
    fig.update_xaxes(title_text="Time (ms)", row=1, col=1)
    fig.update_yaxes(title_text="Weight", row=1, col=1)
    fig.update_xaxes(title_text="Frequency (Hz)", row=1, col=2)
    fig.update_yaxes(title_text=y_title, row=1, col=2)
    fig.update_xaxes(title_text="Rank (mel bands spread over the ranks)", row=1, col=3)
    fig.update_yaxes(title_text="Peak frequency (Hz)", row=1, col=3)
    fig.update_layout(legend=dict(orientation="h", y=-0.25))
    return fig


def probe_errors_figure(errors: Mapping[str, float], *, reference: float | None = None,
                        title: str = "Agreement outside the training domain") -> go.Figure:
    """Bar chart of the probe signals' errors, with the in-domain (validation) error as a line.

    >>> probe_errors_figure({"tone": 0.1, "noise": 0.02}, reference=0.03).data[0].type
    'bar'
    """
    if not errors:
        raise ValueError("no probe errors to plot")
    fig = go.Figure(go.Bar(x=list(errors), y=list(errors.values()), marker_color="#5ec962", name="probe"))
    if reference is not None:
        fig.add_hline(y=reference, line_dash="dash", line_color="#440154",
                      annotation_text=f"validation MSE {reference:.4f}", annotation_position="top left")
    return style(fig, title=title, x_title="Probe signal", y_title="Mean squared error (scaled units²)")


def results_figure(rows: Sequence[Mapping[str, object]], *, title: str = "The classifiers compared") -> go.Figure:
    """Grouped bars: each configuration's clip accuracy by majority and by probability vote.

    ``rows``: dicts with ``"config"``, ``"majority"`` and ``"probability"`` (fractions 0..1).

    >>> results_figure([{"config": "(a)", "majority": 0.5, "probability": 0.6}]).data[1].name
    'probability vote'
    """
    names = [str(r["config"]) for r in rows]
    fig = go.Figure()
    for key, color in (("majority", "#31688e"), ("probability", "#fde725")):
        fig.add_trace(go.Bar(x=names, y=[100 * float(r[key]) for r in rows], name=f"{key} vote",
                             marker_color=color, marker_line=dict(color="black", width=0.5)))
    fig.update_layout(barmode="group")
    return style(fig, title=title, x_title="Configuration", y_title="Clip accuracy (%)")
