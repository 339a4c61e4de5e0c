"""Widgets for a trained APAC: the learned mel filterbank against the initial triangles,
and "upload a WAV, see the prediction".

Both follow the kit's pattern: a small dataclass holding ``widget`` (to display), the
controls and the :class:`~apac_lab.widgets.LiveFigure`, and a method that does the work
without a browser (``show(index)``, ``handle(bytes)``), so tests drive them from code.

Notebook: 05_apac_training.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Sequence

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import soundfile as sf
import torch
import torchaudio.functional as AF
from plotly.subplots import make_subplots

from apac_lab.data.audio import AudioError, check_waveform, fix_length, to_mono
from apac_lab.plots.core import DIVERGING, style, to_numpy
from apac_lab.plots.training import probability_bars
from apac_lab.widgets.core import LiveFigure

__all__ = ["decode_wav_bytes", "predict_wav_bytes", "FilterbankInspector", "filterbank_inspector",
           "UploadPredictor", "upload_predictor"]


# --------------------------------------------------------------------------- prediction from bytes


def decode_wav_bytes(data: bytes, *, sample_rate: int, num_samples: int | None = None) -> torch.Tensor:
    """Audio file bytes (WAV, FLAC, OGG) to a float32 mono waveform at ``sample_rate``,
    centred and padded or cropped to ``num_samples`` when given.

    Raises:
        AudioError: the bytes are not audio soundfile can read, or hold no samples.

    >>> buf = io.BytesIO(); sf.write(buf, np.zeros((400, 2), "float32"), 8000, format="WAV")
    >>> decode_wav_bytes(buf.getvalue(), sample_rate=16000, num_samples=1000).shape
    torch.Size([1000])
    """
    if not data:
        raise AudioError("the upload is empty (0 bytes): choose a WAV file")
    try:
        audio, rate = sf.read(io.BytesIO(bytes(data)), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile's own error types
        raise AudioError(f"cannot read the upload as audio ({exc}); upload a WAV, FLAC or OGG file") from None
    wave = check_waveform(to_mono(torch.from_numpy(np.ascontiguousarray(audio.T))), "the upload")
    if rate != sample_rate:
        wave = AF.resample(wave, int(rate), int(sample_rate))
    if num_samples is not None:
        wave = fix_length(wave, num_samples, pad_mode="center")
    return wave.contiguous()


@torch.no_grad()
def predict_wav_bytes(model: torch.nn.Module, data: bytes, *, classes: Sequence[str], sample_rate: int,
                      num_samples: int | None = None) -> dict:
    """The model's prediction for one uploaded audio file.

    Args:
        model (nn.Module): waveform ``(batch, samples)`` -> logits ``(batch, len(classes))``.
        data (bytes): the file's bytes (what ``ipywidgets.FileUpload`` gives).
        classes (Sequence[str]): class names, in the model's output order.
        sample_rate (int): the model's rate in Hz (the clip is resampled to it).
        num_samples (int | None, default None): the model's clip length; None keeps the file's.

    Returns:
        dict: ``label`` (str), ``index`` (int), ``probability`` (float), ``probabilities``
        (Tensor ``(n_classes,)``), ``waveform`` (Tensor).

    >>> class Loud(torch.nn.Module):
    ...     def forward(self, x): return torch.stack([x.abs().mean(1) * 0, x.abs().mean(1) * 100], 1)
    >>> buf = io.BytesIO(); sf.write(buf, np.ones(800, "float32") * 0.5, 8000, format="WAV")
    >>> predict_wav_bytes(Loud(), buf.getvalue(), classes=["quiet", "loud"], sample_rate=8000)["label"]
    'loud'
    """
    wave = decode_wav_bytes(data, sample_rate=sample_rate, num_samples=num_samples)
    was_training = model.training
    model.eval()
    try:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        logits = model(wave[None].to(device)).float().cpu()[0]
    finally:
        model.train(was_training)
    if logits.shape != (len(classes),):
        raise ValueError(f"the model gives {tuple(logits.shape)} outputs for {len(classes)} classes")
    probs = logits.softmax(-1)
    i = int(probs.argmax())
    return {"label": str(classes[i]), "index": i, "probability": float(probs[i]), "probabilities": probs,
            "waveform": wave}


def _upload_contents(value) -> list[tuple[str, bytes]]:
    """(name, bytes) of each file in a FileUpload value (ipywidgets 8: tuple of dicts; 7: dict)."""
    if isinstance(value, dict):  # ipywidgets 7: {name: {"content": bytes, "metadata": ...}}
        return [(name, bytes(v["content"])) for name, v in value.items()]
    return [(v.get("name", "upload"), bytes(v["content"])) for v in value]


@dataclass
class UploadPredictor:
    """Upload a WAV; see the predicted class and every class probability.

    Attributes:
        widget (ipywidgets.VBox): the upload button, a message line and the bar chart.
        upload (ipywidgets.FileUpload): the button (its value change calls :meth:`handle`).
        message (ipywidgets.HTML): the prediction, or what went wrong.
        live (LiveFigure): the probability bars (``live.figure.data[0]``).
        model, classes, sample_rate, num_samples: what the prediction uses.
    """

    widget: W.VBox
    upload: W.FileUpload
    message: W.HTML
    live: LiveFigure
    model: torch.nn.Module
    classes: list
    sample_rate: int
    num_samples: int | None

    def handle(self, data: bytes, name: str = "upload") -> dict | None:
        """Predict for ``data`` (a file's bytes), update the bars and the message; return
        the prediction, or None (with the reason in ``message``) for bytes that are not audio."""
        try:
            res = predict_wav_bytes(self.model, data, classes=self.classes, sample_rate=self.sample_rate,
                                    num_samples=self.num_samples)
        except AudioError as exc:
            self.message.value = f"<b style='color:#b2182b'>⚠ {name}: {exc}</b>"
            return None
        probs = to_numpy(res["probabilities"])
        colours = ["#440154" if i == res["index"] else "#9ecae1" for i in range(len(probs))]

        def draw(fig):
            fig.data[0].update(y=probs, marker_color=colours)
            fig.layout.title.text = f"{name}: '{res['label']}' ({res['probability']:.0%})"

        self.live.update(draw)
        self.message.value = f"<b>{name}</b>: predicted <b>{res['label']}</b> with probability {res['probability']:.1%}"
        return res

    def _on_upload(self, change) -> None:
        for name, data in _upload_contents(change["new"]):
            self.handle(data, name)


def upload_predictor(model: torch.nn.Module, classes: Sequence[str], *, sample_rate: int,
                     num_samples: int | None = None) -> UploadPredictor:
    """Build the upload widget for ``model`` (display ``.widget``).

    >>> up = upload_predictor(torch.nn.Sequential(torch.nn.Linear(8, 2)), ["a", "b"], sample_rate=8000,
    ...                       num_samples=8)
    >>> up.live.figure.data[0].y.tolist()
    [0.5, 0.5]
    """
    classes = [str(c) for c in classes]
    upload = W.FileUpload(accept=".wav,.flac,.ogg,audio/*", multiple=False, description="Upload WAV")
    message = W.HTML("Upload a short recording (about 1 s) of one of the words.")
    fig = probability_bars(np.full(len(classes), 1 / len(classes)), classes,
                           title="Class probabilities (upload a file)")
    live = LiveFigure(fig)
    box = W.VBox([upload, message, live.widget])
    pred = UploadPredictor(box, upload, message, live, model, classes, int(sample_rate), num_samples)
    upload.observe(pred._on_upload, names="value")
    return pred


# --------------------------------------------------------------------------- filterbank inspector


@dataclass
class FilterbankInspector:
    """A trained mel filterbank against its initial triangular filters, filter by filter.

    Attributes:
        widget (ipywidgets.VBox): slider and figure.
        slider (ipywidgets.IntSlider): the filter shown (set ``.value`` from code).
        live (LiveFigure): top: filter ``i`` before (``data[0]``) and after (``data[1]``)
            training, over frequency; bottom: trained minus initial for every filter
            (``data[2]``) with a line marking filter ``i`` (``data[3]``).
        initial, trained (np.ndarray): ``(n_mels, n_freqs)`` filterbanks.
        freqs (np.ndarray): Hz of the columns.
    """

    widget: W.VBox
    slider: W.IntSlider
    live: LiveFigure
    initial: np.ndarray
    trained: np.ndarray
    freqs: np.ndarray

    def show(self, index: int) -> None:
        """Show filter ``index`` (what moving the slider does)."""
        if not 0 <= index < len(self.initial):
            raise ValueError(f"filter index must be in 0..{len(self.initial) - 1}, got {index}")
        a, b = self.initial[index], self.trained[index]
        change = float(np.abs(b - a).sum() / max(np.abs(a).sum(), 1e-12))
        centre = float(self.freqs[int(np.argmax(a))])

        def draw(fig):
            fig.data[0].update(y=a)
            fig.data[1].update(y=b)
            fig.data[3].update(y=[index, index])
            fig.layout.title.text = (f"Mel filter {index} (initial peak {centre:.0f} Hz): "
                                     f"trained differs by {change:.1%} of its area")

        self.live.update(draw)

    def _on_slide(self, change) -> None:
        self.show(int(change["new"]))


def filterbank_inspector(initial, trained, *, sample_rate: int, index: int | None = None) -> FilterbankInspector:
    """Build the inspector for two ``(n_mels, n_freqs)`` filterbanks (display ``.widget``).

    Args:
        initial: the filterbank before training (the triangles).
        trained: the same filterbank after training (e.g. ``model.frontend.mel_filterbank()``).
        sample_rate (int): Hz; the frequency axis runs 0..sample_rate/2.
        index (int | None, default None): the filter shown first; None is the middle one.

    >>> fb = np.eye(4, 6); ins = filterbank_inspector(fb, fb * 0.5, sample_rate=8000)
    >>> ins.slider.value = 3; ins.live.figure.data[1].y.tolist()
    [0.0, 0.0, 0.0, 0.5, 0.0, 0.0]
    """
    a, b = to_numpy(initial).astype(float), to_numpy(trained).astype(float)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"initial and trained must both be (n_mels, n_freqs), got {a.shape} and {b.shape}")
    n_mels = a.shape[0]
    index = n_mels // 2 if index is None else int(index)
    freqs = np.linspace(0, sample_rate / 2, a.shape[1])
    diff = b - a
    m = float(np.abs(diff).max()) or 1.0
    fig = make_subplots(rows=2, cols=1, row_heights=[0.45, 0.55], vertical_spacing=0.14,
                        subplot_titles=("One filter: initial vs trained", "Trained − initial, every filter"))
    fig.add_trace(go.Scatter(x=freqs, y=a[index], name="initial (triangular)",
                             line=dict(color="#31688e", dash="dash")), row=1, col=1)
    fig.add_trace(go.Scatter(x=freqs, y=b[index], name="after training", line=dict(color="#35b779")), row=1, col=1)
    fig.add_trace(go.Heatmap(z=diff, x=freqs, colorscale=DIVERGING, zmid=0, zmin=-m, zmax=m,
                             colorbar=dict(title="Δ weight", len=0.5, y=0.27)), row=2, col=1)
    fig.add_trace(go.Scatter(x=[freqs[0], freqs[-1]], y=[index, index], mode="lines", name="shown filter",
                             line=dict(color="black", width=1)), row=2, col=1)
    style(fig, title=f"Mel filter {index}", x_title="Frequency (Hz)", y_title="Weight (linear)", height=620)
    fig.update_xaxes(title_text="Frequency (Hz)", row=2, col=1)
    fig.update_yaxes(title_text="Mel filter (index)", row=2, col=1)
    live = LiveFigure(fig)
    slider = W.IntSlider(value=index, min=0, max=n_mels - 1, description="filter", continuous_update=False)
    ins = FilterbankInspector(W.VBox([slider, live.widget]), slider, live, a, b, freqs)
    slider.observe(ins._on_slide, names="value")
    ins.show(index)
    return ins
