"""Figures (plotly): waveforms, spectrograms, filterbanks, filters, training curves."""

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

__all__ = [
    "COLORSCALE", "DIVERGING", "FSDD_CREDIT", "heatmap", "style", "to_numpy",
    "dct_basis_figure", "difference_figure", "filterbank_figure", "framing_figure", "mel_figure", "mel_hz_ticks",
    "mfcc_figure", "spectrogram_figure", "waveform_figure", "window_figure",
]
