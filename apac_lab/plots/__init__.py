"""Figures (plotly): waveforms, spectrograms, filterbanks, filters, training curves.

One plotter per idea: :func:`training_curves` draws every training history of the kit
(training solid, validation dashed); the dB of every figure is
:func:`apac_lab.frontends.power_to_db`'s."""

from apac_lab.plots.architecture import block_diagram, format_shapes, layer_shapes
from apac_lab.plots.core import COLORSCALE, DIVERGING, FSDD_CREDIT, MARKERS, heatmap, style, to_numpy
from apac_lab.plots.echoic import (
    SAFE_COLORS, gammatone_figure, gammatone_vs_mel_figure, mel_and_gammatone_figure, pca_2d, plot_embedding_2d,
    plot_spans, plot_views, ring_storage_figure,
)
from apac_lab.plots.gabor import (
    gabor_kernel_figure, gabor_response_figure, kernel_axes, kernel_grid_figure, kernel_trace, modulation_plane_figure,
)
from apac_lab.plots.mst import (
    band_error_figure, filter_responses_figure, learned_filter_figure, prediction_vs_target_figure, probe_errors_figure,
    results_figure,
)
from apac_lab.plots.spectra import (
    dct_basis_figure,
    difference_figure,
    framing_figure,
    mel_figure,
    mel_filterbank_figure,
    mel_hz_ticks,
    mfcc_figure,
    spectrogram_figure,
    waveform_figure,
    window_figure,
)
from apac_lab.plots.training import (
    SPLIT_DASH, _compare_runs_figure, _loss_curves_figure, confusion_figure, mel_filter_change_figure, mel_three_ways,
    probability_bars, results_table, training_curves,
)
from apac_lab.utils import renamed

__all__ = [
    "COLORSCALE", "DIVERGING", "FSDD_CREDIT", "MARKERS", "heatmap", "style", "to_numpy",
    "band_error_figure", "filter_responses_figure", "learned_filter_figure", "prediction_vs_target_figure",
    "probe_errors_figure", "results_figure",
    "dct_basis_figure", "difference_figure", "framing_figure", "mel_figure", "mel_filterbank_figure", "mel_hz_ticks",
    "mfcc_figure", "spectrogram_figure", "waveform_figure", "window_figure",
    "SAFE_COLORS", "gammatone_figure", "gammatone_vs_mel_figure", "mel_and_gammatone_figure", "pca_2d",
    "plot_embedding_2d", "plot_spans", "plot_views", "ring_storage_figure",
]
__all__ += [
    "gabor_kernel_figure", "gabor_response_figure", "kernel_axes", "kernel_grid_figure", "kernel_trace",
    "modulation_plane_figure",
    "block_diagram", "format_shapes", "layer_shapes",
    "SPLIT_DASH", "confusion_figure", "mel_filter_change_figure", "mel_three_ways", "probability_bars",
    "results_table", "training_curves",
]

# Names of the previous release that its notebooks use (01, 02, 04).
__getattr__ = renamed("apac_lab.plots", {
    "filterbank_figure": ("mel_filterbank_figure", mel_filterbank_figure),
    "filter_bank_figure": ("kernel_grid_figure", kernel_grid_figure),
    "filters_figure": ("filter_responses_figure", filter_responses_figure),
    "compare_runs_figure": ("training_curves(histories, metrics=['acc'])", _compare_runs_figure),
    "loss_curves_figure": ("training_curves", _loss_curves_figure),
})
