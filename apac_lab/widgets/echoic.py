"""An oscilloscope of memory: play and scrub through what the echoic buffers hold.

A recording is streamed hop by hop (:func:`apac_lab.frontends.stream_snapshots`); a Play
button and a slider move through time, and two heatmaps show, at that moment, the ring
buffer (the last few seconds, frame by frame) and the dilated buffer (the same past in
8 frames, coarser the further back).

Notebook: 03_echoic_buffers.
"""

from __future__ import annotations

import math

import ipywidgets as W
import numpy as np
import torch
from plotly.subplots import make_subplots
import plotly.graph_objects as go

from apac_lab.frontends.db import power_to_db
from apac_lab.frontends.streaming import EchoicStream, stream_snapshots
from apac_lab.plots.core import COLORSCALE, style
from apac_lab.widgets.core import MAX_REDRAWS_PER_S, LiveFigure, Widget

__all__ = ["EchoicScope"]


class EchoicScope(Widget):
    """Play-and-scrub view of a stream's ring and dilated buffers.

    Args:
        waveform (Tensor): ``(samples,)``, one recording.
        stream (EchoicStream | None, default None): how to stream it; None is
            ``EchoicStream(sample_rate=sample_rate)`` (100 filters, 10 ms hop, 2.56 s ring).
        sample_rate (int, default 8000): Hz, when ``stream`` is None.
        every (int, default 2): frames between snapshots (the slider's step in frames).
        top_db (float, default 60.0): dB range shown below the loudest value.
        credit (str | None, default None): a credit line (e.g. ``FSDD_CREDIT``).
        backend (str | None, default None): :class:`LiveFigure`'s backend.

    ``widget`` is the layout to display (the object displays it too); ``controls`` holds the
    ``"snapshot"`` slider (also ``slider``; ``play`` drives it in the browser);
    ``update(snapshot=i)`` draws snapshot ``i``, what moving the slider does. Playback is
    throttled to what the front-end can draw (``MAX_REDRAWS_PER_S``: 10 redraws/s in JupyterLab,
    5 in Colab); slider moves closer together than that are merged, the latest drawn. dB values
    are kept to 0.1 dB.

    Live input: :meth:`stream_samples` pushes chunks of a live recording (e.g. from
    :class:`~apac_lab.widgets.Recorder`'s ``on_chunk``) through the same stream; both heatmaps
    then show the buffers as they are now (``live_frames`` frames heard, ``live_updates``
    redraws). Moving the slider goes back to the snapshots of ``waveform``.

    >>> scope = EchoicScope(torch.randn(4000), backend="output")
    >>> scope.update(snapshot=5); scope.live.figure.layout.title.text.startswith("Echoic memory at 0.")
    True
    """

    def __init__(self, waveform: torch.Tensor, *, stream: EchoicStream | None = None, sample_rate: int = 8000,
                 every: int = 2, top_db: float = 60.0, credit: str | None = None, backend: str | None = None) -> None:
        stream = stream if stream is not None else EchoicStream(sample_rate=sample_rate)
        snaps = stream_snapshots(waveform.detach().float().reshape(-1).cpu(), stream, every=every)
        # dB re the loudest frame of the whole stream, ring and views on one scale (the views
        # summarise the ring's frames, so that maximum is the ring's): floored top_db below it
        history = snaps["ring"].shape[1]
        both = power_to_db(torch.cat([snaps["ring"], snaps["views"]], 1), ref=None, amin=1e-30, top_db=top_db,
                           dims=None).numpy()
        # 0.1 dB is finer than a colour step; rounded values are shorter to send
        both = np.round(both, 1).astype(np.float32)
        self.ring_db, self.views_db = both[:, :history], both[:, history:]
        self.frames = snaps["frame"].numpy()
        self.stream, self.top_db = stream, float(top_db)  # for stream_samples (live input)
        self.live_frames, self.live_updates, self._live_ref, self._live = 0, 0, 0.0, False
        self.hop_s = snaps["hop_s"]
        self.win_s = stream.win / stream.sample_rate
        freqs = stream.gammatone.center_freqs.cpu().numpy()
        ring_t = (np.arange(history) - (history - 1)) * self.hop_s
        starts, widths = stream.dilated.layout.starts, stream.dilated.layout.widths  # in view order, oldest first
        ms = lambda lag: f"{-lag * self.hop_s * 1000:.0f}" if lag else "0"  # noqa: E731
        step_labels = [ms(a) if w == 1 else f"{ms(a + w - 1)}…{ms(a)}" for a, w in zip(starts, widths)]
        fig = make_subplots(rows=1, cols=2, column_widths=[0.72, 0.28], horizontal_spacing=0.08,
                            subplot_titles=(f"Ring buffer: last {history} frames, one per {self.hop_s * 1000:g} ms",
                                            f"Dilated buffer: {len(starts)} frames"))
        common = dict(y=freqs, colorscale=COLORSCALE, zmin=-top_db, zmax=0)
        fig.add_trace(go.Heatmap(z=self.ring_db[0].T, x=ring_t, colorbar=dict(title="dB re max"), **common), 1, 1)
        fig.add_trace(go.Heatmap(z=self.views_db[0].T, x=step_labels, showscale=False, **common), 1, 2)
        style(fig, title=self._title(0), x_title="Time before now (s)", y_title="Gammatone centre frequency (Hz)",
              height=380, credit=credit)
        fig.update_yaxes(type="log")
        fig.update_xaxes(title_text="Span before now (ms)", row=1, col=2)
        self.live = LiveFigure(fig, backend=backend)
        n = len(self.frames)
        # playback no faster than the front-end draws: at most MAX_REDRAWS_PER_S of this backend
        self.min_redraw_interval_s = 1.0 / MAX_REDRAWS_PER_S[self.live.backend]
        self.play = W.Play(value=0, min=0, max=n - 1, step=1, description="Play",
                           interval=max(int(1000 * self.min_redraw_interval_s), int(1000 * self.hop_s * every)))
        self.slider = W.IntSlider(value=0, min=0, max=n - 1, step=1, description="Snapshot",
                                  continuous_update=True, layout=W.Layout(width="420px"))
        W.jslink((self.play, "value"), (self.slider, "value"))
        self.controls = {"snapshot": self.slider}
        self.widget = W.VBox([W.HBox([self.play, self.slider]), self.live.widget])
        self._watch(draw=False)  # the figure shows snapshot 0, the slider's value

    @classmethod
    def example(cls, *, backend: str | None = None) -> "EchoicScope":
        """Notebook 03's size: 3 s at 8 kHz, a snapshot every 2 frames (100 filters x 256 frames)."""
        t = torch.arange(3 * 8000) / 8000
        wave = torch.sin(2 * math.pi * (300 + 200 * t) * t) * (0.5 + 0.5 * torch.sin(2 * math.pi * 3 * t))
        return cls(wave, sample_rate=8000, every=2, backend=backend)

    def _title(self, i: int) -> str:
        t = self.frames[i] * self.hop_s + self.win_s
        return f"Echoic memory at {t:.2f} s into the recording"

    def _draw(self) -> None:
        """Draw the slider's snapshot: both heatmaps and the title."""
        i = int(self.slider.value)

        def draw(fig):
            fig.data[0].z = self.ring_db[i].T
            fig.data[1].z = self.views_db[i].T
            fig.layout.title.text = self._title(i)

        self.live.update(draw)

    # ----------------------------------------------------------------- live input

    def stream_samples(self, chunk: torch.Tensor, sample_rate: int, *, restart: bool = False) -> None:
        """Push ``chunk`` (``(samples,)`` at ``sample_rate`` Hz, the stream's rate) into the
        stream and redraw both heatmaps as the buffers are now; ``restart`` empties them first
        (a new recording). Levels are in dB re the loudest frame heard since the restart."""
        if sample_rate != self.stream.sample_rate:
            raise ValueError(f"EchoicScope.stream_samples: chunks must be at the stream's {self.stream.sample_rate} Hz, "
                             f"got {sample_rate} Hz; record at that rate (Recorder(sample_rate=...))")
        if restart or not self._live:  # the stream still holds the end of `waveform`
            self.stream.reset()
            self.live_frames, self.live_updates, self._live_ref, self._live = 0, 0, 0.0, True
        step = self.stream.process(torch.as_tensor(chunk, dtype=torch.float32).reshape(-1))
        if step.frames.shape[1] == 0:
            return
        self.live_frames = self.stream.frames_done
        ring = self.stream.ring.unwrap()[0].cpu()
        ring = torch.cat([ring.new_zeros(self.stream.ring.capacity - ring.shape[0], ring.shape[1]), ring])
        views = step.views[0, -1].cpu()
        self._live_ref = max(self._live_ref, float(step.frames.max()))
        both = power_to_db(torch.cat([ring, views]), ref=max(self._live_ref, 1e-30), amin=1e-30, top_db=None,
                           dims=None).clamp_min(-self.top_db).numpy()
        ring_db, views_db = both[: ring.shape[0]], both[ring.shape[0]:]
        seconds = self.live_frames * self.hop_s + self.win_s

        def draw(fig):
            fig.data[0].z = ring_db.T
            fig.data[1].z = views_db.T
            fig.layout.title.text = f"Live: echoic memory {seconds:.2f} s into the recording"

        self.live.update(draw)
        self.live_updates += 1
