"""The listener autoencoder, its LSTM layer and the embedding classifier: the article's layers and
parameter counts, the LSTM against nn.LSTM, shapes, gradients, learning."""

import math

import pytest
import torch
from torch.utils.data import TensorDataset

from apac_lab import papers
from apac_lab.models import EmbeddingClassifier, Listener, LSTMLayer, keras_init_, lstm_sequence, make_lstm
from apac_lab.models.lstm import hard_sigmoid
from apac_lab.train import TrainConfig, fit


def _count(module):
    return sum(p.numel() for p in module.parameters())


# ------------------------------------------------------------- the article's architecture
def _lstm_widths(stack):
    return [(m.input_size, m.hidden_size) for m in stack]


def test_default_is_the_articles_stack():
    m = Listener()
    assert (m.n_steps, m.n_bins, m.latent_dim, m.architecture) == (8, 100, 250, "rothmann2018")
    # LSTM(50, relu, return_sequences), LSTM(250, relu) | RepeatVector(8) | LSTM(50, relu, return_sequences), LSTM(100)
    assert _lstm_widths(m.encoder) == [(100, 50), (50, 250)]
    assert _lstm_widths(m.decoder) == [(250, 50), (50, 100)]
    assert [lstm.activation for lstm in m.encoder] == ["relu", "relu"]
    assert m.decoder[0].activation == "relu" and isinstance(m.decoder[1], torch.nn.LSTM)  # Keras's default: tanh
    assert isinstance(m.output, torch.nn.Identity)  # no Dense layer: the last LSTM's outputs are the reconstruction
    x = torch.rand(3, 8, 100)
    assert m(x).shape == x.shape and m.encode(x).shape == (3, 250)


def test_parameter_counts_two_biases_and_keras_one():
    keras = papers.figure("rothmann2018.listener.parameters").value
    assert keras == 451_800
    assert Listener().n_parameters == 453_600  # PyTorch: bias_ih and bias_hh in every LSTM
    assert Listener().n_parameters - keras == sum(4 * h for h in (50, 250, 50, 100))
    one = Listener(biases=1)
    assert one.n_parameters == keras
    layers = [papers.figure(f"rothmann2018.listener.lstm{i}").value for i in (1, 2, 3, 4)]
    assert [_count(lstm) for lstm in [*one.encoder, *one.decoder]] == layers  # layer by layer, Keras's summary


def test_kit_architecture_is_kept_with_its_count():
    m = Listener(architecture="kit")
    assert m.n_parameters == 879_100
    assert _lstm_widths(m.encoder) == [(100, 250)] and _lstm_widths(m.decoder) == [(250, 250)]
    assert isinstance(m.output, torch.nn.Linear) and m.activation == "tanh"
    assert m(torch.rand(2, 8, 100)).shape == (2, 8, 100)


@pytest.mark.parametrize("architecture", ["rothmann2018", "kit"])
@pytest.mark.parametrize("hidden", [(), (16,), (24, 12)])
def test_configurable_sizes(hidden, architecture):
    m = Listener(n_steps=5, n_bins=7, latent_dim=6, hidden_sizes=hidden, architecture=architecture)
    x = torch.rand(2, 5, 7)
    assert m(x).shape == (2, 5, 7)
    assert m.decode(m.encode(x), n_steps=11).shape == (2, 11, 7)
    assert len(m.encoder) == len(hidden) + 1 and len(m.decoder) == len(hidden) + 1


@torch.no_grad()
def test_keras_gates_and_init_options():
    m = Listener(n_bins=10, latent_dim=6, gate_activation="hard_sigmoid", init="keras")
    assert all(isinstance(lstm, LSTMLayer) and lstm.gate_activation == "hard_sigmoid" for lstm in [*m.encoder, *m.decoder])
    first = m.encoder[0]
    assert float(first.bias_ih_l0.detach()[5:10].min()) == 1.0 and float(first.bias_hh_l0.detach().abs().max()) == 0.0


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
@pytest.mark.parametrize("architecture", ["rothmann2018", "kit"])
def test_gradients_reach_every_parameter(architecture):
    m = Listener(n_bins=12, latent_dim=8, hidden_sizes=(10,), architecture=architecture)
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
@pytest.mark.parametrize("kwargs, match", [
    (dict(n_steps=0), "n_steps"), (dict(latent_dim=0), "latent_dim"), (dict(hidden_sizes=(0,)), "hidden_sizes"),
    (dict(dropout=1.0), "dropout"), (dict(architecture="keras"), "architecture"), (dict(activation="gelu"), "activation"),
    (dict(gate_activation="relu"), "gate_activation"), (dict(biases=0), "biases"), (dict(init="xavier"), "init"),
])
def test_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Listener(**kwargs)


