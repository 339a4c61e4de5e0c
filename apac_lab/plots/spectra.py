"""Figures of the MFCC pipeline: waveform, framing, window, spectrogram, mel filterbank, mel, MFCC.

Every function takes tensors or arrays as the front-ends return them (spectra
``(frequency, frames)``) plus the physical settings, and returns a styled
``plotly.graph_objects.Figure`` with axes in seconds and Hz (or mel). Frames are
centred (torchaudio's convention): frame ``i`` sits at ``i * hop_length / sample_rate`` s.
Pass ``credit=FSDD_CREDIT`` for figures of FSDD audio.

Notebook: 01_spectrogram_and_mfcc (and the mel explorer widget).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from apac_lab.frontends.db import power_to_db
from apac_lab.frontends.scratch import fft_frequencies, frame_times, hz_to_mel, log_compress, mel_band_edges
from apac_lab.plots.core import COLORSCALE, DIVERGING, heatmap, style, to_numpy

__all__ = [
    "waveform_figure", "framing_figure", "window_figure", "spectrogram_figure", "mel_filterbank_figure",
    "mel_figure", "mfcc_figure", "dct_basis_figure", "difference_figure", "mel_hz_ticks",
]

_NICE_HZ = [0, 100, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 4000, 5000, 7000, 10000, 15000, 20000]
_LINE = "#31688e"  # a Viridis blue: dark enough for grey-scale print


def _as_2d(x, name: str) -> np.ndarray:
    z = to_numpy(x)
    if z.ndim != 2:
        raise ValueError(f"{name} must be 2D (frequency or coefficient, frames), got shape {z.shape}; pick one clip")
    return z


def _as_1d(x, name: str) -> np.ndarray:
    w = to_numpy(x)
    if w.ndim != 1:
        raise ValueError(f"{name} must be 1D (samples,), got shape {w.shape}; pick one clip")
    return w


def _db(power, db: bool, top_db: float | None) -> np.ndarray:
    z = torch.as_tensor(np.asarray(power, dtype=np.float32))
    return to_numpy(log_compress(z, kind="db", top_db=top_db)) if db else z.numpy()


def mel_hz_ticks(f_min: float, f_max: float) -> dict:
    """Axis settings that place tick labels in Hz on an axis measured in mel.

    >>> mel_hz_ticks(0.0, 4000.0)["ticktext"][:3]
    ['0', '100', '200']
    """
    hz = [f for f in _NICE_HZ if f_min <= f <= f_max]
    return {"tickmode": "array", "tickvals": [hz_to_mel(float(f)) for f in hz], "ticktext": [f"{f:g}" for f in hz]}


def waveform_figure(waveform, *, sample_rate: int, title: str = "Waveform", credit: str | None = None,
                    height: int = 260, max_points: int = 20000) -> go.Figure:
    """The waveform against time in seconds.

    Long clips are drawn as their min/max envelope over ``max_points`` columns.

    >>> float(waveform_figure(torch.zeros(8000), sample_rate=8000).data[0].x[-1])
    0.999875
    """
    w = _as_1d(waveform, "waveform")
    t = np.arange(len(w)) / sample_rate
    if len(w) > max_points:
        step = int(np.ceil(len(w) / (max_points // 2)))
        n = len(w) // step * step
        blocks = w[:n].reshape(-1, step)
        t = np.repeat(t[:n:step], 2)
        w = np.stack([blocks.min(1), blocks.max(1)], 1).ravel()
    fig = go.Figure(go.Scatter(x=t, y=w, mode="lines", line=dict(color=_LINE, width=1), name="waveform"))
    return style(fig, title=title, x_title="Time (s)", y_title="Amplitude (full scale = 1)", height=height,
                 credit=credit)


def framing_figure(waveform, *, sample_rate: int, n_fft: int, hop_length: int, n_frames: int = 4,
                   first_frame: int | None = None, credit: str | None = None, height: int = 320) -> go.Figure:
    """Step 1 illustrated: a few consecutive frames, each with its Hann window drawn over the waveform.

    Frames are centred (frame ``i`` spans ``i * hop - n_fft // 2`` to ``i * hop + n_fft // 2``
    samples), so they overlap by ``n_fft - hop_length`` samples. ``first_frame=None``
    starts at the loudest frame so that the picture shows speech, not silence.

    >>> fig = framing_figure(torch.randn(8000), sample_rate=8000, n_fft=256, hop_length=80)
    >>> len(fig.data)
    5
    """
    w = _as_1d(waveform, "waveform")
    if n_fft < 2 or hop_length < 1 or n_frames < 1:
        raise ValueError(f"need n_fft >= 2, hop_length >= 1 and n_frames >= 1, got {n_fft}, {hop_length}, {n_frames}")
    total = len(w) // hop_length + 1
    if first_frame is None:
        energy = np.convolve(w**2, np.ones(n_fft), mode="same")[:: hop_length][:total]
        first_frame = int(np.clip(np.argmax(energy) - n_frames // 2, 0, max(0, total - n_frames)))
    half = n_fft // 2
    lo = max(0, first_frame * hop_length - half)
    hi = min(len(w), (first_frame + n_frames - 1) * hop_length + n_fft - half)
    t = np.arange(lo, hi) / sample_rate
    peak = float(np.abs(w[lo:hi]).max()) or 1.0
    fig = go.Figure(go.Scatter(x=t, y=w[lo:hi], mode="lines", line=dict(color="#444", width=1), name="waveform"))
    colours = sample_colorscale(COLORSCALE, list(np.linspace(0.0, 0.85, n_frames)))
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann, as torch.hann_window(n_fft)
    for k, colour in zip(range(first_frame, first_frame + n_frames), colours):
        start = k * hop_length - half
        ts = (start + np.arange(n_fft)) / sample_rate
        fig.add_trace(go.Scatter(x=ts, y=peak * window, mode="lines", line=dict(color=colour, width=2),
                                 name=f"frame {k} (centre {k * hop_length / sample_rate:.3f} s)"))
        fig.add_vrect(x0=ts[0], x1=ts[-1], fillcolor=colour, opacity=0.08, line_width=0)
    title = (f"Framing: {n_fft} samples ({1000 * n_fft / sample_rate:.0f} ms) every {hop_length} samples "
             f"({1000 * hop_length / sample_rate:.0f} ms), Hann windows")
    return style(fig, title=title, x_title="Time (s)", y_title="Amplitude", height=height, credit=credit)


def window_figure(frame, *, sample_rate: int, credit: str | None = None, height: int = 340) -> go.Figure:
    """Step 2 illustrated: one frame without and with a Hann window, and the two power spectra in dB.

    Cutting a frame out is multiplying by a rectangle, whose spectrum leaks energy far
    from each peak; the Hann taper keeps the peaks and lowers that leakage.

    >>> len(window_figure(torch.randn(256), sample_rate=8000).data)
    4
    """
    x = _as_1d(frame, "frame")
    n = len(x)
    hann = np.hanning(n + 1)[:-1]
    t = np.arange(n) / sample_rate * 1000
    f = to_numpy(fft_frequencies(n, sample_rate))
    spectra = [np.abs(np.fft.rfft(x * win)) ** 2 for win in (np.ones(n), hann)]
    ref = max(s.max() for s in spectra) or 1.0
    # dB re the louder spectrum's peak, floored 100 dB below it (both spectra on one scale)
    spectra_db = to_numpy(power_to_db(torch.from_numpy(np.stack(spectra)), ref=ref, amin=1e-30, top_db=100.0,
                                      dims=None))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("The frame", "Its power spectrum"))
    for (name, y, s), colour in zip([("rectangular (no window)", x, spectra_db[0]), ("Hann window", x * hann, spectra_db[1])],
                                    ["#aaaaaa", _LINE]):
        fig.add_trace(go.Scatter(x=t, y=y, mode="lines", line=dict(color=colour), name=name, legendgroup=name), 1, 1)
        fig.add_trace(go.Scatter(x=f, y=s, mode="lines",
                                 line=dict(color=colour), name=name, legendgroup=name, showlegend=False), 1, 2)
    style(fig, title=f"Windowing one frame of {n} samples", x_title="Time in the frame (ms)", y_title="Amplitude",
          height=height, credit=credit)
    fig.update_xaxes(title_text="Frequency (Hz)", row=1, col=2)
    fig.update_yaxes(title_text="Power (dB re max)", range=[-90, 3], row=1, col=2)
    return fig


def spectrogram_figure(power, *, sample_rate: int, hop_length: int, db: bool = True, top_db: float | None = 80.0,
                       log_freq: bool = False, title: str = "Power spectrogram", credit: str | None = None,
                       height: int = 360) -> go.Figure:
    """A power spectrogram ``(n_fft // 2 + 1, frames)``: time in s against frequency in Hz.

    Args:
        power (Tensor | array): ``|STFT|^2`` as from :func:`~apac_lab.frontends.power_spectrum`.
        sample_rate (int): Hz. hop_length (int): samples between frames.
        db (bool, default True): show ``10 log10`` with a ``top_db`` floor; False shows ``power`` as is.
        log_freq (bool, default False): logarithmic frequency axis (the 0 Hz row is dropped).

    >>> fig = spectrogram_figure(torch.rand(129, 101), sample_rate=8000, hop_length=80)
    >>> fig.data[0].z.shape, float(fig.data[0].y[-1])
    ((129, 101), 4000.0)
    """
    z = _db(_as_2d(power, "power"), db, top_db)
    n_fft = 2 * (z.shape[0] - 1)
    freqs, times = to_numpy(fft_frequencies(n_fft, sample_rate)), to_numpy(frame_times(z.shape[1], hop_length, sample_rate))
    if log_freq:
        z, freqs = z[1:], freqs[1:]
    fig = heatmap(z, x=times, y=freqs, title=title, x_title="Time (s)", y_title="Frequency (Hz)",
                  colorbar_title="dB" if db else "power", height=height, credit=credit)
    if log_freq:
        fig.update_yaxes(type="log")
    return fig


def mel_filterbank_figure(fb, *, sample_rate: int, f_min: float = 0.0, f_max: float | None = None,
                      title: str = "Mel filterbank", height: int = 320) -> go.Figure:
    """The triangular filters ``(n_mels, n_fft // 2 + 1)`` as curves against frequency in Hz.

    Neighbouring filters alternate between two colours; the whole bank is two traces
    (curves separated by gaps), so a widget can redraw it in place for any ``n_mels``.

    >>> from apac_lab.frontends import mel_filterbank
    >>> len(mel_filterbank_figure(mel_filterbank(sample_rate=8000, n_fft=256, n_mels=10), sample_rate=8000).data)
    2
    """
    w = _as_2d(fb, "fb")
    n_mels, n_freqs = w.shape
    freqs = to_numpy(fft_frequencies(2 * (n_freqs - 1), sample_rate))
    fig = go.Figure()
    for parity, colour in ((0, _LINE), (1, "#b5de2b")):
        xs, ys = [], []
        for m in range(parity, n_mels, 2):
            nz = np.nonzero(w[m])[0]
            if len(nz) == 0:  # an empty band (too narrow for the FFT bins): nothing to draw
                continue
            a, b = max(nz[0] - 1, 0), min(nz[-1] + 2, n_freqs)
            xs += [*freqs[a:b], None]
            ys += [*w[m, a:b], None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=colour, width=1.5),
                                 name="even bands" if parity == 0 else "odd bands", connectgaps=False))
    empty = int((w.max(axis=1) == 0).sum())
    if empty:
        title = f"{title} ({empty} of {n_mels} bands empty: raise n_fft or lower n_mels)"
    return style(fig, title=title, x_title="Frequency (Hz)", y_title="Weight", height=height)


def mel_figure(mel, *, sample_rate: int, hop_length: int, f_min: float = 0.0, f_max: float | None = None,
               db: bool = True, top_db: float | None = 80.0, title: str = "Mel spectrogram",
               colorbar_title: str | None = None, credit: str | None = None, height: int = 360) -> go.Figure:
    """A mel spectrogram ``(n_mels, frames)``: rows at their band centres on a mel axis labelled in Hz.

    ``db=True`` converts power to dB (floor ``top_db``); pass ``db=False`` for data that is
    already logarithmic (a log-mel) and name it with ``colorbar_title``.

    >>> fig = mel_figure(torch.rand(40, 101), sample_rate=8000, hop_length=80)
    >>> fig.layout.yaxis.ticktext[:3]
    ('0', '100', '200')
    """
    z = _db(_as_2d(mel, "mel"), db, top_db)
    f_max = sample_rate / 2 if f_max is None else f_max
    centres = to_numpy(hz_to_mel(mel_band_edges(n_mels=z.shape[0], f_min=f_min, f_max=f_max)[1:-1]))
    times = to_numpy(frame_times(z.shape[1], hop_length, sample_rate))
    fig = heatmap(z, x=times, y=centres, title=title, x_title="Time (s)", y_title="Frequency (Hz, mel-spaced)",
                  colorbar_title=colorbar_title or ("dB" if db else ""), height=height, credit=credit)
    fig.update_yaxes(**mel_hz_ticks(f_min, f_max))
    return fig


def mfcc_figure(mfcc, *, sample_rate: int, hop_length: int, drop_c0: bool = False, title: str = "MFCC",
                credit: str | None = None, height: int = 320) -> go.Figure:
    """MFCCs ``(n_mfcc, frames)``, signed, on a diverging colour scale centred on zero.

    Coefficient 0 is the overall level and much larger than the others, so the colour
    range is set by coefficients 1 and up (c0 saturates); ``drop_c0=True`` hides it.

    >>> mfcc_figure(torch.randn(13, 101), sample_rate=8000, hop_length=80, drop_c0=True).data[0].z.shape
    (12, 101)
    """
    z = _as_2d(mfcc, "mfcc")
    k = np.arange(z.shape[0])
    if drop_c0:
        z, k = z[1:], k[1:]
    times = to_numpy(frame_times(z.shape[1], hop_length, sample_rate))
    fig = heatmap(z, x=times, y=k, title=title, x_title="Time (s)", y_title="Coefficient (DCT index)",
                  colorbar_title="value", colorscale=DIVERGING, zmid=0.0, height=height, credit=credit)
    rest = z[1:] if (k[0] == 0 and len(k) > 1) else z
    r = float(np.abs(rest).max()) or 1.0
    fig.data[0].update(zmin=-r, zmax=r)
    return fig


def dct_basis_figure(D, *, title: str = "DCT-II basis: each row is a cosine across the mel bands",
                     height: int = 320) -> go.Figure:
    """The DCT matrix ``(n_mfcc, n_mels)`` as a heatmap: row ``k`` is the cosine that coefficient ``k`` measures.

    >>> from apac_lab.frontends import dct_matrix
    >>> dct_basis_figure(dct_matrix(13, 40)).data[0].z.shape
    (13, 40)
    """
    z = _as_2d(D, "D")
    return heatmap(z, x=np.arange(z.shape[1]), y=np.arange(z.shape[0]), title=title, x_title="Mel band (index)",
                   y_title="Coefficient k", colorbar_title="weight", colorscale=DIVERGING, zmid=0.0, height=height)


def difference_figure(a, b, *, sample_rate: int, hop_length: int, names: tuple[str, str] = ("a", "b"),
                      y=None, y_title: str = "Row (index)", what: str = "", height: int = 320) -> go.Figure:
    """``a - b`` as a heatmap on a diverging scale, titled with the largest and the relative error.

    >>> fig = difference_figure(torch.ones(3, 4), torch.ones(3, 4), sample_rate=8000, hop_length=80)
    >>> "max |a - b| = 0" in fig.layout.title.text
    True
    """
    za, zb = _as_2d(a, "a"), _as_2d(b, "b")
    if za.shape != zb.shape:
        raise ValueError(f"a and b must have the same shape, got {za.shape} and {zb.shape}")
    d = za - zb
    rel = float(np.linalg.norm(d) / (np.linalg.norm(zb) or 1.0))
    times = to_numpy(frame_times(d.shape[1], hop_length, sample_rate))
    title = f"{what}{names[0]} − {names[1]}: max |a - b| = {np.abs(d).max():.3g}, relative error {rel:.2g}"
    title = title.replace("a - b", f"{names[0]} - {names[1]}") if names != ("a", "b") else title
    return heatmap(d, x=times, y=np.arange(d.shape[0]) if y is None else y, title=title, x_title="Time (s)",
                   y_title=y_title, colorbar_title="difference", colorscale=DIVERGING, zmid=0.0, height=height)
