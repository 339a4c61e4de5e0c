"""Gabor widgets: an inspector for one STRF, and a browser for a trained Gabor bank.

* :class:`GaborInspector`: sliders for sigma_t, sigma_f, gamma, F and the phase show the
  kernel (real and imaginary parts), its place in the modulation plane over the
  modulation spectrum of a real recording, and its response to that recording.
* :class:`GaborBankBrowser`: pick a filter of a trained :class:`~apac_lab.frontends.GaborSTRF`
  and see its kernel before and after training, and where it moved in the plane.

All figures update in place through :class:`~apac_lab.widgets.LiveFigure`. The maths is
:mod:`apac_lab.frontends.gabor` and :mod:`apac_lab.frontends.modulation`; these classes
only read tensors and draw them.

Notebook: 02_gabor_filter_learning.
"""

from __future__ import annotations

import math

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from apac_lab.frontends.fftconv import conv2d_same
from apac_lab.frontends.gabor import GaborSTRF, gabor_kernels
from apac_lab.frontends.modulation import gabor_modulation_position, modulation_spectrum
from apac_lab.plots.core import style, to_numpy
from apac_lab.plots.gabor import (
    gabor_kernel_figure, gabor_response_figure, kernel_axes, kernel_trace, modulation_plane_figure,
)
from apac_lab.widgets.core import LiveFigure, Widget

__all__ = ["GaborInspector", "GaborBankBrowser"]

_SLIDERS = {  # name: (label, min, max, step, default)
    "sigma_t": ("σt (frames)", 0.5, 40.0, 0.5, 6.0),
    "sigma_f": ("σf (bands)", 0.5, 12.0, 0.25, 2.0),
    "gamma": ("γ (rad)", -math.pi, math.pi, math.pi / 36, math.pi / 4),
    "freq": ("F (cyc/sample)", 0.0, 0.5, 0.005, 0.1),
    "phase": ("φ (rad)", -math.pi, math.pi, math.pi / 36, 0.0),
}


def _to_logmel(logmel) -> torch.Tensor:
    x = torch.as_tensor(to_numpy(logmel), dtype=torch.float32)
    if x.dim() == 3 and x.shape[0] == 1:
        x = x[0]
    if x.dim() != 2:
        raise ValueError(f"logmel must be one clip's (n_mels, frames), got shape {tuple(x.shape)}")
    return x


