"""apac_lab.frontends.scratch: each MFCC step against its torchaudio counterpart, then the chain.

Stated tolerance of the chain: on real FSDD audio (and on synthetic words) the
from-scratch MFCC equals ``torchaudio.transforms.MFCC`` with relative error
||scratch - torchaudio|| / ||torchaudio|| <= 1e-5, and no coefficient differs by more
than 1e-5 of the largest coefficient (float32 rounding; measured about 1e-6).
"""

import numpy as np
import pytest
import torch
import torchaudio

from apac_lab.data import fix_length, load_fsdd, synthesize_word
from apac_lab.frontends import MFCC, safe_log
from apac_lab.frontends.scratch import (
    dct,
    dct_matrix,
    fft_frequencies,
    frame_signal,
    frame_times,
    hz_to_mel,
    log_compress,
    mel_band_edges,
    mel_filterbank,
    mel_to_hz,
    mfcc_from_scratch,
    num_frames,
    power_spectrum,
)

CHAIN_TOL = 1e-5
SETTINGS = [  # (n_fft, hop, n_mels, n_mfcc, f_min, f_max) at 8 kHz
    (1024, 256, 128, 64, 0.0, 4000.0),  # APAC defaults at 8 kHz
    (256, 80, 40, 13, 0.0, 4000.0),  # classic speech MFCC: 32 ms frames, 10 ms hop
    (512, 128, 64, 20, 100.0, 3600.0),
]


def synthetic_words(n: int = 3) -> torch.Tensor:
    return torch.stack([fix_length(synthesize_word(d, d, 1), 8000, pad_mode="center") for d in range(n)])


