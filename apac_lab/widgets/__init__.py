"""Interactive widgets (ipywidgets + plotly), kept out of model code."""

from apac_lab.widgets.core import LiveFigure, widget_backend
from apac_lab.widgets.echoic import EchoicScope, echoic_scope

__all__ = ["LiveFigure", "widget_backend", "EchoicScope", "echoic_scope"]
