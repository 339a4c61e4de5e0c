"""A microphone widget: record in the browser, get float32 samples in Python at a known rate.

:class:`Recorder` follows the kit's widget pattern. Its browser half (``recorder.js``, an
anywidget ES module, no build step) asks for the microphone with ``getUserMedia``,
records for a fixed length (``mode="fixed"``, e.g. 1 s) or while the button is held
(``mode="push"``), shows a level meter, and streams the samples to the kernel as they
arrive: raw little-endian float32 bytes in the comm's buffers, at the browser's own rate
(often 48 kHz), about every ``chunk_seconds``. The Python half,
:meth:`Recorder.handle_message`, is a pure handler (tests and notebooks call it without a
browser, or :meth:`Recorder.handle_waveform` for a whole clip "as if recorded"):

* each chunk is resampled on the fly to ``sample_rate`` (:class:`apac_lab.data.ChunkResampler`,
  the same result as :func:`apac_lab.data.resample_waveform` on the whole recording) and
  passed to the ``on_chunk`` callbacks, e.g. :meth:`EchoicScope.stream_samples` (notebook 03);
* at the end the recording is checked (:func:`recording_quality`: silence, far too quiet,
  too short, clipping), drawn (waveform and log-mel, from :mod:`apac_lab.plots`), made
  playable, and, unless refused, passed to the ``on_recording`` callbacks, e.g.
  :meth:`UploadPredictor.handle_waveform` (05) or :meth:`MelExplorer.add_recording` (01).

Bad input never raises in the kernel: no microphone, permission refused, silence, clipping
or a recording far too quiet each give a one-line message in the widget (``message``).

Where it runs: JupyterLab 4 (anywidget is installed with the kit). Colab: anywidget needs
``google.colab.output.enable_custom_widget_manager()``, which each notebook's Colab set-up
cell calls. Where no front-end can run it (a notebook viewer, a kernel without a browser)
nothing records; the upload widget (:class:`UploadPredictor`) is the fallback. Browsers
give the microphone only to secure pages (https, or http on localhost).

Notebooks: 01_spectrogram_and_mfcc, 03_echoic_buffers, 05_apac_training.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Callable, Sequence

import ipywidgets as W
import numpy as np
import torch

from apac_lab.data.audio import wav_bytes
from apac_lab.data.resample import ChunkResampler, check_sample_rate
from apac_lab.frontends.scratch import frame_signal, mel_filterbank, power_spectrum
from apac_lab.plots.spectra import mel_figure, waveform_figure
from apac_lab.widgets.core import LiveFigure, Widget

__all__ = ["Recorder", "recording_quality", "browser_error_message", "RECORDER_MODES"]

RECORDER_MODES = ("fixed", "push")
#: A recording whose peak is below this level (dBFS) is silence: a muted or absent microphone.
SILENT_DBFS = -80.0
#: Below this peak level (dBFS) a recording is far too quiet to use (speech near a microphone
#: peaks well above it); it is refused with a message.
QUIET_DBFS = -40.0
#: Samples at or above this magnitude count as clipped (full scale is 1).
CLIP_LEVEL = 0.99
#: A recording with more than this fraction of clipped samples gets a warning (it is still used).
CLIP_FRACTION = 0.001
#: Recordings shorter than this (seconds) are refused.
MIN_SECONDS = 0.1

ESM_PATH = Path(__file__).with_name("recorder.js")


def _dbfs(x: float) -> float:
    return 20 * math.log10(x) if x > 0 else -math.inf


def recording_quality(waveform: torch.Tensor, *, sample_rate: int) -> dict:
    """Is this recording usable? Its level, its clipping, and the reason to refuse it, if any.

    Args:
        waveform (Tensor): ``(samples,)``, full scale 1.
        sample_rate (int): Hz.

    Returns:
        dict: ``seconds``, ``peak_dbfs``, ``rms_dbfs`` (float), ``clipped`` (fraction of samples
        at or above :data:`CLIP_LEVEL`), ``refused`` (str | None: why the recording cannot be used:
        too short, not finite, silent, far too quiet) and ``warnings`` (list[str]: clipping).

    >>> t = torch.arange(8000) / 8000
    >>> recording_quality(0.5 * torch.sin(2 * torch.pi * 440 * t), sample_rate=8000)["refused"] is None
    True
    >>> recording_quality(0.001 * torch.sin(2 * torch.pi * 440 * t), sample_rate=8000)["refused"][:35]
    'the recording is far too quiet (pea'
    """
    w = torch.as_tensor(waveform, dtype=torch.float32).reshape(-1)
    seconds = w.numel() / sample_rate
    out = {"seconds": seconds, "peak_dbfs": -math.inf, "rms_dbfs": -math.inf, "clipped": 0.0, "refused": None,
           "warnings": []}
    if seconds < MIN_SECONDS:
        out["refused"] = (f"the recording is only {seconds:.2f} s long (at least {MIN_SECONDS:g} s is needed): "
                          "record for longer")
        return out
    if not bool(torch.isfinite(w).all()):
        out["refused"] = "the recording holds NaN or infinite samples (the browser's audio failed): record again"
        return out
    peak = float(w.abs().max())
    out["peak_dbfs"], out["rms_dbfs"] = _dbfs(peak), _dbfs(float(w.pow(2).mean().sqrt()))
    out["clipped"] = float((w.abs() >= CLIP_LEVEL).float().mean())
    if out["peak_dbfs"] < SILENT_DBFS:
        out["refused"] = (f"the recording is silent (peak below {SILENT_DBFS:g} dBFS): the microphone is muted, "
                          "unplugged or not the one you speak into; check the system's input settings and record again")
    elif out["peak_dbfs"] < QUIET_DBFS:
        out["refused"] = (f"the recording is far too quiet (peak {out['peak_dbfs']:.1f} dBFS; speech close to a "
                          f"microphone peaks above {QUIET_DBFS:g} dBFS): speak closer or raise the input level, "
                          "then record again")
    if out["clipped"] > CLIP_FRACTION:
        out["warnings"].append(f"the recording clips ({out['clipped']:.1%} of its samples at full scale), so it is "
                               "distorted: speak further from the microphone or lower the input level")
    return out


_BROWSER_ERRORS = {
    "NotAllowedError": "permission to use the microphone was refused: allow it (the icon at the left of the "
                       "address bar, or the browser's site settings), then press Record again",
    "SecurityError": "the browser does not allow the microphone on this page: open JupyterLab over https or at "
                     "http://localhost, or use the upload widget",
    "NotFoundError": "no microphone was found: plug one in (or pick one in the system's sound settings) and press "
                     "Record again, or use the upload widget",
    "OverconstrainedError": "no microphone was found that can record mono audio: plug one in, or use the upload "
                            "widget",
    "NotReadableError": "the microphone could not be opened (another program may be using it): close that "
                        "program and press Record again",
    "AbortError": "the browser stopped the microphone before it started: press Record again",
    "NoMediaDevices": "this page cannot use a microphone: browsers allow it only on https or http://localhost "
                      "pages; open JupyterLab there, or use the upload widget",
    "NoWebAudio": "this browser cannot record audio (no Web Audio): use a current Chrome, Firefox or Safari, or "
                  "the upload widget",
}


def browser_error_message(name: str, detail: str = "") -> str:
    """One line saying what went wrong in the browser (a ``getUserMedia`` error name) and what to do.

    >>> browser_error_message("NotAllowedError")[:44]
    'permission to use the microphone was refused'
    >>> browser_error_message("WeirdError", "boom")
    'the browser could not record (WeirdError: boom): press Record again, or use the upload widget'
    """
    if name in _BROWSER_ERRORS:
        return _BROWSER_ERRORS[name]
    what = f"{name}: {detail}" if detail else name
    return f"the browser could not record ({what}): press Record again, or use the upload widget"


@functools.cache
def _view_class():
    """The anywidget class of the browser half (None where anywidget is not installed)."""
    try:
        import anywidget
        import traitlets as T
    except ImportError:
        return None

    class RecorderView(anywidget.AnyWidget):
        _esm = ESM_PATH.read_text()
        seconds = T.Float(1.0).tag(sync=True)
        mode = T.Unicode("fixed").tag(sync=True)
        max_seconds = T.Float(5.0).tag(sync=True)
        chunk_ms = T.Int(100).tag(sync=True)
        processing = T.Bool(False).tag(sync=True)
        busy = T.Bool(False).tag(sync=True)

    return RecorderView


def _callbacks(fns) -> list[Callable]:
    if fns is None:
        return []
    fns = [fns] if callable(fns) else list(fns)
    for fn in fns:
        if not callable(fn):
            raise TypeError(f"callbacks must be callables (e.g. predictor.handle_waveform), got {fn!r}")
    return fns


def _name(fn: Callable) -> str:
    owner = getattr(fn, "__self__", None)
    return f"{type(owner).__name__}.{fn.__name__}" if owner is not None else getattr(fn, "__name__", repr(fn))


def _log_mel(waveform: torch.Tensor, sample_rate: int, n_mels: int) -> tuple[torch.Tensor, int]:
    """Power mel ``(n_mels, frames)`` of a recording (32 ms frames; at most about 400 of them) and its hop."""
    n_fft = 1 << max(6, round(math.log2(0.032 * sample_rate)))
    hop = max(round(0.010 * sample_rate), math.ceil(waveform.numel() / 400))
    power = power_spectrum(frame_signal(waveform, n_fft=n_fft, hop_length=hop))
    return mel_filterbank(sample_rate=sample_rate, n_fft=n_fft, n_mels=n_mels) @ power, hop


class Recorder(Widget):
    """Record from the browser's microphone; hand the samples to Python as float32 at ``sample_rate``.

    Args:
        sample_rate (int, default 8000): Hz of what Python receives (the browser's rate is
            resampled to it).
        seconds (float, default 1.0): length of one recording in ``"fixed"`` mode.
        mode (str, default "fixed"): ``"fixed"`` records ``seconds`` per press; ``"push"``
            records while the button is held (push-to-talk), at most ``max_seconds``.
        max_seconds (float, default 5.0): the longest recording kept (memory stays bounded).
        chunk_seconds (float, default 0.1): how often the browser sends what it recorded.
        on_recording (callable | list | None, default None): called as ``fn(waveform, sample_rate)``
            with each usable recording (Tensor ``(samples,)``).
        on_chunk (callable | list | None, default None): called as ``fn(chunk, sample_rate,
            restart=...)`` with each resampled chunk while recording (``restart`` is True for the
            first chunk of a recording).
        processing (bool, default False): let the browser apply echo cancellation, noise
            suppression and automatic gain (off: the samples are the microphone's).
        n_mels (int, default 40): mel bands of the log-mel figure.
        backend (str | None, default None): :class:`LiveFigure`'s backend.

    Attributes:
        widget (ipywidgets.VBox): the record button with its level meter (``view``), a message
            line, the play-back control (``audio``) and the two figures.
        view (anywidget.AnyWidget | None): the browser half (None where anywidget is missing).
        message (ipywidgets.HTML): what was recorded, or what went wrong.
        audio (ipywidgets.Audio): the last recording (at ``sample_rate``, peak-normalised).
        wave_live, mel_live (LiveFigure): waveform (``data[0]``) and log-mel (``data[0]``).
        recording (Tensor | None): the last recording at ``sample_rate``; None while one is being
            recorded, and after one that was refused.
        quality (dict | None): :func:`recording_quality` of the last recording.
        input_rate, input_samples, chunks (int): the browser's rate, samples and chunks received
            for the last recording.
        input_waveform (Tensor | None): the last recording as received, at ``input_rate``.
        errors (list[str]): callbacks that failed (each also shown in ``message``).

    >>> rec = Recorder(sample_rate=8000, backend="output")
    >>> t = torch.arange(48000) / 48000
    >>> out = rec.handle_waveform(0.3 * torch.sin(2 * torch.pi * 300 * t), 48000)
    >>> rec.input_samples, rec.input_rate, tuple(out["waveform"].shape)
    (48000, 48000, (8000,))
    >>> rec.handle_message({"type": "error", "name": "NotAllowedError", "message": ""}, [])
    >>> "refused" in rec.message.value
    True
    """

    def __init__(self, *, sample_rate: int = 8000, seconds: float = 1.0, mode: str = "fixed",
                 max_seconds: float = 5.0, chunk_seconds: float = 0.1, on_recording=None, on_chunk=None,
                 processing: bool = False, n_mels: int = 40, backend: str | None = None) -> None:
        self.sample_rate = check_sample_rate(sample_rate)
        if mode not in RECORDER_MODES:
            raise ValueError(f"mode must be one of {RECORDER_MODES}, got {mode!r}")
        if not 0 < max_seconds <= 30:
            raise ValueError(f"max_seconds must be in (0, 30] s, got {max_seconds}")
        if not MIN_SECONDS <= seconds <= max_seconds:
            raise ValueError(f"seconds must be in [{MIN_SECONDS}, max_seconds={max_seconds}] s, got {seconds}")
        if not 0.01 <= chunk_seconds <= 1.0:
            raise ValueError(f"chunk_seconds must be in [0.01, 1] s, got {chunk_seconds}")
        if n_mels < 4:
            raise ValueError(f"n_mels must be >= 4, got {n_mels}")
        self.seconds, self.mode, self.max_seconds = float(seconds), mode, float(max_seconds)
        self.chunk_seconds, self.n_mels = float(chunk_seconds), int(n_mels)
        self.on_recording, self.on_chunk = _callbacks(on_recording), _callbacks(on_chunk)
        self.recording: torch.Tensor | None = None
        self.quality: dict | None = None
        self.input_rate, self.input_samples, self.chunks = 0, 0, 0
        self.errors: list[str] = []
        self.input_waveform: torch.Tensor | None = None
        self._resampler: ChunkResampler | None = None
        self._parts: list[torch.Tensor] = []
        self._raw: list[torch.Tensor] = []
        self._from_code = False

        view_class = _view_class()
        self.message = W.HTML()
        if view_class is None:
            self.view = None
            head = W.HTML("<b>The recorder needs anywidget</b> (<code>pip install anywidget</code>); "
                          "until then, upload a WAV instead.")
        else:
            self.view = view_class(seconds=self.seconds, mode=mode, max_seconds=self.max_seconds,
                                   chunk_ms=round(1000 * self.chunk_seconds), processing=bool(processing))
            self.view.on_msg(self._on_msg)
            head = self.view
        self._say("Press <b>Record</b> and speak" + (f" ({self.seconds:g} s)." if mode == "fixed" else
                                                     " while you hold the button."))
        self.audio = W.Audio(value=wav_bytes(torch.zeros(80), self.sample_rate), format="wav", autoplay=False,
                             loop=False)  # a silent placeholder: an empty value is a broken resource in the page
        silence = torch.zeros(round(self.seconds * self.sample_rate))
        self.wave_live = LiveFigure(waveform_figure(silence, sample_rate=self.sample_rate, height=220,
                                                    title="Your recording", max_points=4000), backend=backend)
        mel, hop = _log_mel(silence, self.sample_rate, self.n_mels)
        self.mel_live = LiveFigure(mel_figure(mel, sample_rate=self.sample_rate, hop_length=hop, height=300,
                                              title="Its log-mel (dB)"), backend=backend)
        self.controls = {}  # no sliders: the browser's messages call handle_message()
        self.widget = W.VBox([head, self.message, W.HBox([W.HTML("<b>Play back</b>&nbsp;"), self.audio]),
                              self.wave_live.widget, self.mel_live.widget])

    @classmethod
    def example(cls, *, backend: str | None = None) -> "Recorder":
        """Notebook 05's size: 1 s at 16 kHz."""
        return cls(sample_rate=16000, seconds=1.0, backend=backend)

    # ----------------------------------------------------------------------- the pure handler

    def handle_message(self, content: dict, buffers: Sequence[bytes] = ()) -> dict | None:
        """What the browser's messages do: ``start``, ``chunk`` (float32 bytes in ``buffers``),
        ``end`` (returns the recording's result, or None when refused) and ``error``.

        Nothing raises: a bad message, a refused recording or a failing callback is a message in
        the widget.
        """
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "start":
            self._start(content.get("rate"))
        elif kind == "chunk":
            self._chunk(buffers)
        elif kind == "end":
            return self._end()
        elif kind == "error":
            self._problem(browser_error_message(str(content.get("name", "Error")), str(content.get("message", ""))))
        else:
            self._problem(f"the browser sent an unknown message ({content!r:.80}): reload the page and record again")
        return None

    def handle_waveform(self, waveform: torch.Tensor, sample_rate: int, *, chunk_seconds: float | None = None
                        ) -> dict | None:
        """Send ``waveform`` (``(samples,)`` at ``sample_rate`` Hz) through :meth:`handle_message`
        in chunks, exactly as the browser sends a recording: for code, tests, and notebooks run
        without a microphone. Returns what the ``end`` message returns."""
        w = torch.as_tensor(waveform, dtype=torch.float32).detach().cpu().reshape(-1)
        step = max(1, round((chunk_seconds or self.chunk_seconds) * sample_rate))
        self._from_code = True  # said in the message: not the microphone
        try:
            self.handle_message({"type": "start", "rate": sample_rate})
            for i, chunk in enumerate(w.split(step)):
                self.handle_message({"type": "chunk", "index": i}, [chunk.numpy().astype("<f4").tobytes()])
            return self.handle_message({"type": "end", "samples": w.numel()})
        finally:
            self._from_code = False

    # ----------------------------------------------------------------------- steps

    def _on_msg(self, _view, content, buffers) -> None:
        try:
            self.handle_message(content, buffers)
        except Exception as exc:  # a bug must not end up as a traceback in a hidden log
            self._problem(f"the recorder failed ({type(exc).__name__}: {exc}); record again")

    def _say(self, html: str) -> None:
        self.message.value = html

    def _problem(self, text: str) -> None:
        self._say(f"<b style='color:#b2182b'>⚠ {text}.</b>")

    def _start(self, rate) -> None:
        self._resampler, self._parts, self._raw, self.chunks, self.input_samples = None, [], [], 0, 0
        self.recording = None
        try:
            self.input_rate = check_sample_rate(rate, "the browser's sample rate")
        except ValueError as exc:
            self.input_rate = 0
            self._problem(f"{exc} Reload the page and record again")
            return
        self._resampler = ChunkResampler(self.input_rate, self.sample_rate)
        self._say(f"Recording at {self.input_rate} Hz…")

    def _limit(self) -> int:
        return math.ceil((self.max_seconds if self.mode == "push" else self.seconds) * self.input_rate)

    def _chunk(self, buffers: Sequence[bytes]) -> None:
        if self._resampler is None:
            return  # no recording in progress (its start was refused, and said so)
        for buf in buffers:
            raw = bytes(buf)
            if len(raw) % 4:
                self._problem(f"the browser sent {len(raw)} bytes, not whole float32 samples; record again")
                self._resampler = None
                return
            x = torch.from_numpy(np.frombuffer(raw, dtype="<f4").astype(np.float32))
            room = self._limit() - self.input_samples
            x = x[:max(room, 0)]  # bounded: more than asked for is dropped
            self.input_samples += x.numel()
            self.chunks += 1
            self._raw.append(x)
            self._emit(self._resampler.push(x))

    def _emit(self, y: torch.Tensor) -> None:
        if y.numel() == 0:
            return
        first = not self._parts
        self._parts.append(y)
        for fn in self.on_chunk:
            self._call(fn, y, self.sample_rate, restart=first)

    def _call(self, fn: Callable, *args, **kwargs) -> str | None:
        try:
            fn(*args, **kwargs)
        except Exception as exc:  # a consumer's failure is shown, not raised into the comm
            problem = f"{_name(fn)} failed: {type(exc).__name__}: {exc}"
            self.errors.append(problem)
            return problem
        return None

    def _end(self) -> dict | None:
        if self._resampler is None:
            return None
        self._emit(self._resampler.flush())
        self._resampler = None
        wave = torch.cat(self._parts) if self._parts else torch.zeros(0)
        self.input_waveform = torch.cat(self._raw) if self._raw else torch.zeros(0)
        self._parts, self._raw = [], []
        # judged on the samples as recorded (resampling smooths clipping, and may overshoot)
        self.quality = q = recording_quality(self.input_waveform, sample_rate=self.input_rate)
        if q["refused"]:
            self._problem(q["refused"])
            return None
        self._draw_recording(wave, q)
        problems = [p for fn in self.on_recording if (p := self._call(fn, wave, self.sample_rate))]
        how = "Played in from code (not the microphone)" if self._from_code else "Recorded"
        lines = [f"{how}: <b>{q['seconds']:.2f} s</b> ({self.input_samples} samples at {self.input_rate} Hz, "
                 f"{wave.numel()} at {self.sample_rate} Hz); peak {q['peak_dbfs']:.1f} dBFS."]
        lines += [f"<b style='color:#b2182b'>⚠ {w}.</b>" for w in q["warnings"] + problems]
        self._say("<br>".join(lines))
        self.recording = wave  # last: once set, the recording has been drawn and passed on
        return {"waveform": wave, "sample_rate": self.sample_rate, "input_rate": self.input_rate,
                "input_samples": self.input_samples, "quality": q}

    def _draw_recording(self, wave: torch.Tensor, q: dict) -> None:
        sr = self.sample_rate
        new_wave = waveform_figure(wave, sample_rate=sr, max_points=4000)
        mel, hop = _log_mel(wave, sr, self.n_mels)
        new_mel = mel_figure(mel, sample_rate=sr, hop_length=hop)

        def draw_wave(fig):
            fig.data[0].update(x=new_wave.data[0].x, y=new_wave.data[0].y)
            fig.layout.title.text = f"Your recording: {q['seconds']:.2f} s, peak {q['peak_dbfs']:.1f} dBFS"

        def draw_mel(fig):
            fig.data[0].update(z=new_mel.data[0].z, x=new_mel.data[0].x)

        self.wave_live.update(draw_wave)
        self.mel_live.update(draw_mel)
        self.audio.value = wav_bytes(wave, sr)