@pytest.fixture(scope="module")
def real_clips(real_fsdd_root):
    ds = load_fsdd(real_fsdd_root, split="test")
    step = max(1, len(ds) // 3)
    return torch.stack([ds[i][0] for i in range(0, len(ds), step)][:3])


def _ta_mfcc(n_fft, hop, n_mels, n_mfcc, f_min, f_max):
    return torchaudio.transforms.MFCC(
        sample_rate=8000, n_mfcc=n_mfcc, norm="ortho", log_mels=False,
        melkwargs={"n_fft": n_fft, "hop_length": hop, "n_mels": n_mels, "f_min": f_min, "f_max": f_max, "mel_scale": "htk"},
    )


# ----------------------------------------------------------------------------- step 1: framing
@pytest.mark.parametrize("n_fft, hop", [(8, 2), (7, 3), (16, 16), (16, 20)])
def test_frame_signal_equals_a_slow_loop_with_reflect_padding(n_fft, hop):
    x = torch.randn(50)
    frames = frame_signal(x, n_fft=n_fft, hop_length=hop)
    padded = np.pad(x.numpy(), n_fft // 2, mode="reflect")
    slow = np.stack([padded[s : s + n_fft] for s in range(0, len(padded) - n_fft + 1, hop)])
    assert frames.shape == (num_frames(50, hop, n_fft=n_fft), n_fft)
    np.testing.assert_array_equal(frames.numpy(), slow)


def test_frame_signal_batches_and_uncentred():
    x = torch.randn(2, 3, 100)
    f = frame_signal(x, n_fft=16, hop_length=4)
    assert f.shape == (2, 3, 26, 16)
    torch.testing.assert_close(f[1, 2], frame_signal(x[1, 2], n_fft=16, hop_length=4))
    g = frame_signal(x, n_fft=16, hop_length=4, center=False)
    assert g.shape[-2] == num_frames(100, 4, n_fft=16, center=False) == 22
    torch.testing.assert_close(g[0, 0, 3], x[0, 0, 12:28])


def test_frame_signal_errors():
    with pytest.raises(ValueError, match="n_fft // 2"):
        frame_signal(torch.randn(4), n_fft=16, hop_length=4)
    with pytest.raises(ValueError, match="hop_length"):
        frame_signal(torch.randn(40), n_fft=16, hop_length=0)
    with pytest.raises(ValueError, match="shorter than one frame"):
        frame_signal(torch.randn(10), n_fft=16, hop_length=4, center=False)


def test_axes():
    assert torch.equal(fft_frequencies(1024, 8000)[[0, 128, 512]], torch.tensor([0.0, 1000.0, 4000.0]))
    assert frame_times(101, 80, 8000)[-1].item() == pytest.approx(1.0)
    assert num_frames(8000, 256) == 32


# ----------------------------------------------------------------------------- step 2: power spectrum
@pytest.mark.parametrize("n_fft, hop", [(1024, 256), (256, 80), (255, 64)])
def test_power_spectrum_equals_torchaudio_spectrogram(n_fft, hop):
    x = synthetic_words(2)
    ours = power_spectrum(frame_signal(x, n_fft=n_fft, hop_length=hop))
    ref = torchaudio.transforms.Spectrogram(n_fft=n_fft, hop_length=hop, power=2.0)(x)
    assert ours.shape == ref.shape == (2, n_fft // 2 + 1, num_frames(8000, hop, n_fft=n_fft))
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-6 * ref.max().item())


def test_power_spectrum_custom_window_and_error():
    frames = torch.randn(5, 64)
    rect = power_spectrum(frames, window=torch.ones(64))
    torch.testing.assert_close(rect, torch.fft.rfft(frames).abs().pow(2).T, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="window"):
        power_spectrum(frames, window=torch.ones(63))


def test_a_tone_peaks_in_its_bin():
    t = torch.arange(8000) / 8000
    power = power_spectrum(frame_signal(torch.sin(2 * torch.pi * 1000 * t), n_fft=256, hop_length=80))
    assert int(power.mean(-1).argmax()) == 32  # 1000 Hz * 256 / 8000


# ----------------------------------------------------------------------------- step 3: mel filterbank
@pytest.mark.parametrize("n_fft, n_mels, f_min, f_max", [(1024, 128, 0.0, 4000.0), (256, 40, 0.0, 4000.0), (512, 64, 100.0, 3600.0)])
def test_mel_filterbank_equals_melscale_fbanks(n_fft, n_mels, f_min, f_max):
    ours = mel_filterbank(sample_rate=8000, n_fft=n_fft, n_mels=n_mels, f_min=f_min, f_max=f_max)
    ref = torchaudio.functional.melscale_fbanks(n_fft // 2 + 1, f_min, f_max, n_mels, 8000, norm=None, mel_scale="htk")
    assert ours.shape == (n_mels, n_fft // 2 + 1)
    torch.testing.assert_close(ours, ref.T, rtol=0, atol=5e-5)


def test_mel_triangles_peak_at_their_centres():
    fb = mel_filterbank(sample_rate=8000, n_fft=8192, n_mels=10)
    edges = mel_band_edges(n_mels=10, f_min=0.0, f_max=4000.0)
    freqs = fft_frequencies(8192, 8000)
    peaks = freqs[fb.argmax(dim=1)].double()
    assert torch.allclose(peaks, edges[1:-1], atol=8000 / 8192)
    assert (fb >= 0).all() and (fb.max(dim=1).values > 0.99).all()
    assert torch.allclose(hz_to_mel(edges).diff(), hz_to_mel(edges).diff()[0].expand(11))  # equal steps in mel
    assert mel_to_hz(hz_to_mel(1234.5)) == pytest.approx(1234.5)


def test_mel_filterbank_errors():
    with pytest.raises(ValueError, match="f_min < f_max"):
        mel_filterbank(sample_rate=8000, n_fft=256, n_mels=40, f_min=2000.0, f_max=1000.0)
    with pytest.raises(ValueError, match="n_mels"):
        mel_filterbank(sample_rate=8000, n_fft=256, n_mels=0)


# ----------------------------------------------------------------------------- step 4: log
def test_log_db_equals_amplitude_to_db_on_one_clip():
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=8000, n_fft=256, hop_length=80, n_mels=40)(synthetic_words(1)[0])
    ref = torchaudio.transforms.AmplitudeToDB("power", top_db=80.0)(mel)
    torch.testing.assert_close(log_compress(mel), ref)
    assert (log_compress(mel).amax() - log_compress(mel).amin()).item() == pytest.approx(80.0, abs=1e-3)
    no_floor = log_compress(mel, top_db=None)
    torch.testing.assert_close(no_floor, torchaudio.transforms.AmplitudeToDB("power", top_db=None)(mel))


def test_log_db_floor_is_per_clip_like_torchaudio_on_4d():
    mel = torch.rand(3, 40, 20) * torch.tensor([1.0, 1e-6, 1e-12])[:, None, None]
    ref = torchaudio.transforms.AmplitudeToDB("power", top_db=80.0)(mel[:, None]).squeeze(1)
    torch.testing.assert_close(log_compress(mel), ref)


def test_log_ln_is_safe_log_and_errors():
    x = torch.tensor([[-1.0, 0.0, 2.0]])
    torch.testing.assert_close(log_compress(x, kind="ln"), safe_log(x, 1e-6))
    torch.testing.assert_close(log_compress(torch.tensor([[10.0]]), kind="ln") * 10 / np.log(10), log_compress(torch.tensor([[10.0]])))
    with pytest.raises(ValueError, match="kind"):
        log_compress(x, kind="log2")
    with pytest.raises(ValueError, match="top_db"):
        log_compress(x.abs(), top_db=-1.0)


# ----------------------------------------------------------------------------- step 5: DCT
@pytest.mark.parametrize("n_mfcc, n_mels", [(13, 40), (64, 128), (5, 5)])
def test_dct_matrix_equals_create_dct_and_is_orthonormal(n_mfcc, n_mels):
    D = dct_matrix(n_mfcc, n_mels)
    torch.testing.assert_close(D, torchaudio.functional.create_dct(n_mfcc, n_mels, norm="ortho").T)
    torch.testing.assert_close(D @ D.T, torch.eye(n_mfcc), atol=1e-5, rtol=0)


def test_dct_applies_along_bands_and_errors():
    x = torch.randn(2, 40, 7)
    torch.testing.assert_close(dct(x, 13), torch.einsum("km,bmt->bkt", dct_matrix(13, 40), x))
    with pytest.raises(ValueError, match="n_mfcc"):
        dct_matrix(41, 40)


# ----------------------------------------------------------------------------- the chain
def _assert_chain_matches(x, setting):
    n_fft, hop, n_mels, n_mfcc, f_min, f_max = setting
    ta = _ta_mfcc(*setting)
    for xi in x:
        ours = mfcc_from_scratch(xi, sample_rate=8000, n_fft=n_fft, hop_length=hop, n_mels=n_mels, n_mfcc=n_mfcc,
                                 f_min=f_min, f_max=f_max)
        ref = ta(xi)
        assert ours.shape == ref.shape
        assert ((ours - ref).norm() / ref.norm()).item() <= CHAIN_TOL
        assert (ours - ref).abs().max().item() <= CHAIN_TOL * ref.abs().max().item()
    batch = mfcc_from_scratch(x, sample_rate=8000, n_fft=n_fft, hop_length=hop, n_mels=n_mels, n_mfcc=n_mfcc,
                              f_min=f_min, f_max=f_max)
    ours_fixed = MFCC(sample_rate=8000, n_fft=n_fft, hop_length=hop, n_mels=n_mels, n_mfcc=n_mfcc, f_min=f_min, f_max=f_max)(x)
    assert ((batch - ours_fixed).norm() / ours_fixed.norm()).item() <= CHAIN_TOL


@pytest.mark.parametrize("setting", SETTINGS)
def test_chain_matches_torchaudio_mfcc_on_synthetic_words(setting):
    _assert_chain_matches(synthetic_words(), setting)


@pytest.mark.parametrize("setting", SETTINGS)
def test_chain_matches_torchaudio_mfcc_on_real_fsdd(real_clips, setting):
    _assert_chain_matches(real_clips, setting)


def test_chain_uses_apac_defaults():
    x = torch.randn(16000)
    assert mfcc_from_scratch(x).shape == (64, 32)  # 16 kHz: n_fft 2048, hop 512
    torch.testing.assert_close(mfcc_from_scratch(x), MFCC(sample_rate=16000)(x), rtol=1e-4, atol=1e-2)
