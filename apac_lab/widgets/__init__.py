"""Interactive widgets (ipywidgets + plotly), kept out of model code."""

from apac_lab.widgets.core import LiveFigure, widget_backend

__all__ = ["LiveFigure", "widget_backend"]
