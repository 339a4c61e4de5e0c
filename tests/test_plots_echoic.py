"""Echoic figures: PCA against torch.pca_lowrank, span bars tiling the past, labelled axes."""

import numpy as np
import pytest
import torch

from apac_lab.plots.echoic import pca_2d, plot_embedding_2d, plot_spans, plot_views


def test_pca_matches_pca_lowrank_up_to_sign():
    x = torch.randn(80, 6, generator=torch.Generator().manual_seed(0)) * torch.tensor([4.0, 2, 1, 1, 0.5, 0.5])
    xy, share = pca_2d(x)
    _, _, v = torch.pca_lowrank(x, q=2, center=True, niter=10)
    ref = (x - x.mean(0)) @ v
    for k in range(2):
        assert min((xy[:, k] - ref[:, k]).abs().max(), (xy[:, k] + ref[:, k]).abs().max()) < 1e-3
    eig = torch.linalg.eigvalsh(torch.cov(x.double().T)).flip(0)  # variances along the principal axes
    torch.testing.assert_close(share.double(), eig[:2] / eig.sum(), rtol=1e-5, atol=0)


def test_span_bars_tile_the_past():
    fig = plot_spans(4, 2.0, hop_s=0.01)
    bar = fig.data[0]
    ends = np.array(bar.base) + np.array(bar.x)
    assert ends[0] == pytest.approx(0) and np.allclose(ends[1:], np.array(bar.base)[:-1])
    assert bar.base[-1] == pytest.approx(-150.0) and "(ms)" in fig.layout.xaxis.title.text


def test_views_and_embedding_figures_are_labelled():
    fig = plot_views([torch.rand(8, 5)], ["x"], center_freqs=torch.linspace(100, 4000, 5), title="t")
    assert fig.layout.yaxis.title.text == "Centre frequency (Hz)" and list(fig.data[0].x)[-1] == "0"
    emb = plot_embedding_2d(torch.randn(30, 4), [i % 3 for i in range(30)], ["a", "b", "c"], title="t")
    assert [t.name for t in emb.data] == ["a", "b", "c"] and "variance" in emb.layout.xaxis.title.text


# ----------------------------------------------------------------------------- notebook 03's figures
def test_gammatone_figure_is_db_re_max_on_a_log_axis():
    from apac_lab.frontends import power_to_db
    from apac_lab.plots import gammatone_figure

    power = torch.rand(5, 12, generator=torch.Generator().manual_seed(1)) ** 8
    fig = gammatone_figure(power, center_freqs=torch.tensor([100.0, 200, 400, 800, 1600]), hop_s=0.01)
    want = 10 * torch.log10(power / power.max())
    np.testing.assert_allclose(fig.data[0].z, torch.maximum(want, torch.tensor(-80.0)).numpy(), atol=1e-4)
    np.testing.assert_array_equal(fig.data[0].z, power_to_db(power, ref=None, amin=1e-30).numpy())
    assert fig.layout.yaxis.type == "log" and fig.data[0].x[1] == pytest.approx(0.01)


def test_ring_storage_figure_shows_storage_and_time_order_on_one_scale():
    from apac_lab.frontends import RingBuffer
    from apac_lab.plots import ring_storage_figure

    frames = torch.rand(1, 9, 3, generator=torch.Generator().manual_seed(2)) + 0.1
    ring = RingBuffer(capacity=4, n_bins=3)
    ring.push(frames)
    fig = ring_storage_figure(ring.storage[0], ring.unwrap()[0], write=ring.write, center_freqs=[100.0, 200, 400],
                              ref=float(frames.max()))
    stored, ordered = (np.asarray(t.z) for t in fig.data)
    assert stored.shape == ordered.shape == (3, 4)
    want = 10 * np.log10(frames[0, -4:].numpy().T / float(frames.max()))  # the newest 4 frames, oldest first
    np.testing.assert_allclose(ordered, want, atol=1e-4)
    assert f"slot {ring.write}" in fig.layout.annotations[0].text


def test_gammatone_vs_mel_uses_the_htk_triangles_of_torchaudio():
    import torchaudio

    from apac_lab.frontends import Gammatonegram
    from apac_lab.plots import gammatone_vs_mel_figure

    gt = Gammatonegram(sample_rate=8000, n_filters=40)
    fig = gammatone_vs_mel_figure(gt, picks=(5, 30))
    n_freqs = gt.n_fft // 2 + 1
    ta = torchaudio.functional.melscale_fbanks(n_freqs, float(gt.f_min), 4000.0, 40, 8000, norm=None,
                                               mel_scale="htk")
    freqs = np.linspace(0, 4000, n_freqs)
    np.testing.assert_allclose(fig.data[1].y, freqs[ta.argmax(0).numpy()])
    np.testing.assert_allclose(fig.data[0].y, gt.center_freqs.numpy())
    assert len(fig.data) == 2 + 2 * 2 and fig.layout.xaxis2.type == "log"


def test_mel_and_gammatone_figure_scales_each_to_its_own_max():
    from apac_lab.plots import mel_and_gammatone_figure

    fig = mel_and_gammatone_figure(torch.rand(6, 10) * 100, torch.rand(4, 10) * 1e-6, hop_s=0.02, title="t",
                                   names=("a", "b"))
    assert [float(np.max(t.z)) for t in fig.data] == [0.0, 0.0]
    assert [a.text for a in fig.layout.annotations][:2] == ["a", "b"] and fig.data[1].x[-1] == pytest.approx(0.18)
