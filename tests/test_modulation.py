"""The modulation view: spectrum axes, where plane waves and Gabor filters land."""

from __future__ import annotations

import math

import pytest
import torch

from apac_lab.frontends import (
    bands_per_octave, gabor_kernels, gabor_modulation_position, modulation_axes, modulation_spectrum,
)

FRAME_RATE = 100.0


def _peak(power, spectral, temporal):
    i = int(power.flatten().argmax())
    return float(temporal[i % power.shape[-1]]), float(spectral[i // power.shape[-1]])


@pytest.mark.parametrize("cyc_per_frame,cyc_per_band", [(0.1, 0.125), (-0.2, 0.25), (0.05, 0.0)])
def test_a_ripple_peaks_at_its_modulation(cyc_per_frame, cyc_per_band):
    f = torch.arange(32.0)[:, None]
    t = torch.arange(100.0)[None, :]
    ripple = torch.cos(2 * math.pi * (cyc_per_frame * t + cyc_per_band * f))
    power, spectral, temporal = modulation_spectrum(ripple, frame_rate=FRAME_RATE)
    assert power.shape == (17, 100)
    temp_hz, spec = _peak(power, spectral, temporal)
    if cyc_per_band == 0:  # on the temporal axis, +/- the rate are the same ripple
        temp_hz = abs(temp_hz)
    # 100 frames and 32 bands: these ripples sit exactly on a bin (FRAME_RATE / 100 Hz, 1 / 32 cycle per band)
    assert temp_hz == pytest.approx(cyc_per_frame * FRAME_RATE, abs=1e-9)
    assert spec == pytest.approx(cyc_per_band, abs=1e-9)


@pytest.mark.parametrize("freq,gamma", [(0.15, 0.6), (0.2, 2.5), (0.1, -1.0), (0.25, -2.8)])
def test_a_gabor_filter_sits_where_its_own_spectrum_peaks(freq, gamma):
    kernel = gabor_kernels(torch.tensor([6.0]), 6.0, gamma, freq, size_f=64, size_t=128, normalize=False).real[0]
    power, spectral, temporal = modulation_spectrum(kernel, frame_rate=FRAME_RATE, window=False)
    pos = gabor_modulation_position(torch.tensor(freq), torch.tensor(gamma), frame_rate=FRAME_RATE)
    temp_hz, spec = _peak(power, spectral, temporal)
    assert float(pos["spectral"]) == pytest.approx(abs(freq * math.sin(gamma)), rel=1e-6)  # folded up
    assert temp_hz == pytest.approx(float(pos["temporal_hz"]), abs=FRAME_RATE / 128 + 1e-6)
    assert spec == pytest.approx(float(pos["spectral"]), abs=1 / 64 + 1e-6)


def test_positions_fold_onto_the_upper_half_plane_and_scale():
    pos = gabor_modulation_position(torch.tensor([0.1, 0.1]), torch.tensor([-math.pi / 4, 3 * math.pi / 4]),
                                    frame_rate=50.0, sigma_t=torch.tensor([2.0, 4.0]),
                                    sigma_f=torch.tensor([1.0, 1.0]), bands_per_octave=12.0)
    # gamma and gamma + pi are the same place for a real log-mel
    torch.testing.assert_close(pos["temporal_hz"][0], pos["temporal_hz"][1])
    assert (pos["spectral"] > 0).all()
    assert float(pos["spectral"][0]) == pytest.approx(0.1 * math.sin(math.pi / 4) * 12.0, rel=1e-5)
    assert float(pos["temporal_bw_hz"][0]) == pytest.approx(50.0 / (2 * math.pi * 2.0), rel=1e-5)
    assert float(pos["spectral_bw"][1]) == pytest.approx(12.0 / (2 * math.pi), rel=1e-5)


def test_axes_and_db():
    spectral, temporal = modulation_axes(10, 5, frame_rate=20.0)
    assert spectral.tolist() == [0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5]
    assert temporal.tolist() == [-8.0, -4.0, 0.0, 4.0, 8.0]
    p, _, _ = modulation_spectrum(torch.randn(2, 3, 10, 5), frame_rate=20.0)
    assert p.shape == (2, 3, 6, 5) and p.amin() >= -80.0 - 1e-3
    assert torch.equal(p.amax(dim=(-2, -1)), torch.zeros(2, 3))  # dB re each log-mel's own peak


def test_bands_per_octave_matches_a_numerical_derivative():
    mel = lambda f: 2595 * math.log10(1 + f / 700)  # noqa: E731
    spacing = mel(4000) / 65
    at = 1000.0
    numeric = (mel(at * 2 ** 0.001) - mel(at * 2 ** -0.001)) / 0.002 / spacing
    assert bands_per_octave(at, sample_rate=8000, n_mels=64) == pytest.approx(numeric, rel=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="frame_rate"):
        modulation_axes(4, 4, frame_rate=0)
    with pytest.raises(ValueError, match="n_mels, frames"):
        modulation_spectrum(torch.randn(5), frame_rate=10.0)
    with pytest.raises(ValueError, match="at_hz"):
        bands_per_octave(0.0, sample_rate=8000, n_mels=64)
    with pytest.raises(ValueError, match="frame_rate"):
        gabor_modulation_position(torch.tensor(0.1), torch.tensor(0.0), frame_rate=-1)