class GaborInspector(Widget):
    """Sliders for one Gabor STRF, with its kernel, modulation-plane place and response.

    Args:
        logmel (Tensor): one recording's log-mel, ``(n_mels, frames)``.
        frame_rate (float): frames per second of the log-mel, Hz.
        kernel_size (tuple[int, int], default (9, 111)): (bands, frames).
        credit (str | None): credit line for figures of the recording (``FSDD_CREDIT``).
        backend (str | None): LiveFigure backend (None picks one).
        **values: initial slider values (``sigma_t``, ``sigma_f``, ``gamma``, ``freq``, ``phase``).

    ``widget`` is the layout to display (the object displays it too); ``controls`` (also
    ``sliders``) the slider widgets by parameter name; ``update(freq=0.3, ...)`` moves them
    and redraws every figure, what moving a slider does. The response is the magnitude of the complex filter output on the log-mel, its mean
    removed (a Gaussian blob would otherwise only show the loudness).

    >>> insp = GaborInspector(torch.randn(32, 60), frame_rate=100.0, kernel_size=(5, 21), backend="output")
    >>> before = insp.kernel_fig.figure.data[0].z.copy()
    >>> insp.update(freq=0.3)
    >>> bool((insp.kernel_fig.figure.data[0].z != before).any())
    True
    """

    def __init__(self, logmel, *, frame_rate: float, kernel_size: tuple[int, int] = (9, 111), credit: str | None = None,
                 backend: str | None = None, **values) -> None:
        unknown = set(values) - set(_SLIDERS)
        if unknown:
            raise ValueError(f"unknown slider values {sorted(unknown)}; use {sorted(_SLIDERS)}")
        if not frame_rate > 0:
            raise ValueError(f"frame_rate must be > 0 Hz, got {frame_rate}")
        self.logmel = _to_logmel(logmel)
        self.frame_rate, self.kernel_size = float(frame_rate), (int(kernel_size[0]), int(kernel_size[1]))
        self.controls = self.sliders = {
            name: W.FloatSlider(value=float(values.get(name, default)), min=lo, max=hi, step=step, description=label,
                                continuous_update=False, readout_format=".3g", style={"description_width": "110px"})
            for name, (label, lo, hi, step, default) in _SLIDERS.items()
        }
        self.readout = W.HTML()
        kernel, response, pos = self._compute()
        power, spectral, temporal = modulation_spectrum(self.logmel, frame_rate=self.frame_rate)
        label = self._label()
        self.kernel_fig = LiveFigure(gabor_kernel_figure(kernel.real, kernel.imag, frame_rate=self.frame_rate,
                                                         title=f"Kernel: {label}"), backend)
        self.plane_fig = LiveFigure(modulation_plane_figure(
            power, spectral, temporal, filters={"this filter": pos}, credit=credit,
            title=f"Modulation plane: {label}"), backend)
        self.response_fig = LiveFigure(gabor_response_figure(self.logmel, response, frame_rate=self.frame_rate,
                                                             credit=credit, title=f"Response: {label}"), backend)
        self._readout(pos)
        names = list(self.sliders)
        controls = W.HBox([W.VBox([self.sliders[n] for n in names[:3]]),
                           W.VBox([self.sliders[n] for n in names[3:]] + [self.readout])])
        self.widget = W.VBox([controls, self.kernel_fig.widget, self.plane_fig.widget, self.response_fig.widget])
        self._watch(draw=False)  # the figures were built from the sliders' values

    @classmethod
    def example(cls, *, backend: str | None = None) -> "GaborInspector":
        """Notebook 02's size: a 1 s log-mel of 64 bands at 100 frames/s, kernels 9 x 111."""
        g = torch.Generator().manual_seed(0)
        return cls(torch.randn(64, 101, generator=g), frame_rate=100.0, kernel_size=(9, 111), backend=backend,
                   sigma_t=8.0, sigma_f=2.0, gamma=0.0, freq=0.04)

    def params(self) -> dict[str, float]:
        """The slider values by parameter name."""
        return {name: float(s.value) for name, s in self.sliders.items()}

    def _compute(self):
        p = self.params()
        kernel = gabor_kernels(torch.tensor(max(p["sigma_t"], 1e-3)), max(p["sigma_f"], 1e-3), p["gamma"],
                               min(max(p["freq"], 0.0), 0.5), p["phase"], size_f=self.kernel_size[0],
                               size_t=self.kernel_size[1])
        x = (self.logmel - self.logmel.mean())[None, None]
        y = conv2d_same(x, torch.stack([kernel.real, kernel.imag])[:, None])[0]
        response = torch.sqrt(y[0] ** 2 + y[1] ** 2)
        pos = gabor_modulation_position(torch.tensor([p["freq"]]), torch.tensor([p["gamma"]]), frame_rate=self.frame_rate,
                                        sigma_t=torch.tensor([p["sigma_t"]]), sigma_f=torch.tensor([p["sigma_f"]]))
        return kernel, response, pos

    def _label(self) -> str:
        p = self.params()
        return (f"σt = {p['sigma_t']:.1f}, σf = {p['sigma_f']:.2f}, γ = {math.degrees(p['gamma']):.0f}°, "
                f"F = {p['freq']:.3f}, φ = {math.degrees(p['phase']):.0f}°")

    def _readout(self, pos) -> None:
        self.readout.value = (
            f"<b>tuned to</b> {float(pos['temporal_hz'][0]):+.1f} Hz, {float(pos['spectral'][0]):.3f} cycles/band"
            f"<br><b>spread</b> ±{float(pos['temporal_bw_hz'][0]):.1f} Hz, ±{float(pos['spectral_bw'][0]):.3f} cycles/band"
        )

    def _draw(self) -> None:
        """Recompute from the sliders and update every figure in place."""
        kernel, response, pos = self._compute()
        re, im = to_numpy(kernel.real), to_numpy(kernel.imag)
        zmax = float(max(np.abs(re).max(), np.abs(im).max(), 1e-12))
        label = self._label()  # every figure's title names the current parameters

        def kern(fig: go.Figure) -> None:
            fig.data[0].update(z=re, zmin=-zmax, zmax=zmax)
            fig.data[1].update(z=im, zmin=-zmax, zmax=zmax)
            fig.layout.title.text = f"Kernel: {label}"

        def plane(fig: go.Figure) -> None:
            fig.data[-1].update(x=to_numpy(pos["temporal_hz"]), y=to_numpy(pos["spectral"]))
            fig.layout.title.text = f"Modulation plane: {label}"

        def resp(fig: go.Figure) -> None:
            fig.data[1].update(z=to_numpy(response))
            fig.layout.title.text = f"Response: {label}"

        self.kernel_fig.update(kern)
        self.plane_fig.update(plane)
        self.response_fig.update(resp)
        self._readout(pos)


