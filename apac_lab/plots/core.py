"""Plot building blocks shared by every figure of the kit (plotly).

House style: a title on every figure, axes labelled with their units, and the colour
map ``COLORSCALE`` ("Viridis": perceptually uniform, readable in grey-scale print and
by colour-blind readers). Diverging data (filters, differences) uses ``DIVERGING``
("RdBu", centred on zero).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
import torch

__all__ = ["COLORSCALE", "DIVERGING", "FSDD_CREDIT", "MARKERS", "to_numpy", "heatmap", "style"]

COLORSCALE = "Viridis"
DIVERGING = "RdBu"
FSDD_CREDIT = "Audio: Free Spoken Digit Dataset, CC BY-SA 4.0"

MARKERS = (("circle-open", "#440154"), ("x", "#21918c"), ("diamond", "#5ec962"), ("square-open", "#3b528b"))
"""(symbol, colour) per group (a run, a set of filters): distinct in shape, and in Viridis colours."""


def to_numpy(x) -> np.ndarray:
    """Tensor, list or array to a NumPy array on the CPU (detached)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().float().numpy()
    return np.asarray(x)


def style(fig: go.Figure, *, title: str, x_title: str, y_title: str, height: int = 360, credit: str | None = None) -> go.Figure:
    """Apply the house style: title, axis titles (with units), compact margins, optional credit line."""
    fig.update_layout(
        title=title, xaxis_title=x_title, yaxis_title=y_title, height=height,
        margin=dict(l=60, r=20, t=50, b=50 if credit is None else 70), template="plotly_white",
    )
    if credit:
        fig.add_annotation(text=credit, xref="paper", yref="paper", x=0, y=-0.22, showarrow=False,
                           font=dict(size=10, color="gray"), xanchor="left")
    return fig


def heatmap(
    z,
    *,
    x: Sequence[float] | None = None,
    y: Sequence[float] | None = None,
    title: str,
    x_title: str,
    y_title: str,
    colorbar_title: str = "",
    colorscale: str = COLORSCALE,
    zmid: float | None = None,
    height: int = 360,
    credit: str | None = None,
) -> go.Figure:
    """A styled heatmap of a 2D array, rows along y and columns along x.

    >>> fig = heatmap(np.zeros((3, 4)), title="t", x_title="Time (s)", y_title="Mel band")
    >>> fig.data[0].z.shape
    (3, 4)
    """
    z = to_numpy(z)
    if z.ndim != 2:
        raise ValueError(f"heatmap needs a 2D array, got shape {z.shape}")
    trace = go.Heatmap(
        z=z, x=None if x is None else to_numpy(x), y=None if y is None else to_numpy(y),
        colorscale=colorscale, zmid=zmid, colorbar=dict(title=colorbar_title),
    )
    return style(go.Figure(trace), title=title, x_title=x_title, y_title=y_title, height=height, credit=credit)
