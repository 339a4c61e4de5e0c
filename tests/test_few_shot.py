"""Few-shot fine-tuning: a copy is trained, the chosen layers only, norms kept; seeded picks."""

import pytest
import torch

from apac_lab.models import build_model
from apac_lab.train.few_shot import fine_tune_few_shot, pick_few_shot

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
