"""Teach it your voice, the widget: prompts in rounds, the model fine-tuned on the teaching
recordings only, accuracies before and after on the others, and the tuned model afterwards."""

from __future__ import annotations

import pytest
import torch

from apac_lab.models import build_model
from apac_lab.train.few_shot import fine_tune_few_shot
from apac_lab.widgets import VoiceFineTuner

SR, N = 8000, 2000  # 0.25 s clips: quick
HZ = (300.0, 900.0, 2000.0)


def _tone(c: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(N) / SR
    return 0.3 * torch.sin(2 * torch.pi * HZ[c] * t) + 0.01 * torch.randn(N, generator=g)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    net = build_model("apac", n_classes=3, sample_rate=SR, width_mult=0.25, n_mels=16, n_mfcc=8)
    with torch.no_grad():  # BatchNorm statistics of such data, as a trained model would have
        for s in range(5):
            net.train()(torch.stack([_tone(c, s) for c in range(3)]))
    return net.eval()


def _tuner(model, **kw):
    return VoiceFineTuner(model, ["low", "mid", "high"], sample_rate=SR, num_samples=N,
                          **{"shots": 2, "checks": 1, "lr": 1e-2, "steps": 3, "backend": "output", **kw})


class TestPrompts:
    def test_rounds_over_every_class_teaching_rounds_first(self, model):
        tuner = _tuner(model)
        assert tuner.prompts == [(0, "teach"), (1, "teach"), (2, "teach")] * 2 + [(0, "check"), (1, "check"), (2, "check")]
        assert "“low”" in tuner.prompt.value and "recording 1 of 9" in tuner.prompt.value
        out = tuner.handle_waveform(_tone(0, 1), SR)
        assert out["role"] == "teach" and out["label"] == "low" and "“mid”" in tuner.prompt.value
        tuner.undo()
        assert tuner.taken == 0 and "“low”" in tuner.prompt.value

    def test_recordings_are_resampled_and_fitted_to_the_model(self, model):
        tuner = _tuner(model)
        tuner.handle_waveform(torch.randn(N), 2 * SR)  # 0.125 s at 16 kHz
        assert tuner._waves[0].shape == (N,)
        assert tuner.handle_waveform(torch.zeros(0), SR) is None and "record it again" in tuner.report.value
        assert tuner.taken == 1

    def test_the_recorder_feeds_it(self, model):
        tuner = _tuner(model)
        tuner.recorder.handle_waveform(_tone(0, 1), SR)  # what a recording in the browser does
        assert tuner.taken == 1

    def test_bad_settings(self, model):
        with pytest.raises(ValueError, match="shots >= 1"):
            _tuner(model, shots=0)
        with pytest.raises(ValueError, match="layers must be one of"):
            _tuner(model, layers="head")


class TestFineTune:
    def test_trained_on_the_teaching_recordings_only_and_measured_on_the_others(self, model):
        tuner = _tuner(model)
        for i, (c, _) in enumerate(tuner.prompts):
            tuner.handle_waveform(_tone(c, 10 + i), SR)
        assert tuner.handle_waveform(_tone(0, 99), SR) is None  # every prompt answered
        before = {k: v.clone() for k, v in model.state_dict().items()}
        res = tuner.fine_tune()
        teach_x = torch.stack([_tone(c, 10 + i) for i, (c, r) in enumerate(tuner.prompts) if r == "teach"])
        teach_y = torch.tensor([c for c, r in tuner.prompts if r == "teach"])
        ref, _ = fine_tune_few_shot(model, teach_x, teach_y, layers="all", lr=1e-2, steps=3, seed=0)
        assert all(torch.equal(v, ref.state_dict()[k]) for k, v in tuner.tuned.state_dict().items())
        assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())  # the original is unchanged
        check_x = torch.stack([_tone(c, 16 + c) for c in range(3)])
        with torch.no_grad():
            acc = lambda m: float((m.eval()(check_x).argmax(-1) == torch.arange(3)).float().mean())  # noqa: E731
        assert (res["before"], res["after"]) == (acc(model), acc(ref))
        assert (res["teach"], res["checks"]) == (6, 3) and res["seconds"] > 0
        assert f"{res['after']:.0%}" in tuner.report.value and tuner.button.disabled

    def test_afterwards_the_tuned_model_predicts_and_the_original_is_shown_beside(self, model):
        tuner = _tuner(model, checks=0)
        for i, (c, _) in enumerate(tuner.prompts):
            tuner.handle_waveform(_tone(c, 30 + i), SR)
        res = tuner.fine_tune()
        assert res["before"] is None and "No recordings were kept aside" in tuner.report.value
        out = tuner.handle_waveform(_tone(2, 77), SR)
        with torch.no_grad():
            want = tuner.tuned.eval()(_tone(2, 77)[None]).argmax(-1).item()
        assert out["role"] == "speak" and out["label"] == tuner.classes[want]
        assert tuner.predictor.model is tuner.tuned and "before fine-tuning" in tuner.predictor.message.value

    def test_nothing_to_fine_tune_on_is_a_message(self, model):
        tuner = _tuner(model)
        assert tuner.fine_tune() is None and "Record at least one" in tuner.report.value


def test_the_example_is_notebook_05s_size():
    tuner = VoiceFineTuner.example(backend="output")
    assert len(tuner.prompts) == 30 and tuner.sample_rate == tuner.num_samples == 8000
    assert tuner.handle_waveform(torch.randn(8000), 8000)["role"] == "teach"
