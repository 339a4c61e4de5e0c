"""Figures of a training run: curves, confusion matrix, results tables in the style of
the APAC paper, the mel of one word three ways, filterbanks and class probabilities.

Notebook: 05_apac_training.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from apac_lab.plots.core import COLORSCALE, DIVERGING, heatmap, style, to_numpy

__all__ = ["training_curves", "confusion_figure", "results_table", "mel_three_ways", "filter_figure",
           "probability_bars"]


def training_curves(history: Sequence[dict], *, title: str = "Training curves") -> go.Figure:
    """Loss and accuracy per epoch, training and validation (where recorded).

    >>> fig = training_curves([{"epoch": 1, "train_loss": 2.0, "train_acc": 0.2}])
    >>> len(fig.data)
    2
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
    epochs = [h["epoch"] for h in history]
    for split, dash in (("train", "solid"), ("val", "dash")):
        for col, key in ((1, "loss"), (2, "acc")):
            values = [h.get(f"{split}_{key}") for h in history]
            if any(v is not None for v in values):
                fig.add_trace(go.Scatter(x=epochs, y=values, mode="lines+markers", name=f"{split} {key}",
                                         line=dict(dash=dash, color="#31688e" if key == "loss" else "#35b779")),
                              row=1, col=col)
    style(fig, title=title, x_title="Epoch", y_title="Cross-entropy (nats)")
    fig.update_xaxes(title_text="Epoch", row=1, col=2)
    fig.update_yaxes(title_text="Accuracy (fraction)", range=[0, 1.02], row=1, col=2)
    return fig


def confusion_figure(confusion, classes: Sequence[str], *, normalize: bool = True, title: str = "Confusion matrix",
                     credit: str | None = None) -> go.Figure:
    """A confusion matrix (rows: true class, columns: predicted), each row as fractions
    of its clips when ``normalize``; the counts show on hover.

    >>> confusion_figure(np.eye(3, dtype=int) * 5, ["a", "b", "c"]).data[0].z.shape
    (3, 3)
    """
    c = to_numpy(confusion).astype(float)
    z = c / np.maximum(c.sum(1, keepdims=True), 1) if normalize else c
    fig = heatmap(z, x=list(classes), y=list(classes), title=title, x_title="Predicted class",
                  y_title="True class", colorbar_title="fraction of row" if normalize else "clips",
                  height=max(360, 18 * len(classes) + 160), credit=credit)
    fig.data[0].update(customdata=c, hovertemplate="true %{y}, predicted %{x}: %{customdata:.0f} clips<extra></extra>",
                       zmin=0, zmax=1 if normalize else None)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def results_table(rows: Sequence[Mapping], columns: Sequence[str], *, title: str,
                  formats: Mapping[str, str] | None = None) -> go.Figure:
    """A table figure (like the paper's tables): one row per mapping, the given columns.

    Numbers are formatted with ``formats[column]`` (e.g. ``"{:.2%}"``); missing cells
    show as "—".

    >>> results_table([{"mode": "std", "acc": 0.9}], ["mode", "acc"], title="t",
    ...               formats={"acc": "{:.1%}"}).data[0].cells.values[1]
    ['90.0%']
    """
    formats = dict(formats or {})

    def cell(row, col):
        v = row.get(col)
        if v is None:
            return "—"
        if col in formats and isinstance(v, (int, float)):
            return formats[col].format(v)
        return str(v)

    values = [tuple(cell(r, c) for r in rows) for c in columns]
    fig = go.Figure(go.Table(header=dict(values=[f"<b>{c}</b>" for c in columns], fill_color="#dbe9f6", align="left"),
                             cells=dict(values=values, align="left", height=26)))
    fig.update_layout(title=title, height=90 + 28 * (len(rows) + 1), margin=dict(l=10, r=10, t=50, b=10))
    return fig


