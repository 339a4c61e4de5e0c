"""Echoic memory for spectra: a ring buffer, and dilated buffers that look further back.

Echoic memory holds what we just heard for about 250 ms to 4 s. A machine that listens
in real time needs the same: the last few seconds of spectra, kept without shifting the
whole history on every frame. :class:`RingBuffer` does it with a write index and modular
writes. Dilated buffers (after Rothmann, 2018) keep ``n_steps`` summaries of the past
whose spans grow geometrically (1, 2, 4, 8, ... frames for ``base=2``): recent sound in
detail, older sound coarsely, a few seconds in a handful of frames.

Two rules say which frames a view holds (``rule=``):

* ``"kit"`` (the default): step ``j`` summarises the ``base**j`` frames at lags
  ``2**j - 1 .. 2**(j+1) - 2`` (base 2), so the spans tile the past from the current
  frame (lag 0) back, with no gap; a lookup takes the newest frame of each span (lags
  0, 1, 3, 7, ...); steps run oldest first; before the signal starts the past is
  ``pad_value`` (silence) or the first frame. ``mode`` may be lookup, mean or median.
* ``"rothmann2018"``: the article's loop, exactly: step ``j`` is the frame at lag
  ``base**j`` (1, 2, 4, ... for base 2), newest first; the current frame is never in
  the view; a lag that reaches before the start takes the first frame
  (``spectrogram[0]``). A lookup only, with a whole-number base.

Layout: buffers are time-major, ``(batch, time, bins)``. The package's spectrograms are
``(batch, bins, frames)``; pass ``spec.transpose(-1, -2)``.

Notebook: 03_echoic_buffers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

__all__ = ["RingBuffer", "DilatedBuffer", "MemoryReport", "dilated_spans", "view_lags", "dilate", "dilated_memory",
           "RULES"]

MODES = ("lookup", "mean", "median")
PADS = ("constant", "edge")
#: The dilation rules: the kit's spans (default) and Rothmann's (2018) loop.
RULES = ("kit", "rothmann2018")


# ----------------------------------------------------------------------------------------
# Ring buffer
# ----------------------------------------------------------------------------------------
class RingBuffer:
    """A fixed-capacity FIFO of spectral frames, batched, on any device.

    Frames are written in place at a moving write index (modulo ``capacity``): a push
    costs what it writes, never a copy of the whole buffer. :meth:`unwrap` puts the frames
    in time order, oldest first, only when asked.

    Args:
        capacity (int): frames kept (the newest ``capacity``).
        n_bins (int): values per frame (frequency bins or filters).
        batch_size (int, default 1): independent streams held side by side.
        device (str | torch.device | None, default None): where the storage lives.
        dtype (torch.dtype, default torch.float32): storage type.

    Shapes: ``push`` takes one frame ``(batch, n_bins)`` or a chunk ``(batch, n, n_bins)``;
    ``unwrap()`` returns ``(batch, count, n_bins)``.

    >>> ring = RingBuffer(capacity=3, n_bins=1)
    >>> ring.push(torch.tensor([[[1.], [2.], [3.], [4.]]]))
    >>> ring.unwrap()[0, :, 0].tolist(), ring.count, ring.is_full
    ([2.0, 3.0, 4.0], 3, True)
    """

    def __init__(self, capacity: int, n_bins: int, *, batch_size: int = 1, device=None,
                 dtype: torch.dtype = torch.float32) -> None:
        if int(capacity) < 1:
            raise ValueError(f"capacity must be >= 1 frame, got {capacity}")
        if int(n_bins) < 1:
            raise ValueError(f"n_bins must be >= 1, got {n_bins}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.capacity, self.n_bins, self.batch_size = int(capacity), int(n_bins), int(batch_size)
        self.storage = torch.zeros(self.batch_size, self.capacity, self.n_bins, device=device, dtype=dtype)
        self.write = 0  # slot the next frame goes to
        self.count = 0  # frames held, <= capacity
        self.pushed = 0  # frames pushed since the last reset

    @property
    def is_full(self) -> bool:
        """True once ``capacity`` frames have been pushed."""
        return self.count == self.capacity

    @property
    def device(self) -> torch.device:
        return self.storage.device

    def to(self, device) -> "RingBuffer":
        """Move the storage to ``device`` (in place); returns self."""
        self.storage = self.storage.to(device)
        return self

    def reset(self) -> None:
        """Forget every frame (the storage is zeroed)."""
        self.storage.zero_()
        self.write = self.count = self.pushed = 0

    def _as_chunk(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.unsqueeze(1)
        if x.dim() != 3 or x.shape[0] != self.batch_size or x.shape[2] != self.n_bins:
            raise ValueError(
                f"push a frame (batch={self.batch_size}, n_bins={self.n_bins}) or a chunk "
                f"(batch={self.batch_size}, n, n_bins={self.n_bins}); got shape {tuple(x.shape)}"
            )
        return x

    def push(self, x: torch.Tensor) -> None:
        """Append one frame ``(batch, n_bins)`` or a chunk ``(batch, n, n_bins)``, oldest first."""
        x = self._as_chunk(x).to(self.storage.device, self.storage.dtype)
        n = x.shape[1]
        if n == 0:
            return
        self.pushed += n
        if n >= self.capacity:  # only the newest `capacity` frames survive
            x = x[:, n - self.capacity:]
            k = self.capacity
        else:
            k = n
        idx = (self.write + torch.arange(k, device=self.storage.device)) % self.capacity
        self.storage[:, idx] = x
        self.write = (self.write + k) % self.capacity
        self.count = min(self.capacity, self.count + n)

    def fill_(self, frame: torch.Tensor | float) -> None:
        """Fill every slot with ``frame`` (a value, or ``(batch, n_bins)``); the buffer is then full."""
        if isinstance(frame, torch.Tensor):
            self.storage.copy_(self._as_chunk(frame).to(self.storage).expand_as(self.storage))
        else:
            self.storage.fill_(float(frame))
        self.count = self.capacity

    def lag(self, lags: int | Sequence[int] | torch.Tensor) -> torch.Tensor:
        """Frames ``lags`` steps before the newest (0 is the newest): ``(batch, len(lags), n_bins)``.

        Reads only the frames asked for.

        >>> ring = RingBuffer(4, 1); ring.push(torch.arange(6.).view(1, 6, 1))
        >>> ring.lag([0, 3])[0, :, 0].tolist()
        [5.0, 2.0]
        """
        lags = torch.as_tensor(lags, device=self.storage.device, dtype=torch.long).reshape(-1)
        if lags.numel() and (int(lags.min()) < 0 or int(lags.max()) >= self.count):
            raise IndexError(f"lags must be in 0..count-1 = {self.count - 1}, got {lags.tolist()}")
        return self.storage[:, (self.write - 1 - lags) % self.capacity]

    def unwrap(self) -> torch.Tensor:
        """The frames in time order, oldest first: ``(batch, count, n_bins)`` (a new tensor)."""
        if self.count < self.capacity:
            return self.storage[:, : self.count].clone()
        return torch.cat([self.storage[:, self.write:], self.storage[:, : self.write]], dim=1)

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        return (f"RingBuffer(capacity={self.capacity}, n_bins={self.n_bins}, batch_size={self.batch_size}, "
                f"count={self.count}, device={self.device})")


# ----------------------------------------------------------------------------------------
# Dilated buffer: the maths
# ----------------------------------------------------------------------------------------
def dilated_spans(n_steps: int = 8, base: float = 2.0) -> tuple[list[int], list[int]]:
    """Where each step of a dilated buffer looks: ``(starts, widths)`` in frames back.

    Step ``j`` summarises the ``widths[j] = round(base**j)`` frames at lags
    ``starts[j] .. starts[j] + widths[j] - 1`` (lag 0 is the current frame); the spans
    tile the past without gaps, so the buffer covers ``sum(widths)`` frames. For
    ``base=2`` the lookup lags ``starts`` are ``2**j - 1``; ``base=1`` is a plain buffer.

    >>> dilated_spans(4, 2)
    ([0, 1, 3, 7], [1, 2, 4, 8])
    """
    if int(n_steps) < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if not (base >= 1 and math.isfinite(base)):
        raise ValueError(f"base must be a finite number >= 1 (1 keeps every frame), got {base}")
    widths = [max(1, int(round(base ** j))) for j in range(int(n_steps))]
    starts = [sum(widths[:j]) for j in range(len(widths))]
    return starts, widths


@dataclass(frozen=True)
class _Layout:
    """Where a view's steps look, in the order the view holds them (filled once by :func:`_layout`)."""

    rule: str
    mode: str
    pad: str
    starts: tuple[int, ...]  # lag of each span's newest frame, in output order
    widths: tuple[int, ...]  # frames per span, in output order

    @property
    def history(self) -> int:
        """Frames before the current one that the oldest span reaches."""
        return max(a + w - 1 for a, w in zip(self.starts, self.widths))


