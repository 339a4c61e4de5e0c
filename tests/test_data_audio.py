"""apac_lab.data.audio: reading WAV as float32 mono at a rate and length, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio.functional as AF

from _data_trees import tone
from apac_lab.data import AudioError, Clip, ClipDataset, check_waveform, fix_length, load_audio, to_mono


# --- agreement with a reference -------------------------------------------------------------

def test_stereo_is_downmixed_by_averaging(tmp_path):
    left, right = tone(300, 0.1, 8000), tone(700, 0.1, 8000, amp=0.1)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 8000, subtype="FLOAT")
    wave = load_audio(path)
    assert wave.dtype == torch.float32 and wave.shape == (800,)
    torch.testing.assert_close(wave, torch.from_numpy((left + right) / 2), atol=1e-7, rtol=0)


@pytest.mark.parametrize("file_rate, rate", [(8000, 16000), (44100, 16000), (16000, 8000)])
def test_resampling_matches_torchaudio(tmp_path, file_rate, rate):
    x = np.random.default_rng(0).uniform(-0.5, 0.5, file_rate // 10).astype(np.float32)
    path = tmp_path / "x.wav"
    sf.write(path, x, file_rate, subtype="FLOAT")
    got = load_audio(path, sample_rate=rate)
    ref = AF.resample(torch.from_numpy(x), file_rate, rate)
    assert got.shape == ref.shape == (rate // 10,)
    torch.testing.assert_close(got, ref, atol=1e-6, rtol=0)


def test_same_rate_is_not_resampled(tmp_path):
    x = tone(440, 0.05, 16000)
    sf.write(tmp_path / "x.wav", x, 16000, subtype="FLOAT")
    assert torch.equal(load_audio(tmp_path / "x.wav", sample_rate=16000), torch.from_numpy(x))


def test_int16_is_scaled_to_unit_range(tmp_path):
    sf.write(tmp_path / "x.wav", np.array([0, 16384, -32768], dtype=np.int16), 8000, subtype="PCM_16")
    torch.testing.assert_close(load_audio(tmp_path / "x.wav"), torch.tensor([0.0, 0.5, -1.0]))


# --- shapes: pad and crop ------------------------------------------------------------------

def test_fix_length_pads_and_crops():
    x = torch.arange(1.0, 7.0)
    assert torch.equal(fix_length(x, 8), torch.tensor([1, 2, 3, 4, 5, 6, 0, 0.0]))
    assert torch.equal(fix_length(x, 8, pad_mode="center"), torch.tensor([0, 1, 2, 3, 4, 5, 6, 0.0]))
    assert torch.equal(fix_length(x, 3), torch.tensor([1, 2, 3.0]))
    assert torch.equal(fix_length(x, 2, pad_mode="center"), torch.tensor([3, 4.0]))
    assert fix_length(torch.zeros(2, 5), 7).shape == (2, 7)  # batch dimensions are kept


def test_load_audio_pads_and_crops(tmp_path):
    sf.write(tmp_path / "x.wav", tone(200, 0.1, 8000), 8000)
    assert load_audio(tmp_path / "x.wav", num_samples=1000).shape == (1000,)
    short = load_audio(tmp_path / "x.wav", num_samples=500)
    torch.testing.assert_close(short, load_audio(tmp_path / "x.wav")[:500])


def test_fix_length_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_samples must be > 0"):
        fix_length(torch.zeros(3), 0)
    with pytest.raises(ValueError, match="pad_mode"):
        fix_length(torch.zeros(3), 4, pad_mode="left")


def test_to_mono_rejects_3d():
    with pytest.raises(AudioError, match="expected"):
        to_mono(torch.zeros(1, 2, 3))


# --- errors on bad input: each names the file ------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        load_audio(tmp_path / "nope.wav")


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav.*empty \(0 bytes\)"):
        load_audio(tmp_path / "empty.wav")


def test_corrupt_file(tmp_path):
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunk" + bytes(range(64)))
    with pytest.raises(AudioError, match=r"corrupt\.wav.*cannot be read as audio"):
        load_audio(tmp_path / "corrupt.wav")


def test_zero_length_wav(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 8000)  # a valid header, 0 frames
    assert path.stat().st_size > 0 and sf.info(str(path)).frames == 0
    with pytest.raises(AudioError, match=r"zero\.wav.*empty \(0 samples\)"):
        load_audio(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_samples(tmp_path, bad):
    x = tone(300, 0.01, 8000)
    x[10] = bad
    path = tmp_path / "bad.wav"
    sf.write(path, x, 8000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"bad\.wav.*NaN or Inf"):
        load_audio(path)


def test_check_waveform_on_tensors():
    with pytest.raises(AudioError, match="empty"):
        check_waveform(torch.zeros(0))
    with pytest.raises(AudioError, match="NaN or Inf"):
        check_waveform(torch.tensor([0.0, float("nan")]), "mine")


def test_bad_file_inside_a_dataset_is_named_when_read(tmp_path):
    good, bad = tmp_path / "good.wav", tmp_path / "bad.wav"
    sf.write(good, tone(300, 0.1, 8000), 8000)
    bad.write_bytes(b"not audio at all")
    ds = ClipDataset([Clip(good, 0), Clip(bad, 1)], ["a", "b"], sample_rate=8000, num_samples=800)
    assert ds[0][0].shape == (800,)
    with pytest.raises(AudioError, match=r"bad\.wav"):
        ds[1]


def test_bad_sample_rate(tmp_path):
    sf.write(tmp_path / "x.wav", tone(300, 0.01, 8000), 8000)
    with pytest.raises(ValueError, match="sample_rate must be > 0"):
        load_audio(tmp_path / "x.wav", sample_rate=0)


# ----------------------------------------------------------------------------- audio as file bytes
# wav_bytes and decode_wav_bytes (moved here from apac_lab.widgets)
import io  # noqa: E402

from apac_lab.data import decode_wav_bytes, wav_bytes  # noqa: E402


def test_wav_bytes_round_trip():
    x = torch.sin(torch.arange(800) * 0.1) * 3.0
    y, sr = sf.read(io.BytesIO(wav_bytes(x, 8000)))
    assert sr == 8000 and len(y) == 800 and abs(np.abs(y).max() - 0.9) < 1e-3  # peak-normalised to 0.9
    assert wav_bytes(torch.zeros(10), 8000)[:4] == b"RIFF"
    back = decode_wav_bytes(wav_bytes(x, 8000), sample_rate=8000)
    assert torch.allclose(back / back.abs().max(), x / x.abs().max(), atol=1e-3)  # 16-bit: ~3e-5 steps


def test_decode_wav_bytes_downmixes_resamples_and_centres():
    buf = io.BytesIO()
    sf.write(buf, np.stack([np.ones(400), np.zeros(400)], 1).astype(np.float32), 8000, format="WAV")
    w = decode_wav_bytes(buf.getvalue(), sample_rate=16000, num_samples=1600)
    assert w.shape == (1600,) and w.dtype == torch.float32
    assert w[:400].abs().max() < 0.05 and abs(float(w[800]) - 0.5) < 0.05  # centred, channels averaged


def test_decode_wav_bytes_rejects_what_is_not_audio():
    with pytest.raises(AudioError, match="empty"):
        decode_wav_bytes(b"", sample_rate=8000)
    with pytest.raises(AudioError, match="cannot read the upload as audio"):
        decode_wav_bytes(b"not a wav file", sample_rate=8000)
