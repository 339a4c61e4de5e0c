"""STRF classifiers: shapes, parameter counts, gradients, a training step, errors."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset

from apac_lab.frontends import GaborSTRF
from apac_lab.models import FreeSTRF, STRFClassifier
from apac_lab.train import TrainConfig, fit


@pytest.mark.parametrize("layer", ["gabor", "conv"])
def test_shapes_and_batch_consistency(layer):
    torch.manual_seed(0)
    model = STRFClassifier(5, layer=layer, n_filters=3, kernel_size=(5, 21)).eval()
    x = torch.randn(4, 16, 30)
    out = model(x)
    assert out.shape == (4, 5)
    torch.testing.assert_close(model(x[1:2]), out[1:2], atol=1e-5, rtol=1e-5)
    assert model(x[:, None]).shape == (4, 5)  # with a channel axis
    assert model.features(x).shape == (4, 3, 16, 30)


def test_parameter_counts():
    assert STRFClassifier(10, layer="gabor", n_filters=16, kernel_size=(9, 111)).strf_parameters() == 64
    assert STRFClassifier(10, layer="conv", n_filters=16, kernel_size=(9, 111)).strf_parameters() == 2 * 999 * 16
    assert STRFClassifier(10, layer="gabor", n_filters=16, trainable=False).strf_parameters() == 0
    assert STRFClassifier(10, layer="conv", n_filters=16, trainable=False).strf_parameters() == 0


def test_free_layer_equals_conv2d_magnitude():
    torch.manual_seed(1)
    layer = FreeSTRF(3, kernel_size=(5, 7))
    x = torch.randn(2, 1, 10, 12)
    y = torch.nn.functional.conv2d(x, layer.weight, padding="same")
    torch.testing.assert_close(layer(x), torch.sqrt(y[:, :3] ** 2 + y[:, 3:] ** 2 + 1e-12), atol=1e-5, rtol=1e-5)
    assert FreeSTRF(3, kernel_size=(5, 7), output="complex")(x).shape == (2, 6, 10, 12)


@pytest.mark.parametrize("layer", ["gabor", "conv"])
def test_gradients_reach_the_strf_layer_and_training_runs(layer):
    torch.manual_seed(2)
    model = STRFClassifier(3, layer=layer, n_filters=2, kernel_size=(3, 9), channels=(4, 8))
    x, y = torch.randn(12, 8, 20), torch.randint(0, 3, (12,))
    before = {k: v.clone() for k, v in model.strf.state_dict().items()}
    torch.nn.functional.cross_entropy(model(x), y).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.strf.parameters())
    model.zero_grad()
    hist = fit(model, TensorDataset(x, y), None, TrainConfig(epochs=2, batch_size=4, lr=1e-2, progress=False))
    assert len(hist) == 2 and all(torch.isfinite(torch.tensor(h["train_loss"])) for h in hist)
    assert any(not torch.equal(before[k], v) for k, v in model.strf.state_dict().items())


def test_init_sets_the_gabor_filters():
    model = STRFClassifier(3, n_filters=2, kernel_size=(3, 9), init={"freq": 0.2, "gamma": 0.0})
    assert isinstance(model.strf, GaborSTRF)
    torch.testing.assert_close(model.strf.params()["freq"], torch.full((2, 1), 0.2))


@pytest.mark.parametrize("kwargs,match", [({"layer": "mlp"}, "layer"), ({"n_classes": 1}, "n_classes"),
                                          ({"layer": "conv", "init": {"freq": 0.1}}, "init")])
def test_errors(kwargs, match):
    args = {"n_classes": 3}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        STRFClassifier(**args)
    with pytest.raises(ValueError, match="n_filters"):
        FreeSTRF(0)


def test_bad_input_shape():
    model = STRFClassifier(3, n_filters=2, kernel_size=(3, 9))
    with pytest.raises(ValueError, match="n_mels, frames"):
        model(torch.randn(8, 20))
    with pytest.raises(ValueError, match="one input channel"):
        model(torch.randn(2, 2, 8, 20))
