"""Figures of a training run: curves (the kit's one plotter of training histories, for every
notebook), confusion matrix, results tables in the style of the APAC paper, the mel of one
word three ways, a mel filterbank before and after training, and class probabilities.

Notebook: 05_apac_training.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from apac_lab.plots.core import COLORSCALE, DIVERGING, MARKERS, heatmap, style, to_numpy

__all__ = ["SPLIT_DASH", "training_curves", "confusion_figure", "results_table", "mel_three_ways",
           "mel_filter_change_figure", "probability_bars"]


#: How every training history of the kit is drawn: the training split solid, validation dashed.
SPLIT_DASH = {"train": "solid", "val": "dash"}
_SPLIT_NAME = {"train": "train", "val": "validation"}
_Y_TITLE = {"loss": "Loss", "acc": "Accuracy (fraction)"}


def training_curves(
    histories: Sequence[Mapping] | Mapping[str, Sequence[Mapping]],
    *,
    metrics: Sequence[str] = ("loss", "acc"),
    splits: Sequence[str] = ("train", "val"),
    title: str = "Training curves",
    y_titles: Mapping[str, str] | None = None,
    start: Mapping[str, int] | None = None,
    height: int = 340,
) -> go.Figure:
    """Training histories, one panel per metric: the kit's one plotter of training curves.

    Convention (every notebook): the training split is a SOLID line, the validation split a
    DASHED one (:data:`SPLIT_DASH`); each run has its own colour and marker
    (:data:`~apac_lab.plots.MARKERS`), so runs stay apart in grey-scale print.

    Args:
        histories (list[dict] | dict[str, list[dict]]): one run's history, as
            :func:`apac_lab.train.fit` returns it (one dict per epoch with ``epoch``,
            ``train_loss``, ``val_acc``, ...), or run name -> history.
        metrics (Sequence[str], default ("loss", "acc")): one panel per metric; the values
            are the keys ``"<split>_<metric>"`` (epochs without one are gaps).
        splits (Sequence[str], default ("train", "val")): which splits to draw.
        title (str, default "Training curves"): figure title.
        y_titles (Mapping[str, str] | None, default None): axis title per metric (with its
            unit); defaults "Loss" and "Accuracy (fraction)" (an accuracy axis spans 0-1).
        start (Mapping[str, int] | None, default None): run name -> epochs done before
            this history (a fine-tuning run that continues another); shifts its curves.
        height (int, default 340): pixels.

    >>> fig = training_curves([{"epoch": 1, "train_loss": 2.0, "train_acc": 0.2, "val_acc": 0.1}])
    >>> [(t.name, t.line.dash) for t in fig.data]
    [('train', 'solid'), ('train', 'solid'), ('validation', 'dash')]
    >>> fig = training_curves({"a": [{"train_acc": 0.5, "val_acc": 0.4}]}, metrics=["acc"], start={"a": 2})
    >>> [(t.name, list(t.x)) for t in fig.data]
    [('a (train)', [3]), ('a (validation)', [3])]
    """
    runs = {"": list(histories)} if not isinstance(histories, Mapping) else {k: list(v) for k, v in histories.items()}
    if not runs or not all(runs.values()):
        raise ValueError("training_curves needs at least one epoch in each history")
    unknown = set(splits) - set(SPLIT_DASH)
    if unknown:
        raise ValueError(f"splits must be among {sorted(SPLIT_DASH)}, got {sorted(unknown)}")
    y_titles = {**_Y_TITLE, **dict(y_titles or {})}
    metrics = list(metrics)
    fig = make_subplots(rows=1, cols=len(metrics), horizontal_spacing=0.12,
                        subplot_titles=[y_titles.get(m, m) for m in metrics] if len(metrics) > 1 else None)
    shown = set()
    for i, (run, hist) in enumerate(runs.items()):
        symbol, colour = MARKERS[i % len(MARKERS)]
        offset = (start or {}).get(run, 0)
        epochs = [offset + int(h.get("epoch", k + 1)) for k, h in enumerate(hist)]
        for split in splits:
            name = _SPLIT_NAME[split] if not run else run if len(splits) == 1 else f"{run} ({_SPLIT_NAME[split]})"
            for col, metric in enumerate(metrics, start=1):
                values = [h.get(f"{split}_{metric}") for h in hist]
                if all(v is None for v in values):
                    continue
                fig.add_trace(go.Scatter(x=epochs, y=values, mode="lines+markers", name=name, legendgroup=name,
                                         showlegend=name not in shown,
                                         line=dict(color=colour, dash=SPLIT_DASH[split]),
                                         marker=dict(symbol=symbol, size=7, color=colour)), row=1, col=col)
                shown.add(name)
    style(fig, title=title, x_title="Epoch", y_title=y_titles.get(metrics[0], metrics[0]), height=height)
    for col, metric in enumerate(metrics, start=1):
        fig.update_xaxes(title_text="Epoch", row=1, col=col)
        fig.update_yaxes(title_text=y_titles.get(metric, metric), row=1, col=col)
        if metric == "acc":
            fig.update_yaxes(range=[0, 1.02], row=1, col=col)
    return fig


def _compare_runs_figure(histories, *, metric: str = "acc", title: str = "Training and validation accuracy",
                         height: int = 340) -> go.Figure:
    """The previous release's ``compare_runs_figure``: :func:`training_curves` of one metric."""
    return training_curves(histories, metrics=[metric], title=title, height=height,
                           y_titles={metric: "Accuracy" if metric == "acc" else "Loss"})


