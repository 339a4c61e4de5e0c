"""Piczak's CNN (with and without deltas), Tax et al.'s four configurations (freezing, fine-tuning),
test-time voting, and the experiment end to end: cached front-ends, results, targets, time estimate."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from torch import nn

from apac_lab import papers
from apac_lab.frontends import WithDeltas, spectral_deltas
from apac_lab.models import (
    PICZAK_CONFIGS, MSTmodel, MSTTarget, PiczakCNN, build_piczak, clip_accuracy, finetune_from, paper_comparator,
    vote_majority, vote_probability,
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


def test_config_a_with_deltas_sees_the_log_mel_and_its_deltas(target):
    m = build_piczak("a", n_classes=5, target=target, frames=FRAMES, hidden=16, deltas="piczak").eval()
    assert isinstance(m.frontend, WithDeltas) and m.in_channels == 2 and m.features[0].in_channels == 2
    x = torch.randn(2, SAMPLES)
    feats = m.frontend(x)
    torch.testing.assert_close(feats[:, 0], target(x))
    torch.testing.assert_close(feats[:, 1], spectral_deltas(target(x), method="piczak"))
    assert m(x).shape == (2, 5)
    with pytest.raises(ValueError, match="configuration 'a'"):
        build_piczak("c", n_classes=5, mst=MSTmodel(), frames=FRAMES, deltas="piczak")


def test_two_channel_input_without_a_front_end():
    m = PiczakCNN(n_classes=4, frames=FRAMES, hidden=8, in_channels=2)
    assert m(torch.randn(3, 2, 60, FRAMES)).shape == (3, 4)
    with pytest.raises(ValueError, match="in_channels"):
        m(torch.randn(3, 60, FRAMES))
    with pytest.raises(ValueError, match="in_channels must be"):
        PiczakCNN(n_classes=4, in_channels=0)


def test_the_papers_comparator_is_piczak_without_deltas_53_percent():
    assert paper_comparator("a") is papers.figure("tax2017.piczak.no_deltas")
    assert paper_comparator("a").value == 0.53 and paper_comparator("a").shown == "~53%"
    assert paper_comparator("a", deltas=True) is papers.figure("tax2017.piczak.deltas")
    assert paper_comparator("a", deltas=True).value == 0.62
    assert [paper_comparator(c) for c in "bcd"] == [None, None, None]
    assert not any("64.5" in v["paper"] for v in PICZAK_CONFIGS.values())
    with pytest.raises(ValueError, match="unknown configuration"):
        paper_comparator("e")


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


def _tiny(**changes):
    from apac_lab.recipes import MSTSettings

    base = dict(dataset="synthetic", per_class=2, test_per_class=1, clip_seconds=1.0, frames=21, hidden=8,
                progress=False, mst_training={"epochs": 1}, classifier_training={"epochs": 1, "batch_size": 16},
                finetune_training={"epochs": 1})
    return MSTSettings.quick(**{**base, **changes})


@pytest.fixture(scope="module")
def tiny():
    """A tiny run's settings, segments and trained MSTmodel, shared by the tests below."""
    from apac_lab.recipes import load_segments, train_mst

    s = _tiny()
    segs = load_segments(s)
    mst, target, hist = train_mst(segs, s)
    return {"settings": s, "segments": segs, "mst": mst, "target": target, "history": hist}


def test_the_experiment_runs_end_to_end_on_a_tiny_set(tiny):
    from apac_lab.recipes import format_results, run_comparison

    r = run_comparison(tiny["settings"], segments=tiny["segments"], mst=tiny["mst"], target=tiny["target"],
                       mst_history=tiny["history"])
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
    assert "(c) raw, learned MST layers frozen" in table and "Tax et al.: ~53% (Piczak's CNN without deltas)" in table
    assert "protocol: synthetic test split here" in table and "5-fold" in table


def test_the_mse_ratio_is_the_models_mse_over_the_mean_predictors(tiny):
    from apac_lab.models import model_outputs
    from apac_lab.recipes import mst_scores

    segs, mst, target, hist = tiny["segments"], tiny["mst"], tiny["target"], tiny["history"]
    scores = mst_scores(mst, target, segs)
    val = segs["validation"].segments()
    truth, pred = target(val), model_outputs(mst, val)
    mean = target(segs["train"].segments()).mean(dim=0)
    assert scores["val_mse"] == pytest.approx(float((pred - truth).pow(2).mean()), rel=1e-5)
    assert scores["val_mse"] == pytest.approx(hist[-1]["val_loss"], rel=1e-4)  # what the loop saw
    assert scores["mean_mse"] == pytest.approx(float((truth - mean).pow(2).mean()), rel=1e-5)
    assert scores["ratio"] == pytest.approx(scores["val_mse"] / scores["mean_mse"])
    assert scores["met"] == (scores["ratio"] <= 0.5)


