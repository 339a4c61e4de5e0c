"""apac_lab.data.audio: reading WAV as float32 mono at a rate and length, and clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio.functional as AF

from _data_trees import tone
from apac_lab.data import (
    AudioError, Clip, ClipDataset, check_waveform, fix_length, load_audio, resample_plan, resample_waveform, to_mono,
)


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
    with pytest.raises(ValueError, match="sample_rate must be a whole number of Hz from 1000 to 384000, got 0"):
        load_audio(tmp_path / "x.wav", sample_rate=0)


# --- hostile headers: absurd rates, truncated files (issue 14) -----------------------------------

def _wav76(path, rate):
    """A 76-byte PCM_16 mono WAV: a canonical 44-byte header claiming ``rate`` Hz, then 16 samples."""
    data = np.arange(16, dtype="<i2").tobytes()
    fmt = (16).to_bytes(4, "little") + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") \
        + int(rate).to_bytes(4, "little") + int(2 * rate).to_bytes(4, "little") + (2).to_bytes(2, "little") \
        + (16).to_bytes(2, "little")
    path.write_bytes(b"RIFF" + (36 + len(data)).to_bytes(4, "little") + b"WAVEfmt " + fmt + b"data"
                     + len(data).to_bytes(4, "little") + data)
    return path


_BOUNDED = '''
import resource, sys
from apac_lab.data import load_audio
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
shapes = [tuple(load_audio(p, sample_rate=int(r)).shape) for p, r in zip(sys.argv[1::2], sys.argv[2::2])]
print(shapes, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
'''


def test_76_byte_wav_claiming_8001_20001_or_96001_hz_resamples_in_bounded_memory(tmp_path):
    import subprocess
    import sys

    cases = [(8001, 8000), (20001, 16000), (96001, 16000)]
    args = []
    for rate, target in cases:
        args += [str(_wav76(tmp_path / f"r{rate}.wav", rate)), str(target)]
    assert all((tmp_path / f"r{rate}.wav").stat().st_size == 76 for rate, _ in cases)
    proc = subprocess.run([sys.executable, "-c", _BOUNDED, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]  # before the fix: std::bad_alloc, or 2.7 GB
    shapes, grown_mib = proc.stdout.rsplit(" ", 1)
    assert shapes == "[(16,), (13,), (3,)]"  # ceil(16 * target / rate)
    assert int(grown_mib) < 200, f"peak memory grew by {grown_mib} MiB"


@pytest.mark.parametrize("rate, target", [(8001, 8000), (20001, 16000), (96001, 16000), (44056, 16000)])
def test_coprime_rates_use_the_direct_sinc_with_a_bounded_kernel(rate, target):
    from apac_lab.data.resample import CHUNK_VALUES, KERNEL_LIMIT

    plan = resample_plan(rate, target)
    g = math.gcd(rate, target)
    assert target // g * (rate // g) > KERNEL_LIMIT  # torchaudio's kernel would be this big, or bigger
    assert plan.method == "sinc" and plan.kernel_values <= CHUNK_VALUES
    assert plan.taps == 2 * math.ceil(6 * rate / (0.99 * min(rate, target))) + 2


@pytest.mark.parametrize("rate, target", [(44100, 16000), (48000, 16000), (22050, 16000), (8000, 16000),
                                          (16000, 8000), (8000, 44100), (48000, 44100), (384000, 1000)])
def test_common_rates_keep_torchaudio_s_kernel(rate, target):
    from apac_lab.data.resample import KERNEL_LIMIT

    plan = resample_plan(rate, target)
    assert plan.method == "torchaudio" and plan.kernel_values <= KERNEL_LIMIT


@pytest.mark.parametrize("rate, target", [(44100, 16000), (8000, 44100), (22050, 16000), (16000, 8000), (1000, 3000)])
def test_direct_sinc_matches_torchaudio_in_float64(monkeypatch, rate, target):
    import apac_lab.data.resample as R

    x = torch.from_numpy(np.random.default_rng(1).standard_normal((2, rate // 10)))
    monkeypatch.setattr(R, "KERNEL_LIMIT", 0)  # force the direct method
    monkeypatch.setattr(R, "CHUNK_VALUES", 1000)  # and many chunks
    assert R.resample_plan(rate, target).method == "sinc"
    got = R.resample_waveform(x, rate, target)
    ref = AF.resample(x, rate, target)
    assert got.dtype == torch.float64 and got.shape == ref.shape == (2, target // 10)
    torch.testing.assert_close(got, ref, atol=1e-9, rtol=0)


def test_direct_sinc_on_a_coprime_rate_matches_a_slow_loop():
    """y[j] = sum_i x[i] h(t), t = 0.99 * min(fo, fn) * (i / fo - j / fn), h = sinc(pi t) cos^2(pi t / 12) * 0.99 min / fo."""
    fo, fn = 8001, 8000
    x = np.random.default_rng(2).standard_normal(300)
    base = 0.99 * min(fo, fn)
    ref = []
    for j in range(math.ceil(fn * len(x) / fo)):
        t = np.clip(base * (np.arange(len(x)) / fo - j / fn), -6, 6)
        ref.append(np.sum(x * np.sinc(t) * np.cos(np.pi * t / 12) ** 2 * base / fo))
    got = resample_waveform(torch.from_numpy(x), fo, fn)
    torch.testing.assert_close(got, torch.tensor(ref, dtype=torch.float64), atol=1e-12, rtol=0)


@pytest.mark.parametrize("rate", [500, 999, 384001, 2_000_000])
def test_header_rate_outside_1khz_to_384khz_is_refused(tmp_path, rate):
    path = _wav76(tmp_path / "odd.wav", rate)
    with pytest.raises(AudioError, match=rf"odd\.wav: its header says {rate} Hz, outside 1000-384000 Hz.*re-export"):
        load_audio(path)


def test_truncated_real_fsdd_file_is_an_error_naming_it(tmp_path, real_fsdd_root):
    real = (real_fsdd_root / "recordings" / "0_george_0.wav").read_bytes()
    half = tmp_path / "0_george_0.wav"
    half.write_bytes(real[: len(real) // 2])
    assert sf.info(str(half)).frames < 3910 // 2  # soundfile alone reads what is there, without a word
    with pytest.raises(AudioError, match=r"0_george_0\.wav: the file is truncated: its WAV header declares 4768 bytes "
                                         r"of audio but only 2362 are there\. Download or copy it again"):
        load_audio(half)


@pytest.mark.parametrize("keep", [45, 100, 200])
def test_truncated_wav_is_an_error(tmp_path, keep):
    path = tmp_path / "cut.wav"
    sf.write(path, tone(300, 0.01, 8000), 8000, subtype="PCM_16")  # 44 + 160 bytes
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(AudioError, match=r"cut\.wav: the file is truncated"):
        load_audio(path)


def test_complete_wavs_with_extra_chunks_or_an_open_size_still_load(tmp_path):
    x = tone(300, 0.01, 8000)
    sf.write(tmp_path / "a.wav", x, 8000, subtype="PCM_16")
    raw = (tmp_path / "a.wav").read_bytes()
    (tmp_path / "trailing.wav").write_bytes(raw + b"LIST" + (4).to_bytes(4, "little") + b"INFO")
    (tmp_path / "open.wav").write_bytes(raw[:40] + b"\xff\xff\xff\xff" + raw[44:])  # streaming writers
    ref = load_audio(tmp_path / "a.wav")
    for name in ("trailing.wav", "open.wav"):
        torch.testing.assert_close(load_audio(tmp_path / name), ref, atol=0, rtol=0)


def test_no_real_fsdd_file_is_reported_truncated(real_fsdd_root):
    from apac_lab.data.audio import _wav_data_sizes

    files = sorted((real_fsdd_root / "recordings").glob("*.wav"))
    assert len(files) == 2500
    assert [f.name for f in files if _wav_data_sizes(f)[1] < _wav_data_sizes(f)[0]] == []


@pytest.mark.parametrize("kwargs, message", [
    ({"sample_rate": 0}, r"sample_rate must be a whole number of Hz from 1000 to 384000, got 0"),
    ({"sample_rate": 16000.5}, r"got 16000.5"),
    ({"num_samples": 0}, r"num_samples must be a positive whole number of samples, got 0"),
])
def test_load_audio_refuses_zero_rate_and_length(tmp_path, kwargs, message):
    sf.write(tmp_path / "x.wav", tone(300, 0.01, 8000), 8000)
    with pytest.raises(ValueError, match=message):
        load_audio(tmp_path / "x.wav", **kwargs)


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
