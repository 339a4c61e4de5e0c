"""Figures (plotly): waveforms, spectrograms, filterbanks, filters, training curves."""

from apac_lab.plots.architecture import block_diagram, format_shapes, layer_shapes
from apac_lab.plots.core import COLORSCALE, DIVERGING, FSDD_CREDIT, heatmap, style, to_numpy
from apac_lab.plots.echoic import SAFE_COLORS, pca_2d, plot_embedding_2d, plot_spans, plot_views
from apac_lab.plots.gabor import (
    MARKERS, compare_runs_figure, filter_bank_figure, gabor_kernel_figure, gabor_response_figure, kernel_axes,
    modulation_plane_figure,
)
from apac_lab.plots.mst import (
    band_error_figure, filters_figure, loss_curves_figure, prediction_vs_target_figure, probe_errors_figure,
    results_figure,
)
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
    "band_error_figure", "filters_figure", "loss_curves_figure", "prediction_vs_target_figure",
    "probe_errors_figure", "results_figure",
    "dct_basis_figure", "difference_figure", "filterbank_figure", "framing_figure", "mel_figure", "mel_hz_ticks",
    "mfcc_figure", "spectrogram_figure", "waveform_figure", "window_figure",
    "SAFE_COLORS", "pca_2d", "plot_embedding_2d", "plot_spans", "plot_views",
]
__all__ += [
    "MARKERS", "compare_runs_figure", "filter_bank_figure", "gabor_kernel_figure", "gabor_response_figure",
    "kernel_axes",
    "modulation_plane_figure",
    "block_diagram", "format_shapes", "layer_shapes",
    "confusion_figure", "filter_figure", "mel_three_ways", "probability_bars", "results_table", "training_curves",
]
