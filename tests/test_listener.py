"""The listener autoencoder and the embedding classifier: shapes, gradients, learning."""

import pytest
import torch
from torch.utils.data import TensorDataset

from apac_lab.models import EmbeddingClassifier, Listener
from apac_lab.train import TrainConfig, fit


# ---------------------------------------------------------------------------------- shapes
def test_article_defaults():
    m = Listener()
    assert (m.n_steps, m.n_bins, m.latent_dim) == (8, 100, 250)
    x = torch.rand(3, 8, 100)
    assert m(x).shape == x.shape and m.encode(x).shape == (3, 250)


@pytest.mark.parametrize("hidden", [(), (16,), (24, 12)])
def test_configurable_sizes(hidden):
    m = Listener(n_steps=5, n_bins=7, latent_dim=6, hidden_sizes=hidden)
    x = torch.rand(2, 5, 7)
    assert m(x).shape == (2, 5, 7)
    assert m.decode(m.encode(x), n_steps=11).shape == (2, 11, 7)
    assert len(m.encoder) == len(hidden) + 1 and len(m.decoder) == len(hidden) + 1


def test_encoder_reusable_on_any_length():
    m = Listener(n_bins=10, latent_dim=6)
    assert m.encode(torch.rand(4, 30, 10)).shape == (4, 6)


def test_batch_consistency_and_embed_matches_encode():
    torch.manual_seed(0)
    m = Listener(n_bins=10, latent_dim=6, dropout=0.3).eval()
    x = torch.rand(9, 8, 10)
    z = m.encode(x)
    torch.testing.assert_close(m.encode(x[3:4])[0], z[3], rtol=1e-5, atol=1e-6)
    m.train()
    torch.testing.assert_close(m.embed(x, batch_size=4), z, rtol=1e-5, atol=1e-6)  # eval mode inside
    assert m.training  # and the mode is restored


# ------------------------------------------------------------------------------- gradients
def test_gradients_reach_every_parameter():
    m = Listener(n_bins=12, latent_dim=8, hidden_sizes=(10,))
    x = torch.rand(4, 8, 12)
    torch.nn.functional.mse_loss(m(x), x).backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_classifier_gradients_and_linear_option():
    clf = EmbeddingClassifier(8, 3, hidden=5)
    clf(torch.randn(4, 8)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in clf.parameters())
    assert isinstance(EmbeddingClassifier(8, 3, hidden=0).net, torch.nn.Linear)


# -------------------------------------------------------------------------------- learning
def test_reconstruction_loss_decreases_with_the_shared_loop():
    torch.manual_seed(0)
    x = torch.rand(16, 8, 20)
    m = Listener(n_bins=20, latent_dim=16)
    cfg = TrainConfig(epochs=15, batch_size=16, lr=1e-2, weight_decay=0.0, loss="mse", progress=False, seed=0)
    hist = fit(m, TensorDataset(x, x), None, cfg)
    assert hist[-1]["train_loss"] < 0.5 * hist[0]["train_loss"]


def test_classifier_learns_separable_embeddings():
    torch.manual_seed(0)
    y = torch.arange(60) % 3
    z = torch.randn(60, 8) * 0.3 + torch.nn.functional.one_hot(y, 8).float() * 3
    clf = EmbeddingClassifier(8, 3, hidden=16, dropout=0.0)
    hist = fit(clf, TensorDataset(z, y), TensorDataset(z, y),
               TrainConfig(epochs=20, batch_size=20, lr=1e-2, progress=False))
    assert hist[-1]["val_acc"] == 1.0


# ---------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs", [dict(n_steps=0), dict(latent_dim=0), dict(hidden_sizes=(0,)), dict(dropout=1.0)])
def test_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError):
        Listener(**kwargs)


def test_rejects_bad_shapes():
    m = Listener(n_bins=10, latent_dim=4)
    with pytest.raises(ValueError, match="transpose"):
        m(torch.rand(2, 10, 8))
    with pytest.raises(ValueError, match="latent_dim"):
        m.decode(torch.rand(2, 5))
    with pytest.raises(ValueError):
        EmbeddingClassifier(8, 1)


# -------------------------------------------------------------------------- recipes
from apac_lab.data import load_synthetic  # noqa: E402
from apac_lab.frontends import EchoicFrontend, Gammatonegram  # noqa: E402
from apac_lab.recipes import clip_embeddings, echoic_views, fit_listener, fit_probe, reconstruction_report  # noqa: E402


def test_recipes_end_to_end_on_a_tiny_set():
    torch.manual_seed(0)
    ds = load_synthetic(split="train", sample_rate=8000, num_samples=4000).balanced(2)
    fe = EchoicFrontend(view_stride=25, gammatone=Gammatonegram(sample_rate=8000, n_filters=16))
    views, labels = echoic_views(ds, fe, batch_size=8, progress=False)
    assert views.shape == (len(ds), 3, 8, 16) and labels.tolist() == ds.labels
    cfg = TrainConfig(epochs=2, batch_size=8, lr=1e-2, weight_decay=0.0, progress=False)
    model, hist = fit_listener(views, model=Listener(n_bins=16, latent_dim=6), config=cfg, val_fraction=0.25)
    assert len(hist) == 2 and "val_loss" in hist[0]
    rep = reconstruction_report(model, views)
    assert rep["r2"] == pytest.approx(1 - rep["mse"] / rep["baseline_mse"])
    emb = clip_embeddings(model, views)
    assert emb.shape == (len(ds), 3 * 6)
    torch.testing.assert_close(emb[:, 6:12], model.embed(views[:, 1]))  # views in time order
    clf, _ = fit_probe(emb, labels, config=TrainConfig(epochs=1, batch_size=8, progress=False))
    torch.testing.assert_close(clf.mean, emb.mean(0))
    assert clf(emb).shape == (len(ds), len(ds.classes))