def test_lstm_rejects_bad_settings_and_shapes():
    with pytest.raises(ValueError, match="activation"):
        LSTMLayer(3, 2, activation="sigmoid")
    with pytest.raises(ValueError, match="biases"):
        LSTMLayer(3, 2, biases=3)
    with pytest.raises(ValueError, match="input_size=3"):
        LSTMLayer(3, 2)(torch.rand(2, 4, 5))


def test_rejects_bad_shapes():
    m = Listener(n_bins=10, latent_dim=4)
    with pytest.raises(ValueError, match="transpose"):
        m(torch.rand(2, 10, 8))
    with pytest.raises(ValueError, match="latent_dim"):
        m.decode(torch.rand(2, 5))
    with pytest.raises(ValueError):
        EmbeddingClassifier(8, 1)


# ------------------------------------------------------------- the LSTM layer against nn.LSTM
def _pair(input_size=5, hidden=4, seed=0):
    torch.manual_seed(seed)
    ref = torch.nn.LSTM(input_size, hidden, batch_first=True).double()
    ours = LSTMLayer(input_size, hidden).double()
    ours.load_state_dict(ref.state_dict())  # the same names and layout
    return ref, ours


def test_lstm_tanh_equals_nn_lstm_outputs_and_gradients():
    ref, ours = _pair()
    x = torch.randn(3, 7, 5, dtype=torch.float64, requires_grad=True)
    x2 = x.detach().clone().requires_grad_(True)
    state = (torch.randn(1, 3, 4, dtype=torch.float64), torch.randn(1, 3, 4, dtype=torch.float64))
    (out_r, (h_r, c_r)), (out_o, (h_o, c_o)) = ref(x, state), ours(x2, state)
    torch.testing.assert_close(out_o, out_r, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close((h_o, c_o), (h_r, c_r), rtol=1e-12, atol=1e-12)
    w = torch.randn_like(out_r)
    ((out_r * w).sum() + c_r.sum()).backward()
    ((out_o * w).sum() + c_o.sum()).backward()
    torch.testing.assert_close(x2.grad, x.grad, rtol=1e-10, atol=1e-12)
    for name, p in ref.named_parameters():
        torch.testing.assert_close(dict(ours.named_parameters())[name].grad, p.grad, rtol=1e-10, atol=1e-12)


def test_lstm_one_bias_is_the_sum_of_two():
    ref, _ = _pair()
    one = LSTMLayer(5, 4, biases=1).double()
    with torch.no_grad():
        one.weight_ih_l0.copy_(ref.weight_ih_l0)
        one.weight_hh_l0.copy_(ref.weight_hh_l0)
        one.bias_l0.copy_(ref.bias_ih_l0 + ref.bias_hh_l0)
    x = torch.randn(2, 6, 5, dtype=torch.float64)
    torch.testing.assert_close(one(x)[0], ref(x)[0], rtol=1e-12, atol=1e-12)


def test_relu_cell_by_hand():
    """One unit, weights chosen so that Keras's equations can be followed on paper:
    gates = W x + U h + b; c' = f c + i act(g); h' = o act(c')."""
    lstm = LSTMLayer(1, 1, activation="relu", biases=1)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.tensor([[0.0], [0.0], [2.0], [0.0]]))  # only the cell input sees x
        lstm.weight_hh_l0.zero_()
        lstm.bias_l0.copy_(torch.tensor([0.0, 0.0, 0.0, 0.0]))  # i = f = o = sigmoid(0) = 1/2
    with torch.no_grad():
        out, (h, c) = lstm(torch.tensor([[[1.0], [-3.0], [1.0]]]))
    # t=1: c = 0/2 + relu(2)/2 = 1, h = relu(1)/2 = 0.5
    # t=2: c = 1/2 + relu(-6)/2 = 0.5, h = 0.25; t=3: c = 0.25 + 1 = 1.25, h = 0.625
    assert out[0, :, 0].tolist() == [0.5, 0.25, 0.625] and float(c) == 1.25
    tanh = LSTMLayer(1, 1, activation="tanh", biases=1)
    tanh.load_state_dict(lstm.state_dict())
    assert tanh(torch.tensor([[[1.0]]]))[0].item() == pytest.approx(0.5 * math.tanh(0.5 * math.tanh(2.0)))


