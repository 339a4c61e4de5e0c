"""Notebook 05's figures and widgets: shapes recorded by hooks follow the model's blocks,
the upload handler works from bytes, and every widget figure follows its control."""

import datetime as dt
import io

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from apac_lab.data import decode_wav_bytes
from apac_lab.models import build_model
from apac_lab.plots import block_diagram, confusion_figure, layer_shapes, mel_three_ways, results_table
from apac_lab.widgets import MelFilterInspector, UploadPredictor, predict_wav_bytes


def _wav(samples: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples.astype(np.float32), rate, format="WAV")
    return buf.getvalue()


@pytest.fixture(scope="module")
def apac():
    torch.manual_seed(0)
    return build_model("apac", n_classes=10, sample_rate=8000).eval()


class TestArchitecture:
    def test_hooks_record_every_block_in_the_order_data_flows(self, apac):
        rows = layer_shapes(apac, torch.randn(2, 8000))
        names = [r["name"] for r in rows]
        assert names == ["frontend", "mel_norm", "branch3", "branch7", "cbam_in", "ds",
                         *[f"blocks.{i}" for i in range(6)], "cbam_out", "head", "aux", "classifier"]
        shapes = dict(zip(names, (r["shape"] for r in rows)))
        assert shapes["frontend"] == "128×32 + 64×32" and shapes["ds"] == "32×32×8"
        assert shapes["head"] == "160×8×2" and shapes["aux"] == "64" and shapes["classifier"] == "10"

    def test_parameters_add_up_and_hooks_are_removed(self, apac):
        rows = layer_shapes(apac, torch.randn(1, 8000))
        assert sum(r["params"] for r in rows) == sum(p.numel() for p in apac.parameters())
        assert all(not m._forward_hooks for m in apac.modules())
        assert not apac.training

    def test_block_diagram_draws_every_block_and_both_pathways(self, apac):
        rows = layer_shapes(apac, torch.randn(1, 8000))
        fig = block_diagram(rows)
        texts = " ".join(a.text for a in fig.layout.annotations)
        assert all(f"<b>{r['name']}</b>" in texts for r in rows)
        boxes = {a.text.split("</b>")[0][3:]: (a.x, a.y) for a in fig.layout.annotations if a.text.startswith("<b>")}
        assert boxes["branch3"][1] == boxes["branch7"][1]  # side by side
        assert boxes["aux"][0] > boxes["ds"][0]  # its own lane
        assert boxes["classifier"][1] < min(y for n, (x, y) in boxes.items() if n != "classifier")


class TestFigures:
    def test_confusion_rows_are_fractions_and_counts_hover(self):
        fig = confusion_figure(torch.tensor([[3, 1], [0, 4]]), ["a", "b"])
        assert np.allclose(fig.data[0].z, [[0.75, 0.25], [0, 1]])
        assert np.array_equal(fig.data[0].customdata, [[3, 1], [0, 4]])

    def test_mel_three_ways_shares_one_scale_and_shows_the_difference(self):
        a, b = np.zeros((4, 5)), np.ones((4, 5))
        fig = mel_three_ways({"x": a, "y": b}, sample_rate=8000, hop_length=80, title="t")
        assert fig.data[0].zmax == fig.data[1].zmax and np.allclose(fig.data[2].z, 1)
        assert np.allclose(fig.data[0].x, np.arange(5) * 0.01)

    def test_table_marks_missing_values(self):
        fig = results_table([{"a": 1.0}, {"a": None}], ["a"], title="t", formats={"a": "{:.0%}"})
        assert list(fig.data[0].cells.values[0]) == ["100%", "—"]


class _Fixed(nn.Module):
    """Logits that favour class 1 more the louder the clip."""

    def forward(self, x):
        loud = x.abs().mean(1, keepdim=True)
        return torch.cat([torch.zeros_like(loud), 50 * loud, torch.full_like(loud, 1.0)], 1)


class TestUpload:
    def test_prediction_matches_the_model_on_the_same_waveform(self, apac):
        g = np.random.default_rng(0)
        data = _wav(0.3 * g.standard_normal(6000), 8000)
        res = predict_wav_bytes(apac, data, classes=[str(i) for i in range(10)], sample_rate=8000, num_samples=8000)
        with torch.no_grad():
            ref = apac(decode_wav_bytes(data, sample_rate=8000, num_samples=8000)[None]).softmax(-1)[0]
        assert torch.allclose(res["probabilities"], ref, atol=1e-6)
        assert res["label"] == str(int(ref.argmax())) and res["probabilities"].sum() == pytest.approx(1.0)

    def test_the_widget_updates_its_bars_from_an_ipywidgets_8_upload(self):
        up = UploadPredictor(_Fixed(), ["a", "b", "c"], sample_rate=8000, num_samples=800)
        before = list(up.live.figure.data[0].y)
        up.upload.value = ({"name": "loud.wav", "content": memoryview(_wav(np.ones(800), 8000)), "size": 0,
                            "type": "audio/wav", "last_modified": dt.datetime(2024, 1, 1)},)
        after = list(up.live.figure.data[0].y)
        assert after != before and int(np.argmax(after)) == 1
        assert "loud.wav" in up.message.value and "b" in up.message.value

    def test_bytes_that_are_not_audio_give_a_message_not_an_exception(self):
        up = UploadPredictor(_Fixed(), ["a", "b", "c"], sample_rate=8000)
        assert up.handle(b"not a wav file", name="notes.txt") is None
        assert "cannot read" in up.message.value
        assert up.handle(b"", name="empty.wav") is None and "empty" in up.message.value


