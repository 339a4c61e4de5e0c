"""Gabor widgets without a browser: every slider changes the figures' data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from apac_lab.frontends import GaborSTRF
from apac_lab.widgets import GaborBankBrowser, GaborInspector

BACKENDS = ["output", "figurewidget"]
_SLIDER_TEXT = {"sigma_t": "σt = {:.1f}".format, "sigma_f": "σf = {:.2f}".format,
                "gamma": lambda v: f"γ = {np.degrees(v):.0f}°", "freq": "F = {:.3f}".format,
                "phase": lambda v: f"φ = {np.degrees(v):.0f}°"}


def _snapshot(insp: GaborInspector) -> list[np.ndarray]:
    k, p, r = insp.kernel_fig.figure, insp.plane_fig.figure, insp.response_fig.figure
    return [np.array(k.data[0].z), np.array(k.data[1].z), np.array(p.data[-1].x), np.array(p.data[-1].y),
            np.array(r.data[1].z)]


@pytest.fixture(params=BACKENDS)
def inspector(request):
    torch.manual_seed(0)
    t = torch.arange(60.0)
    logmel = torch.randn(24, 60) + torch.sin(2 * torch.pi * 0.1 * t)  # a 10 Hz modulation at 100 frames/s
    return GaborInspector(logmel, frame_rate=100.0, kernel_size=(5, 21), backend=request.param)


@pytest.mark.parametrize("name,value", [("sigma_t", 12.0), ("sigma_f", 4.0), ("gamma", 1.2), ("freq", 0.3),
                                        ("phase", 1.0)])
def test_each_slider_changes_the_figures(inspector, name, value):
    before = _snapshot(inspector)
    text = inspector.readout.value
    inspector.sliders[name].value = value
    after = _snapshot(inspector)
    assert not np.allclose(before[0], after[0]) or not np.allclose(before[1], after[1]), "kernel unchanged"
    if name in ("gamma", "freq"):  # the place in the plane depends on F and gamma only
        assert not (np.allclose(before[2], after[2]) and np.allclose(before[3], after[3])), "marker unchanged"
        assert inspector.readout.value != text
    if name != "phase":  # the magnitude response does not depend on the phase
        assert not np.allclose(before[4], after[4]), "response unchanged"
    for fig in (inspector.kernel_fig, inspector.plane_fig, inspector.response_fig):  # every figure shows it
        assert _SLIDER_TEXT[name](value) in fig.figure.layout.title.text


def test_inspector_marker_sits_where_the_filter_is_tuned(inspector):
    inspector.sliders["gamma"].value = 0.0
    inspector.sliders["freq"].value = 0.1
    plane = inspector.plane_fig.figure
    assert float(plane.data[-1].x[0]) == pytest.approx(10.0, abs=1e-3)  # 0.1 cycles/frame at 100 frames/s
    assert float(plane.data[-1].y[0]) == pytest.approx(0.0, abs=1e-6)


def test_inspector_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown slider"):
        GaborInspector(torch.randn(8, 10), frame_rate=100.0, width=3)
    with pytest.raises(ValueError, match="n_mels, frames"):
        GaborInspector(torch.randn(2, 8, 10), frame_rate=100.0)
    with pytest.raises(ValueError, match="frame_rate"):
        GaborInspector(torch.randn(8, 10), frame_rate=0.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_browser_picking_a_filter_changes_the_figures(backend):
    torch.manual_seed(1)
    before, after = GaborSTRF(5, kernel_size=(5, 21)), GaborSTRF(5, kernel_size=(5, 21))
    br = GaborBankBrowser(before.params(), after, frame_rate=100.0, backend=backend)
    k0 = [np.array(t.z) for t in br.kernel_fig.figure.data]
    line0 = np.array(br.plane_fig.figure.data[-1].x)
    text = br.readout.value
    br.update(filter=3)
    k3 = [np.array(t.z) for t in br.kernel_fig.figure.data]
    assert not np.allclose(k0[0], k3[0]) and not np.allclose(k0[1], k3[1])
    assert not np.allclose(line0, np.array(br.plane_fig.figure.data[-1].x))
    assert br.readout.value != text
    expected = after.kernels()[0][3, 0].detach().numpy()
    np.testing.assert_allclose(k3[1], expected, atol=1e-6)


def test_browser_rejects_mismatched_banks():
    with pytest.raises(ValueError, match="differ in size"):
        GaborBankBrowser(GaborSTRF(3, kernel_size=(3, 5)), GaborSTRF(4, kernel_size=(3, 5)), frame_rate=100.0)
    with pytest.raises(ValueError, match="kernel_size"):
        GaborBankBrowser(GaborSTRF(3).params(), GaborSTRF(3).params(), frame_rate=100.0)