def test_hard_sigmoid_is_keras_22():
    x = torch.tensor([-10.0, -2.5, -1.0, 0.0, 1.0, 2.5, 10.0])
    assert hard_sigmoid(x).tolist() == pytest.approx([0.0, 0.0, 0.3, 0.5, 0.7, 1.0, 1.0])
    out, _ = lstm_sequence(torch.zeros(1, 1, 2), torch.zeros(4, 2), torch.zeros(4, 1), torch.full((4,), 10.0),
                           activation="relu", gate_activation="hard_sigmoid")
    assert out.item() == pytest.approx(10.0)  # i = f = o = 1 (clipped); c = relu(10) = 10; h = relu(10)


def test_relu_lstm_gradients_reach_every_parameter():
    lstm = LSTMLayer(4, 3, activation="relu", gate_activation="hard_sigmoid")
    keras_init_(lstm, generator=torch.Generator().manual_seed(0))
    lstm(torch.rand(2, 5, 4))[0].sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in lstm.parameters())


@torch.no_grad()
def test_keras_init():
    lstm = keras_init_(LSTMLayer(100, 50, biases=1), generator=torch.Generator().manual_seed(0))
    limit = math.sqrt(6 / (100 + 200))  # Glorot-uniform on Keras's (input, 4 units) kernel
    assert float(lstm.weight_ih_l0.abs().max()) <= limit and float(lstm.weight_ih_l0.abs().max()) > 0.95 * limit
    w = lstm.weight_hh_l0.double()  # Keras's (units, 4 units) recurrent kernel is orthogonal: its transpose here
    torch.testing.assert_close(w.T @ w, torch.eye(50, dtype=torch.float64), rtol=0, atol=1e-5)
    assert lstm.bias_l0.tolist() == [0.0] * 50 + [1.0] * 50 + [0.0] * 100  # unit_forget_bias
    ref = keras_init_(torch.nn.LSTM(100, 50, batch_first=True))  # nn.LSTM too: the forget bias once
    assert float((ref.bias_ih_l0 + ref.bias_hh_l0)[50:100].min()) == 1.0 and float(ref.bias_hh_l0.abs().max()) == 0.0


def test_make_lstm_uses_nn_lstm_only_where_its_maths_fits():
    assert isinstance(make_lstm(3, 2), torch.nn.LSTM)
    for kwargs in (dict(activation="relu"), dict(gate_activation="hard_sigmoid"), dict(biases=1)):
        assert isinstance(make_lstm(3, 2, **kwargs), LSTMLayer)


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


# -------------------------------------------------------------------- the budgets' settings
from apac_lab.recipes import (LISTENER_ACCURACY_RESULT, LISTENER_R2_RESULT, LISTENER_TARGETS, listener_data, listener_result_rows,  # noqa: E402
                              listener_settings, paper_listener, paper_listener_training, peak_bin_agreement,
                              probe_embeddings)


def test_paper_listener_is_the_keras_model():
    m = paper_listener()
    assert m.n_parameters == papers.figure("rothmann2018.listener.parameters").value
    assert (m.architecture, m.biases, m.init, m.gate_activation, m.activation) == (
        "rothmann2018", 1, "keras", "hard_sigmoid", "relu")
    cfg = paper_listener_training()
    assert (cfg.loss, cfg.optimizer, cfg.epochs, cfg.weight_decay) == ("mse", "adagrad", 50, 0.0)
    assert cfg.epochs == papers.figure("rothmann2018.listener.epochs").value


def test_budgets_differ_only_in_sizes_and_full_is_the_articles():
    quick, classroom, full = (listener_settings(b) for b in ("quick", "classroom", "full"))
    assert quick.per_class and classroom.per_class is None and full.per_class is None
    assert full.paper_model and full.training.optimizer == "adagrad" and full.training.epochs == 50
    assert quick.architecture == classroom.architecture == "kit"
    assert type(quick.model()) is type(classroom.model()) and quick.training.lr == classroom.training.lr
    torch.testing.assert_close(classroom.model().state_dict(), classroom.model().state_dict())  # seeded
    assert classroom.comparison_model().architecture == "rothmann2018"
    assert classroom.comparison_training().epochs == classroom.compare_epochs
    with pytest.raises(ValueError, match="val_fraction"):
        type(classroom)(**{**classroom.__dict__, "val_fraction": 0.0})
    with pytest.raises(ValueError, match="probe_dropout"):
        type(classroom)(**{**classroom.__dict__, "probe_dropout": 1.0})


