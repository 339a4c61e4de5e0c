"""Interactive widgets (ipywidgets + plotly), kept out of model code."""

from apac_lab.widgets.apac import (
    FilterbankInspector, UploadPredictor, decode_wav_bytes, filterbank_inspector, predict_wav_bytes, upload_predictor,
)
from apac_lab.widgets.core import LiveFigure, widget_backend
from apac_lab.widgets.echoic import EchoicScope, echoic_scope
from apac_lab.widgets.gabor import FilterBankBrowser, GaborInspector, filter_bank_browser, gabor_inspector
from apac_lab.widgets.mel_explorer import MelExplorer, mel_explorer, wav_bytes

__all__ = ["LiveFigure", "widget_backend", "EchoicScope", "echoic_scope", "MelExplorer", "mel_explorer", "wav_bytes"]
__all__ += ["FilterBankBrowser", "GaborInspector", "filter_bank_browser", "gabor_inspector"]
__all__ += [
    "FilterbankInspector", "UploadPredictor", "decode_wav_bytes", "filterbank_inspector", "predict_wav_bytes",
    "upload_predictor",
]
