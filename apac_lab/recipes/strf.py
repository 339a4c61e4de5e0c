"""Notebook 02's experiment: a Gabor STRF layer (4 numbers per filter) against free
convolution kernels, the same classifier around both, trained on spoken digits.

* :func:`strf_models`: the two :class:`apac_lab.models.STRFClassifier` s, ``"Gabor STRF"``
  and ``"free conv"``, each built right after seeding, so both start from the same draw.
* :func:`strf_training`: the training settings (Adam, lr 3e-3, weight decay 1e-4, batch 32;
  3 epochs in quick mode, 10 in full).
* :func:`train_strf_models`: each model trained with the shared loop, the log-mel front-end
  run batched before it, validated on the test split.

Notebook: 02_gabor_filter_learning.
"""

from __future__ import annotations

from torch import nn

from apac_lab.models import STRFClassifier
from apac_lab.train import TrainConfig, fit
from apac_lab.utils import quick_or_full, seed_everything

__all__ = ["STRF_MODELS", "strf_models", "strf_training", "train_strf_models"]

#: The two classifiers compared: name -> ``layer`` of :class:`STRFClassifier`.
STRF_MODELS = {"Gabor STRF": "gabor", "free conv": "conv"}


def strf_models(n_classes: int, *, n_filters: int = 16, kernel_size: tuple[int, int] = (9, 111),
                seed: int = 0) -> dict[str, STRFClassifier]:
    """One :class:`STRFClassifier` per entry of :data:`STRF_MODELS`, each built after ``seed_everything(seed)``.

    >>> models = strf_models(10, n_filters=4, kernel_size=(5, 21))
    >>> {name: m.strf_parameters() for name, m in models.items()}
    {'Gabor STRF': 16, 'free conv': 840}
    """
    models = {}
    for name, layer in STRF_MODELS.items():
        seed_everything(seed)
        models[name] = STRFClassifier(n_classes, layer=layer, n_filters=n_filters, kernel_size=kernel_size)
    return models


def strf_training(**changes) -> TrainConfig:
    """Notebook 02's training: 3 epochs in quick mode (10 in full), batch 32, Adam lr 3e-3, weight decay 1e-4.

    >>> strf_training(epochs=1).lr
    0.003
    """
    base = dict(epochs=quick_or_full(3, 10), batch_size=32, lr=3e-3, weight_decay=1e-4, seed=0)
    return TrainConfig(**{**base, **changes})


def train_strf_models(models: dict[str, nn.Module], train_set, test_set, frontend: nn.Module,
                      config: TrainConfig | None = None) -> dict[str, list[dict]]:
    """Train each model (in place) on ``train_set``, validating on ``test_set``; ``frontend``
    (the log-mel) runs batched on the device before each model. Returns each model's history."""
    config = config or strf_training()
    return {name: fit(model, train_set, test_set, config, frontend=frontend) for name, model in models.items()}
