"""Interactive widgets (ipywidgets + plotly), kept out of model code.

Every widget follows one pattern (:class:`Widget`): a class built from explicit keyword
arguments; ``.widget`` to place in a layout (the object displays itself too);
``controls`` by name; ``update(**values)`` to move them and redraw from code, what a
control's change does in the browser (an upload widget has ``handle(bytes)``, the microphone
:class:`Recorder` ``handle_message(content, buffers)``); ``example()``
for an instance the size its notebook uses. Figures update in place through
:class:`LiveFigure`, sending only what changed (``benchmarks/widget_updates.py`` prints the
bytes per update; ``apac_lab.widgets.traffic`` counts them). The audio byte helpers (``wav_bytes``,
``decode_wav_bytes``) live in :mod:`apac_lab.data`.
"""

from apac_lab.data import audio as _audio
from apac_lab.utils import renamed
from apac_lab.widgets.apac import MelFilterInspector, UploadPredictor, predict_wav_bytes
from apac_lab.widgets.core import LiveFigure, Widget, widget_backend
from apac_lab.widgets.echoic import EchoicScope
from apac_lab.widgets.few_shot import VoiceFineTuner
from apac_lab.widgets.gabor import GaborBankBrowser, GaborInspector
from apac_lab.widgets.mel import MelExplorer
from apac_lab.widgets.recorder import Recorder, browser_error_message, recording_quality
from apac_lab.widgets.mst import MSTFilterInspector
from apac_lab.widgets.training import TrainingCurves

__all__ = [
    "LiveFigure", "Widget", "widget_backend",
    "TrainingCurves",  # notebooks 02-05: live training curves
    "MelExplorer",  # notebook 01
    "GaborBankBrowser", "GaborInspector",  # notebook 02
    "EchoicScope",  # notebook 03
    "MSTFilterInspector",  # notebook 04
    "MelFilterInspector", "UploadPredictor", "predict_wav_bytes",  # notebook 05
    "Recorder", "recording_quality", "browser_error_message",  # notebooks 01, 03, 05: the microphone
    "VoiceFineTuner",  # notebook 05: teach it your voice
]

# Names of the previous release that its notebooks use (01, 02, 05).
__getattr__ = renamed("apac_lab.widgets", {
    "mel_explorer": ("MelExplorer", MelExplorer),
    "FilterBankBrowser": ("GaborBankBrowser", GaborBankBrowser),
    "filterbank_inspector": ("MelFilterInspector", MelFilterInspector),
    "upload_predictor": ("UploadPredictor", UploadPredictor),
    "wav_bytes": ("apac_lab.data.wav_bytes", _audio.wav_bytes),
})
