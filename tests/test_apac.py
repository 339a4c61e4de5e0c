"""APAC and its blocks: shapes, gradients, determinism, parameter count, errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from apac_lab.models import (
    APAC, CBAM, MODES, DepthwiseSeparableConv, InvertedResidual, SqueezeExcitation, build_model, count_parameters,
    make_divisible,
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


# ---------------------------------------------------------------- reference output
REFERENCE = Path(__file__).parent / "data" / "apac_forward_reference.json"


def _reference_input() -> torch.Tensor:
    """Three 1 s clips at 8 kHz, from a formula (no RNG): gliding harmonic tones under Gaussian envelopes."""
    t = torch.arange(8000, dtype=torch.float64) / 8000
    rows = []
    for b in range(3):
        f0 = 150.0 + 100.0 * b
        tone = sum(torch.sin(2 * math.pi * k * f0 * t * (1 + 0.2 * t)) / k for k in range(1, 6))
        rows.append(tone * torch.exp(-(((t - 0.5) / (0.15 + 0.1 * b)) ** 2)))
    x = torch.stack(rows)
    return (0.3 * x / x.abs().amax()).float()


def apac_reference_outputs() -> dict[str, list]:
    """The full APAC forward (``build_model("apac", ...)``, seed 0) on :func:`_reference_input`.

    One train-mode pass (seed 1 for dropout) sets every BatchNorm's running statistics to that batch's
    (cumulative average), so the eval pass after it normalises for real: moving a norm, merging the stem
    branches or the two pathways in another order, or dropping a block changes these numbers.
    Regenerate (only for an intended change of the model) with
    ``PYTHONPATH=. python -c "import sys; sys.path.insert(0, 'tests'); import test_apac; test_apac.write_reference()"``.
    """
    torch.manual_seed(0)
    model = build_model("apac", n_classes=10, sample_rate=8000)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.momentum = None
    x = _reference_input()
    fused = []
    hook = model.classifier.register_forward_pre_hook(lambda module, args: fused.append(args[0]))
    with torch.no_grad():
        torch.manual_seed(1)
        train = model.train()(x)
        logits = model.eval()(x)
    hook.remove()
    main, aux = fused[-1][:, :160], fused[-1][:, 160:]  # the classifier's input: [main (160), aux (64)]
    return {"train_logits": train.tolist(), "eval_logits": logits.tolist(),
            "main_sum": main.sum(1).tolist(), "aux_sum": aux.sum(1).tolist(),
            "main_first": main[:, :4].tolist(), "aux_last": aux[:, -4:].tolist()}


def write_reference() -> None:
    rounded = {k: [[round(v, 7) for v in row] if isinstance(row, list) else round(row, 6) for row in rows]
               for k, rows in apac_reference_outputs().items()}
    REFERENCE.parent.mkdir(exist_ok=True)
    REFERENCE.write_text("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in rounded.items()) + "\n}\n")


def test_full_forward_matches_the_seeded_reference():
    want = json.loads(REFERENCE.read_text())
    got = apac_reference_outputs()
    assert set(got) == set(want)
    for key in sorted(want):
        torch.testing.assert_close(torch.tensor(got[key]), torch.tensor(want[key]), rtol=1e-4, atol=1e-4,
                                   msg=lambda m, key=key: f"{key}: {m}")


# ---------------------------------------------------------------- size
def _closed_form_apac_parameters(n_classes: int, n_mels: int = 128, n_mfcc: int = 64) -> int:
    """APAC's parameters at width 1, summed block by block from the architecture in apac.py's docstring."""
    conv = lambda cin, cout, k, groups=1, bias=False: cout * (cin // groups) * k * k + (cout if bias else 0)  # noqa: E731
    conv1d = lambda cin, cout, k, groups=1, bias=False: cout * (cin // groups) * k + (cout if bias else 0)  # noqa: E731
    bn = lambda c: 2 * c  # noqa: E731 (weight and bias)

    def cbam(c):  # channel MLP c -> max(4, c / 8) -> c with biases; spatial 7x7 conv 2 -> 1 with bias
        h = max(4, c // 8)
        return conv(c, h, 1, bias=True) + conv(h, c, 1, bias=True) + conv(2, 1, 7, bias=True)

    def inverted_residual(cin, cout, t, se):
        hidden = cin * t
        total = conv(cin, hidden, 1) + bn(hidden) + conv(hidden, hidden, 3, groups=hidden) + bn(hidden)
        if se:  # squeeze to max(8, hidden / 4) and back, with biases
            h = max(8, hidden // 4)
            total += conv(hidden, h, 1, bias=True) + conv(h, hidden, 1, bias=True)
        return total + conv(hidden, cout, 1) + bn(cout)

    stages = [(32, 48, False), (48, 48, True), (48, 64, False), (64, 64, True), (64, 96, False), (96, 96, True)]
    main = (bn(n_mels)  # BatchNorm per mel band
            + conv(1, 16, 3) + bn(16) + conv(1, 16, 7) + bn(16)  # the 3x3 and 7x7 stem branches
            + cbam(32)
            + conv(32, 32, 3, groups=32) + bn(32) + conv(32, 32, 1, bias=True)  # depthwise-separable
            + sum(inverted_residual(cin, cout, 4, se) for cin, cout, se in stages)
            + cbam(96) + conv(96, 160, 1) + bn(160))  # CBAM, 1x1 head
    aux = (bn(n_mfcc) + conv1d(n_mfcc, 64, 3) + bn(64)
           + conv1d(64, 64, 3, groups=64) + bn(64) + conv1d(64, 64, 1, bias=True))
    fused = 160 + 64
    head = 2 * fused + (fused * 128 + 128) + (128 * n_classes + n_classes)  # LayerNorm, linear, linear
    return main + aux + head


def test_parameter_count():
    model = APAC(35)
    n = count_parameters(model)
    net = n - count_parameters(model.frontend)
    print(f"\nAPAC (35 classes, std mode, 16 kHz): {n:,} parameters")
    assert n == net  # std: a fixed front-end
    assert n == _closed_form_apac_parameters(n_classes=35) == 414_761
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
