"""apac_lab.plots.spectra: figures carry the right data, axes in physical units, titles and credits."""

import numpy as np
import pytest
import torch

from apac_lab.frontends import (
    dct_matrix, fft_frequencies, frame_signal, hz_to_mel, mel_band_edges, mel_filterbank, mfcc_from_scratch,
    power_spectrum,
)
from apac_lab.plots import (
    COLORSCALE, DIVERGING, FSDD_CREDIT, dct_basis_figure, difference_figure, framing_figure, mel_figure,
    mel_filterbank_figure, mel_hz_ticks, mfcc_figure, spectrogram_figure, waveform_figure, window_figure,
)

SR, N_FFT, HOP = 8000, 256, 80


@pytest.fixture(scope="module")
def wave():
    t = torch.arange(SR) / SR
    x = torch.sin(2 * torch.pi * 1000 * t) * (t > 0.3) * (t < 0.7)
    return x + 1e-3 * torch.randn(SR, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def power(wave):
    return power_spectrum(frame_signal(wave, n_fft=N_FFT, hop_length=HOP))


def _titles(fig):
    return fig.layout.title.text, fig.layout.xaxis.title.text, fig.layout.yaxis.title.text


def _has_units(axis_title):
    return any(u in axis_title for u in ("(s)", "(Hz", "(ms)", "(dB", "(index)", "Weight", "Amplitude", "Coefficient"))


def test_waveform_time_axis_in_seconds_and_credit(wave):
    fig = waveform_figure(wave, sample_rate=SR, credit=FSDD_CREDIT)
    assert fig.data[0].x[0] == 0 and fig.data[0].x[-1] == pytest.approx((SR - 1) / SR)
    np.testing.assert_allclose(fig.data[0].y, wave.numpy())
    title, xt, yt = _titles(fig)
    assert title and xt == "Time (s)" and _has_units(yt)
    assert any(FSDD_CREDIT in a.text for a in fig.layout.annotations)


def test_waveform_long_clips_are_drawn_as_an_envelope():
    x = torch.randn(200_000)
    fig = waveform_figure(x, sample_rate=44100, max_points=2000)
    assert len(fig.data[0].y) <= 2000
    assert max(fig.data[0].y) == pytest.approx(float(x.max()), rel=1e-6)  # peaks are kept, not skipped
    assert fig.data[0].x[-1] <= 200_000 / 44100


def test_spectrogram_axes_and_db(power):
    fig = spectrogram_figure(power, sample_rate=SR, hop_length=HOP)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (129, 101)
    np.testing.assert_allclose(fig.data[0].y, fft_frequencies(N_FFT, SR).numpy())
    assert fig.data[0].x[1] == pytest.approx(HOP / SR)
    assert z.max() - z.min() == pytest.approx(80.0, abs=1e-3)  # the top_db floor
    assert int(np.argmax(z.mean(axis=1))) == 32  # 1 kHz row
    assert _titles(fig)[1:] == ("Time (s)", "Frequency (Hz)") and fig.data[0].colorscale[0][1] != ""
    log = spectrogram_figure(power, sample_rate=SR, hop_length=HOP, log_freq=True, db=False)
    assert log.layout.yaxis.type == "log" and log.data[0].y[0] > 0 and np.asarray(log.data[0].z).shape == (128, 101)


def test_filterbank_curves_in_hz():
    fb = mel_filterbank(sample_rate=SR, n_fft=N_FFT, n_mels=10)
    fig = mel_filterbank_figure(fb, sample_rate=SR)
    assert len(fig.data) == 2 and _titles(fig)[1] == "Frequency (Hz)"
    # Each curve (between Nones) is one band's weights on consecutive FFT bins: every band exactly once.
    drawn = []
    for tr in fig.data:
        cut = [-1] + [i for i, v in enumerate(tr.x) if v is None]
        for a, b in zip(cut[:-1], cut[1:]):
            bins = np.array(tr.x[a + 1:b], dtype=float) / (SR / N_FFT)
            np.testing.assert_allclose(bins, np.arange(round(bins[0]), round(bins[0]) + len(bins)), atol=1e-9)
            idx = np.round(bins).astype(int)
            assert idx[0] >= 0 and idx[-1] <= N_FFT // 2
            drawn += [m for m in range(10) if np.allclose(fb[m, idx].numpy(), np.array(tr.y[a + 1:b], dtype=float))]
    assert sorted(drawn) == list(range(10))
    ys = np.array([v for tr in fig.data for v in tr.y if v is not None], dtype=float)
    assert ys.max() == pytest.approx(float(fb.max())) and sum(v is None for tr in fig.data for v in tr.x) == 10
    crowded = mel_filterbank_figure(mel_filterbank(sample_rate=SR, n_fft=64, n_mels=64), sample_rate=SR)
    assert "empty" in crowded.layout.title.text


def test_mel_figure_rows_at_band_centres_with_hz_ticks(power):
    fb = mel_filterbank(sample_rate=SR, n_fft=N_FFT, n_mels=40, f_min=100.0, f_max=3800.0)
    fig = mel_figure(fb @ power, sample_rate=SR, hop_length=HOP, f_min=100.0, f_max=3800.0, credit=FSDD_CREDIT)
    centres = hz_to_mel(mel_band_edges(n_mels=40, f_min=100.0, f_max=3800.0)[1:-1]).numpy()
    np.testing.assert_allclose(fig.data[0].y, centres)
    assert "Hz" in fig.layout.yaxis.title.text and "100" in fig.layout.yaxis.ticktext
    assert all(100.0 <= float(t) <= 3800.0 for t in fig.layout.yaxis.ticktext)
    ticks = mel_hz_ticks(0.0, 4000.0)
    assert ticks["tickvals"][ticks["ticktext"].index("1000")] == pytest.approx(1000.0, abs=0.1)


def test_mfcc_figure_is_diverging_and_centred(wave):
    m = mfcc_from_scratch(wave, sample_rate=SR, n_fft=N_FFT, hop_length=HOP, n_mels=40, n_mfcc=13)
    fig = mfcc_figure(m, sample_rate=SR, hop_length=HOP)
    assert fig.data[0].zmid == 0 and np.asarray(fig.data[0].z).shape == (13, 101)
    assert list(mfcc_figure(m, sample_rate=SR, hop_length=HOP, drop_c0=True).data[0].y) == list(range(1, 13))


def test_framing_figure_places_centred_windows(wave):
    fig = framing_figure(wave, sample_rate=SR, n_fft=N_FFT, hop_length=HOP, n_frames=3, first_frame=40)
    assert len(fig.data) == 4 and len(fig.layout.shapes) == 3
    for k, trace in zip(range(40, 43), fig.data[1:]):
        assert trace.x[0] == pytest.approx((k * HOP - N_FFT // 2) / SR)
        assert len(trace.x) == N_FFT
    auto = framing_figure(wave, sample_rate=SR, n_fft=N_FFT, hop_length=HOP)
    assert 0.25 < auto.data[1].x[N_FFT // 2] < 0.75  # starts where the tone is, not in the silence
    with pytest.raises(ValueError, match="n_fft"):
        framing_figure(wave, sample_rate=SR, n_fft=1, hop_length=HOP)


def test_window_figure_shows_less_leakage_with_hann():
    t = torch.arange(256) / SR
    fig = window_figure(torch.sin(2 * torch.pi * 1030 * t), sample_rate=SR)
    rect_db, hann_db = np.asarray(fig.data[1].y), np.asarray(fig.data[3].y)
    far = np.asarray(fig.data[1].x) > 2000
    assert hann_db[far].mean() < rect_db[far].mean() - 20


def test_dct_and_difference_figures():
    D = dct_matrix(13, 40)
    fig = dct_basis_figure(D)
    np.testing.assert_allclose(fig.data[0].z, D.numpy())
    a = torch.randn(13, 101)
    d = difference_figure(a + 0.5, a, sample_rate=SR, hop_length=HOP, names=("scratch", "torchaudio"))
    np.testing.assert_allclose(d.data[0].z, 0.5, atol=1e-6)
    assert "max |scratch - torchaudio| = 0.5" in d.layout.title.text and d.data[0].zmid == 0
    with pytest.raises(ValueError, match="same shape"):
        difference_figure(a, a[:5], sample_rate=SR, hop_length=HOP)


def test_colour_maps_are_the_house_ones(power):
    from plotly.colors import get_colorscale

    as_list = lambda cs: [c[1] for c in cs]  # noqa: E731  (the colours, in order)
    seq = spectrogram_figure(power, sample_rate=SR, hop_length=HOP).data[0].colorscale
    assert as_list(seq) == as_list(get_colorscale(COLORSCALE))
    assert as_list(mel_figure(torch.rand(4, 5), sample_rate=SR, hop_length=HOP).data[0].colorscale) == as_list(get_colorscale(COLORSCALE))
    for fig in (mfcc_figure(torch.randn(3, 4), sample_rate=SR, hop_length=HOP), dct_basis_figure(dct_matrix(3, 4)),
                difference_figure(torch.ones(2, 2), torch.zeros(2, 2), sample_rate=SR, hop_length=HOP)):
        assert as_list(fig.data[0].colorscale) == as_list(get_colorscale(DIVERGING)) and fig.data[0].zmid == 0


@pytest.mark.parametrize("fn", [spectrogram_figure, mel_figure, mfcc_figure])
def test_batched_input_is_a_clear_error(fn):
    with pytest.raises(ValueError, match="one clip"):
        fn(torch.rand(2, 10, 5), sample_rate=SR, hop_length=HOP)
