"""Piczak's CNN, Tax et al.'s four configurations (freezing, fine-tuning), and test-time voting."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from torch import nn

from apac_lab.models import (
    PICZAK_CONFIGS, MSTmodel, MSTTarget, PiczakCNN, build_piczak, clip_accuracy, finetune_from, vote_majority,
    vote_probability,
)

FRAMES, SAMPLES = 41, 40 * 512


@pytest.fixture(scope="module")
def target():
    return MSTTarget().fit(torch.randn(4, SAMPLES))


def _step(model, x, y, lr=0.05):
    """One SGD step (Nesterov momentum 0.9, as the paper) on the trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True)
    model.train()
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()


# --- the layer table ------------------------------------------------------------------------------------------


def test_layers_have_the_original_sizes():
    m = PiczakCNN(n_classes=50)
    convs = [l for l in m.features if isinstance(l, nn.Conv2d)]
    pools = [l for l in m.features if isinstance(l, nn.MaxPool2d)]
    dense = [l for l in m.classifier if isinstance(l, nn.Linear)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [(80, (57, 6)), (80, (1, 3))]
    assert [(p.kernel_size, p.stride) for p in pools] == [((4, 3), (1, 3)), ((1, 3), (1, 3))]
    assert [(d.in_features, d.out_features) for d in dense] == [(800, 5000), (5000, 5000), (5000, 50)]
    assert [d.p for d in m.modules() if isinstance(d, nn.Dropout)] == [0.5, 0.5, 0.5]
    assert PiczakCNN(n_classes=10, frames=41, hidden=8).flat_features == 80 * 3


def test_xavier_init():
    m = PiczakCNN(n_classes=10, frames=FRAMES, hidden=64)
    conv = m.features[0]
    bound = (6.0 / (57 * 6 + 80 * 57 * 6)) ** 0.5
    assert float(conv.weight.detach().abs().max()) <= bound and float(conv.bias.detach().abs().max()) == 0.0


# --- shapes and configurations -------------------------------------------------------------------------------


def test_shapes_on_features_and_on_raw_audio(target):
    assert PiczakCNN(n_classes=5, frames=FRAMES, hidden=16)(torch.randn(3, 60, FRAMES)).shape == (3, 5)
    for cfg in ("a", "b", "c"):
        m = build_piczak(cfg, n_classes=5, target=target, mst=MSTmodel(), frames=FRAMES, hidden=16).eval()
        assert m(torch.randn(2, SAMPLES)).shape == (2, 5), cfg
    assert set(PICZAK_CONFIGS) == {"a", "b", "c", "d"}


def test_config_a_has_a_fixed_front_end(target):
    m = build_piczak("a", n_classes=5, target=target, frames=FRAMES, hidden=16)
    assert list(m.frontend.parameters()) == [] and m.frontend is not target  # a copy: moving the model leaves it
    x = torch.randn(2, SAMPLES)
    torch.testing.assert_close(m.frontend(x), target(x))
    with pytest.raises(ValueError, match="fit"):
        build_piczak("a", n_classes=5, target=MSTTarget(), frames=FRAMES)


def test_config_b_is_xavier_initialised_with_dropout():
    m = build_piczak("b", n_classes=5, frames=FRAMES, hidden=16)
    assert isinstance(m.frontend, MSTmodel) and m.frontend.dropout == 0.5 and m.frontend.trainable
    bound = (6.0 / (1024 + 512 * 1024)) ** 0.5
    assert float(m.frontend.conv1.weight.detach().abs().max()) <= bound
    m.train()
    x = torch.randn(2, SAMPLES)
    assert not torch.equal(m.frontend(x), m.frontend(x))  # dropout is active while training


def test_config_c_freezing_really_freezes():
    mst = MSTmodel()
    original = {k: v.clone() for k, v in mst.state_dict().items()}
    c = build_piczak("c", n_classes=3, mst=mst, frames=FRAMES, hidden=16)
    assert c.frontend is not mst and not any(p.requires_grad for p in c.frontend.parameters())
    front = {k: v.clone() for k, v in c.frontend.state_dict().items()}
    head = [p.detach().clone() for p in c.classifier.parameters()]
    x, y = torch.randn(4, SAMPLES), torch.tensor([0, 1, 2, 0])
    c.frontend.zero_grad()
    _step(c, x, y)
    assert all(p.grad is None for p in c.frontend.parameters())
    for k, v in c.frontend.state_dict().items():  # weights AND BatchNorm statistics
        assert torch.equal(v, front[k]), k
    assert any(not torch.equal(p, q) for p, q in zip(c.classifier.parameters(), head))
    for k, v in mst.state_dict().items():
        assert torch.equal(v, original[k]), k
    with pytest.raises(ValueError, match="mst"):
        build_piczak("c", n_classes=3, frames=FRAMES)


def test_config_d_unfreezes_and_trains_the_mst_layers():
    c = build_piczak("c", n_classes=3, mst=MSTmodel(), frames=FRAMES, hidden=16)
    d = finetune_from(c)
    assert d.frontend.trainable and all(p.requires_grad for p in d.frontend.parameters())
    assert not c.frontend.trainable
    before = d.frontend.conv1.weight.detach().clone()
    _step(d, torch.randn(4, SAMPLES), torch.tensor([0, 1, 2, 0]))
    assert not torch.equal(d.frontend.conv1.weight, before)
    assert d.frontend.bn1.training  # unfrozen BatchNorm trains again
    with pytest.raises(ValueError, match="finetune_from"):
        build_piczak("d", n_classes=3)
    with pytest.raises(ValueError, match="MSTmodel"):
        finetune_from(PiczakCNN(n_classes=3, frames=FRAMES, hidden=8))


def test_gradients_reach_every_layer_of_config_b():
    m = build_piczak("b", n_classes=3, frames=FRAMES, hidden=16)
    nn.functional.cross_entropy(m(torch.randn(4, SAMPLES)), torch.tensor([0, 1, 2, 1])).backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


# --- bad inputs ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_mels": 40}, "n_mels"), ({"frames": 12}, "frames"), ({"n_classes": 1}, "n_classes"),
     ({"dropout": 1.0}, "dropout"), ({"hidden": 0}, "hidden")],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PiczakCNN(**{"n_classes": 10, **kwargs})