def _layout(n_steps: int, base: float, rule: str, mode: str | None, pad: str | None) -> _Layout:
    """Check the settings and fill the rule's defaults (mode, pad) in one place."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES} ('kit': spans from the current frame back, oldest first; "
                         f"'rothmann2018': the article's lags base**j, newest first), got {rule!r}")
    if rule == "kit":
        mode, pad = mode or "lookup", pad or "constant"
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if pad not in PADS:
            raise ValueError(f"pad must be 'constant' (pad_value before the start) or 'edge' (repeat the first frame), "
                             f"got {pad!r}")
        starts, widths = dilated_spans(n_steps, base)
        return _Layout(rule, mode, pad, tuple(starts[::-1]), tuple(widths[::-1]))
    if mode not in (None, "lookup"):
        raise ValueError(f"rule='rothmann2018' is the article's lookup loop; mode={mode!r} needs rule='kit'")
    if pad not in (None, "edge"):
        raise ValueError(f"rule='rothmann2018' repeats the first frame before the start (the article's "
                         f"spectrogram[0]); pad={pad!r} needs rule='kit'")
    return _Layout(rule, "lookup", "edge", tuple(view_lags(n_steps, base, rule=rule)), (1,) * int(n_steps))


def view_lags(n_steps: int = 8, base: float = 2.0, *, rule: str = "kit") -> list[int]:
    """The lag (frames before the current one) of each step of a lookup view, in the view's order.

    ``rule="kit"``: the newest frame of each span, oldest step first (``2**j - 1`` for
    base 2, reversed); ``rule="rothmann2018"``: ``base**j`` for ``j = 0 .. n_steps - 1``,
    newest first, as the article's loop (``base`` must then be a whole number, as numpy's
    indexing needs it there).

    >>> view_lags(4, 2)
    [7, 3, 1, 0]
    >>> view_lags(4, 2, rule="rothmann2018")
    [1, 2, 4, 8]
    """
    if rule == "kit":
        return dilated_spans(n_steps, base)[0][::-1]
    if rule != "rothmann2018":
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if int(n_steps) < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if not (math.isfinite(base) and base >= 1 and float(base).is_integer()):
        raise ValueError(f"rule='rothmann2018' needs a whole-number base >= 1 (the article's frame i - factor**j), "
                         f"got {base}")
    return [int(base) ** j for j in range(int(n_steps))]


def _dilate_valid(xp: torch.Tensor, n_out: int, layout: _Layout) -> torch.Tensor:
    """Dilated views of the last ``n_out`` frames of ``xp`` (batch, T, bins), whose earlier
    frames give the history; ``T >= n_out + layout.history``. Returns (batch, n_out, k, bins),
    steps in the layout's order."""
    T = xp.shape[1]
    t = torch.arange(T - n_out, T, device=xp.device)  # positions of the output frames in xp
    steps, mode = [], layout.mode
    if mode == "mean":
        cs = torch.cumsum(xp.double(), dim=1)
        cs = torch.cat([torch.zeros_like(cs[:, :1]), cs], dim=1)  # cs[i] = sum of xp[:i]
    for a, w in zip(layout.starts, layout.widths):
        if mode == "lookup":
            steps.append(xp[:, t - a])
        elif mode == "mean":
            steps.append(((cs[:, t - a + 1] - cs[:, t - a - w + 1]) / w).to(xp.dtype))
        else:  # median over the window xp[t-a-w+1 .. t-a]
            win = xp.unfold(1, w, 1)  # (batch, T-w+1, bins, w); window i covers xp[i .. i+w-1]
            steps.append(win[:, t - a - w + 1].median(dim=-1).values)
    return torch.stack(steps, dim=2)