@pytest.mark.parametrize("config", ["a", "c"])
def test_a_frozen_front_end_run_once_trains_the_same_model(config, tiny):
    from apac_lab.recipes import train_classifier

    s = _tiny(classifier_training={"epochs": 2, "batch_size": 16})
    segs, mst, target = tiny["segments"], tiny["mst"], tiny["target"]
    cached, h1 = train_classifier(config, segs, s, target=target, mst=mst)
    inline, h2 = train_classifier(config, segs, s, target=target, mst=mst, cache_frozen=False)
    for a, b in zip(h1, h2):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-4)
    for (k, v), w in zip(cached.state_dict().items(), inline.state_dict().values()):
        torch.testing.assert_close(v, w, rtol=1e-4, atol=1e-5, msg=k)
    assert cached.frontend is not None  # the front-end is back in place


def test_config_a_with_deltas_in_the_experiment_and_its_table(tiny):
    from apac_lab.recipes import format_results, load_segments, run_comparison

    s = _tiny(deltas="regression", variations=1, variation_delay_s=0.1)
    r = run_comparison(s, segments=load_segments(s), configs=("a", "c"), mst=tiny["mst"], target=tiny["target"])
    a = r["rows"][0]
    assert a["deltas"] == "regression" and a["variations"] == 1 and a["paper_value"] == 0.62
    assert r["models"]["a"].in_channels == 2 and r["models"]["c"].in_channels == 1
    assert r["segments"]["train"].variations == 1 and not r["segments"]["validation"].augmented.any()
    assert not r["segments"]["test"].augmented.any()
    table = format_results(r)
    assert "regression" in table and "~62% (Piczak's CNN with deltas)" in table


def test_result_rows_hold_the_targets():
    from apac_lab.recipes import MST_RESULT_NAMES, MST_TARGETS, mst_result_rows

    result = {"mst_scores": {"ratio": 0.4, "met": True},
              "rows": [{"config": c, "majority": v} for c, v in zip("abcd", (0.95, 0.3, 0.25, 0.5))]}
    rows = mst_result_rows(result)
    assert [r["result"] for r in rows] == [MST_RESULT_NAMES[k] for k in ("mst", "a", "b", "c", "d")]
    assert [r["value"] for r in rows] == [0.4, 0.95, 0.3, 0.25, 0.5]
    assert [r["met"] for r in rows] == [True, True, True, False, True]  # (c) below (b)
    assert rows[1]["target"] == f">= {MST_TARGETS['a_accuracy']}" and rows[3]["target"] == ">= (b) = 0.300"
    assert MST_TARGETS == {"mst_mse_ratio": 0.5, "a_accuracy": 0.90}


def test_the_estimate_times_real_steps_of_every_training(tiny):
    from apac_lab.recipes import mst_estimate_run, format_mst_estimate

    s, segs = _tiny(mst_training={"epochs": 3}), tiny["segments"]
    est = mst_estimate_run(s, segs, steps=1)
    names = [t["name"] for t in est["trainings"]]
    assert names == ["MSTmodel"] + [PICZAK_CONFIGS[c]["name"] for c in "abcd"]
    mst = est["trainings"][0]
    assert mst["epochs"] == 3 and mst["steps_per_epoch"] == -(-len(segs["train"]) // s.mst_training.batch_size)
    assert all(t["seconds_per_step"] > 0 for t in est["trainings"])
    assert est["seconds"] == pytest.approx(sum(t["seconds"] for t in est["trainings"]))
    text = format_mst_estimate(est)
    assert "ms/step" in text and "in all: about" in text


def test_data_needed_says_what_to_download(monkeypatch, tmp_path):
    from apac_lab.recipes import MSTSettings, mst_data_needed

    monkeypatch.setenv("APAC_LAB_DATA", str(tmp_path))
    monkeypatch.setattr("apac_lab.data.resolve.data_home", lambda: tmp_path / "cache")
    full = MSTSettings.full()
    assert "forbids the download" in mst_data_needed(full) and "SYNTHETIC" in mst_data_needed(full)
    monkeypatch.setenv("APAC_LAB_OFFLINE", "0")
    assert "download it first" in mst_data_needed(full) and "github.com/karolpiczak/ESC-50" in mst_data_needed(full)
    assert "downloaded first (16 MB" in mst_data_needed(MSTSettings.classroom())
    (tmp_path / "fsdd").mkdir()
    (tmp_path / "fsdd" / "x.wav").write_bytes(b"")
    assert "found at" in mst_data_needed(MSTSettings.classroom())