def _loss_curves_figure(curves: Mapping[str, Sequence[float]], *, title: str = "Training curves",
                        y_title: str = "Loss", start: Mapping[str, int] | None = None) -> go.Figure:
    """The previous release's ``loss_curves_figure`` (named lists of values): :func:`training_curves`."""
    histories = {name: [{"epoch": k + 1, "train_value": float(v)} for k, v in enumerate(ys)]
                 for name, ys in curves.items()}
    return training_curves(histories, metrics=["value"], splits=["train"], title=title, y_titles={"value": y_title},
                           start=start)


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


def _pool_columns(x: np.ndarray, freqs: np.ndarray, max_columns: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_columns`` columns: groups of adjacent columns, each shown by its value of
    largest magnitude (sign kept), at the group's mean frequency."""
    k = -(-x.shape[1] // max_columns)
    if k <= 1:
        return x, freqs
    n = -(-x.shape[1] // k) * k
    pad = np.pad(x, ((0, 0), (0, n - x.shape[1])))
    groups = pad.reshape(x.shape[0], -1, k)
    pick = np.abs(groups).argmax(-1)
    pooled = np.take_along_axis(groups, pick[..., None], -1)[..., 0]
    f = np.nanmean(np.pad(freqs.astype(float), (0, n - len(freqs)), constant_values=np.nan).reshape(-1, k), 1)
    return pooled, f


def mel_filter_change_figure(initial, trained, index: int, *, sample_rate: int, title: str | None = None,
                             height: int = 620, max_columns: int = 256) -> go.Figure:
    """A mel filterbank before and after training: one filter over frequency (top), and
    trained minus initial for every filter (bottom), with a line at the filter shown.

    Traces (what :class:`apac_lab.widgets.MelFilterInspector` updates): ``data[0]`` filter
    ``index`` initial (dashed), ``data[1]`` trained (solid), ``data[2]`` the difference
    heatmap, ``data[3]`` the line marking filter ``index``.

    Args:
        initial, trained (array): ``(n_mels, n_freqs)`` filterbanks (rows are filters).
        index (int): the filter shown.
        sample_rate (int): Hz; the frequency axis runs 0..sample_rate/2.
        title (str | None, default None): None names the filter.
        max_columns (int, default 256): the difference heatmap shows at most this many frequency
            columns, each the largest change among its adjacent FFT bins (a page stays light:
            APAC's 128 x 1025 filterbank would otherwise be 131k values).

    >>> fb = np.eye(3, 5); len(mel_filter_change_figure(fb, fb * 2, 1, sample_rate=8000).data)
    4
    """
    a, b = to_numpy(initial).astype(float), to_numpy(trained).astype(float)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"initial and trained must both be (n_mels, n_freqs), got {a.shape} and {b.shape}")
    if not 0 <= index < a.shape[0]:
        raise ValueError(f"filter index must be in 0..{a.shape[0] - 1}, got {index}")
    freqs = np.linspace(0, sample_rate / 2, a.shape[1])
    diff = b - a
    m = float(np.abs(diff).max()) or 1.0
    fig = make_subplots(rows=2, cols=1, row_heights=[0.45, 0.55], vertical_spacing=0.14,
                        subplot_titles=("One filter: initial vs trained", "Trained − initial, every filter"))
    fig.add_trace(go.Scatter(x=freqs, y=a[index], name="initial (triangular)",
                             line=dict(color="#31688e", dash="dash")), row=1, col=1)
    fig.add_trace(go.Scatter(x=freqs, y=b[index], name="after training", line=dict(color="#35b779")), row=1, col=1)
    shown, shown_freqs = _pool_columns(diff, freqs, max_columns)
    fig.add_trace(go.Heatmap(z=shown, x=shown_freqs, colorscale=DIVERGING, zmid=0, zmin=-m, zmax=m,
                             colorbar=dict(title="Δ weight", len=0.5, y=0.27)), row=2, col=1)
    fig.add_trace(go.Scatter(x=[freqs[0], freqs[-1]], y=[index, index], mode="lines", name="shown filter",
                             line=dict(color="black", width=1)), row=2, col=1)
    style(fig, title=title or f"Mel filter {index}", x_title="Frequency (Hz)", y_title="Weight (linear)",
          height=height)
    fig.update_xaxes(title_text="Frequency (Hz)", row=2, col=1)
    fig.update_yaxes(title_text="Mel filter (index)", row=2, col=1)
    return fig


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