def dilate(spec: torch.Tensor, *, n_steps: int = 8, base: float = 2.0, mode: str | None = None,
           pad: str | None = None, pad_value: float = 0.0, rule: str = "kit") -> torch.Tensor:
    """Offline dilated buffer: for every frame of ``spec``, its ``n_steps`` dilated views.

    Vectorised over the whole spectrogram (one gather, cumulative sum or unfold per step).

    Args:
        spec (Tensor): ``(batch, frames, bins)`` or ``(frames, bins)``, time-major.
        n_steps (int, default 8): frames in each view (the article's 8).
        base (float, default 2.0): span growth; step ``j`` spans ``round(base**j)`` frames
            (``rule="rothmann2018"``: step ``j`` is the frame ``base**j`` back).
        mode (str | None, default None): ``"lookup"`` takes the newest frame of each span,
            ``"mean"`` averages the span, ``"median"`` takes its (lower) median; None is
            ``"lookup"``. The article's rule is a lookup only.
        pad (str | None, default None): the signal's start. Before the first frame,
            ``"constant"`` assumes frames of ``pad_value`` (silence, for power spectra),
            ``"edge"`` repeats the first frame. Spans reaching before the start are
            filled this way, so every frame gets a full view. None is the rule's own:
            ``"constant"`` for ``"kit"``, ``"edge"`` (the article's ``spectrogram[0]``) for
            ``"rothmann2018"``.
        pad_value (float, default 0.0): the value for ``pad="constant"``.
        rule (str, default "kit"): ``"kit"`` (spans from the current frame back, oldest
            step first) or ``"rothmann2018"`` (the article's lags ``base**j``, newest
            first, the current frame left out); see the module's docstring.

    Returns:
        Tensor: ``(batch, frames, n_steps, bins)`` (no batch if none came in). With
        ``rule="kit"``, along ``n_steps`` the oldest span comes first and the current
        frame last, like :meth:`RingBuffer.unwrap`; with ``"rothmann2018"`` the frame one
        step back comes first and the oldest last, as the article's ``dilated_frames[i][j]``.

    >>> x = torch.arange(8.).view(8, 1)
    >>> dilate(x, n_steps=3, mode="lookup")[-1, :, 0].tolist()   # lags 3, 1, 0
    [4.0, 6.0, 7.0]
    >>> dilate(x, n_steps=3, mode="mean")[-1, :, 0].tolist()     # lags 3-6, 1-2, 0
    [2.5, 5.5, 7.0]
    >>> dilate(x, n_steps=3, rule="rothmann2018")[-1, :, 0].tolist()   # lags 1, 2, 4
    [6.0, 5.0, 3.0]
    >>> dilate(x, n_steps=3, rule="rothmann2018")[2, :, 0].tolist()    # lag 4 is before the start: frame 0
    [1.0, 0.0, 0.0]
    """
    layout = _layout(n_steps, base, rule, mode, pad)
    squeeze = spec.dim() == 2
    x = spec.unsqueeze(0) if squeeze else spec
    if x.dim() != 3:
        raise ValueError(f"spec must be (batch, frames, bins) or (frames, bins), got shape {tuple(spec.shape)}")
    if x.shape[1] == 0:
        raise ValueError("spec has no frames")
    p = layout.history  # frames of history the oldest span needs
    head = x[:, :1].expand(-1, p, -1) if layout.pad == "edge" else x.new_full((x.shape[0], p, x.shape[2]), pad_value)
    out = _dilate_valid(torch.cat([head, x], dim=1), x.shape[1], layout)
    return out[0] if squeeze else out


