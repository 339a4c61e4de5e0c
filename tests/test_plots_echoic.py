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
