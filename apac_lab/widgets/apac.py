"""Widgets for a trained APAC: the learned mel filterbank against the initial triangles,
and "upload a WAV, see the prediction".

Both follow the kit's one pattern (:class:`~apac_lab.widgets.Widget`): a class whose
``widget`` is displayed, with a method that does the work without a browser
(``update(filter=i)``, ``handle(bytes)``), so tests drive them from code.

Notebook: 05_apac_training.
"""

from __future__ import annotations

import html
import io
from typing import Sequence

import ipywidgets as W
import numpy as np
import soundfile as sf
import torch

from apac_lab.data.audio import AudioError, decode_wav_bytes, fix_length
from apac_lab.plots.core import to_numpy
from apac_lab.plots.training import mel_filter_change_figure, probability_bars
from apac_lab.widgets.core import LiveFigure, Widget

__all__ = ["predict_wav_bytes", "MelFilterInspector", "UploadPredictor"]


# --------------------------------------------------------------------------- prediction from bytes


#: Colab's FileUpload (ipywidgets 7) hands over an empty value for files of about this size or
#: more (jupyter-widgets/ipywidgets#3452); 1 s of 16-bit mono WAV at 16 kHz is 32 KB.
COLAB_UPLOAD_LIMIT_BYTES = 1_000_000
#: A clip whose sound fills less than this share of the model's window is "mostly silence".
MIN_SOUND_SHARE = 0.5
#: A clip whose peak is below this (full scale 1.0) is "mostly silence" too.
SILENCE_PEAK = 1e-3


def _notes(wave: torch.Tensor, fitted: torch.Tensor, sample_rate: int, num_samples: int | None) -> list[str]:
    """What the prediction should say about how the clip was used."""
    notes = []
    n = wave.numel()
    if num_samples is not None and n > num_samples:
        notes.append(f"used the middle {num_samples / sample_rate:g} s of {n / sample_rate:.3g} s")
    elif num_samples is not None and n < MIN_SOUND_SHARE * num_samples:
        notes.append(f"mostly silence: {1000 * n / sample_rate:.3g} ms of sound padded to "
                     f"{num_samples / sample_rate:g} s")
    if float(fitted.abs().max()) < SILENCE_PEAK and not any(m.startswith("mostly silence") for m in notes):
        notes.append(f"mostly silence: the recording is nearly silent (peak {float(fitted.abs().max()):.1e})")
    return notes


@torch.no_grad()
def predict_wav_bytes(model: torch.nn.Module, data: bytes, *, classes: Sequence[str], sample_rate: int,
                      num_samples: int | None = None, name: str = "the upload") -> dict:
    """The model's prediction for one uploaded audio file.

    Args:
        model (nn.Module): waveform ``(batch, samples)`` -> logits ``(batch, len(classes))``.
        data (bytes): the file's bytes (what ``ipywidgets.FileUpload`` gives).
        classes (Sequence[str]): class names, in the model's output order.
        sample_rate (int): the model's rate in Hz (the clip is resampled to it).
        num_samples (int | None, default None): the model's clip length; None keeps the file's.
        name (str, default "the upload"): what errors call the file.

    Returns:
        dict: ``label`` (str), ``index`` (int), ``probability`` (float), ``probabilities``
        (Tensor ``(n_classes,)``), ``waveform`` (Tensor, what the model heard), ``notes``
        (list[str]: "used the middle 1 s of 600 s", "mostly silence: ...").

    >>> from apac_lab.data import wav_bytes
    >>> class Loud(torch.nn.Module):
    ...     def forward(self, x): return torch.stack([x.abs().mean(1) * 0, x.abs().mean(1) * 100], 1)
    >>> clip = wav_bytes(torch.ones(800), 8000)
    >>> res = predict_wav_bytes(Loud(), clip, classes=["quiet", "loud"], sample_rate=8000, num_samples=8000)
    >>> res["label"], res["notes"]
    ('loud', ['mostly silence: 100 ms of sound padded to 1 s'])
    """
    wave = decode_wav_bytes(data, sample_rate=sample_rate, name=name)
    fitted = wave if num_samples is None else fix_length(wave, num_samples, pad_mode="center")
    was_training = model.training
    model.eval()
    try:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        logits = model(fitted[None].to(device)).float().cpu()[0]
    finally:
        model.train(was_training)
    if logits.shape != (len(classes),):
        raise ValueError(f"the model gives {tuple(logits.shape)} outputs for {len(classes)} classes")
    probs = logits.softmax(-1)
    i = int(probs.argmax())
    return {"label": str(classes[i]), "index": i, "probability": float(probs[i]), "probabilities": probs,
            "waveform": fitted, "notes": _notes(wave, fitted, sample_rate, num_samples)}


def _upload_contents(value) -> list[tuple[str, bytes]]:
    """(name, bytes) of each file in a FileUpload value (ipywidgets 8: tuple of dicts; 7: dict)."""
    if isinstance(value, dict):  # ipywidgets 7: {name: {"content": bytes, "metadata": ...}}
        return [(name, bytes(v["content"])) for name, v in value.items()]
    return [(v.get("name", "upload"), bytes(v["content"])) for v in value]


