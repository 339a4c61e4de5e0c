"""apac_lab.frontends.fixed: the torchaudio front-ends with the APAC defaults."""

import pytest
import torch
import torchaudio

from apac_lab.data import fix_length, load_fsdd, synthesize_word
from apac_lab.frontends import MFCC, LogMel, MelSpectrogram, apac_defaults, frontend_settings, mfcc_from_scratch, safe_log


def speech_like(n: int = 4, sample_rate: int = 8000) -> torch.Tensor:
    """Synthetic words, 1 s each, with silence around them and very different loudness."""
    waves = [fix_length(synthesize_word(d, d % 3, 0, sample_rate=sample_rate), sample_rate, pad_mode="center")
             for d in range(n)]
    gains = torch.logspace(0, -4, n)[:, None]
    return torch.stack(waves) * gains


@pytest.fixture(scope="module")
def real_clips(real_fsdd_root):
    ds = load_fsdd(real_fsdd_root, split="test")
    return torch.stack([ds[i][0] for i in range(0, len(ds), max(1, len(ds) // 4))][:4])


# ----------------------------------------------------------------------------- defaults
@pytest.mark.parametrize("rate, n_fft, hop", [(16000, 2048, 512), (8000, 1024, 256), (32000, 4096, 1024), (22050, 2822, 706)])
def test_defaults_scale_with_sample_rate(rate, n_fft, hop):
    d = apac_defaults(rate)
    assert (d["n_fft"], d["hop_length"]) == (n_fft, hop)
    assert d["n_fft"] / rate == pytest.approx(0.128, rel=1e-3) and d["hop_length"] / rate == pytest.approx(0.032, rel=1e-3)
    assert (d["n_mels"], d["n_mfcc"], d["f_max"]) == (128, 64, rate / 2)


def test_modules_use_scaled_defaults():
    m = MFCC(sample_rate=8000)
    assert (m.n_fft, m.hop_length, m.n_mels, m.n_mfcc) == (1024, 256, 128, 64)
    mel = MelSpectrogram(sample_rate=16000)
    assert (mel.n_fft, mel.hop_length, mel.f_max) == (2048, 512, 8000.0)


# ----------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("lead", [(), (3,), (2, 2)])
def test_shapes(lead):
    x = torch.randn(*lead, 8000)
    assert MelSpectrogram(sample_rate=8000)(x).shape == (*lead, 128, 32)
    assert LogMel(sample_rate=8000, n_mels=40)(x).shape == (*lead, 40, 32)
    assert MFCC(sample_rate=8000, n_mfcc=13, hop_length=80)(x).shape == (*lead, 13, 101)


# ----------------------------------------------------------------------------- batch consistency
def test_batch_consistency_each_clip_keeps_its_own_db_floor():
    x = speech_like()
    batch = MFCC(sample_rate=8000, n_mfcc=20)(x)
    single = torch.stack([MFCC(sample_rate=8000, n_mfcc=20)(xi) for xi in x])
    torch.testing.assert_close(batch, single, rtol=1e-5, atol=1e-3)
    mel = MelSpectrogram(sample_rate=8000)
    torch.testing.assert_close(mel(x), torch.stack([mel(xi) for xi in x]), rtol=1e-5, atol=1e-9)


def test_torchaudio_mfcc_mixes_clips_in_a_batch_which_ours_avoids():
    x = speech_like()
    ta = torchaudio.transforms.MFCC(sample_rate=8000, n_mfcc=20, melkwargs={"n_fft": 1024, "hop_length": 256, "n_mels": 128})
    quiet_alone, quiet_in_batch = ta(x[-1]), ta(x)[-1]
    assert (quiet_alone - quiet_in_batch).abs().max() > 1.0  # one floor for the whole batch
    ours = MFCC(sample_rate=8000, n_mfcc=20)
    torch.testing.assert_close(ours(x)[-1], quiet_alone, rtol=1e-5, atol=1e-3)


# ----------------------------------------------------------------------------- agreement with torchaudio
def _ta_mfcc(n_mfcc=64, **mel):
    kw = {"n_fft": 1024, "hop_length": 256, "n_mels": 128, "f_min": 0.0, "f_max": 4000.0, "mel_scale": "htk"} | mel
    return torchaudio.transforms.MFCC(sample_rate=8000, n_mfcc=n_mfcc, norm="ortho", log_mels=False, melkwargs=kw)


def _check_against_torchaudio(x):
    ta_mel = torchaudio.transforms.MelSpectrogram(sample_rate=8000, n_fft=1024, hop_length=256, n_mels=128, mel_scale="htk")
    torch.testing.assert_close(MelSpectrogram(sample_rate=8000)(x), ta_mel(x))
    torch.testing.assert_close(LogMel(sample_rate=8000, eps=1e-6)(x), torch.log(ta_mel(x).clamp(min=1e-6)))
    for xi in x:  # torchaudio's MFCC is right clip by clip (see the batch test above)
        torch.testing.assert_close(MFCC(sample_rate=8000)(xi), _ta_mfcc()(xi))
    m = MFCC(sample_rate=8000, n_mfcc=13, n_fft=256, hop_length=80, n_mels=40, f_min=50.0, f_max=3800.0)
    torch.testing.assert_close(m(x[0]), _ta_mfcc(13, n_fft=256, hop_length=80, n_mels=40, f_min=50.0, f_max=3800.0)(x[0]))


def test_equals_torchaudio_on_synthetic_words():
    _check_against_torchaudio(speech_like())


def test_equals_torchaudio_on_real_fsdd(real_clips):
    _check_against_torchaudio(real_clips)


def test_safe_log_is_finite_for_negative_and_zero_energies():
    y = safe_log(torch.tensor([-5.0, 0.0, 1.0]), eps=1e-6)
    assert torch.isfinite(y).all() and y[0] == y[1] and y[2] == 0


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sample_rate": 0}, "sample_rate"),
        ({"sample_rate": 8000, "n_fft": 0}, "n_fft"),
        ({"sample_rate": 8000, "n_fft": 1}, "n_fft"),
        ({"sample_rate": 8000, "hop_length": 0}, "hop_length"),
        ({"sample_rate": 8000, "n_mels": 0}, "n_mels"),
        ({"sample_rate": 8000, "f_min": 3000.0, "f_max": 2000.0}, "f_min < f_max"),
        ({"sample_rate": 8000, "f_max": 5000.0}, "sample_rate/2"),
        ({"sample_rate": 8000, "f_min": -1.0}, "f_min"),
    ],
)
@pytest.mark.parametrize("cls", [MelSpectrogram, LogMel, MFCC])
def test_bad_arguments_raise_clear_errors(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_frontend_settings_fill_none_and_keep_what_is_given():
    assert frontend_settings(16000) == (2048, 512, 8000.0)
    assert frontend_settings(8000, n_fft=256, hop_length=80, n_mels=40, f_max=3000) == (256, 80, 3000.0)


@pytest.mark.parametrize("name", ["n_fft", "hop_length"])
def test_zero_is_rejected_not_replaced_by_the_default(name):
    with pytest.raises(ValueError, match=f"{name} must be >= .*got 0; pass None for the APAC default at 8000 Hz"):
        frontend_settings(8000, **{name: 0})
    with pytest.raises(ValueError, match=f"{name} must be >="):
        mfcc_from_scratch(torch.randn(8000), sample_rate=8000, **{name: 0})
    with pytest.raises(ValueError, match=f"{name} must be a whole number"):
        frontend_settings(8000, **{name: 256.5})


@pytest.mark.parametrize("n_mfcc", [0, 129])
def test_bad_n_mfcc(n_mfcc):
    with pytest.raises(ValueError, match="n_mfcc"):
        MFCC(sample_rate=8000, n_mfcc=n_mfcc)


def test_too_short_waveform_is_a_value_error():
    with pytest.raises(ValueError, match="n_fft // 2"):
        MFCC(sample_rate=8000)(torch.randn(2, 300))
    with pytest.raises(ValueError, match="samples"):
        MelSpectrogram(sample_rate=8000)(torch.tensor(1.0))