@dataclass(frozen=True)
class MemoryReport:
    """What a dilated buffer keeps against the full history it summarises."""

    n_steps: int
    base: float
    n_bins: int
    frames_kept: int  # frames handed on (the view)
    frames_history: int  # frames of the past the view covers
    seconds: float | None  # that past in seconds, when the hop is known
    rule: str = "kit"

    @property
    def ratio(self) -> float:
        """How many times fewer frames the view holds than the history it covers."""
        return self.frames_history / self.frames_kept

    def __str__(self) -> str:
        span = f" ({self.seconds * 1000:.0f} ms)" if self.seconds is not None else ""
        rule = "" if self.rule == "kit" else f" ({self.rule} rule)"
        return (f"dilated buffer{rule}, {self.n_steps} steps, base {self.base:g}: {self.frames_kept} frames x "
                f"{self.n_bins} bins = {self.frames_kept * self.n_bins} values stand for "
                f"{self.frames_history} frames{span} = {self.frames_history * self.n_bins} values "
                f"({self.ratio:.1f}x less)")


def dilated_memory(n_steps: int = 8, base: float = 2.0, n_bins: int = 100, hop_s: float | None = None, *,
                   rule: str = "kit") -> MemoryReport:
    """Frames kept by a dilated view against the full history it covers.

    The kit's spans cover lags ``0 .. 2**n_steps - 2`` (base 2); the article's lookups
    reach lags ``1 .. base**(n_steps - 1)``.

    >>> r = dilated_memory(8, 2, n_bins=100, hop_s=0.01); (r.frames_kept, r.frames_history)
    (8, 255)
    >>> print(r)
    dilated buffer, 8 steps, base 2: 8 frames x 100 bins = 800 values stand for 255 frames (2550 ms) = 25500 values (31.9x less)
    >>> dilated_memory(8, 2, rule="rothmann2018").frames_history
    128
    """
    layout = _layout(n_steps, base, rule, None, None)
    history = layout.history + (1 if rule == "kit" else 0)  # the kit's view includes the current frame
    return MemoryReport(int(n_steps), float(base), int(n_bins), int(n_steps), history,
                        None if hop_s is None else history * hop_s, rule)