class UploadPredictor(Widget):
    """Upload a WAV; see the predicted class and every class probability.

    Args:
        model (nn.Module): waveform ``(batch, samples)`` -> logits ``(batch, len(classes))``.
        classes (Sequence[str]): class names, in the model's output order.
        sample_rate (int): the model's rate in Hz (uploads are resampled to it).
        num_samples (int | None, default None): the model's clip length; None keeps the file's.
        backend (str | None, default None): :class:`LiveFigure`'s backend.

    Attributes:
        widget (ipywidgets.VBox): the upload button, a message line and the bar chart.
        upload (ipywidgets.FileUpload): the button (its value change calls :meth:`handle`).
        message (ipywidgets.HTML): the prediction, or what went wrong.
        live (LiveFigure): the probability bars (``live.figure.data[0]``).

    >>> up = UploadPredictor(torch.nn.Sequential(torch.nn.Linear(8, 2)), ["a", "b"], sample_rate=8000, num_samples=8)
    >>> up.live.figure.data[0].y.tolist()
    [0.5, 0.5]
    """

    def __init__(self, model: torch.nn.Module, classes: Sequence[str], *, sample_rate: int,
                 num_samples: int | None = None, backend: str | None = None) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be > 0 Hz, got {sample_rate}")
        self.model, self.classes = model, [str(c) for c in classes]
        if not self.classes:
            raise ValueError("classes is empty: give the model's class names in its output order")
        self.sample_rate, self.num_samples = int(sample_rate), num_samples
        self.upload = W.FileUpload(accept=".wav,.flac,.ogg,audio/*", multiple=False, description="Upload WAV")
        self.message = W.HTML("Upload a short recording (about 1 s, under 1 MB) of one of the words.")
        n = len(self.classes)
        self.live = LiveFigure(probability_bars(np.full(n, 1 / n), self.classes,
                                                title="Class probabilities (upload a file)"), backend=backend)
        self.widget = W.VBox([self.upload, self.message, self.live.widget])
        self.controls = {}  # no sliders: an upload calls handle()
        self.upload.observe(self._on_upload, names="value")
        if "_counter" in self.upload.traits():  # ipywidgets 7 (Colab)
            self.upload.observe(self._on_counter, names="_counter")

    @classmethod
    def example(cls, *, backend: str | None = None) -> "UploadPredictor":
        """Notebook 05's size: 35 classes (Speech Commands), 1 s at 16 kHz, a small untrained model."""
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.AdaptiveAvgPool1d(64), torch.nn.Linear(64, 35))  # (1, 16000) -> (1, 35)
        classes = [f"word{i}" for i in range(35)]
        return cls(model, classes, sample_rate=16000, num_samples=16000, backend=backend)

    def handle(self, data: bytes, name: str = "upload") -> dict | None:
        """Predict for ``data`` (a file's bytes), update the bars and the message; return the
        prediction. Any failure (bytes that are not audio, a clip the model cannot take, ...)
        returns None: the bars are cleared and ``message`` says what went wrong with ``name``."""
        try:
            res = predict_wav_bytes(self.model, data, classes=self.classes, sample_rate=self.sample_rate,
                                    num_samples=self.num_samples, name=name)
        except Exception as exc:  # noqa: BLE001  a widget callback must never raise into the front-end
            self._fail(name, exc)
            return None
        probs = to_numpy(res["probabilities"])
        colours = ["#440154" if i == res["index"] else "#9ecae1" for i in range(len(probs))]

        def draw(fig):
            fig.data[0].update(y=probs, marker_color=colours)
            fig.layout.title.text = f"{name}: '{res['label']}' ({res['probability']:.0%})"

        self.live.update(draw)
        notes = "".join(f"<br><i>Note: {html.escape(n)}.</i>" for n in res["notes"])
        self.message.value = (f"<b>{html.escape(name)}</b>: predicted <b>{html.escape(res['label'])}</b> "
                              f"with probability {res['probability']:.1%}{notes}")
        return res

    def _fail(self, name: str, exc: Exception) -> None:
        """Clear the bars and say what went wrong (in one line naming the upload)."""
        if isinstance(exc, (AudioError, ValueError)):
            reason = str(exc)
        else:
            seconds = f"{self.num_samples / self.sample_rate:g} s" if self.num_samples else "about 1 s"
            reason = (f"the model could not classify it ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
                      f"upload a clip of {seconds}")
        n = len(self.classes)

        def clear(fig):
            fig.data[0].update(y=np.zeros(n), marker_color=["#9ecae1"] * n)
            fig.layout.title.text = f"{name}: no prediction"

        self.live.update(clear)
        self.message.value = f"<b style='color:#b2182b'>⚠ {html.escape(name)}: {html.escape(reason)}</b>"

    def handle_upload(self, value) -> list[dict | None]:
        """Handle a ``FileUpload`` value (ipywidgets 8: a tuple of files; 7: a dict): each file's
        prediction. An empty value is what Colab's FileUpload hands over for a file of 1 MB or more
        (ipywidgets#3452): the message says so and suggests the recorder or a shorter clip."""
        files = _upload_contents(value)
        if not files or all(not data for _, data in files):
            self._fail("the upload", AudioError(
                f"it arrived empty. Colab's file upload drops files of about "
                f"{COLAB_UPLOAD_LIMIT_BYTES // 1_000_000} MB or more (ipywidgets#3452): record the word with "
                f"the microphone recorder instead, or upload a shorter clip (1 s of 16-bit WAV at "
                f"{self.sample_rate // 1000} kHz is {2 * self.sample_rate // 1000} KB)"))
            return []
        return [self.handle(data, name) for name, data in files]
    def handle_waveform(self, waveform: torch.Tensor, sample_rate: int, name: str = "recording") -> dict | None:
        """Predict for a waveform (``(samples,)`` at ``sample_rate`` Hz, e.g. a :class:`Recorder`'s
        recording) exactly as for an upload of it: it is handed to :meth:`handle` as a float32 WAV
        held in memory (lossless: the same samples, resampled and fitted as an upload is)."""
        try:
            buf = io.BytesIO()
            sf.write(buf, torch.as_tensor(waveform, dtype=torch.float32).detach().cpu().reshape(-1).numpy(),
                     int(sample_rate), format="WAV", subtype="FLOAT")
        except (TypeError, ValueError, RuntimeError, sf.LibsndfileError) as exc:
            self.message.value = (f"<b style='color:#b2182b'>⚠ {html.escape(name)}: cannot use it as audio "
                                  f"({html.escape(str(exc))})</b>")
            return None
        return self.handle(buf.getvalue(), name)

    def _on_upload(self, change) -> None:
        if change["new"]:
            self.handle_upload(change["new"])

    def _on_counter(self, change) -> None:  # ipywidgets 7 counts uploads; a dropped file leaves value empty
        if change["new"] and not _upload_contents(self.upload.value):
            self.handle_upload(self.upload.value)


