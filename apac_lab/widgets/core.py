"""The kit's one widget pattern (:class:`Widget`), and a figure that updates in place, in
JupyterLab 4 and in Colab (:class:`LiveFigure`).

In JupyterLab (ipywidgets 8, plotly >= 6 with anywidget) :class:`LiveFigure` wraps a
``plotly.graph_objects.FigureWidget`` and updates its traces in place. Where that widget
cannot render (Colab's ipywidgets 7.7.1, or anywidget missing), it falls back to an
``ipywidgets.Output`` that redraws a static figure on each update: slower, but it
renders everywhere. Force a path with ``APAC_LAB_WIDGETS=figurewidget|output``.

Widgets stay out of model code: they only read tensors the package computes, and draw
the figures of :mod:`apac_lab.plots`.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import ipywidgets as W
import plotly.graph_objects as go

__all__ = ["LiveFigure", "Widget", "widget_backend"]


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


class Widget:
    """The one pattern every widget of the kit follows.

    * A class: ``__init__`` takes explicit keyword arguments, checks them (one-line errors)
      and builds everything.
    * ``widget``: the ipywidget to place in a layout; the object itself displays it
      (``_ipython_display_``), so a cell can end with the object.
    * ``controls``: its sliders and pickers by name.
    * ``update(**values)``: moves the named controls to ``values`` and redraws once. It is
      what a control's change does in the browser, and what code and tests call without
      one. A widget fed by uploads has ``handle(data)`` instead.

    Subclasses set ``widget`` and ``controls``, implement ``_draw()`` (read the controls,
    redraw the :class:`LiveFigure` in place), and call ``_watch()`` at the end of ``__init__``.

    >>> class Counter(Widget):
    ...     def __init__(self):
    ...         self.controls = {"n": W.IntSlider(value=0, min=0, max=9)}
    ...         self.widget, self.drawn = W.VBox(list(self.controls.values())), []
    ...         self._watch()
    ...     def _draw(self):
    ...         self.drawn.append(self.controls["n"].value)
    >>> c = Counter(); c.update(n=3); c.controls["n"].value = 5; c.drawn
    [0, 3, 5]
    >>> c.update(n=12)
    Traceback (most recent call last):
    ...
    ValueError: Counter.update: n must be in 0..9, got 12
    """

    widget: W.Widget
    controls: dict[str, W.ValueWidget]

    def _draw(self) -> None:
        """Redraw from the current control values (nothing to redraw by default)."""

    def _watch(self, *, draw: bool = True) -> None:
        """Redraw on every control change; draw once now unless the figures already show the controls."""
        self._holding = False
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        if draw:
            self._draw()

    def _on_change(self, _change: dict) -> None:
        if not getattr(self, "_holding", False):
            self._draw()

    @contextmanager
    def _hold(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def _check(self, name: str, value: Any) -> None:
        control = self.controls[name]
        options = getattr(control, "options", None)
        if options is not None:
            if value not in tuple(options):
                raise ValueError(f"{type(self).__name__}.update: {name} must be one of {list(options)}, got {value!r}")
            return
        lo, hi = getattr(control, "min", None), getattr(control, "max", None)
        if lo is not None and hi is not None and not lo <= value <= hi:
            raise ValueError(f"{type(self).__name__}.update: {name} must be in {lo:g}..{hi:g}, got {value}")

    def update(self, **values: Any) -> None:
        """Move the named controls to ``values`` (any of ``controls``) and redraw once."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"{type(self).__name__}.update: unknown control(s) {unknown}; use {sorted(self.controls)}")
        for name, value in values.items():
            self._check(name, value)
        with self._hold():
            for name, value in values.items():
                self.controls[name].value = value
        self._draw()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
