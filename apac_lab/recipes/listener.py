"""Notebook 03's experiment, the listener: views from a dataset, reconstruction training,
embeddings, and a classifier probing them.

All training goes through the shared loop (:func:`apac_lab.train.fit`): the listener
with ``loss="mse"`` on ``(view, view)`` pairs, the classifier with cross-entropy on
``(clip embedding, digit)`` pairs. A clip's embedding is the listener's embeddings of its
views, concatenated in time order.

Notebook: 03_echoic_buffers (and ``benchmarks/listener_fsdd.py``).
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from apac_lab.frontends.echoic import EchoicFrontend
from apac_lab.models.listener import EmbeddingClassifier, Listener
from apac_lab.train import TrainConfig, evaluate, fit
from apac_lab.utils import get_device

__all__ = ["echoic_views", "fit_listener", "reconstruction_report", "clip_embeddings", "fit_probe"]


@torch.no_grad()
def echoic_views(dataset, frontend: EchoicFrontend | None = None, *, batch_size: int = 64, device=None,
                 progress: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``frontend`` over a ``(waveform, label)`` dataset, batched on the device.

    Returns:
        tuple: views ``(clips, n_views, n_steps, n_filters)`` (or ``(clips, n_steps,
        n_filters)`` without ``view_stride``) on the CPU, and labels ``(clips,)``.
    """
    frontend = frontend if frontend is not None else EchoicFrontend(sample_rate=dataset.sample_rate, view_stride=20)
    device = get_device(device)
    frontend.to(device)
    views, labels = [], []
    for x, y in tqdm(DataLoader(dataset, batch_size=batch_size), desc="echoic views", disable=not progress, leave=False):
        views.append(frontend(x.to(device)).cpu())
        labels.append(torch.as_tensor(y))
    return torch.cat(views), torch.cat(labels)


def _flat(views: torch.Tensor) -> torch.Tensor:
    return views.reshape(-1, *views.shape[-2:])


def fit_listener(views: torch.Tensor, *, model: Listener | None = None, config: TrainConfig | None = None,
                 val_fraction: float = 0.1, seed: int = 0) -> tuple[Listener, list[dict]]:
    """Train a listener to reconstruct ``views`` (MSE), holding out whole clips for validation.

    Args:
        views (Tensor): ``(clips, n_views, n_steps, n_bins)`` or ``(n, n_steps, n_bins)``.
        model (Listener | None, default None): None builds one to the views' size.
        config (TrainConfig | None, default None): ``loss`` is forced to "mse"; None is
            30 epochs, batch 64, lr 2e-3, no weight decay.
        val_fraction (float, default 0.1): share of clips held out (0 for none).
        seed (int, default 0): the split's seed.

    Returns:
        tuple: the trained model and the history from :func:`fit`.
    """
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    steps, bins = views.shape[-2:]
    model = model if model is not None else Listener(n_steps=steps, n_bins=bins)
    config = config or TrainConfig(epochs=30, batch_size=64, lr=2e-3, weight_decay=0.0)
    config.loss = "mse"
    order = torch.randperm(views.shape[0], generator=torch.Generator().manual_seed(seed))
    n_val = int(round(val_fraction * views.shape[0]))
    train, val = _flat(views[order[n_val:]]), _flat(views[order[:n_val]])
    history = fit(model, TensorDataset(train, train), TensorDataset(val, val) if n_val else None, config)
    return model, history


def reconstruction_report(model: Listener, views: torch.Tensor, *, mean: torch.Tensor | None = None,
                          config: TrainConfig | None = None) -> dict:
    """Reconstruction MSE of ``views``, against predicting a constant ``mean`` frame sequence.

    ``mean`` (``(n_steps, n_bins)``, e.g. the training views' mean) defaults to the views'
    own mean. ``r2 = 1 - mse / baseline_mse`` is the share of the variance reconstructed.
    """
    flat = _flat(views)
    config = config or TrainConfig(epochs=1, batch_size=256, progress=False)
    config.loss = "mse"
    mse = evaluate(model, TensorDataset(flat, flat), config)["loss"]
    mean = flat.mean(0) if mean is None else mean
    baseline = float(((flat - mean) ** 2).mean())
    return {"mse": mse, "baseline_mse": baseline, "r2": 1 - mse / baseline}


def clip_embeddings(model: Listener, views: torch.Tensor, *, batch_size: int = 256) -> torch.Tensor:
    """One vector per clip: its views' embeddings concatenated, ``(clips, n_views * latent_dim)``."""
    if views.dim() == 3:
        views = views.unsqueeze(1)
    z = model.embed(_flat(views), batch_size=batch_size)
    return z.reshape(views.shape[0], -1)


def fit_probe(train_emb: torch.Tensor, train_labels: torch.Tensor, val_emb: torch.Tensor | None = None,
              val_labels: torch.Tensor | None = None, *, n_classes: int | None = None, hidden: int = 128,
              config: TrainConfig | None = None) -> tuple[EmbeddingClassifier, list[dict]]:
    """Train an :class:`EmbeddingClassifier` on embeddings standardised with the training statistics.

    Returns:
        tuple: the classifier (its normalisation set) and the history from :func:`fit`.
    """
    n_classes = n_classes or int(train_labels.max()) + 1
    clf = EmbeddingClassifier(train_emb.shape[1], n_classes, hidden=hidden)
    clf.set_normalization(train_emb.mean(0), train_emb.std(0))
    config = config or TrainConfig(epochs=40, batch_size=32, lr=1e-3, weight_decay=1e-3)
    config.loss = "cross_entropy"
    val = TensorDataset(val_emb, val_labels) if val_emb is not None else None
    history = fit(clf, TensorDataset(train_emb, train_labels), val, config)
    return clf, history
