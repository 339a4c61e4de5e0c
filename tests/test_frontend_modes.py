"""The five front-end modes: agreement with torchaudio, trainability, a finite log, checkpoints."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from apac_lab.frontends import MFCC, LogMel
from apac_lab.models import MODES, TRAINABLE_MEL_STFT, APACFrontEnd, build_model, load_frontend_checkpoint, save_frontend_checkpoint


def _wave(n=2, samples=16000, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(samples) / 16000
    return 0.3 * torch.sin(2 * torch.pi * 440 * t) + 0.05 * torch.randn(n, samples, generator=g)


def test_std_is_the_fixed_torchaudio_front_end():
    x = _wave()
    x[1] *= 1e-4  # a quiet clip: the 80 dB MFCC floor is set per clip
    log_mel, mfcc = APACFrontEnd("std")(x)
    assert torch.allclose(log_mel, LogMel(sample_rate=16000)(x), atol=1e-5)
    assert torch.allclose(mfcc, MFCC(sample_rate=16000, n_mfcc=64)(x), atol=1e-3)
    assert not list(APACFrontEnd("std").parameters())


@pytest.mark.parametrize("sample_rate", [16000, 8000])
def test_nnaudio_cold_start_matches_std(sample_rate):
    x = _wave(samples=sample_rate)
    std = APACFrontEnd("std", sample_rate=sample_rate).power_mel(x)
    cold = APACFrontEnd("mel+stft", sample_rate=sample_rate).power_mel(x)
    assert cold.shape == std.shape
    assert ((cold - std).abs().max() / std.abs().max()) < 1e-4


@pytest.mark.parametrize("mode", MODES[:4])
def test_trainable_flags_follow_the_mode(mode):
    fe = APACFrontEnd(mode, sample_rate=8000)
    names = {n for n, p in fe.named_parameters() if p.requires_grad}
    mel, stft = TRAINABLE_MEL_STFT[mode]
    assert ("mel.layer.mel_basis" in names) == mel
    assert ("mel.layer.stft.wsin" in names and "mel.layer.stft.wcos" in names) == stft
    assert fe.mel_filterbank().shape == (128, 513)


def test_negative_mel_energies_keep_the_logs_finite():
    fe = APACFrontEnd("mel", sample_rate=8000)
    with torch.no_grad():
        fe.mel.layer.mel_basis.mul_(-1.0)  # the worst a trained basis can do
    log_mel, mfcc = fe(_wave(samples=8000))
    assert (fe.power_mel(_wave(samples=8000)) < 0).all()
    assert torch.isfinite(log_mel).all() and torch.isfinite(mfcc).all()


def test_training_steps_with_trainable_mel_stay_finite():
    torch.manual_seed(0)
    model = build_model("apac", n_classes=4, sample_rate=8000, mode="mel+stft")
    basis = model.frontend.mel.layer.mel_basis
    start = basis.detach().clone()
    opt = torch.optim.Adam(model.parameters(), lr=0.5)  # large, on purpose
    x, y = _wave(4, 8000), torch.arange(4)
    for _ in range(5):
        loss = nn.functional.cross_entropy(model(x), y)
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert not torch.equal(basis.detach(), start)
    assert (basis < 0).any()  # the basis did go negative: the clamp is what kept things finite
    assert all(torch.isfinite(p).all() for p in model.parameters())
    model.eval()
    assert torch.isfinite(model(x)).all()


@pytest.mark.parametrize("mode", ["std", "mel+stft"])
def test_front_end_stays_float32_under_autocast(mode):
    fe = APACFrontEnd(mode, sample_rate=8000)
    x = 30.0 * _wave(samples=8000)  # loud: its power spectrum would overflow float16
    ref = fe(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = fe(x)
    for a, b in zip(got, ref):
        assert a.dtype == torch.float32 and torch.equal(a, b)


def test_frontend_checkpoint_round_trip_and_mismatch(tmp_path):
    src = APACFrontEnd("mel+stft", sample_rate=8000, n_mels=32)
    with torch.no_grad():
        src.mel.layer.mel_basis.add_(0.01)
    path = save_frontend_checkpoint(src, tmp_path / "fe.pt", dataset="test")
    dst = APACFrontEnd("mel+stft+fsdd", sample_rate=8000, n_mels=32, checkpoint=path)
    assert torch.equal(dst.mel.layer.mel_basis, src.mel.layer.mel_basis)
    assert torch.equal(dst.mel.layer.stft.wsin, src.mel.layer.stft.wsin)
    assert dst.mel.layer.mel_basis.requires_grad  # fine-tuned, not frozen
    with pytest.raises(ValueError, match="n_mels: checkpoint 32 vs model 64"):
        APACFrontEnd("mel+stft+fsdd", sample_rate=8000, n_mels=64, checkpoint=path)
    with pytest.raises(ValueError, match="sample_rate: checkpoint 8000 vs model 16000"):
        APACFrontEnd("mel+stft+fsdd", sample_rate=16000, n_mels=32, checkpoint=path)
    with pytest.raises(FileNotFoundError):
        APACFrontEnd("mel+stft+fsdd", checkpoint=tmp_path / "nothing.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a front-end checkpoint"):
        load_frontend_checkpoint(dst, tmp_path / "other.pt")


def test_frontend_loads_from_a_training_checkpoint(tmp_path):
    trained = build_model("tiny", n_classes=3, sample_rate=8000, mode="mel+stft", n_mels=32)
    with torch.no_grad():
        trained.frontend.mel.layer.stft.wcos.mul_(1.5)
    torch.save({"model": trained.state_dict(), "epoch": 1}, tmp_path / "last.pt")
    fe = APACFrontEnd("mel+stft+fsdd", sample_rate=8000, n_mels=32, checkpoint=tmp_path / "last.pt")
    assert torch.equal(fe.mel.layer.stft.wcos, trained.frontend.mel.layer.stft.wcos)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"mode": "nnaudio"}, "unknown front-end mode"),
        ({"mode": "mel", "checkpoint": "x.pt"}, "initialises the front-end of mode 'mel\\+stft\\+fsdd' only"),
        ({"mode": "mel+stft+fsdd"}, "pretrain_fsdd_frontend"),
        ({"n_mfcc": 129}, "n_mfcc must be in 0..n_mels=128"),
        ({"sample_rate": 8000, "f_max": 6000.0}, "f_max"),
        ({"sample_rate": 8000, "n_fft": 0}, "n_fft must be >= 2 samples, got 0; pass None for the APAC default"),
        ({"sample_rate": 8000, "hop_length": 0}, "hop_length must be >= 1 sample, got 0; pass None"),
        ({"mode": "mel", "sample_rate": 8000, "n_fft": 0}, "n_fft must be >= 2 samples, got 0"),
    ],
)
def test_bad_front_end_settings(kw, match):
    mode = kw.pop("mode", "std")
    with pytest.raises(ValueError, match=match):
        APACFrontEnd(mode, **kw)
