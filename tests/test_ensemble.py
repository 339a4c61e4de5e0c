"""ProbabilityEnsemble: the average of its members' probabilities, trainable, clear errors."""

import math

import pytest
import torch
from torch import nn

from apac_lab.models import ProbabilityEnsemble, build_model
from apac_lab.train.few_shot import fine_tune_few_shot


class TestValues:
    def test_softmax_of_output_is_the_mean_of_member_probabilities(self):
        torch.manual_seed(0)
        members = [nn.Linear(5, 4) for _ in range(3)]
        x = torch.randn(7, 5)
        want = sum(m(x).softmax(-1) for m in members) / 3
        got = ProbabilityEnsemble(members)(x)
        torch.testing.assert_close(got.softmax(-1), want)
        torch.testing.assert_close(got.exp(), want)  # already normalised: log-probabilities

    def test_one_member_gives_its_log_softmax(self):
        torch.manual_seed(1)
        m = nn.Linear(3, 2)
        x = torch.randn(4, 3)
        torch.testing.assert_close(ProbabilityEnsemble([m])(x), m(x).log_softmax(-1))

    def test_confident_members_stay_finite(self):
        class Const(nn.Module):
            def __init__(self, row):
                super().__init__()
                self.row = torch.tensor(row)

            def forward(self, x):
                return self.row.expand(len(x), -1)

        out = ProbabilityEnsemble([Const([1000.0, -1000.0]), Const([-1000.0, 1000.0])])(torch.zeros(2, 1))
        torch.testing.assert_close(out, torch.full((2, 2), math.log(0.5)))


class TestTraining:
    def test_gradients_reach_every_member(self):
        torch.manual_seed(0)
        members = [nn.Linear(5, 3), nn.Linear(5, 3)]
        loss = nn.functional.cross_entropy(ProbabilityEnsemble(members)(torch.randn(6, 5)), torch.tensor([0, 1, 2] * 2))
        loss.backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for m in members for p in m.parameters())

    def test_few_shot_fine_tunes_a_copy_of_every_member(self):
        torch.manual_seed(0)
        nets = [build_model("apac", n_classes=3, sample_rate=8000, width_mult=0.25, n_mels=16, n_mfcc=8)
                for _ in range(2)]
        ens = ProbabilityEnsemble(nets)
        before = [p.clone() for p in ens.parameters()]
        tuned, info = fine_tune_few_shot(ens, torch.randn(6, 8000), torch.tensor([0, 1, 2] * 2), steps=2, lr=1e-3)
        assert info["trained_parameters"] == sum(p.numel() for p in ens.parameters())
        assert all(torch.equal(a, b) for a, b in zip(before, ens.parameters()))  # the original is untouched
        for i in range(2):
            assert any(not torch.equal(a, b) for a, b in zip(nets[i].parameters(), tuned.members[i].parameters()))


class TestErrors:
    def test_no_members(self):
        with pytest.raises(ValueError, match="at least one nn.Module"):
            ProbabilityEnsemble([])

    def test_a_member_that_is_not_a_module(self):
        with pytest.raises(ValueError, match="at least one nn.Module"):
            ProbabilityEnsemble([nn.Linear(2, 2), "model.pt"])

    def test_members_with_different_classes(self):
        with pytest.raises(ValueError, match="same classes"):
            ProbabilityEnsemble([nn.Linear(2, 3), nn.Linear(2, 4)])(torch.randn(1, 2))
