"""The registry: any model with any front-end mode, the fifth mode's FSDD checkpoint, errors."""

from __future__ import annotations

import pytest
import torch

from apac_lab.models import MODES, TRAINABLE_MEL_STFT, build_model, count_parameters, list_models
from apac_lab.recipes import pretrain_fsdd_frontend


def test_names_and_modes():
    assert list_models() == ["apac", "mobilenetv2", "resnet50", "tiny", "vgg19"]
    assert MODES == ("std", "mel", "stft", "mel+stft", "mel+stft+fsdd")


# Every mode for the cheap models; each baseline with some trainable mode (VGG19 takes 2 s to build).
CASES = [("apac", m) for m in MODES[:4]] + [("tiny", m) for m in MODES[:4]] + [
    ("mobilenetv2", "std"), ("mobilenetv2", "mel+stft"), ("resnet50", "stft"), ("vgg19", "mel")]


@pytest.mark.parametrize("name, mode", CASES)
def test_build_any_model_with_any_mode(name, mode):
    sr = 8000
    model = build_model(name, n_classes=7, sample_rate=sr, mode=mode).eval()
    assert model.model_name == name and model.frontend.mode == mode and model.frontend.sample_rate == sr
    assert model.frontend.n_mfcc == (64 if name == "apac" else 0)  # only APAC has an MFCC pathway
    with torch.no_grad():
        assert model(torch.randn(2, sr)).shape == (2, 7)
    fe_trainable = {n.split(".")[-1] for n, p in model.frontend.named_parameters() if p.requires_grad}
    mel, stft = TRAINABLE_MEL_STFT[mode]
    assert fe_trainable == ({"mel_basis"} if mel else set()) | ({"wsin", "wcos"} if stft else set())


@pytest.mark.parametrize("sample_rate", [16000, 8000])
def test_tiny_at_both_rates_trains(sample_rate):
    torch.manual_seed(0)
    model = build_model("tiny", n_classes=2, sample_rate=sample_rate, mode="mel")
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x = torch.randn(4, sample_rate)
    y = torch.tensor([0, 1, 0, 1])
    losses = []
    for _ in range(5):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(), loss.backward(), opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_keyword_arguments_reach_front_end_and_model():
    small = build_model("apac", n_classes=10, n_mels=64, n_mfcc=20, width_mult=0.5)
    assert small.frontend.n_mels == 64 and small.frontend.n_mfcc == 20
    assert count_parameters(small) < count_parameters(build_model("apac", n_classes=10))
    assert small(torch.randn(1, 16000)).shape == (1, 10)
    assert build_model("mobilenetv2", n_classes=3, width_mult=0.5).backbone.features[0][0].out_channels == 16


def test_count_parameters_trainable_only():
    model = build_model("tiny", n_classes=3, mode="mel")
    for p in model.frontend.parameters():
        p.requires_grad_(False)
    assert count_parameters(model) - count_parameters(model, trainable_only=True) == 128 * 1025


@pytest.fixture(scope="module")
def fsdd_checkpoint(tmp_path_factory):
    """A front-end pre-trained for one epoch on a tiny FSDD tree made here (8 kHz, 32 mels).

    Digit 0 has 4 training clips per speaker, digits 1 and 2 have 2 (the test split is balanced: indices
    0-4), so even a net that always says the same digit scores differently on the two splits."""
    import numpy as np
    import soundfile as sf

    root = tmp_path_factory.mktemp("data") / "fsdd"
    (root / "recordings").mkdir(parents=True)
    t = np.arange(4000) / 8000
    for d in range(3):
        for spk in ("ann", "bob"):
            for i in range(9 if d == 0 else 7):
                sf.write(root / "recordings" / f"{d}_{spk}_{i}.wav",
                         (0.3 * np.sin(2 * np.pi * (200 + 150 * d + 5 * i) * t)).astype(np.float32), 8000)
    out = tmp_path_factory.mktemp("ckpt") / "fsdd_frontend"
    info = pretrain_fsdd_frontend(out=str(out), sample_rate=8000, model="tiny", epochs=1, batch_size=8,
                                  data_root=str(root), model_kwargs={"n_mels": 32}, quiet=True)
    return {**info, "root": root, "net": info["run"]["model"]}  # the trained classifier, to recompute its accuracy


