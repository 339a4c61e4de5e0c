"""The echoic scope: Play and slider linked, and both heatmaps change when the slider moves."""

import numpy as np
import pytest
import torch

from apac_lab.frontends import EchoicStream, Gammatonegram
from apac_lab.widgets import EchoicScope

_WAVE = torch.randn(6000, generator=torch.Generator().manual_seed(0)) * torch.linspace(0, 1, 6000)


def _scope(backend):
    stream = EchoicStream(Gammatonegram(sample_rate=8000, center=False, n_filters=32), history=64, n_steps=5)
    return EchoicScope(_WAVE, stream=stream, every=3, backend=backend)


@pytest.mark.parametrize("backend", ["output", "figurewidget"])
def test_slider_changes_both_heatmaps_and_title(backend):
    scope = _scope(backend)
    fig = scope.live.figure
    before = [np.array(fig.data[k].z).copy() for k in (0, 1)]
    title = fig.layout.title.text
    scope.update(snapshot=scope.slider.max)
    assert scope.slider.value == scope.slider.max
    assert not np.allclose(np.array(fig.data[0].z), before[0])
    assert not np.allclose(np.array(fig.data[1].z), before[1])
    assert fig.layout.title.text != title


def test_shapes_ranges_and_labels():
    scope = _scope("output")
    fig = scope.live.figure
    assert np.array(fig.data[0].z).shape == (32, 64) and np.array(fig.data[1].z).shape == (32, 5)
    assert scope.play.max == scope.slider.max == len(scope.frames) - 1
    assert scope.ring_db.max() == pytest.approx(0.0) and scope.ring_db.min() >= -60.0
    assert "(s)" in fig.layout.xaxis.title.text and "(Hz)" in fig.layout.yaxis.title.text
    assert list(fig.data[1].x)[-2:] == ["-20…-10", "0"]  # spans in ms; the newest is the current frame


def test_the_slider_drives_the_same_update(backend="output"):
    scope, again = _scope(backend), _scope(backend)
    scope.update(snapshot=4)
    again.slider.value = 4  # what the browser (or the Play button) does
    assert np.array_equal(np.array(scope.live.figure.data[1].z), np.array(again.live.figure.data[1].z))
    assert scope.live.figure.layout.title.text == again.live.figure.layout.title.text
    with pytest.raises(ValueError, match="snapshot must be in 0.."):
        scope.update(snapshot=len(scope.frames))
    assert len(scope.widget.children) == 2