def test_wrong_input_shape_is_explained():
    m = PiczakCNN(n_classes=3, frames=FRAMES, hidden=8)
    with pytest.raises(ValueError, match="frames=41"):
        m(torch.randn(2, 60, 101))
    raw = PiczakCNN(n_classes=3, frames=FRAMES, hidden=8, frontend=MSTmodel())
    with pytest.raises(ValueError, match="segment length"):
        raw(torch.randn(2, 51200))
    with pytest.raises(ValueError, match="unknown configuration"):
        build_piczak("e", n_classes=3)


# --- voting --------------------------------------------------------------------------------------------------


def test_majority_vote_by_hand():
    # clip 7: votes 2, 2, 1 -> 2; clip 3: votes 0, 1, 1, 1 -> 1
    preds = torch.tensor([2, 0, 2, 1, 1, 1, 1])
    ids = torch.tensor([7, 3, 7, 7, 3, 3, 3])
    clips, labels = vote_majority(preds, ids)
    assert clips.tolist() == [3, 7] and labels.tolist() == [1, 2]


def test_majority_vote_from_probabilities_and_tie_break():
    # two segments, one vote each for classes 0 and 2: the tie goes to the larger summed probability (class 2)
    probs = torch.tensor([[0.50, 0.20, 0.30], [0.05, 0.05, 0.90]])
    assert vote_majority(probs, torch.tensor([0, 0]))[1].tolist() == [2]
    # three segments: two votes for 0 beat one confident vote for 1, whatever the probability mass
    probs = torch.tensor([[0.4, 0.35, 0.25], [0.4, 0.35, 0.25], [0.0, 1.0, 0.0]])
    assert vote_majority(probs, torch.tensor([0, 0, 0]))[1].tolist() == [0]
    assert vote_majority(torch.log(probs + 1e-9), torch.tensor([0, 0, 0]))[1].tolist() == [0]  # logits too


def test_probability_vote_by_hand():
    probs = torch.tensor([[0.9, 0.1], [0.3, 0.7], [0.35, 0.65], [0.2, 0.8]])
    ids = torch.tensor([0, 0, 0, 1])
    # clip 0: mean p(0) = 1.55 / 3 = 0.517 > 0.483 -> class 0, though the majority says 1
    assert vote_probability(probs, ids)[1].tolist() == [0, 1]
    assert vote_majority(probs, ids)[1].tolist() == [1, 1]


