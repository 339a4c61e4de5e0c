"""The five front-end modes: agreement with torchaudio, trainability, a finite log, checkpoints."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from apac_lab.frontends import MFCC, LogMel
from apac_lab.models import MODES, TRAINABLE_MEL_STFT, APACFrontEnd, build_model, load_frontend_checkpoint, save_frontend_checkpoint
from apac_lab.models.frontend_modes import active_frames, utterance_cmvn


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


@pytest.mark.parametrize("mode", ["std", "mel"])
def test_peak_norm_makes_the_features_independent_of_the_level(mode):
    x = _wave()
    plain = APACFrontEnd(mode)
    fe = APACFrontEnd(mode, peak_norm=True)
    log_mel, mfcc = fe(x)
    loud_mel, loud_mfcc = fe(x * 10.0)  # +20 dB
    assert torch.allclose(log_mel, loud_mel, atol=1e-4) and torch.allclose(mfcc, loud_mfcc, atol=1e-2)
    assert torch.allclose(log_mel.amax((1, 2)), torch.zeros(2), atol=1e-6)  # 0 at each clip's loudest cell
    ref = plain(x)[0]
    expect = torch.clamp(ref - ref.amax((1, 2), keepdim=True), min=torch.log(torch.tensor(1e-6)).item())
    assert torch.allclose(log_mel, expect, atol=1e-4)  # the plain log-mel less its peak, floored 60 dB below
    assert not torch.allclose(plain(x)[0], plain(x * 10.0)[0], atol=1.0)


def test_active_frames_are_those_within_active_db_of_the_loudest():
    g = torch.Generator().manual_seed(0)
    mel = torch.rand(3, 8, 20, generator=g) * torch.logspace(0, -6, 20)[None, None, :]  # fading clips
    for db in (20.0, 40.0):
        energy = mel.sum(1)
        ref = torch.stack([torch.tensor([float(e) >= float(row.max()) * 10 ** (-db / 10) for e in row]) for row in energy])
        assert torch.equal(active_frames(mel, db), ref)
        assert active_frames(mel, db).any(1).all()


def test_utterance_cmvn_removes_a_constant_per_row_and_the_scale():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 6, 10, generator=g)
    active = torch.rand(2, 10, generator=g) > 0.3
    out = utterance_cmvn(x, active)
    shifted = utterance_cmvn(3.0 * (x + torch.randn(2, 6, 1, generator=g)), active)  # a fixed filter and a gain
    assert torch.allclose(out, shifted, atol=1e-4)
    for b in range(2):  # zero mean per row and unit variance over the active cells; silence at 0
        on = out[b][:, active[b]]
        assert torch.allclose(on.mean(1), torch.zeros(6), atol=1e-5)
        assert on.pow(2).mean().item() == pytest.approx(1.0, abs=1e-3)
        assert torch.equal(out[b][:, ~active[b]], torch.zeros(6, int((~active[b]).sum())))


def test_cmvn_front_end_ignores_level_and_padding():
    x = torch.zeros(2, 16000)
    x[:, 4000:12000] = _wave(samples=8000)  # centred in silence, as padded clips are
    fe = APACFrontEnd("std", cmvn=True)
    log_mel, mfcc = fe(x)
    loud_mel, loud_mfcc = fe(x * 20.0)
    assert torch.allclose(log_mel, loud_mel, atol=1e-3) and torch.allclose(mfcc, loud_mfcc, atol=1e-2)
    silent = ~active_frames(fe.power_mel(x))
    assert silent[:, :5].all() and silent[:, -5:].all()  # the padding is not sound
    assert (log_mel.permute(0, 2, 1)[silent] == 0).all() and (mfcc.permute(0, 2, 1)[silent] == 0).all()


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
        ({"peak_norm": "yes"}, "peak_norm must be True or False"),
        ({"cmvn": 1}, "cmvn must be True or False"),
        ({"active_db": 0.0}, "active_db must be > 0"),
    ],
)
def test_bad_front_end_settings(kw, match):
    mode = kw.pop("mode", "std")
    with pytest.raises(ValueError, match=match):
        APACFrontEnd(mode, **kw)
