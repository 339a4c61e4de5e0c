"""Figures (plotly): waveforms, spectrograms, filterbanks, filters, training curves."""

from apac_lab.plots.architecture import block_diagram, format_shapes, layer_shapes
from apac_lab.plots.core import COLORSCALE, DIVERGING, FSDD_CREDIT, heatmap, style, to_numpy
from apac_lab.plots.spectra import (
    dct_basis_figure,
    difference_figure,
    filterbank_figure,
    framing_figure,
    mel_figure,
    mel_hz_ticks,
    mfcc_figure,
    spectrogram_figure,
    waveform_figure,
    window_figure,
)
from apac_lab.plots.training import (
    confusion_figure, filter_figure, mel_three_ways, probability_bars, results_table, training_curves,
)

__all__ = [
    "COLORSCALE", "DIVERGING", "FSDD_CREDIT", "heatmap", "style", "to_numpy",
    "dct_basis_figure", "difference_figure", "filterbank_figure", "framing_figure", "mel_figure", "mel_hz_ticks",
    "mfcc_figure", "spectrogram_figure", "waveform_figure", "window_figure",
    "block_diagram", "format_shapes", "layer_shapes",
    "confusion_figure", "filter_figure", "mel_three_ways", "probability_bars", "results_table", "training_curves",
]
