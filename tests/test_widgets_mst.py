"""The MSTmodel's filter inspector without a browser: each control changes the figure's data, the
filters are sorted by peak and matched with the right mel triangle, and an update stays light."""

from __future__ import annotations

import math

import numpy as np
import plotly.io as pio
import pytest
import torch

from apac_lab.models import MSTmodel, MSTTarget
from apac_lab.plots import learned_filter_figure
from apac_lab.widgets import MSTFilterInspector

SR = 22050
FREQS = (3000.0, 250.0, 1000.0, 6000.0)  # tuned kernels, out of order


def _tuned_weight() -> torch.Tensor:
    t = torch.arange(1024) / SR
    return torch.stack([torch.sin(2 * math.pi * f * t) * torch.hann_window(1024) for f in FREQS])[:, None]


@pytest.fixture(params=["output", "figurewidget"])
def inspector(request):
    target = MSTTarget(mel="librosa")
    return MSTFilterInspector(weight=_tuned_weight(), sample_rate=SR, filterbank=target.logmel.filterbank(),
                              band_edges=target.logmel.band_edges(), backend=request.param)


def _trace(insp, name):
    return next(t for t in insp.figure.data if t.name == name)


def test_filters_are_sorted_by_peak_and_matched_with_their_mel_band(inspector):
    target = MSTTarget(mel="librosa").logmel
    centres = target.band_edges()[1:-1]
    assert inspector.order.tolist() == [1, 2, 0, 3]
    for rank, f in enumerate(sorted(FREQS)):
        inspector.update(rank=rank)
        cur = inspector.current
        assert cur["peak_hz"] == pytest.approx(f, abs=SR / 1024)
        band = int(np.argmin(np.abs(np.log(centres.numpy()) - np.log(cur["peak_hz"]))))  # nearest, slow way
        assert cur["band"] == band
        np.testing.assert_allclose(np.array(_trace(inspector, "triangle").y),
                                   (target.filterbank()[band] / target.filterbank()[band].max()).numpy(), rtol=1e-6)
        assert f"mel band {band + 1}" in inspector.figure.layout.title.text


def test_the_rank_slider_changes_the_kernel_response_triangle_and_marker(inspector):
    before = {n: np.array(_trace(inspector, n).y).copy() for n in ("kernel", "response", "triangle", "this filter")}
    static = np.array(_trace(inspector, "peaks").y).copy()
    inspector.controls["rank"].value = 3  # what moving the slider does
    for name, old in before.items():
        assert not np.allclose(np.array(_trace(inspector, name).y), old), name
    np.testing.assert_array_equal(np.array(_trace(inspector, "peaks").y), static)
    k = _tuned_weight()[inspector.current["filter"], 0]
    np.testing.assert_allclose(np.array(_trace(inspector, "kernel").y), k.numpy(), rtol=1e-6)


def test_the_scale_toggle_redraws_the_response_in_db(inspector):
    lin = np.array(_trace(inspector, "response").y)
    assert lin.max() == pytest.approx(1.0) and lin.min() >= 0.0
    inspector.update(scale="dB")
    db = np.array(_trace(inspector, "response").y)
    assert db.max() == pytest.approx(0.0, abs=1e-5) and db.min() >= -60.0
    np.testing.assert_allclose(db[db > -59], (20 * np.log10(lin))[db > -59], atol=1e-3)
    assert "dB" in inspector.figure.layout.yaxis2.title.text


def test_an_update_stays_light():
    insp = MSTFilterInspector.from_models(MSTmodel(), MSTTarget(mel="librosa"), backend="output")
    # the output backend (Colab) re-sends the whole figure on every update: it is what one update weighs
    insp.update(rank=400, scale="dB")
    assert len(pio.to_json(insp.figure)) < 60_000  # 512 filters, 1024 taps: far below 200 KB
    assert len(insp.figure.data[0].y) == 1024


def test_from_models_reads_the_model_and_its_target():
    mst, target = MSTmodel(n_filters=16), MSTTarget()
    insp = MSTFilterInspector.from_models(mst, target, backend="output")
    assert len(insp.order) == 16 and insp.controls["rank"].max == 15
    np.testing.assert_allclose(insp.band_centers.numpy(), target.logmel.band_edges()[1:-1].numpy(), rtol=1e-6)


def test_bad_arguments_are_one_line_errors():
    fb, edges = torch.rand(3, 513), torch.linspace(0, 11025, 5)
    with pytest.raises(ValueError, match=r"filterbank must be \(n_mels, 513\)"):
        MSTFilterInspector(weight=torch.randn(4, 1024), sample_rate=SR, filterbank=torch.rand(3, 100), band_edges=edges)
    with pytest.raises(ValueError, match="n_mels \\+ 2 = 5"):
        MSTFilterInspector(weight=torch.randn(4, 1024), sample_rate=SR, filterbank=fb, band_edges=edges[:4])
    with pytest.raises(ValueError, match="rank must be in 0..3"):
        MSTFilterInspector(weight=torch.randn(4, 1024), sample_rate=SR, filterbank=fb, band_edges=edges, rank=4)
    insp = MSTFilterInspector(weight=torch.randn(4, 1024), sample_rate=SR, filterbank=fb, band_edges=edges,
                              backend="output")
    with pytest.raises(ValueError, match="scale must be one of"):
        insp.update(scale="log")


def test_the_figure_alone():
    fig = learned_filter_figure(kernel=np.ones(8), freqs=np.linspace(0, 4000, 5), response=np.array([-6.0, 0, -20, -40,
                                -80]), triangle=np.array([0, 2.0, 1.0, 0, 0]), peaks=np.array([100.0, 1000.0]), rank=1,
                                sample_rate=8000, band=0, band_centers=[1000.0], scale="dB")
    assert list(fig.data[1].y) == pytest.approx([-6.0, 0.0, -20.0, -40.0, -60.0])  # floored at -60 dB
    assert list(fig.data[2].y) == pytest.approx([-60.0, 0.0, 20 * math.log10(0.5), -60.0, -60.0])
    assert fig.layout.xaxis.title.text == "Time (ms)" and fig.layout.xaxis2.title.text == "Frequency (Hz)"
    with pytest.raises(ValueError, match="rank must be in 0..1"):
        learned_filter_figure(kernel=np.ones(8), freqs=np.arange(5.0), response=np.zeros(5), triangle=np.ones(5),
                              peaks=np.arange(2.0), rank=2, sample_rate=8, band=0, band_centers=[1.0])