def test_pretraining_reports_the_test_accuracy_of_the_trained_net(fsdd_checkpoint):
    """The accuracy reported (and saved) is the trained classifier's on FSDD's official test split, exactly."""
    from apac_lab.data import load_fsdd

    info = fsdd_checkpoint
    assert info["path"].is_file() and info["dataset"] == "fsdd/train"
    test = load_fsdd(info["root"], split="test")
    x, y = test.tensors()
    assert len(test) == 3 * 2 * 5 and x.shape == (30, 8000)  # indices 0-4 of each digit and speaker
    net = info["net"].eval()
    with torch.no_grad():
        correct = int((net(x).argmax(-1) == y).sum())
    assert info["test_accuracy"] == pytest.approx(correct / 30, abs=1e-6)  # a float32 of k / 30
    assert torch.load(info["path"], weights_only=True)["meta"]["test_accuracy"] == pytest.approx(correct / 30, abs=1e-6)


def test_fifth_mode_starts_from_the_fsdd_checkpoint(fsdd_checkpoint):
    info = fsdd_checkpoint
    cold = build_model("apac", n_classes=35, sample_rate=8000, mode="mel+stft", n_mels=32)
    warm = build_model("apac", n_classes=35, sample_rate=8000, mode="mel+stft+fsdd", n_mels=32,
                       checkpoint=info["path"])
    saved = torch.load(info["path"], weights_only=True)["frontend"]
    for name in ("mel.layer.mel_basis", "mel.layer.stft.wsin", "mel.layer.stft.wcos"):
        got = dict(warm.frontend.named_parameters())[name]
        assert torch.equal(got, saved[name]) and got.requires_grad  # loaded, and fine-tuned from there
    assert not torch.equal(warm.frontend.mel.layer.mel_basis, cold.frontend.mel.layer.mel_basis)  # it was trained
    assert warm(torch.randn(2, 8000)).shape == (2, 35)
    # Any model takes the fifth mode.
    assert build_model("tiny", n_classes=2, sample_rate=8000, mode="mel+stft+fsdd", n_mels=32,
                       checkpoint=info["path"])(torch.randn(1, 8000)).shape == (1, 2)
    with pytest.raises(ValueError, match="sample_rate: checkpoint 8000 vs model 16000"):
        build_model("apac", n_classes=3, mode="mel+stft+fsdd", n_mels=32, checkpoint=info["path"])


@pytest.mark.parametrize(
    "name, kw, match",
    [
        ("alexnet", {}, r"unknown model 'alexnet'; choose one of \['apac', 'mobilenetv2', 'resnet50', 'tiny', 'vgg19'\]"),
        ("apac", {"mode": "gammatone"}, "unknown front-end mode 'gammatone'"),
        ("apac", {"n_classes": 1}, "n_classes must be an int >= 2"),
        ("apac", {"mode": "mel+stft+fsdd"}, "pass checkpoint=PATH"),
        ("apac", {"pretrained": True}, "'apac' has no ImageNet weights"),
        ("tiny", {"depth": 3}, "unexpected keyword"),
        ("tiny", {"sample_rate": 0}, "sample_rate must be > 0"),
    ],
)
def test_errors(name, kw, match):
    kw = {"n_classes": 3, **kw}
    with pytest.raises(ValueError, match=match):
        build_model(name, **kw)


def test_bad_input_through_the_registry():
    model = build_model("mobilenetv2", n_classes=3, sample_rate=8000)
    with pytest.raises(ValueError, match="audio too short: 100 samples, need at least 1024"):
        model(torch.randn(1, 100))
    with pytest.raises(ValueError, match="expected a batch of waveforms"):
        model(torch.randn(8000))
