"""The mel explorer, driven from code (no browser): sliders change the figure, bad settings are messages."""

import ipywidgets as W
import numpy as np
import pytest
import torch

from apac_lab.data import SyntheticFallbackWarning, load_fsdd, load_synthetic
from apac_lab.plots import FSDD_CREDIT
from apac_lab.widgets import LiveFigure, MelExplorer

BACKENDS = ["figurewidget", "output"]


@pytest.fixture(scope="module")
def words():
    return load_synthetic(split="test", n_speakers=1, takes=1, test_takes=1)


def _z(ex):
    return np.asarray(ex.live.figure.data[0].z)


def _curve_x(ex):
    return [v for v in ex.live.figure.data[1].x if v is not None]


@pytest.mark.parametrize("backend", BACKENDS)
def test_builds_with_handles(words, backend):
    ex = MelExplorer(words, backend=backend, n_fft=256, hop_length=80, n_mels=40)
    assert isinstance(ex, MelExplorer) and isinstance(ex.widget, W.VBox) and isinstance(ex.live, LiveFigure)
    assert set(ex.controls) == {"recording", "n_fft", "hop_length", "n_mels", "f_min", "f_max"}
    assert len(ex.recordings) == 10 and ex.sample_rate == 8000
    assert _z(ex).shape == (40, 101) and "101 frames" in ex.message.value
    assert ex.widget is not None and ex.live.widget in ex.widget.children
    assert isinstance(ex.live.widget, W.Box if backend == "output" else W.DOMWidget)  # output: figure + update areas
    assert ex.settings() == {"n_fft": 256, "hop_length": 80, "n_mels": 40, "f_min": 0.0, "f_max": 4000.0}


def test_update_moves_several_controls_and_redraws_once(words):
    ex = MelExplorer(words, backend="output", n_fft=256, hop_length=80, n_mels=40)
    drawn = []
    ex.live.update = lambda fn, _orig=ex.live.update: (drawn.append(1), _orig(fn))
    ex.update(n_mels=64, hop_length=160)
    assert drawn == [1] and _z(ex).shape == (64, 51)
    assert {k: ex.controls[k].value for k in ("n_mels", "hop_length")} == {"n_mels": 64, "hop_length": 160}
    with pytest.raises(ValueError, match="n_fft must be one of"):
        ex.update(n_fft=300)
    with pytest.raises(ValueError, match="unknown control"):
        ex.update(window="hann")


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_slider_changes_the_figure(words, backend):
    ex = MelExplorer(words, backend=backend, n_fft=256, hop_length=80, n_mels=40)
    fig = ex.live.figure
    before = _z(ex).copy()
    ex.controls["n_mels"].value = 64
    assert _z(ex).shape == (64, 101)
    ex.controls["hop_length"].value = 160
    assert _z(ex).shape == (64, 51)
    z = _z(ex).copy()
    ex.controls["n_fft"].value = 1024
    assert _z(ex).shape == (64, 51) and not np.allclose(_z(ex), z)
    assert max(np.diff(sorted(set(_curve_x(ex))))) < 8000 / 256  # the curves are sampled on the finer bins
    y0, x0 = np.asarray(fig.data[0].y).copy(), _curve_x(ex)
    ex.controls["f_min"].value = 300.0
    assert not np.allclose(fig.data[0].y, y0) and min(_curve_x(ex)) > min(x0)
    ex.controls["f_max"].value = 3000.0
    assert max(_curve_x(ex)) <= 3000.0 + 8000 / 1024
    assert "3000" in fig.layout.title.text
    assert not np.array_equal(before, _z(ex))


def test_recording_change_redraws_and_swaps_the_sound(words):
    ex = MelExplorer(words, backend="figurewidget", n_fft=256, hop_length=80, n_mels=40)
    z, sound = _z(ex).copy(), ex.audio.value
    ex.controls["recording"].value = list(ex.recordings)[4]
    assert not np.allclose(_z(ex), z) and ex.audio.value != sound
    assert list(ex.recordings)[4] in ex.live.figure.layout.title.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_invalid_settings_are_a_message_not_an_exception(words, backend):
    ex = MelExplorer(words, backend=backend, n_fft=256, hop_length=80, n_mels=40)
    ex.controls["f_max"].value = 1000.0
    z, title = _z(ex).copy(), ex.live.figure.layout.title.text
    ex.controls["f_min"].value = 2000.0  # f_min >= f_max
    assert "f_min" in ex.message.value and "⚠" in ex.message.value
    assert np.array_equal(_z(ex), z) and ex.live.figure.layout.title.text == title  # the last valid figure stays
    ex.controls["f_max"].value = 4000.0  # back to a valid setting: drawn again, message cleared
    assert "⚠" not in ex.message.value and ex.live.figure.data[0].y[0] > 1000


def test_short_clip_and_empty_bands_are_explained():
    ex = MelExplorer({"click": torch.randn(600)}, sample_rate=8000, backend="output", n_fft=256, hop_length=80,
                      n_mels=40)
    ex.controls["n_fft"].value = 2048
    assert "too long" in ex.message.value
    ex.controls["n_fft"].value = 64
    ex.controls["n_mels"].value = 128
    assert "empty" in ex.message.value and _z(ex).shape[0] == 128


def test_default_recordings_come_from_load_dataset(real_fsdd_root, monkeypatch):
    monkeypatch.setenv("APAC_LAB_DATA", str(real_fsdd_root.parent))
    ex = MelExplorer(backend="output")
    assert len(ex.recordings) == 10 and all(".wav" in name for name in ex.recordings)
    assert ex.credit == FSDD_CREDIT
    assert (ex.controls["n_fft"].value, ex.controls["hop_length"].value) == (1024, 256)  # APAC at 8 kHz


def test_falls_back_to_synthetic_words(tmp_path, monkeypatch):
    monkeypatch.setenv("APAC_LAB_DATA", str(tmp_path))
    monkeypatch.setenv("APAC_LAB_CACHE", str(tmp_path / "cache"))
    with pytest.warns(SyntheticFallbackWarning):
        ex = MelExplorer(backend="output", n_recordings=3)
    assert len(ex.recordings) == 3 and all("synthetic" in name for name in ex.recordings) and ex.credit is None


def test_real_dataset_and_tensor_inputs(real_fsdd_root):
    ds = load_fsdd(real_fsdd_root, split="test")
    ex = MelExplorer(ds, backend="output", n_recordings=2)
    assert len(ex.recordings) == 2 and ex.credit == FSDD_CREDIT
    ex = MelExplorer([torch.randn(8000), torch.randn(8000)], sample_rate=8000, backend="output")
    assert list(ex.recordings) == ["recording 0", "recording 1"]


def test_bad_recordings():
    with pytest.raises(ValueError, match="sample_rate"):
        MelExplorer({"a": torch.randn(800)})
    with pytest.raises(TypeError, match="ClipDataset"):
        MelExplorer(42, sample_rate=8000)
    with pytest.raises(ValueError, match="1D"):
        MelExplorer({"a": torch.randn(2, 800)}, sample_rate=8000)
    with pytest.raises(ValueError, match="empty"):
        MelExplorer({}, sample_rate=8000)
