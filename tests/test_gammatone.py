"""Gammatone spectrogram: shapes, ERB spacing, tones in the right band, nnAudio agreement, and
agreement with gammatone.gtgram (the article's library) on real FSDD recordings."""

import math

import numpy as np

import pytest
import torch

from apac_lab.frontends.gammatone import (Gammatonegram, LogGammatonegram, echoic_defaults, erb, erb_rate_to_hz,
                                          erb_space, gammatone_filterbank, hz_to_erb_rate)

SR = 8000


def _tone(f0, seconds=0.5, sr=SR):
    t = torch.arange(int(seconds * sr)) / sr
    return torch.sin(2 * math.pi * f0 * t)


# ---------------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("n", [SR, SR // 2 + 37])
def test_shapes_centred_and_not(n):
    g = Gammatonegram(sample_rate=SR)
    assert g(torch.randn(3, n)).shape == (3, 100, n // 80 + 1)
    gc = Gammatonegram(sample_rate=SR, center=False)
    assert gc(torch.randn(n)).shape == (100, (n - 200) // 80 + 1)


def test_defaults_are_the_articles_scaled_to_the_rate():
    d = echoic_defaults(16000)
    assert (d["win_length"], d["hop_length"], d["n_filters"], d["f_min"]) == (400, 160, 100, 100.0)
    g = Gammatonegram(sample_rate=16000)
    assert (g.win_length, g.hop_length, g.n_fft, g.n_filters) == (400, 160, 1024, 100)


def test_batch_consistency():
    g = Gammatonegram(sample_rate=SR)
    x = torch.randn(4, 4000)
    torch.testing.assert_close(g(x)[2], g(x[2]))


def test_frame_is_one_uncentred_column():
    g = Gammatonegram(sample_rate=SR, center=False)
    x = torch.randn(2, 1000, generator=torch.Generator().manual_seed(0))
    full = g(x)
    torch.testing.assert_close(g.frame(x[:, 80 * 3: 80 * 3 + 200]), full[..., 3], rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------- ERB-spaced centres
def test_centres_evenly_spaced_on_erb_rate():
    cf = erb_space(100.0, 4000.0, 100)
    steps = torch.diff(hz_to_erb_rate(cf))
    assert cf[0] == pytest.approx(100.0) and cf[-1] < 4000.0
    torch.testing.assert_close(steps, torch.full_like(steps, float(steps[0])))
    assert float(steps[0]) * 100 == pytest.approx(float(hz_to_erb_rate(4000.0) - hz_to_erb_rate(100.0)))


def test_erb_formulas():
    assert float(erb(0.0)) == pytest.approx(24.7)
    assert float(erb(1000.0)) == pytest.approx(24.7 * (4.37 + 1), rel=1e-3)  # Glasberg & Moore
    f = torch.tensor([0.0, 250.0, 3999.0], dtype=torch.float64)
    torch.testing.assert_close(erb_rate_to_hz(hz_to_erb_rate(f)), f)


def test_centres_match_nnaudio():
    nnaudio_utils = pytest.importorskip("nnAudio.utils")
    _, cf = nnaudio_utils.fft2gammatonemx(sr=SR, n_fft=512, n_bins=100, fmin=100.0, fmax=4000.0, maxlen=257)
    torch.testing.assert_close(erb_space(100.0, 4000.0, 100), torch.as_tensor(cf.copy()), rtol=1e-9, atol=1e-6)


def test_filter_peaks_at_its_centre_with_erb_width():
    w = gammatone_filterbank(sample_rate=SR, n_fft=8000, n_filters=20, power=1.0, order=4)  # 1 Hz bins
    cf = erb_space(100.0, 4000.0, 20)
    assert torch.allclose(w.argmax(-1).double(), cf.round(), atol=1)
    # order 4: |H| = 1/sqrt(2) where (1 + x^2)^2 = sqrt(2), a -3 dB width of 2 x b = 0.887 ERB
    width = 2 * math.sqrt(2 ** 0.25 - 1) * 1.019
    above = (w > 2 ** -0.5).sum(-1).double()
    torch.testing.assert_close(above / erb(cf), torch.full_like(above, width), atol=0.08, rtol=0)


# ------------------------------------------------------------------ tones in the right band
@pytest.mark.parametrize("f0", [150.0, 440.0, 1000.0, 2500.0, 3700.0])
def test_pure_tone_energy_lands_in_its_band(f0):
    g = Gammatonegram(sample_rate=SR)
    energy = g(_tone(f0)).mean(-1)
    e, e0 = hz_to_erb_rate(g.center_freqs.double()), float(hz_to_erb_rate(f0))
    best = int(energy.argmax())
    assert abs(float(e[best]) - e0) < 0.25  # the loudest filter is within a quarter ERB of the tone
    near = (e - e0).abs() < 1.5
    assert float(energy[near].sum() / energy.sum()) > 0.95


def test_louder_tone_more_energy_and_log_is_log():
    g, lg = Gammatonegram(sample_rate=SR), LogGammatonegram(sample_rate=SR, eps=1e-10)
    x = _tone(1000.0)
    assert torch.allclose(g(2 * x), 4 * g(x), rtol=1e-4, atol=1e-6)  # power: twice the amplitude, 4x
    torch.testing.assert_close(lg(x), torch.log(g(x).clamp_min(1e-10)))


def test_nnaudio_backend_agrees_on_the_band():
    pytest.importorskip("nnAudio")
    ours, theirs = Gammatonegram(sample_rate=SR), Gammatonegram(sample_rate=SR, backend="nnaudio")
    for f0 in (300.0, 1000.0, 2500.0):
        a, b = ours(_tone(f0)).mean(-1), theirs(_tone(f0)).mean(-1)
        assert abs(int(a.argmax()) - int(b.argmax())) <= 1
    assert theirs(torch.randn(2, 4000)).shape == ours(torch.randn(2, 4000)).shape


# ------------------------------------------- gammatone.gtgram (Rothmann 2018's) on real FSDD
def _gtgram():
    return pytest.importorskip("gammatone.gtgram", reason="the test reference gammatone==1.0.3 is not installed "
                               "(pip install -r requirements.txt)")


def test_centres_match_gtgrams_filterbank():
    filters = pytest.importorskip("gammatone.filters", reason="gammatone==1.0.3 is not installed")
    theirs = filters.centre_freqs(SR, 100, 100.0)[::-1]  # gtgram's rows run upward after its flipud
    torch.testing.assert_close(erb_space(100.0, SR / 2, 100), torch.as_tensor(theirs.copy()), rtol=1e-9, atol=1e-9)


def test_agrees_with_gtgram_on_real_fsdd(real_fsdd_root):
    """Ten real recordings (every digit, every speaker): this module's power with center=False,
    divided by gtgram_power_scale, against gtgram(x, 8000, 0.025, 0.010, 100, 100.0) ** 2.

    Tolerances (measured 0.05 dB, 1.26 dB, 4.8 dB, 0.78 dB and 2.7 dB when written): total
    energy within 0.1 dB per clip; over the filter outputs within 40 dB of each clip's loudest,
    median |difference| <= 1.5 dB and 90th percentile <= 5.5 dB; filters above 950 Hz,
    <= 1.0 dB and <= 3.0 dB (the low filters differ most: the FFT approximation is coarser
    than their bandwidth)."""
    gtgram = _gtgram()
    import soundfile as sf

    rec = real_fsdd_root / "recordings" if (real_fsdd_root / "recordings").is_dir() else real_fsdd_root
    speakers = sorted({p.name.split("_")[1] for p in rec.glob("*.wav")})
    files = [rec / f"{d}_{speakers[d % len(speakers)]}_{7 + d}.wav" for d in range(10)]
    g = Gammatonegram(sample_rate=SR, center=False)
    assert g.gtgram_power_scale == 200 * 3 / 8 * 512 / 2  # sum(hann(200)**2) = 3/8 * 200
    all_d, high_d = [], []
    for path in files:
        x, sr = sf.read(path, dtype="float64")
        assert sr == SR
        ref = gtgram.gtgram(x, SR, 0.025, 0.010, 100, 100.0) ** 2
        ours = g(torch.from_numpy(x).float()).double().numpy() / g.gtgram_power_scale
        assert ours.shape == ref.shape, path.name  # the same frames: 1 + (samples - 200) // 80
        assert abs(10 * np.log10(ours.sum() / ref.sum())) < 0.1, path.name
        loud = ref > 1e-4 * ref.max()
        d = np.abs(10 * np.log10(np.maximum(ours, 1e-30) / ref))
        all_d.append(d[loud])
        high = loud & (g.center_freqs.numpy() >= 950.0)[:, None]
        high_d.append(d[high])
    all_d, high_d = np.concatenate(all_d), np.concatenate(high_d)
    assert np.median(all_d) <= 1.5 and np.percentile(all_d, 90) <= 5.5
    assert np.median(high_d) <= 1.0 and np.percentile(high_d, 90) <= 3.0


# ------------------------------------------------------------------------------- gradients
def test_trainable_weights_get_gradients():
    g = Gammatonegram(sample_rate=SR, trainable=True, n_filters=16)
    assert [n for n, _ in g.named_parameters()] == ["weights"]
    g(torch.randn(2, 2000)).sum().backward()
    assert g.weights.grad is not None and g.weights.grad.abs().sum() > 0
    assert list(Gammatonegram(sample_rate=SR).parameters()) == []


# ---------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, match", [
    (dict(win_length=400, n_fft=256), "n_fft"),
    (dict(f_min=5000.0), "f_min"),
    (dict(hop_length=-1), "hop_length"),
    (dict(power=0), "power"),
    (dict(backend="librosa"), "backend"),
])
def test_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Gammatonegram(sample_rate=SR, **kwargs)


def test_rejects_short_input_and_wrong_frame():
    g = Gammatonegram(sample_rate=SR, center=False)
    with pytest.raises(ValueError, match="win_length"):
        g(torch.randn(100))
    with pytest.raises(ValueError, match="win_length"):
        g.frame(torch.randn(199))


def test_gammatone_is_a_test_dependency_only():
    import re
    import tomllib

    from conftest import REPO

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = {re.split(r"[<>=!~ ;\[]", d)[0].lower() for d in project["dependencies"]}
    assert "gammatone" not in runtime and any(d.startswith("gammatone") for d in project["optional-dependencies"]["test"])
    assert "gammatone==1.0.3" in (REPO / "requirements.txt").read_text()
    imports = [p for p in (REPO / "apac_lab").rglob("*.py") if re.search(r"^\s*(from|import) gammatone", p.read_text(), re.M)]
    assert not imports, f"the package must not import gammatone (a test reference): {imports}"