def test_classroom_listener_and_probe_are_the_recorded_validation_choice():
    """The classroom's listener epochs and probe are the best validation accuracy of the grid
    recorded by benchmarks/listener_probe_choice.py (which never reads the test split)."""
    import json
    from pathlib import Path

    record = (Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "listener_probe_choice.md").read_text()
    rows = [json.loads(line) for line in record.splitlines() if line.startswith("{")]
    assert len(rows) == 3 * 2 * 2 * 2  # the whole grid
    pick = max(rows, key=lambda r: (r["val_acc"], -r["val_loss"]))
    assert f"chosen (best validation accuracy): {json.dumps(pick)}" in record
    s = listener_settings("classroom")
    assert (s.training.epochs, s.probe_hidden, s.probe_dropout, s.probe_training.weight_decay) == (
        pick["listener_epochs"], pick["hidden"], pick["dropout"], pick["weight_decay"])
    assert s.compare_epochs == s.training.epochs  # the article's stack trained the same way


def test_result_rows_carry_the_targets():
    rows = listener_result_rows(0.93, 0.91)
    assert [r["result"] for r in rows] == [LISTENER_R2_RESULT, LISTENER_ACCURACY_RESULT]
    assert [r["target"] for r in rows] == [f">= {LISTENER_TARGETS['r2']}", f">= {LISTENER_TARGETS['accuracy']}"]
    assert [r["met"] for r in listener_result_rows(0.89, 0.90)] == [False, True]


def test_peak_bin_agreement_is_kerass_categorical_accuracy_by_a_slow_loop():
    g = torch.Generator().manual_seed(0)
    pred, target = torch.rand(7, 8, 5, generator=g), torch.rand(7, 8, 5, generator=g)
    hits = [int(max(range(5), key=lambda k: pred[i, t, k]) == max(range(5), key=lambda k: target[i, t, k]))
            for i in range(7) for t in range(8)]
    assert peak_bin_agreement(pred, target) == sum(hits) / len(hits)
    assert peak_bin_agreement(target, target) == 1.0


def test_listener_data_splits_training_clips_and_probe_keeps_the_best_validation_epoch():
    ds = load_synthetic(split="train", sample_rate=8000, num_samples=4000)
    test = load_synthetic(split="test", sample_rate=8000, num_samples=4000)
    s = listener_settings("quick")
    s.frontend = lambda sr: EchoicFrontend(view_stride=25, gammatone=Gammatonegram(sample_rate=sr, n_filters=16))
    s.per_class, s.test_per_class = 3, 1
    data = listener_data(ds, test, s, progress=False)
    n = 3 * len(ds.classes)
    assert len(data.train) + len(data.val) == n and len(data.val) == round(0.2 * n)
    assert len(data.test) == len(test.classes) and data.train.shape[1:] == (3, 8, 16)
    assert "validation clips" in str(data)
    flat = torch.cat([data.train, data.val]).reshape(n, -1)
    assert len({tuple(r.tolist()) for r in flat}) == n  # no clip in both parts
    model = Listener(n_bins=16, latent_dim=6, architecture="kit")
    model, hist = fit_listener(data.train, model=model, val_views=data.val,
                               config=TrainConfig(epochs=2, batch_size=16, lr=1e-2, weight_decay=0.0, progress=False))
    assert len(hist) == 2 and hist[0]["val_samples"] == len(data.val) * 3
    s.probe_training = TrainConfig(epochs=6, batch_size=8, lr=1e-2, progress=False, early_stopping_patience=2)
    out = probe_embeddings(model, data, s)
    best = min(out["history"], key=lambda r: r["val_loss"])
    assert out["epoch"] == best["epoch"] and out["val_accuracy"] == best["val_acc"]
    assert out["embeddings"]["test"].shape == (len(data.test), 3 * 6)
    want = (out["classifier"](out["embeddings"]["test"]).argmax(1) == data.test_labels).float().mean()
    assert out["test_accuracy"] == pytest.approx(float(want))