def test_clip_accuracy_by_hand():
    probs = torch.tensor([[0.9, 0.1], [0.3, 0.7], [0.35, 0.65], [0.2, 0.8], [0.6, 0.4]])
    labels = torch.tensor([0, 0, 0, 1, 1])
    ids = torch.tensor([0, 0, 0, 1, 2])
    assert clip_accuracy(probs, labels, ids, method="majority") == pytest.approx(1 / 3)
    assert clip_accuracy(probs, labels, ids, method="probability") == pytest.approx(2 / 3)


def test_voting_bad_inputs():
    with pytest.raises(ValueError, match="clip ids"):
        vote_majority(torch.tensor([0, 1]), torch.tensor([0]))
    with pytest.raises(ValueError, match="probabilities"):
        vote_probability(torch.tensor([0, 1]), torch.tensor([0, 0]))
    with pytest.raises(ValueError, match="no segments"):
        vote_majority(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long))
    with pytest.raises(ValueError, match="method"):
        clip_accuracy(torch.rand(2, 2), torch.tensor([0, 0]), torch.tensor([0, 0]), method="mean")
    with pytest.raises(ValueError, match="different labels"):
        clip_accuracy(torch.rand(2, 2), torch.tensor([0, 1]), torch.tensor([0, 0]))


# --- the experiment end to end on a tiny set ------------------------------------------------------------------


def _accuracies_by_hand(probs, labels, clip_ids) -> tuple[float, float, float]:
    """Segment accuracy, then clip accuracy by majority vote (a tie goes to the tied class of highest summed
    probability) and by mean probability, one clip at a time."""
    segment = float((probs.argmax(-1) == labels).float().mean())
    clips = sorted(set(clip_ids.tolist()))
    majority = probability = 0
    for c in clips:
        p, label = probs[clip_ids == c], int(labels[clip_ids == c][0])
        votes = Counter(p.argmax(-1).tolist())
        tied = [k for k, n in votes.items() if n == max(votes.values())]
        majority += max(tied, key=lambda k: float(p[:, k].sum())) == label
        probability += int(p.mean(0).argmax()) == label
    return segment, majority / len(clips), probability / len(clips)


def test_the_experiment_runs_end_to_end_on_a_tiny_set():
    from apac_lab.recipes import MSTSettings, format_results, run_comparison

    s = MSTSettings.quick(dataset="synthetic", per_class=2, test_per_class=1, clip_seconds=1.0, frames=21, hidden=8,
                          mst_training={"epochs": 1}, classifier_training={"epochs": 1, "batch_size": 16},
                          finetune_training={"epochs": 1})
    r = run_comparison(s)
    assert [row["config"] for row in r["rows"]] == ["a", "b", "c", "d"]
    test = r["segments"]["test"]
    assert (len(test), test.num_clips) == (30, 10)  # three 21-frame segments per 1 s clip: the votes matter
    x = torch.stack([test[i][0] for i in range(len(test))])
    labels, clip_ids = torch.as_tensor(test.labels), torch.as_tensor(test.clip_ids)
    for row in r["rows"]:  # each accuracy, recomputed from the returned model's predictions by a slow loop
        model = r["models"][row["config"]].eval()
        with torch.no_grad():
            probs = model(x).softmax(-1)
        segment, majority, probability = _accuracies_by_hand(probs, labels, clip_ids)
        assert row["segment"] == pytest.approx(segment, abs=1e-6), row["config"]
        assert row["majority"] == pytest.approx(majority, abs=1e-6), row["config"]
        assert row["probability"] == pytest.approx(probability, abs=1e-6), row["config"]
        assert row["epochs"] == len(r["histories"][row["config"]]) == 1
    # (c) kept the learned layers exactly; (d) trained them further
    mst = r["mst"].state_dict()
    c_front, d_front = r["models"]["c"].frontend.state_dict(), r["models"]["d"].frontend.state_dict()
    assert all(torch.equal(c_front[k], v) for k, v in mst.items())
    assert not torch.equal(d_front["conv1.weight"], mst["conv1.weight"])
    assert r["rows"][0]["trainable"] == r["rows"][2]["trainable"] < r["rows"][1]["trainable"]
    table = format_results(r)
    assert "(c) raw, learned MST layers frozen" in table and "paper" in table