class TestUploadFailures:
    """Issue 14: handle() catches every failure, clears the bars, names the upload, and says how it used the clip."""

    @staticmethod
    def _predictor(apac, num_samples=None):
        up = UploadPredictor(apac, [str(i) for i in range(10)], sample_rate=8000, num_samples=num_samples,
                             backend="output")
        g = np.random.default_rng(0)
        assert up.handle(_wav(0.3 * g.standard_normal(8000), 8000), name="first.wav") is not None
        assert np.asarray(up.live.figure.data[0].y).sum() == pytest.approx(1.0)  # bars of a prediction
        return up

    @staticmethod
    def _cleared(up, name):
        assert np.asarray(up.live.figure.data[0].y).tolist() == [0.0] * 10, "stale bars left after a failure"
        assert up.live.figure.layout.title.text == f"{name}: no prediction"
        assert f"⚠ {name}:" in up.message.value

    def test_a_100_sample_clip_with_no_fixed_length_clears_the_bars_and_says_why(self, apac):
        up = self._predictor(apac, num_samples=None)
        assert up.handle(_wav(0.3 * np.ones(100), 8000), name="tiny.wav") is None  # the model refuses it
        self._cleared(up, "tiny.wav")
        assert "too short" in up.message.value

    def test_a_model_that_raises_anything_clears_the_bars_and_says_why(self, apac):
        up = self._predictor(apac, num_samples=8000)

        class Broken(nn.Module):
            def forward(self, x):
                raise RuntimeError("CUDA out of memory\nmore lines")
        up.model = Broken()
        assert up.handle(_wav(0.3 * np.ones(8000), 8000), name="big.wav") is None
        self._cleared(up, "big.wav")
        assert "RuntimeError: CUDA out of memory" in up.message.value and "more lines" not in up.message.value

    def test_a_clip_at_20001_hz_is_predicted_at_the_models_rate(self, apac):
        up = self._predictor(apac, num_samples=8000)
        res = up.handle(_wav(0.3 * np.sin(np.arange(20001) * 0.1), 20001), name="odd-rate.wav")
        assert res is not None and res["waveform"].shape == (8000,) and "odd-rate.wav" in up.message.value

    def test_a_ten_minute_upload_says_it_used_the_middle_second(self, apac):
        up = self._predictor(apac, num_samples=8000)
        res = up.handle(_wav(0.1 * np.sin(np.arange(600 * 8000) * 0.01), 8000), name="lecture.wav")
        assert res["notes"] == ["used the middle 1 s of 600 s"]
        assert "Note: used the middle 1 s of 600 s." in up.message.value

    def test_a_one_sample_upload_says_mostly_silence(self, apac):
        up = self._predictor(apac, num_samples=8000)
        res = up.handle(_wav(np.array([0.5]), 8000), name="click.wav")
        assert res["notes"] == ["mostly silence: 0.125 ms of sound padded to 1 s"]
        assert "mostly silence" in up.message.value

    def test_a_silent_recording_says_mostly_silence(self, apac):
        up = self._predictor(apac, num_samples=8000)
        assert up.handle(_wav(np.zeros(8000), 8000), name="mute.wav")["notes"] == [
            "mostly silence: the recording is nearly silent (peak 0.0e+00)"]

    def test_an_unreadable_upload_is_named_not_shown_as_a_bytesio(self, apac):
        up = self._predictor(apac, num_samples=8000)
        assert up.handle(b"RIFF\x00\x00 not really", name="song.mp3") is None
        self._cleared(up, "song.mp3")
        assert "BytesIO" not in up.message.value and "cannot read song.mp3 as audio" in up.message.value

    def test_an_upload_that_arrives_empty_says_it_was_too_large_for_colab(self, apac):
        up = self._predictor(apac, num_samples=8000)
        for value in ({}, ()):  # Colab's ipywidgets 7 value, and ipywidgets 8's
            assert up.handle_upload(value) == []
            self._cleared(up, "the upload")
            assert "1 MB or more" in up.message.value and "ipywidgets#3452" in up.message.value
            assert "microphone recorder" in up.message.value and "shorter clip" in up.message.value


class TestMelFilterInspector:
    def test_slider_moves_the_figure(self):
        initial = torch.rand(8, 20)
        trained = initial + 0.1 * torch.randn(8, 20)
        ins = MelFilterInspector(initial, trained, sample_rate=8000, index=2)
        fig = ins.live.figure
        assert np.allclose(fig.data[1].y, trained[2].numpy())
        ins.update(filter=6)
        assert ins.slider.value == 6 and np.allclose(fig.data[0].y, initial[6].numpy()) and np.allclose(fig.data[1].y, trained[6].numpy())
        assert list(fig.data[3].y) == [6, 6] and "Mel filter 6" in fig.layout.title.text
        assert fig.data[0].x[-1] == 4000.0

    def test_with_a_trained_model(self):
        model = build_model("tiny", n_classes=3, sample_rate=8000, mode="mel")
        ins = MelFilterInspector(model.frontend.mel_filterbank(), model.frontend.mel_filterbank(), sample_rate=8000)
        assert ins.slider.max == model.frontend.n_mels - 1

    def test_bad_input(self):
        with pytest.raises(ValueError, match="n_mels, n_freqs"):
            MelFilterInspector(np.zeros((3, 4)), np.zeros((3, 5)), sample_rate=8000)
        ins = MelFilterInspector(np.eye(3), np.eye(3), sample_rate=8000)
        with pytest.raises(ValueError, match="filter must be in 0..2, got 3"):
            ins.update(filter=3)
        with pytest.raises(ValueError, match="0..2"):
            MelFilterInspector(np.eye(3), np.eye(3), sample_rate=8000, index=5)
