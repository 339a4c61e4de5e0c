"""Interactive widgets (ipywidgets + plotly), kept out of model code."""

from apac_lab.widgets.apac import (
    FilterbankInspector, UploadPredictor, decode_wav_bytes, filterbank_inspector, predict_wav_bytes, upload_predictor,
)
from apac_lab.widgets.core import LiveFigure, widget_backend
from apac_lab.widgets.mel_explorer import MelExplorer, mel_explorer, wav_bytes

__all__ = [
    "LiveFigure", "widget_backend", "MelExplorer", "mel_explorer", "wav_bytes",
    "FilterbankInspector", "UploadPredictor", "decode_wav_bytes", "filterbank_inspector", "predict_wav_bytes",
    "upload_predictor",
]
