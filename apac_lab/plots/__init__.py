"""Figures (plotly): waveforms, spectrograms, filterbanks, filters, training curves."""

from apac_lab.plots.core import COLORSCALE, DIVERGING, FSDD_CREDIT, heatmap, style, to_numpy

__all__ = ["COLORSCALE", "DIVERGING", "FSDD_CREDIT", "heatmap", "style", "to_numpy"]