def _params(bank) -> dict[str, torch.Tensor]:
    p = bank.params() if isinstance(bank, GaborSTRF) else dict(bank)
    missing = {"sigma_t", "sigma_f", "gamma", "freq"} - set(p)
    if missing:
        raise ValueError(f"filter parameters lack {sorted(missing)}; pass a GaborSTRF or its .params()")
    return {k: torch.as_tensor(v).detach().float().reshape(torch.as_tensor(v).shape[0], -1)[:, 0] for k, v in p.items()}


class GaborBankBrowser(Widget):
    """Pick a filter of a trained Gabor bank; see its kernel before and after training and its move in the plane.

    Args:
        before (GaborSTRF | dict): the initial bank, or its ``.params()`` (first input channel is shown).
        after (GaborSTRF | dict): the trained bank.
        frame_rate (float): frames per second of the log-mel, Hz.
        kernel_size (tuple[int, int] | None): (bands, frames); None takes it from a GaborSTRF.
        backend (str | None): LiveFigure backend.

    ``widget`` is the layout to display (the object displays it too); ``controls`` holds the
    ``"filter"`` picker (also ``picker``); ``update(filter=i)`` shows filter ``i``.

    >>> a, b = GaborSTRF(4, kernel_size=(5, 21)), GaborSTRF(4, kernel_size=(5, 21))
    >>> br = GaborBankBrowser(a, b, frame_rate=100.0, backend="output")
    >>> z = br.kernel_fig.figure.data[0].z.copy(); br.update(filter=2)
    >>> bool((br.kernel_fig.figure.data[0].z != z).any())
    True
    """

    def __init__(self, before, after, *, frame_rate: float, kernel_size: tuple[int, int] | None = None,
                 backend: str | None = None) -> None:
        if kernel_size is None:
            bank = after if isinstance(after, GaborSTRF) else before
            if not isinstance(bank, GaborSTRF):
                raise ValueError("kernel_size is needed when neither bank is a GaborSTRF")
            kernel_size = bank.kernel_size
        self.before, self.after = _params(before), _params(after)
        n = self.before["freq"].shape[0]
        if self.after["freq"].shape[0] != n:
            raise ValueError(f"the banks differ in size: {n} and {self.after['freq'].shape[0]} filters")
        self.frame_rate, self.kernel_size = float(frame_rate), tuple(kernel_size)
        self.kernels = {name: gabor_kernels(p["sigma_t"], p["sigma_f"], p["gamma"], p["freq"], p.get("phase"),
                                            size_f=self.kernel_size[0], size_t=self.kernel_size[1], check=False)
                        for name, p in (("before", self.before), ("after", self.after))}
        self.positions = {name: gabor_modulation_position(p["freq"], p["gamma"], frame_rate=self.frame_rate)
                          for name, p in (("before", self.before), ("after", self.after))}
        self.picker = W.IntSlider(value=0, min=0, max=n - 1, description="filter", continuous_update=False)
        self.readout = W.HTML()
        self.kernel_fig = LiveFigure(self._kernel_figure(0), backend)
        self.plane_fig = LiveFigure(self._plane_figure(0), backend)
        self._readout(0)
        self.controls = {"filter": self.picker}
        self.widget = W.VBox([W.HBox([self.picker, self.readout]), self.kernel_fig.widget, self.plane_fig.widget])
        self._watch(draw=False)  # the figures show filter 0, the picker's value

    @classmethod
    def example(cls, *, backend: str | None = None) -> "GaborBankBrowser":
        """Notebook 02's size: 16 filters of 9 x 111, before and after (a random bank each)."""
        torch.manual_seed(0)
        return cls(GaborSTRF(16, kernel_size=(9, 111)), GaborSTRF(16, kernel_size=(9, 111)), frame_rate=100.0,
                   backend=backend)

    def _kernel_figure(self, i: int) -> go.Figure:
        f, t, t_title = kernel_axes(*self.kernel_size, self.frame_rate)
        fig = make_subplots(rows=1, cols=2, subplot_titles=("before training (real part)", "after training (real part)"))
        for col, name in enumerate(("before", "after"), 1):
            z = to_numpy(self.kernels[name][i].real)
            fig.add_trace(kernel_trace(z, f, t, float(max(np.abs(z).max(), 1e-12)), col == 2), 1, col)
        style(fig, title=f"Filter {i}", x_title=t_title, y_title="Band offset (mel bands)", height=300)
        fig.update_xaxes(title_text=t_title, row=1, col=2)
        return fig

    def _plane_figure(self, i: int) -> go.Figure:
        fig = modulation_plane_figure(filters={"before": self.positions["before"], "after": self.positions["after"]},
                                      title="Every filter before and after training; the picked one joined")
        xs, ys = self._pair(i)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=f"filter {i}",
                                 line=dict(color="black", width=2), marker=dict(size=14, symbol=["circle-open", "x"],
                                                                                 color="black")))
        return fig

    def _pair(self, i: int) -> tuple[list[float], list[float]]:
        b, a = self.positions["before"], self.positions["after"]
        return ([float(b["temporal_hz"][i]), float(a["temporal_hz"][i])], [float(b["spectral"][i]), float(a["spectral"][i])])

    def _readout(self, i: int) -> None:
        rows = "".join(
            f"<tr><td>{k}</td><td>{float(self.before[k][i]):.3f}</td><td>{float(self.after[k][i]):.3f}</td></tr>"
            for k in ("sigma_t", "sigma_f", "gamma", "freq") + (("phase",) if "phase" in self.after else ()))
        self.readout.value = f"<table><tr><th></th><th>before</th><th>after</th></tr>{rows}</table>"

    def _draw(self) -> None:
        """Show the picked filter; figures update in place."""
        i = int(self.picker.value)
        zs = [to_numpy(self.kernels[name][i].real) for name in ("before", "after")]

        def kern(fig: go.Figure) -> None:
            for trace, z in zip(fig.data, zs):
                m = float(max(np.abs(z).max(), 1e-12))
                trace.update(z=z, zmin=-m, zmax=m)
            fig.layout.title.text = f"Filter {i}"

        xs, ys = self._pair(i)

        def plane(fig: go.Figure) -> None:
            fig.data[-1].update(x=xs, y=ys, name=f"filter {i}")

        self.kernel_fig.update(kern)
        self.plane_fig.update(plane)
        self._readout(i)