def mel_three_ways(mels: Mapping[str, object], *, sample_rate: int, hop_length: int, title: str,
                   credit: str | None = None, difference: bool | str = True) -> go.Figure:
    """Log-mel spectrograms of one clip side by side, on one colour scale (the paper's
    Figures 11-13), plus the difference of the last two when ``difference``.

    Args:
        mels (Mapping[str, array]): panel title -> ``(n_mels, frames)`` log-mel (natural log).
        sample_rate (int): Hz, for the time axis.
        hop_length (int): samples between frames, for the time axis.
        title (str): figure title.
        credit (str | None): credit line for the audio.
        difference (bool | str, default True): add a panel "last minus previous" (RdBu);
            a string is that panel's title.

    >>> f = mel_three_ways({"a": np.zeros((4, 3)), "b": np.ones((4, 3))}, sample_rate=8000, hop_length=256, title="t")
    >>> len(f.data)
    3
    """
    items = [(k, to_numpy(v)) for k, v in mels.items()]
    if not items:
        raise ValueError("mel_three_ways needs at least one spectrogram")
    diff = bool(difference) and len(items) >= 2
    diff_title = difference if isinstance(difference, str) else f"{items[-1][0]} − {items[-2][0]}"
    panels = [k for k, _ in items] + ([diff_title] if diff else [])
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=panels, horizontal_spacing=0.1 if diff else 0.05)
    lo = min(float(np.percentile(v, 1)) for _, v in items)
    hi = max(float(v.max()) for _, v in items)
    end = fig.layout[f"xaxis{len(items) if len(items) > 1 else ''}"].domain[1]
    for i, (name, v) in enumerate(items, start=1):
        t = np.arange(v.shape[1]) * hop_length / sample_rate
        fig.add_trace(go.Heatmap(z=v, x=t, colorscale=COLORSCALE, zmin=lo, zmax=hi, showscale=i == len(items),
                                 colorbar=dict(title="log power", x=end + 0.01, thickness=12, len=0.9),
                                 hovertemplate="%{x:.2f} s, band %{y}: %{z:.2f}<extra>" + name + "</extra>"),
                      row=1, col=i)
    if diff:
        d = items[-1][1] - items[-2][1]
        m = float(np.abs(d).max()) or 1.0
        t = np.arange(d.shape[1]) * hop_length / sample_rate
        fig.add_trace(go.Heatmap(z=d, x=t, colorscale=DIVERGING, zmid=0, zmin=-m, zmax=m,
                                 colorbar=dict(title="Δ", x=1.01, thickness=12, len=0.9)), row=1, col=len(panels))
    for ann in fig.layout.annotations:  # subplot titles: smaller, so that four fit
        ann.font = dict(size=12)
    style(fig, title=title, x_title="Time (s)", y_title="Mel band (index, low to high)", height=380, credit=credit)
    for i in range(2, len(panels) + 1):
        fig.update_xaxes(title_text="Time (s)", row=1, col=i)
    return fig


def filter_figure(initial, trained, index: int, *, sample_rate: int, title: str | None = None) -> go.Figure:
    """One mel filter before and after training, over frequency (Hz).

    Args:
        initial, trained (array): ``(n_mels, n_freqs)`` filterbanks (rows are filters).
        index (int): the filter shown.
        sample_rate (int): Hz; the frequency axis runs 0..sample_rate/2.

    >>> fb = np.eye(3, 5); len(filter_figure(fb, fb * 2, 1, sample_rate=8000).data)
    2
    """
    a, b = to_numpy(initial), to_numpy(trained)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"initial and trained must be the same (n_mels, n_freqs) shape, got {a.shape} and {b.shape}")
    if not 0 <= index < a.shape[0]:
        raise ValueError(f"index must be in 0..{a.shape[0] - 1}, got {index}")
    f = np.linspace(0, sample_rate / 2, a.shape[1])
    fig = go.Figure([
        go.Scatter(x=f, y=a[index], name="initial (triangular)", line=dict(color="#31688e", dash="dash")),
        go.Scatter(x=f, y=b[index], name="after training", line=dict(color="#35b779")),
    ])
    return style(fig, title=title or f"Mel filter {index}", x_title="Frequency (Hz)", y_title="Weight (linear)")


def probability_bars(probabilities, classes: Sequence[str], *, title: str = "Class probabilities") -> go.Figure:
    """The model's probabilities as bars, the most likely class highlighted.

    >>> probability_bars([0.1, 0.9], ["no", "yes"]).data[0].marker.color
    ('#9ecae1', '#440154')
    """
    p = to_numpy(probabilities).astype(float).ravel()
    if len(p) != len(classes):
        raise ValueError(f"{len(p)} probabilities for {len(classes)} classes")
    top = int(p.argmax()) if len(p) else -1
    colours = tuple("#440154" if i == top else "#9ecae1" for i in range(len(p)))
    fig = go.Figure(go.Bar(x=list(classes), y=p, marker_color=colours,
                           hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    fig.update_yaxes(range=[0, 1])
    return style(fig, title=title, x_title="Class", y_title="Probability (0-1)")
