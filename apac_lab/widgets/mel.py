"""The mel explorer: sliders for n_fft, hop, n_mels, f_min, f_max over real recordings.

The figure (mel spectrogram in dB above, the mel filterbank below) updates in place
through :class:`~apac_lab.widgets.LiveFigure`: a plotly FigureWidget in JupyterLab 4,
an Output that redraws a static figure in Colab (ipywidgets 7.7.1), which is slower
but renders. The selected recording plays in an ``ipywidgets.Audio`` player. Settings
that make no sense (``f_min >= f_max``, a window longer than twice the clip) are shown
as a message under the sliders and leave the figure as it was; nothing raises.

The computation is :mod:`apac_lab.frontends.scratch` (tested equal to torchaudio).

Notebook: 01_spectrogram_and_mfcc.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from apac_lab.data import ClipDataset, load_dataset, resample_waveform, wav_bytes
from apac_lab.frontends.fixed import frontend_settings
from apac_lab.frontends.scratch import (
    fft_frequencies, frame_signal, frame_times, hz_to_mel, log_compress, mel_band_edges, mel_filterbank,
    power_spectrum,
)
from apac_lab.plots.core import COLORSCALE, FSDD_CREDIT, to_numpy
from apac_lab.plots.spectra import mel_hz_ticks
from apac_lab.widgets.core import LiveFigure, Widget

__all__ = ["MelExplorer"]

N_FFT_CHOICES = (64, 128, 256, 512, 1024, 2048, 4096)
#: At most this many heatmap cells are sent per redraw (about 120-160 KB); more frames are shown
#: pooled, each column the loudest of a group of adjacent frames (the message says so).
MAX_HEATMAP_CELLS = 30_000


def _collect(recordings, sample_rate: int | None, n_recordings: int) -> tuple[dict[str, torch.Tensor], int, str | None]:
    """Recordings to ``{name: waveform}``, their rate, and the credit line for their figure."""
    if recordings is None:
        recordings = load_dataset("fsdd", "test", sample_rate=sample_rate, verbose=False)
    if isinstance(recordings, ClipDataset):
        ds, chosen, seen = recordings, {}, set()
        word = "digit" if all(c.isdigit() for c in ds.classes) else "class"
        for i, clip in enumerate(ds.clips):  # one clip per class first, in class order
            if clip.label not in seen and len(chosen) < n_recordings:
                seen.add(clip.label)
                origin = clip.path.name if clip.path is not None else "synthetic"
                chosen[f"{word} {ds.classes[clip.label]} · {clip.speaker} ({origin})"] = i
        names = sorted(chosen, key=lambda k: ds.clips[chosen[k]].label)
        credit = FSDD_CREDIT if ds.name.startswith("fsdd") else None
        return {k: ds[chosen[k]][0] for k in names}, ds.sample_rate, credit
    if sample_rate is None:
        raise ValueError("pass sample_rate= with recordings given as tensors (a ClipDataset knows its own)")
    if isinstance(recordings, Mapping):
        items = dict(recordings)
    elif isinstance(recordings, Sequence) and not isinstance(recordings, (str, bytes)):
        items = {f"recording {i}": w for i, w in enumerate(recordings)}
    else:
        raise TypeError(f"recordings must be a ClipDataset, a dict of name -> waveform, or a list, got {type(recordings)}")
    if not items:
        raise ValueError("recordings is empty: give at least one waveform")
    out = {}
    for name, w in items.items():
        w = torch.as_tensor(w, dtype=torch.float32)
        if w.dim() != 1 or w.numel() == 0:
            raise ValueError(f"recording {name!r} must be a non-empty 1D waveform (samples,), got shape {tuple(w.shape)}")
        out[str(name)] = w
    return out, int(sample_rate), None


def _problem(n_samples: int, sample_rate: int, n_fft: int, f_min: float, f_max: float) -> str | None:
    if not f_min < f_max:
        return f"f_min ({f_min:g} Hz) must be below f_max ({f_max:g} Hz): move one of them."
    if f_max > sample_rate / 2:
        return f"f_max ({f_max:g} Hz) is above the Nyquist frequency ({sample_rate / 2:g} Hz)."
    if n_samples <= n_fft // 2:
        return f"n_fft = {n_fft} is too long for this {n_samples}-sample clip: pick a smaller n_fft."
    return None


class MelExplorer(Widget):
    """The mel explorer: sliders for n_fft, hop, n_mels, f_min and f_max over real recordings.

    Args:
        recordings (ClipDataset | dict[str, Tensor] | list[Tensor] | None, default None):
            what the dropdown offers. None loads FSDD's test split through
            :func:`apac_lab.data.load_dataset` (the synthetic words, with a notice, when
            FSDD is not available) and offers one recording per digit.
        sample_rate (int | None, default None): Hz; needed for tensors, else the dataset's.
        n_recordings (int, default 10): at most this many recordings from a dataset.
        n_fft, hop_length (int | None, default None): starting values; None scales the
            APAC defaults (:func:`apac_lab.frontends.frontend_settings`).
        n_mels (int, default 128), f_min (float, default 0.0), f_max (float | None, default
            None: Nyquist): starting values.
        backend (str | None, default None): ``"figurewidget"`` or ``"output"`` for
            :class:`LiveFigure`; None picks the one that renders here.

    Attributes:
        widget (ipywidgets.VBox): the whole explorer (displaying the object shows it).
        controls (dict[str, ipywidgets.Widget]): ``"recording"``, ``"n_fft"``, ``"hop_length"``,
            ``"n_mels"``, ``"f_min"``, ``"f_max"``; :meth:`update` moves them from code.
        live (LiveFigure): the figure; ``live.figure.data[0]`` is the mel heatmap,
            ``data[1:3]`` the filterbank curves.
        message (ipywidgets.HTML): notes and problems with the current settings.
        audio (ipywidgets.Audio): the selected recording.
        recordings (dict[str, Tensor]): the waveforms by name.
        sample_rate (int): Hz.
        credit (str | None): the credit line under the figure (FSDD's for its recordings).

    >>> ex = MelExplorer({"tone": torch.sin(torch.arange(8000) * 0.3)}, sample_rate=8000, backend="output")
    >>> ex.update(n_mels=40); ex.live.figure.data[0].z.shape[0]
    40
    """

    def __init__(
        self,
        recordings=None,
        *,
        sample_rate: int | None = None,
        n_recordings: int = 10,
        n_fft: int | None = None,
        hop_length: int | None = None,
        n_mels: int = 128,
        f_min: float = 0.0,
        f_max: float | None = None,
        backend: str | None = None,
    ) -> None:
        waves, sample_rate, credit = _collect(recordings, sample_rate, n_recordings)
        nyquist = sample_rate / 2
        n_fft, hop_length, f_max = frontend_settings(sample_rate, n_fft, hop_length, n_mels, f_min, f_max)
        choices = sorted(set(N_FFT_CHOICES) | {n_fft})
        style = {"description_width": "110px"}
        layout = W.Layout(width="420px")
        self.controls = {
            "recording": W.Dropdown(options=list(waves), description="Recording", style=style, layout=layout),
            "n_fft": W.SelectionSlider(options=choices, value=n_fft, description="n_fft (samples)", style=style,
                                       layout=layout, continuous_update=False),
            "hop_length": W.IntSlider(value=hop_length, min=8, max=max(1024, hop_length), step=8,
                                      description="hop (samples)", style=style, layout=layout,
                                      continuous_update=False),
            "n_mels": W.IntSlider(value=n_mels, min=4, max=max(256, n_mels), step=4, description="n_mels",
                                  style=style, layout=layout, continuous_update=False),
            "f_min": W.FloatSlider(value=f_min, min=0.0, max=nyquist, step=10.0, description="f_min (Hz)",
                                   style=style, layout=layout, continuous_update=False),
            "f_max": W.FloatSlider(value=f_max, min=0.0, max=nyquist, step=10.0, description="f_max (Hz)",
                                   style=style, layout=layout, continuous_update=False),
        }
        fig = make_subplots(rows=2, cols=1, row_heights=[0.62, 0.38], vertical_spacing=0.14,
                            subplot_titles=("Mel spectrogram (dB)", "Mel filterbank"))
        fig.add_trace(go.Heatmap(z=np.zeros((2, 2)), colorscale=COLORSCALE,
                                 colorbar=dict(title="dB", len=0.6, y=0.72)), row=1, col=1)
        for name, colour in (("even bands", "#31688e"), ("odd bands", "#b5de2b")):
            fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name=name, line=dict(color=colour, width=1.5)),
                          row=2, col=1)
        fig.update_layout(height=620, template="plotly_white",
                          margin=dict(l=70, r=20, t=70, b=60 if credit is None else 80),
                          legend=dict(orientation="h", y=-0.12), title=dict(text="", font=dict(size=14)))
        fig.update_xaxes(title_text="Time (s)", row=1, col=1)
        fig.update_yaxes(title_text="Frequency (Hz, mel-spaced)", row=1, col=1)
        fig.update_xaxes(title_text="Frequency (Hz)", row=2, col=1)
        fig.update_yaxes(title_text="Weight", row=2, col=1)
        if credit:
            fig.add_annotation(text=credit, xref="paper", yref="paper", x=0, y=-0.2, showarrow=False,
                               font=dict(size=10, color="gray"), xanchor="left")
        self.live = LiveFigure(fig, backend=backend)
        self.recordings, self.sample_rate, self.credit = waves, sample_rate, credit
        first = self.controls["recording"].value
        self._playing = first
        self.audio = W.Audio(value=wav_bytes(waves[first], sample_rate), format="wav", autoplay=False, loop=False)
        self.message = W.HTML()
        sliders = W.VBox([self.controls[k] for k in ("recording", "n_fft", "hop_length", "n_mels", "f_min", "f_max")])
        self.widget = W.VBox([W.HBox([sliders, W.VBox([W.HTML("<b>Listen</b>"), self.audio])]), self.message,
                              self.live.widget])
        self._watch()

    @classmethod
    def example(cls, *, backend: str | None = None) -> "MelExplorer":
        """Notebook 01's size: ten 1 s recordings at 8 kHz, n_fft 256, hop 80, 40 mel bands."""
        t = torch.arange(8000) / 8000
        waves = {f"tone {f} Hz": torch.sin(2 * torch.pi * f * t) * torch.exp(-3 * t) for f in range(200, 2200, 200)}
        return cls(waves, sample_rate=8000, n_fft=256, hop_length=80, n_mels=40, backend=backend)
    def add_recording(self, waveform: torch.Tensor, sample_rate: int, name: str = "your recording") -> None:
        """Offer ``waveform`` (``(samples,)`` at ``sample_rate`` Hz, e.g. from :class:`Recorder`)
        in the dropdown as ``name`` (replacing one of that name), resampled to the explorer's
        rate, and show it."""
        wave = torch.as_tensor(waveform, dtype=torch.float32).detach().cpu().reshape(-1)
        if wave.numel() == 0 or not bool(torch.isfinite(wave).all()):
            self.message.value = f"<b style='color:#b2182b'>⚠ {name}: empty or not finite; record again.</b>"
            return
        if sample_rate != self.sample_rate:
            wave = resample_waveform(wave, sample_rate, self.sample_rate)
        self.recordings[name] = wave
        dropdown = self.controls["recording"]
        with self._hold():
            if name not in dropdown.options:
                dropdown.options = [*dropdown.options, name]
            dropdown.value = name
        self._playing = None  # the sound of `name` may have changed
        self._draw()

    def settings(self) -> dict:
        """The current slider values, as keyword arguments of the front-ends."""
        c = self.controls
        return {"n_fft": int(c["n_fft"].value), "hop_length": int(c["hop_length"].value),
                "n_mels": int(c["n_mels"].value), "f_min": float(c["f_min"].value), "f_max": float(c["f_max"].value)}

    def _draw(self) -> None:
        """Recompute for the current settings and redraw in place; problems go to ``message``."""
        s, name = self.settings(), self.controls["recording"].value
        wave = self.recordings[name]
        if name != self._playing:  # a new recording: swap the sound too
            self.audio.value = wav_bytes(wave, self.sample_rate)
            self._playing = name
        problem = _problem(wave.numel(), self.sample_rate, s["n_fft"], s["f_min"], s["f_max"])
        if problem:
            self.message.value = f"<b style='color:#b2182b'>⚠ {problem}</b> The figure shows the last valid settings."
            return
        power = power_spectrum(frame_signal(wave, n_fft=s["n_fft"], hop_length=s["hop_length"]))
        fb = mel_filterbank(sample_rate=self.sample_rate, n_fft=s["n_fft"], n_mels=s["n_mels"], f_min=s["f_min"],
                            f_max=s["f_max"])
        mel_db = to_numpy(log_compress(fb @ power, top_db=80.0))
        times = to_numpy(frame_times(mel_db.shape[1], s["hop_length"], self.sample_rate))
        n_frames = mel_db.shape[1]
        pool = -(-mel_db.size // MAX_HEATMAP_CELLS)
        if pool > 1:  # a light redraw: the loudest of each `pool` adjacent frames
            pad = -(-n_frames // pool) * pool - n_frames
            mel_db = np.pad(mel_db, ((0, 0), (0, pad)), constant_values=-np.inf).reshape(
                mel_db.shape[0], -1, pool).max(-1)
            times = times[::pool]
        centres = to_numpy(hz_to_mel(mel_band_edges(n_mels=s["n_mels"], f_min=s["f_min"], f_max=s["f_max"])[1:-1]))
        curves = _curves(to_numpy(fb), to_numpy(fft_frequencies(s["n_fft"], self.sample_rate)))
        sr = self.sample_rate
        title = (f"{name}: n_fft {s['n_fft']} ({1000 * s['n_fft'] / sr:.0f} ms), hop {s['hop_length']} "
                 f"({1000 * s['hop_length'] / sr:.0f} ms), {s['n_mels']} mel bands, {s['f_min']:g}-{s['f_max']:g} Hz")

        def draw(fig: go.Figure) -> None:
            fig.data[0].update(z=mel_db, x=times, y=centres)
            for trace, (xs, ys) in zip(fig.data[1:3], curves):
                trace.update(x=xs, y=ys)
            fig.layout.yaxis.update(**mel_hz_ticks(s["f_min"], s["f_max"]))
            fig.layout.title.text = title

        self.live.update(draw)
        notes = [f"{n_frames} frames × {s['n_mels']} bands; {s['n_fft'] // 2 + 1} FFT bins "
                 f"{sr / s['n_fft']:.1f} Hz apart."]
        if pool > 1:
            notes.append(f"The figure shows the loudest of every {pool} frames ({mel_db.shape[1]} columns) "
                         "to keep redraws light.")
        empty = int((fb.amax(dim=1) == 0).sum())
        if empty:
            notes.append(f"<b>{empty} of {s['n_mels']} mel bands are empty</b> (narrower than an FFT bin): "
                         "raise n_fft or lower n_mels.")
        if s["hop_length"] > s["n_fft"]:
            notes.append("hop > n_fft: frames no longer overlap and some samples are never analysed.")
        self.message.value = " ".join(notes)


def _curves(fb: np.ndarray, freqs: np.ndarray) -> list[tuple[list, list]]:
    """The filterbank as two gap-separated polylines (even and odd bands)."""
    out = []
    for parity in (0, 1):
        xs, ys = [], []
        for m in range(parity, fb.shape[0], 2):
            nz = np.nonzero(fb[m])[0]
            if len(nz):
                a, b = max(nz[0] - 1, 0), min(nz[-1] + 2, len(freqs))
                xs += [*freqs[a:b].tolist(), None]
                ys += [*fb[m, a:b].tolist(), None]
        out.append((xs, ys))
    return out
