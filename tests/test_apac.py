"""APAC and its blocks: shapes, gradients, determinism, parameter count, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from apac_lab.models import (
    APAC, CBAM, MODES, DepthwiseSeparableConv, InvertedResidual, SqueezeExcitation, count_parameters, make_divisible,
)
from apac_lab.plots import layer_shapes

TRAINABLE_MODES = [m for m in MODES if m != "mel+stft+fsdd"]  # the fifth needs a checkpoint: test_registry


# ---------------------------------------------------------------- blocks
def test_inverted_residual_skip_and_structure():
    same = InvertedResidual(16, 16, 1, expand_ratio=4)
    down = InvertedResidual(16, 24, 2, expand_ratio=4)
    assert same.use_skip and not down.use_skip
    assert down(torch.randn(2, 16, 8, 8)).shape == (2, 24, 4, 4)
    # 1x1 expansion, 3x3 depthwise, linear 1x1 projection; a BatchNorm after each conv; ReLU6 inside only.
    convs = [m for m in same.modules() if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(1, 1), (3, 3), (1, 1)]
    assert convs[1].groups == 64
    assert sum(isinstance(m, nn.BatchNorm2d) for m in same.modules()) == 3
    assert sum(isinstance(m, nn.ReLU6) for m in same.modules()) == 2
    assert isinstance(list(same.conv)[-1], nn.BatchNorm2d)  # linear bottleneck: no activation at the end
    # The skip: with the residual branch zeroed, the block is the identity.
    nn.init.zeros_(list(same.conv)[-1].weight)
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(same.eval()(x), x)


def test_attention_gates_are_probabilities_and_keep_shape():
    x = torch.randn(2, 32, 16, 8)
    cbam, se = CBAM(32), SqueezeExcitation(32)
    assert cbam(x).shape == x.shape and se(x).shape == x.shape
    for gate in (cbam.channel.gate(x), cbam.spatial.gate(x), se.gate(x)):
        assert ((gate > 0) & (gate < 1)).all()
    assert cbam.channel.gate(x).shape == (2, 32, 1, 1) and cbam.spatial.gate(x).shape == (2, 1, 16, 8)


def test_depthwise_separable_has_one_norm_and_one_activation():
    ds = DepthwiseSeparableConv(8, 12, stride=2)
    assert ds(torch.randn(1, 8, 10, 6)).shape == (1, 12, 5, 3)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in ds.modules()) == 1
    assert sum(isinstance(m, nn.GELU) for m in ds.modules()) == 1
    assert ds.depthwise.groups == 8
    # Fewer parameters than the full 3x3 conv it replaces.
    assert count_parameters(ds) < count_parameters(nn.Conv2d(8, 12, 3))


def test_make_divisible():
    assert [make_divisible(v) for v in (8, 12, 16 * 0.5, 37)] == [8, 16, 8, 40]


# ---------------------------------------------------------------- shapes
@pytest.mark.parametrize("sample_rate", [16000, 8000])
@pytest.mark.parametrize("mode", TRAINABLE_MODES)
def test_shapes_one_second(sample_rate, mode):
    model = APAC(12, sample_rate=sample_rate, mode=mode).eval()
    out = model(torch.randn(3, sample_rate))
    assert out.shape == (3, 12)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("sample_rate", [16000, 8000])
def test_block_shapes(sample_rate):
    model = APAC(10, sample_rate=sample_rate).eval()
    shapes = {r["name"]: r["shape"] for r in layer_shapes(model, torch.randn(2, sample_rate))}
    # The hop keeps 32 ms at any rate: 1 s gives 32 frames at 16 and at 8 kHz.
    assert shapes["frontend"] == "128×32 + 64×32"  # log-mel + MFCC
    assert shapes["branch3"] == shapes["branch7"] == "16×64×16"
    assert shapes["cbam_in"] == "32×64×16"  # the two branches concatenated
    assert shapes["blocks.5"] == "96×8×2"
    assert shapes["head"] == "160×8×2"  # pooled to 160, fused with the MFCC pathway's 64: 224
    assert shapes["aux"] == "64"
    assert shapes["classifier"] == "10"
    assert model.classifier[0].normalized_shape == (224,)


def test_accepts_channel_dim_and_other_lengths():
    model = APAC(5).eval()
    x = torch.randn(2, 1, 16000)
    assert torch.equal(model(x), model(x[:, 0]))
    assert model(torch.randn(1, 2048)).shape == (1, 5)  # one window: the shortest clip
    assert model(torch.randn(1, 40000)).shape == (1, 5)


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("mode", TRAINABLE_MODES)
def test_every_parameter_gets_a_gradient(mode):
    torch.manual_seed(0)
    model = APAC(4, sample_rate=8000, mode=mode).train()
    x, y = torch.randn(4, 8000), torch.tensor([0, 1, 2, 3])
    nn.functional.cross_entropy(model(x), y).backward()
    params = dict(model.named_parameters())
    missing = [n for n, p in params.items() if p.grad is None or not torch.isfinite(p.grad).all() or not p.grad.abs().sum() > 0]
    assert not missing
    fe = {n for n in params if n.startswith("frontend.")}
    expected = {"std": set(), "mel": {"frontend.mel.layer.mel_basis"},
                "stft": {"frontend.mel.layer.stft.wsin", "frontend.mel.layer.stft.wcos"}}
    expected["mel+stft"] = expected["mel"] | expected["stft"]
    assert fe == expected[mode]


# ---------------------------------------------------------------- determinism
def test_eval_is_deterministic_and_batch_independent():
    torch.manual_seed(0)
    model = APAC(10, mode="mel").eval()
    x = torch.randn(3, 16000)
    x[1] *= 1e-3  # a quiet clip: its MFCC floor must not depend on its louder batch-mates
    a, b = model(x), model(x)
    assert torch.equal(a, b)
    alone = torch.cat([model(x[i : i + 1]) for i in range(3)])
    assert torch.allclose(a, alone, atol=1e-4)


def test_train_mode_dropout_differs_eval_does_not():
    torch.manual_seed(0)
    model = APAC(10)
    model(torch.randn(4, 16000))  # one step of BatchNorm statistics
    x = torch.randn(4, 16000)
    model.train()
    assert not torch.equal(model(x), model(x))  # dropout
    model.eval()
    assert torch.equal(model(x), model(x))


# ---------------------------------------------------------------- size
def test_parameter_count():
    model = APAC(35)
    n = count_parameters(model)
    net = n - count_parameters(model.frontend)
    print(f"\nAPAC (35 classes, std mode, 16 kHz): {n:,} parameters")
    assert n == net  # std: a fixed front-end
    assert 300_000 < n < 600_000
    # The trainable front-ends add nnAudio's mel basis (n_mels x bins) and STFT kernels (2 x bins x n_fft).
    assert count_parameters(APAC(35, mode="mel")) - n == 128 * 1025
    assert count_parameters(APAC(35, mode="stft")) - n == 2 * 1025 * 2048
    assert count_parameters(APAC(35, mode="mel+stft", sample_rate=8000)) - n == 128 * 513 + 2 * 513 * 1024
    assert count_parameters(APAC(35, width_mult=0.5)) < n


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "x, match",
    [
        (torch.randn(16000), r"for one clip use x.unsqueeze\(0\)"),
        (torch.randn(2, 2, 16000), "mix to mono"),
        (torch.zeros(2, 16000, dtype=torch.int16), "floating point"),
        (torch.randn(2, 1000), "audio too short: 1000 samples, need at least 2048"),
    ],
)
def test_bad_input_is_a_clear_error(x, match):
    with pytest.raises(ValueError, match=match):
        APAC(3)(x)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"mode": "gabor"}, "unknown front-end mode 'gabor'; choose one of"),
        ({"n_classes": 1}, "n_classes must be >= 2"),
        ({"n_mfcc": 0}, "needs its MFCC pathway"),
        ({"n_mfcc": 200}, "n_mfcc must be in"),
        ({"width_mult": 0}, "width_mult must be > 0"),
        ({"dropout": 1.0}, "dropout must be in"),
        ({"mode": "mel+stft+fsdd"}, "pass checkpoint=PATH"),
    ],
)
def test_bad_settings_are_clear_errors(kw, match):
    kw = {"n_classes": 3, **kw}
    with pytest.raises(ValueError, match=match):
        APAC(kw.pop("n_classes"), **kw)