# --------------------------------------------------------------------------- mel filter inspector


class MelFilterInspector(Widget):
    """A trained mel filterbank against its initial triangular filters, filter by filter.

    Args:
        initial: the filterbank before training (the triangles), ``(n_mels, n_freqs)``.
        trained: the same filterbank after training (e.g. ``model.frontend.mel_filterbank()``).
        sample_rate (int): Hz; the frequency axis runs 0..sample_rate/2.
        index (int | None, default None): the filter shown first; None is the middle one.
        backend (str | None, default None): :class:`LiveFigure`'s backend.

    Attributes:
        widget (ipywidgets.VBox): slider and figure (the object displays it too).
        controls (dict): ``{"filter": slider}`` (also ``slider``); ``update(filter=i)`` shows filter ``i``.
        live (LiveFigure): :func:`apac_lab.plots.mel_filter_change_figure`: filter ``i`` before
            (``data[0]``) and after (``data[1]``) training; trained minus initial for every filter
            (``data[2]``) with a line marking filter ``i`` (``data[3]``).
        initial, trained (np.ndarray): ``(n_mels, n_freqs)`` filterbanks.
        freqs (np.ndarray): Hz of the columns.

    >>> fb = np.eye(4, 6); ins = MelFilterInspector(fb, fb * 0.5, sample_rate=8000)
    >>> ins.update(filter=3); ins.live.figure.data[1].y.tolist()
    [0.0, 0.0, 0.0, 0.5, 0.0, 0.0]
    """

    def __init__(self, initial, trained, *, sample_rate: int, index: int | None = None,
                 backend: str | None = None) -> None:
        a, b = to_numpy(initial).astype(float), to_numpy(trained).astype(float)
        if a.ndim != 2 or a.shape != b.shape:
            raise ValueError(f"initial and trained must both be (n_mels, n_freqs), got {a.shape} and {b.shape}")
        n_mels = a.shape[0]
        index = n_mels // 2 if index is None else int(index)
        self.live = LiveFigure(mel_filter_change_figure(a, b, index, sample_rate=sample_rate), backend=backend)
        self.initial, self.trained = a, b
        self.freqs = np.linspace(0, sample_rate / 2, a.shape[1])
        self.slider = W.IntSlider(value=index, min=0, max=n_mels - 1, description="filter", continuous_update=False)
        self.controls = {"filter": self.slider}
        self.widget = W.VBox([self.slider, self.live.widget])
        self._watch()

    @classmethod
    def example(cls, *, backend: str | None = None) -> "MelFilterInspector":
        """Notebook 05's size: APAC's 128 mel filters over 1025 FFT bins at 16 kHz, trained = perturbed."""
        from apac_lab.frontends.scratch import mel_filterbank

        initial = mel_filterbank(sample_rate=16000, n_fft=2048, n_mels=128, f_min=0.0, f_max=8000.0)
        g = torch.Generator().manual_seed(0)
        trained = (initial + 0.01 * torch.randn(initial.shape, generator=g)).clamp_min(0)
        return cls(initial, trained, sample_rate=16000, backend=backend)

    def _draw(self) -> None:
        """Show the slider's filter, with how much training changed it in the title."""
        index = int(self.slider.value)
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
