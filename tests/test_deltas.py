"""Deltas of a spectrogram: Piczak's (librosa 0.3.1's, as the reference code ports it) and the
centred regression delta (torchaudio's compute_deltas), each against its reference."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.signal
import torch
import torchaudio.functional as AF

from apac_lab.frontends import DELTA_METHODS, WithDeltas, spectral_deltas


def generate_delta_031(spec: np.ndarray) -> np.ndarray:
    """The reference's port of librosa 0.3.1's delta (corticph/MSTmodel, Utilities.generate_delta_031),
    line for line: the ramp 4..-4 run by scipy's lfilter over the spectrogram padded by 5 edge frames."""
    window = np.arange(4, -5, -1)
    padding = [(0, 0), (5, 5)]
    delta = np.pad(spec, padding, mode="edge")
    delta = scipy.signal.lfilter(window, 1, delta, axis=-1)
    return delta[..., 5:-5]


@pytest.fixture()
def spec() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(60, 41))


class TestPiczak:
    def test_equals_the_reference_port_of_librosa_031(self, spec):
        got = spectral_deltas(torch.tensor(spec)).numpy()
        np.testing.assert_allclose(got, generate_delta_031(spec), rtol=0, atol=1e-10)

    def test_on_a_batch_each_spectrogram_on_its_own(self, spec):
        batch = np.stack([spec, 2 * spec[::-1]])
        got = spectral_deltas(torch.tensor(batch)).numpy()
        for b in range(2):
            np.testing.assert_allclose(got[b], generate_delta_031(batch[b]), atol=1e-10)

    def test_it_lags_four_frames_and_is_not_normalised(self):
        step = torch.zeros(1, 30)
        step[0, 10:] = 1.0  # a step at frame 10
        d = spectral_deltas(step)[0]
        centred = spectral_deltas(step, method="regression")[0]
        # the centred slope is largest at frames 9 and 10, around the step; Piczak's, sum_n n * x[t - 4 + n],
        # is largest four frames later (13 and 14), and is 60 times larger (not divided by sum n^2 = 60)
        assert centred.argmax().item() == 9 and centred[9] == centred[10]
        assert d.argmax().item() == 13 and d[13] == d[14] == 10.0 and d[:10].abs().max() == 0
        torch.testing.assert_close(d[13], 60 * centred[9])


class TestRegression:
    def test_equals_torchaudio_compute_deltas(self, spec):
        got = spectral_deltas(torch.tensor(spec), method="regression")
        torch.testing.assert_close(got, AF.compute_deltas(torch.tensor(spec), win_length=9))

    @pytest.mark.parametrize("width", [3, 5, 9])
    def test_equals_librosa_delta_with_edge_frames_repeated(self, spec, width):
        got = spectral_deltas(torch.tensor(spec), method="regression", width=width).numpy()
        np.testing.assert_allclose(got, librosa.feature.delta(spec, width=width, mode="nearest"), atol=1e-10)

    def test_librosa_default_interp_differs_only_at_the_ends(self, spec):
        got = spectral_deltas(torch.tensor(spec), method="regression").numpy()
        ref = librosa.feature.delta(spec, width=9)
        np.testing.assert_allclose(got[:, 4:-4], ref[:, 4:-4], atol=1e-10)
        assert np.abs(got[:, :4] - ref[:, :4]).max() > 1e-3

    def test_a_ramp_has_slope_one(self):
        assert spectral_deltas(torch.arange(20.0)[None], method="regression")[0, 4:16].tolist() == [1.0] * 12


def test_with_deltas_stacks_the_two_channels(spec):
    x = torch.tensor(spec, dtype=torch.float32)[None].repeat(2, 1, 1)
    out = WithDeltas(torch.nn.Identity(), method="regression")(x)
    assert out.shape == (2, 2, 60, 41)
    assert torch.equal(out[:, 0], x)
    torch.testing.assert_close(out[:, 1], AF.compute_deltas(x, win_length=9))


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(ValueError, match="method must be one of"):
        spectral_deltas(torch.zeros(2, 5), method="librosa")
    with pytest.raises(ValueError, match="odd number of frames >= 3"):
        spectral_deltas(torch.zeros(2, 5), width=4)
    with pytest.raises(ValueError, match="odd number"):
        WithDeltas(torch.nn.Identity(), width=1)
    with pytest.raises(ValueError, match=r"\(batch, bands, frames\)"):
        WithDeltas(torch.nn.Identity())(torch.zeros(4, 5))
    assert DELTA_METHODS == ("piczak", "regression")
