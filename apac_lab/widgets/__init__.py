"""Interactive widgets (ipywidgets + plotly), kept out of model code."""

from apac_lab.widgets.apac import (
    FilterbankInspector, UploadPredictor, decode_wav_bytes, filterbank_inspector, predict_wav_bytes, upload_predictor,
)
from apac_lab.widgets.core import LiveFigure, widget_backend

__all__ = [
    "LiveFigure", "widget_backend",
    "FilterbankInspector", "UploadPredictor", "decode_wav_bytes", "filterbank_inspector", "predict_wav_bytes",
    "upload_predictor",
]
