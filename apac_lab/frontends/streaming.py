"""Streaming: hear a recording chunk by chunk, as a real-time listener would.

Each chunk of samples joins the samples left over from the last one; every hop that
completes a window gives one gammatone frame (:meth:`Gammatonegram.frame`), which goes
into a :class:`RingBuffer` (the recent past, e.g. for display) and a
:class:`DilatedBuffer` (the listener's echoic view). The frames are exactly those of
``Gammatonegram(center=False)`` on the whole recording, whatever the chunk sizes.

Real time means each chunk is processed before the next one arrives: within the
chunk's duration, ``chunk / sample_rate`` seconds (``benchmarks/streaming_latency.py``).

Notebook: 03_echoic_buffers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch

from apac_lab.frontends.buffers import DilatedBuffer, RingBuffer
from apac_lab.frontends.gammatone import Gammatonegram

__all__ = ["EchoicStream", "StreamStep", "stream_snapshots"]


@dataclass
class StreamStep:
    """What one chunk produced: its new frames and their dilated views (maybe none)."""

    frames: torch.Tensor  # (batch, n_new, n_filters), gammatone power
    views: torch.Tensor  # (batch, n_new, n_steps, n_filters)
    frame_index: int  # index of the first new frame in the whole stream


class EchoicStream:
    """Chunk-by-chunk gammatone frames into a ring buffer and a dilated buffer.

    Args:
        gammatone (Gammatonegram | None, default None): the filterbank (its ``frame``
            is used, so the window, hop and filters are its own); None builds
            ``Gammatonegram(sample_rate=sample_rate, center=False)``.
        sample_rate (int, default 8000): Hz, when ``gammatone`` is None.
        history (int, default 256): frames the ring buffer keeps (2.56 s at a 10 ms hop).
        n_steps, base, mode, pad: the dilated buffer's (see :func:`apac_lab.frontends.dilate`).
        batch_size (int, default 1): streams processed side by side.
        device (str | torch.device | None, default None): where the buffers live.

    ``process(chunk)`` takes ``(batch, samples)`` (or ``(samples,)`` for one stream) of any
    length and returns a :class:`StreamStep`.

    >>> s = EchoicStream(sample_rate=8000)
    >>> steps = [s.process(torch.randn(80)) for _ in range(10)]
    >>> s.frames_done, s.ring.unwrap().shape, s.dilated.view().shape
    (8, torch.Size([1, 8, 100]), torch.Size([1, 8, 100]))
    """

    def __init__(self, gammatone: Gammatonegram | None = None, *, sample_rate: int = 8000, history: int = 256,
                 n_steps: int = 8, base: float = 2.0, mode: str = "mean", pad: str = "constant",
                 batch_size: int = 1, device=None) -> None:
        self.gammatone = gammatone if gammatone is not None else Gammatonegram(sample_rate=sample_rate, center=False)
        if self.gammatone.backend != "apac":
            raise ValueError("streaming needs a Gammatonegram with backend='apac' (it calls .frame())")
        device = torch.device(device) if device is not None else self.gammatone.weights.device
        self.gammatone.to(device)
        self.device, self.batch_size = device, int(batch_size)
        self.win, self.hop = self.gammatone.win_length, self.gammatone.hop_length
        n = self.gammatone.n_filters
        self.ring = RingBuffer(history, n, batch_size=batch_size, device=device)
        self.dilated = DilatedBuffer(n, n_steps=n_steps, base=base, mode=mode, pad=pad, batch_size=batch_size,
                                     device=device)
        self.reset()

    @property
    def sample_rate(self) -> int:
        return self.gammatone.sample_rate

    @property
    def hop_seconds(self) -> float:
        """The real-time budget per hop, in seconds."""
        return self.hop / self.sample_rate

    def reset(self) -> None:
        """Start a new recording: no samples pending, empty buffers."""
        self.pending = torch.zeros(self.batch_size, 0, device=self.device)
        self.frames_done = 0
        self.ring.reset()
        self.dilated.reset()

    @torch.no_grad()
    def process(self, chunk: torch.Tensor) -> StreamStep:
        """Feed ``chunk`` (``(batch, samples)`` or ``(samples,)``); return the frames it completed."""
        if chunk.dim() == 1:
            chunk = chunk.unsqueeze(0)
        if chunk.dim() != 2 or chunk.shape[0] != self.batch_size:
            raise ValueError(f"chunk must be (batch={self.batch_size}, samples), got shape {tuple(chunk.shape)}")
        x = torch.cat([self.pending, chunk.to(self.device, torch.float32)], dim=1)
        n_new = 0 if x.shape[1] < self.win else (x.shape[1] - self.win) // self.hop + 1
        first = self.frames_done
        n_bins = self.gammatone.n_filters
        if n_new == 0:
            self.pending = x
            empty = x.new_zeros(self.batch_size, 0, n_bins)
            return StreamStep(empty, x.new_zeros(self.batch_size, 0, self.dilated.n_steps, n_bins), first)
        windows = x[:, : (n_new - 1) * self.hop + self.win].unfold(1, self.win, self.hop)  # (batch, n_new, win)
        frames = self.gammatone.frame(windows)
        self.pending = x[:, n_new * self.hop:]
        self.ring.push(frames)
        views = self.dilated.push(frames)
        self.frames_done += n_new
        return StreamStep(frames, views, first)

    def run(self, waveform: torch.Tensor, chunk: int | None = None) -> Iterator[StreamStep]:
        """Stream a whole recording in chunks of ``chunk`` samples (default: one hop)."""
        chunk = chunk or self.hop
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1 sample, got {chunk}")
        if waveform.dim() == 1:
            waveform = waveform.unsqueeze(0)
        for i in range(0, waveform.shape[-1], chunk):
            yield self.process(waveform[:, i:i + chunk])


@torch.no_grad()
def stream_snapshots(waveform: torch.Tensor, stream: EchoicStream | None = None, *, every: int = 1) -> dict:
    """Stream one recording hop by hop and record the buffers every ``every`` frames.

    For scrubbing through memory afterwards (the echoic widget). A ring snapshot is the
    whole ring, oldest first, zero-padded at the start while it fills.

    Args:
        waveform (Tensor): ``(samples,)``, one recording.
        stream (EchoicStream | None, default None): the stream to use (it is reset);
            None builds ``EchoicStream()`` at 8 kHz.
        every (int, default 1): frames between snapshots.

    Returns:
        dict: ``ring`` ``(n, history, n_filters)``, ``views`` ``(n, n_steps, n_filters)``
        (gammatone power), ``frame`` ``(n,)`` (the newest frame at each snapshot),
        ``hop_s`` (seconds per frame).

    >>> snaps = stream_snapshots(torch.randn(4000), every=5)
    >>> snaps["ring"].shape, snaps["views"].shape, snaps["frame"][:3].tolist()
    (torch.Size([9, 256, 100]), torch.Size([9, 8, 100]), [4, 9, 14])
    """
    stream = stream if stream is not None else EchoicStream()
    if every < 1:
        raise ValueError(f"every must be >= 1 frame, got {every}")
    stream.reset()
    cap = stream.ring.capacity
    rings, views, frames = [], [], []
    for step in stream.run(waveform.reshape(1, -1)):  # one hop per chunk: at most one new frame
        if step.frames.shape[1] == 0 or (step.frame_index + 1) % every:
            continue
        ring = stream.ring.unwrap()[0]
        rings.append(torch.cat([ring.new_zeros(cap - ring.shape[0], ring.shape[1]), ring]))
        views.append(step.views[0, -1])
        frames.append(step.frame_index)
    if not frames:
        raise ValueError(f"the recording is shorter than one window ({stream.win} samples) or than `every` frames")
    return {"ring": torch.stack(rings).cpu(), "views": torch.stack(views).cpu(), "frame": torch.tensor(frames),
            "hop_s": stream.hop_seconds}
