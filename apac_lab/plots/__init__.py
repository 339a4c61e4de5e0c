"""Figures (plotly): waveforms, spectrograms, filterbanks, filters, training curves."""

from apac_lab.plots.core import COLORSCALE, DIVERGING, FSDD_CREDIT, heatmap, style, to_numpy
from apac_lab.plots.echoic import SAFE_COLORS, pca_2d, plot_embedding_2d, plot_spans, plot_views

__all__ = ["COLORSCALE", "DIVERGING", "FSDD_CREDIT", "heatmap", "style", "to_numpy",
           "SAFE_COLORS", "pca_2d", "plot_embedding_2d", "plot_spans", "plot_views"]
