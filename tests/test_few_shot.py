"""Few-shot fine-tuning: a copy is trained, the chosen layers only, norms kept; seeded picks; BatchNorm
statistics adapted without labels."""

import pytest
import torch

from apac_lab.models import build_model
from apac_lab.train.few_shot import batchnorm_adapted, fine_tune_few_shot, pick_few_shot

SR = 8000


def _model(seed=0):
    torch.manual_seed(seed)
    model = build_model("apac", n_classes=3, sample_rate=SR, width_mult=0.25, n_mels=16, n_mfcc=8)
    with torch.no_grad():  # BatchNorm statistics of the data, as a trained model would have
        for _ in range(10):
            model.train()(_tones(seed=1)[0])
    return model.eval()


def _tones(per_class=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(SR // 4) / SR  # 0.25 s clips: quick
    waves, labels = [], []
    for c, hz in enumerate((300.0, 900.0, 2000.0)):
        for _ in range(per_class):
            waves.append(0.3 * torch.sin(2 * torch.pi * hz * t) + 0.01 * torch.randn(len(t), generator=g))
            labels.append(c)
    return torch.stack(waves), torch.tensor(labels)


def _loss(model, x, y):
    with torch.no_grad():
        return torch.nn.functional.cross_entropy(model.eval()(x), y).item()


class TestFineTune:
    def test_learns_the_few_clips_and_leaves_the_original_alone(self):
        model, (x, y) = _model(), _tones()
        before = {k: v.clone() for k, v in model.state_dict().items()}
        tuned, info = fine_tune_few_shot(model, x, y, lr=1e-2, steps=15, label_smoothing=0.0)
        assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
        assert _loss(tuned, x, y) < 0.5 * _loss(model, x, y)
        assert (tuned(x).argmax(-1) == y).all()
        assert info["steps"] == 15 and info["trained_parameters"] == sum(p.numel() for p in model.parameters())
        assert not tuned.training and all(p.requires_grad for p in tuned.parameters())

    def test_classifier_only_changes_the_classifier_and_no_norm_statistics(self):
        model, (x, y) = _model(), _tones()
        tuned, info = fine_tune_few_shot(model, x, y, layers="classifier", lr=3e-3, steps=10)
        old, new = model.state_dict(), tuned.state_dict()
        changed = {k for k in old if not torch.equal(old[k], new[k])}
        assert changed and all(k.startswith("classifier.") for k in changed)
        assert info["trained_parameters"] == sum(p.numel() for p in model.classifier.parameters())
        tuned_all, _ = fine_tune_few_shot(model, x, y, layers="all", lr=3e-3, steps=5)
        stats = [k for k in old if k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
        assert stats and all(torch.equal(old[k], tuned_all.state_dict()[k]) for k in stats)
        assert any(not torch.equal(old[k], tuned_all.state_dict()[k]) for k in old if k.startswith("blocks."))

    def test_repeatable_with_a_seed_and_augmentation_runs(self):
        from apac_lab.train import WaveAugment

        model, (x, y) = _model(), _tones()
        a, _ = fine_tune_few_shot(model, x, y, steps=3, augment=WaveAugment(0.1, (10.0, 20.0), 1.0), seed=4)
        b, _ = fine_tune_few_shot(model, x, y, steps=3, augment=WaveAugment(0.1, (10.0, 20.0), 1.0), seed=4)
        assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())

    def test_bad_arguments(self):
        model, (x, y) = _model(), _tones()
        with pytest.raises(ValueError, match="layers must be one of"):
            fine_tune_few_shot(model, x, y, layers="head")
        with pytest.raises(ValueError, match="lr > 0"):
            fine_tune_few_shot(model, x, y, lr=0.0)
        with pytest.raises(ValueError, match="labels"):
            fine_tune_few_shot(model, x, y[:2])
        with pytest.raises(ValueError, match="no 'classifier' submodule"):
            fine_tune_few_shot(torch.nn.Linear(SR, 3), x, y, layers="classifier")


class TestPick:
    def test_k_per_class_seeded_and_nested(self):
        labels = torch.arange(10).repeat_interleave(50)
        one, two, five = (pick_few_shot(labels, k, seed=3) for k in (1, 2, 5))
        for k, pick in ((1, one), (2, two), (5, five)):
            assert torch.equal(torch.bincount(labels[pick], minlength=10), torch.full((10,), k))
        assert set(one.tolist()) <= set(two.tolist()) <= set(five.tolist())
        assert torch.equal(two, pick_few_shot(labels, 2, seed=3))
        assert not torch.equal(two, pick_few_shot(labels, 2, seed=4))

    def test_too_few_clips(self):
        with pytest.raises(ValueError, match="fewer than k=3"):
            pick_few_shot(torch.tensor([0, 0, 1, 1, 1]), 3)
        with pytest.raises(ValueError, match=">= 1"):
            pick_few_shot(torch.tensor([0, 1]), 0)


class _Bands(torch.nn.Module):
    """(N, 4 * T) -> (N, 4, T) -> dropout -> BatchNorm1d(4) -> mean over time -> linear: a model
    whose BatchNorm input is the waveform itself, so that its statistics can be computed by hand."""

    def __init__(self):
        super().__init__()
        self.drop = torch.nn.Dropout(0.9)
        self.norm = torch.nn.BatchNorm1d(4)
        self.out = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.out(self.norm(self.drop(x.view(len(x), 4, -1))).mean(-1))


def _bands_input(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 3.0 + 2.0 * torch.randn(n, 4 * 50, generator=g)


def _by_hand(x):
    """Mean and unbiased variance of each of the 4 bands over clips and time."""
    bands = x.view(len(x), 4, -1).transpose(0, 1).reshape(4, -1)
    return bands.mean(-1), bands.var(-1)


class TestBatchNormAdapted:
    def test_statistics_are_those_of_the_recordings(self):
        x = _bands_input(10)
        adapted = batchnorm_adapted(_Bands().eval(), x, batch_size=10)
        mean, var = _by_hand(x)
        torch.testing.assert_close(adapted.norm.running_mean, mean)
        torch.testing.assert_close(adapted.norm.running_var, var)

    def test_batches_weigh_equally_and_a_last_single_clip_joins_the_batch_before(self):
        x = _bands_input(7)
        adapted = batchnorm_adapted(_Bands().eval(), x, batch_size=3)  # batches 0:3 and 3:7
        (m1, v1), (m2, v2) = _by_hand(x[:3]), _by_hand(x[3:])
        torch.testing.assert_close(adapted.norm.running_mean, (m1 + m2) / 2)
        torch.testing.assert_close(adapted.norm.running_var, (v1 + v2) / 2)

    def test_dropout_stays_off_and_the_weights_stay(self):
        model = _Bands().eval()
        before = {k: v.clone() for k, v in model.state_dict().items()}
        adapted = batchnorm_adapted(model, _bands_input(6))
        assert adapted is not model and not adapted.training and adapted.norm.momentum == model.norm.momentum
        for k, v in model.state_dict().items():  # the model itself is unchanged
            torch.testing.assert_close(v, before[k])
        for k, v in adapted.state_dict().items():  # the copy differs in its statistics only
            if k.startswith("norm.running") or k == "norm.num_batches_tracked":
                continue
            torch.testing.assert_close(v, before[k])
        # with dropout on (p = 0.9) the variance would come out about ten times larger
        torch.testing.assert_close(adapted.norm.running_var, _by_hand(_bands_input(6))[1])

    def test_apac_band_statistics_are_those_of_the_speakers_log_mel(self):
        model, (x, _) = _model(), _tones(per_class=4)
        voice = torch.nn.functional.conv1d(x.unsqueeze(1), torch.ones(1, 1, 5) / 5, padding=2).squeeze(1)  # duller
        adapted = batchnorm_adapted(model, voice, batch_size=len(voice))
        with torch.no_grad():
            log_mel, _ = model.frontend(voice)  # (N, n_mels, T): what mel_norm sees
        bands = log_mel.transpose(0, 1).reshape(log_mel.shape[1], -1)
        torch.testing.assert_close(adapted.mel_norm.running_mean, bands.mean(-1))
        torch.testing.assert_close(adapted.mel_norm.running_var, bands.var(-1))
        assert not torch.allclose(model.mel_norm.running_mean, adapted.mel_norm.running_mean)
        with torch.no_grad():
            assert not torch.allclose(model(voice), adapted(voice))

    @pytest.mark.parametrize("waves, batch_size, match", [
        (torch.randn(8000), 50, r"need waves \(N, samples\) with N >= 2 recordings; got shape \(8000,\)"),
        (torch.randn(1, 8000), 50, r"N >= 2 recordings; got shape \(1, 8000\)"),
        (torch.randn(4, 8000), 1, r"batch_size must be >= 2"),
    ])
    def test_bad_input_is_refused(self, waves, batch_size, match):
        with pytest.raises(ValueError, match=match):
            batchnorm_adapted(_Bands(), waves, batch_size=batch_size)

    def test_a_model_without_batchnorm_is_refused(self):
        with pytest.raises(ValueError, match="Linear has no BatchNorm layer: there are no statistics to adapt"):
            batchnorm_adapted(torch.nn.Linear(8000, 3), torch.randn(4, 8000))