# ----------------------------------------------------------------------------------------
# Dilated buffer: streaming
# ----------------------------------------------------------------------------------------
class DilatedBuffer:
    """Streaming dilated buffer on top of a :class:`RingBuffer`; agrees with :func:`dilate`.

    The ring holds the ``span`` raw frames the oldest step reaches back to (exact sliding
    means and medians need them all); what shrinks is the view handed on: ``n_steps``
    frames instead of ``span`` (see :meth:`memory`). On the first push the ring is filled
    by the ``pad`` rule, so the start of the signal is treated as :func:`dilate` does.

    Args:
        n_bins (int): values per frame.
        n_steps, base, mode, pad, pad_value, rule: as :func:`dilate` (``mode=None`` is
            ``"lookup"``; ``pad=None`` is the rule's own).
        batch_size (int, default 1), device, dtype: as :class:`RingBuffer`.

    ``push(x)`` takes a frame ``(batch, n_bins)`` or a chunk ``(batch, n, n_bins)`` and
    returns the views of the pushed frames, ``(batch, n, n_steps, n_bins)``; ``view()``
    is the latest view, ``(batch, n_steps, n_bins)``.

    >>> buf = DilatedBuffer(1, n_steps=3, mode="lookup")
    >>> for v in range(8): _ = buf.push(torch.tensor([[float(v)]]))
    >>> buf.view()[0, :, 0].tolist()
    [4.0, 6.0, 7.0]
    """

    def __init__(self, n_bins: int, *, n_steps: int = 8, base: float = 2.0, mode: str | None = None,
                 pad: str | None = None, pad_value: float = 0.0, rule: str = "kit", batch_size: int = 1, device=None,
                 dtype: torch.dtype = torch.float32) -> None:
        self.layout = _layout(n_steps, base, rule, mode, pad)
        self.n_steps, self.base, self.pad_value = int(n_steps), float(base), float(pad_value)
        self.rule, self.mode, self.pad = rule, self.layout.mode, self.layout.pad
        self.span = self.layout.history + 1  # raw frames kept: the current one and the history
        self.ring = RingBuffer(self.span, n_bins, batch_size=batch_size, device=device, dtype=dtype)
        self._view: torch.Tensor | None = None

    @property
    def n_bins(self) -> int:
        return self.ring.n_bins

    def reset(self) -> None:
        self.ring.reset()
        self._view = None

    def push(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ring._as_chunk(x).to(self.ring.device, self.ring.storage.dtype)
        n = x.shape[1]
        if n == 0:
            return x.new_zeros(x.shape[0], 0, self.n_steps, self.n_bins)
        if self.ring.pushed == 0:  # the signal starts: fill the past by the pad rule
            self.ring.fill_(x[:, 0] if self.pad == "edge" else self.pad_value)
        if n == 1 and self.mode == "lookup":  # fast path: read only the k frames needed
            self.ring.push(x)
            out = self.ring.lag(list(self.layout.starts)).unsqueeze(1)
        else:
            history = self.ring.lag(torch.arange(self.span - 2, -1, -1)) if self.span > 1 else x[:, :0]
            out = _dilate_valid(torch.cat([history, x], dim=1), n, self.layout)
            self.ring.push(x)
        self._view = out[:, -1]
        return out

    def view(self) -> torch.Tensor:
        """The latest view, ``(batch, n_steps, n_bins)``, in the rule's order (the kit's: oldest step first)."""
        if self._view is None:
            raise RuntimeError("nothing pushed yet: push a frame first")
        return self._view

    def memory(self, hop_s: float | None = None) -> MemoryReport:
        """:func:`dilated_memory` for this buffer's settings."""
        return dilated_memory(self.n_steps, self.base, self.n_bins, hop_s, rule=self.rule)

    def __repr__(self) -> str:
        rule = "" if self.rule == "kit" else f", rule={self.rule!r}"
        return (f"DilatedBuffer(n_bins={self.n_bins}, n_steps={self.n_steps}, base={self.base:g}, mode={self.mode!r}, "
                f"pad={self.pad!r}{rule}, span={self.span})")
