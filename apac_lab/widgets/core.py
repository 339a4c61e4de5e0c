"""A figure that updates in place, in JupyterLab 4 and in Colab.

In JupyterLab (ipywidgets 8, plotly >= 6 with anywidget) :class:`LiveFigure` wraps a
``plotly.graph_objects.FigureWidget`` and updates its traces in place. Where that widget
cannot render (Colab's ipywidgets 7.7.1, or anywidget missing), it falls back to an
``ipywidgets.Output`` that redraws a static figure on each update: slower, but it
renders everywhere. Force a path with ``APAC_LAB_WIDGETS=figurewidget|output``.

Widgets stay out of model code: they only read tensors the package computes.
"""

from __future__ import annotations

import os
import sys
from typing import Callable

import ipywidgets as W
import plotly.graph_objects as go

__all__ = ["LiveFigure", "widget_backend"]


def widget_backend() -> str:
    """``"figurewidget"`` where plotly's FigureWidget renders, else ``"output"``.

    >>> os.environ["APAC_LAB_WIDGETS"] = "output"; widget_backend()
    'output'
    """
    forced = os.environ.get("APAC_LAB_WIDGETS", "").strip().lower()
    if forced in ("figurewidget", "output"):
        return forced
    if "google.colab" in sys.modules or int(W.__version__.split(".")[0]) < 8:
        return "output"
    try:
        import anywidget  # noqa: F401  plotly >= 6's FigureWidget is an anywidget
    except ImportError:
        return "output"
    return "figurewidget"


class LiveFigure:
    """Hold a plotly figure and redraw it in place.

    Args:
        figure (go.Figure): the initial figure.
        backend (str | None, default None): ``"figurewidget"`` or ``"output"``; None
            picks with :func:`widget_backend`.

    ``widget`` is the ipywidget to place in a layout; ``update(fn)`` calls ``fn(fig)``
    to change traces or layout, then redraws.

    >>> live = LiveFigure(go.Figure(go.Scatter(y=[1, 2])), backend="output")
    >>> live.update(lambda f: f.data[0].update(y=[3, 4])); list(live.figure.data[0].y)
    [3, 4]
    """

    def __init__(self, figure: go.Figure, backend: str | None = None) -> None:
        self.backend = backend or widget_backend()
        if self.backend not in ("figurewidget", "output"):
            raise ValueError(f"backend must be 'figurewidget' or 'output', got {backend!r}")
        if self.backend == "figurewidget":
            self.figure = go.FigureWidget(figure)
            self.widget = self.figure
        else:
            self.figure = go.Figure(figure)
            self.widget = W.Output()
            self._draw()

    def _draw(self) -> None:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is None:  # plain Python (doctests, scripts): nothing to draw into
            return
        self.widget.clear_output(wait=True)
        with self.widget:
            display(self.figure)

    def update(self, fn: Callable[[go.Figure], None]) -> None:
        """Apply ``fn`` to the figure and redraw."""
        if self.backend == "figurewidget":
            with self.figure.batch_update():
                fn(self.figure)
        else:
            fn(self.figure)
            self._draw()
