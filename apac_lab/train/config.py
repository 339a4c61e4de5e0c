"""One small config object for a training run, readable from and writable to JSON.

Notebook: 05_apac_training (and every notebook that trains).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

__all__ = ["TrainConfig"]

_OPTIMIZERS = ("adam", "adamw", "sgd")
_LOSSES = ("cross_entropy", "mse")
_SCHEDULERS = ("none", "cosine", "onecycle")


@dataclass
class TrainConfig:
    """Settings of one training run. Defaults are the APAC paper's (Adam, lr 1e-3, wd 1e-3).

    Args:
        epochs (int, default 10): passes over the training set.
        batch_size (int, default 32): clips per step (per process under DDP).
        lr (float, default 1e-3): learning rate.
        weight_decay (float, default 1e-3): L2 penalty (the paper's "inhibition").
        optimizer (str, default "adam"): "adam", "adamw" or "sgd".
        momentum (float, default 0.9): SGD momentum.
        nesterov (bool, default False): SGD Nesterov momentum.
        scheduler (str, default "none"): "none", "cosine" (per epoch) or "onecycle" (per step).
        loss (str, default "cross_entropy"): "cross_entropy" (targets are class ids) or "mse".
        label_smoothing (float, default 0.0): for cross-entropy.
        seed (int, default 0): seeds shuffling and dropout, epoch by epoch (so resume repeats).
        device (str | None, default None): None picks CUDA, MPS, then CPU.
        amp (bool, default True): mixed precision, used on CUDA only.
        num_workers (int, default 0): DataLoader workers (they only read audio).
        early_stopping_patience (int | None, default None): stop after this many epochs
            without a better validation loss; the best weights are restored.
        out_dir (str | None, default None): where checkpoints and metrics go; None keeps
            everything in memory.
        progress (bool, default True): tqdm progress bars.
        max_steps_per_epoch (int | None, default None): cap on steps per epoch (quick mode).
        grad_clip (float | None, default None): clip the gradient norm to this value.
        frontend_lr_scale (float, default 1.0): learning rate of the front-end's parameters
            (a trainable mel filterbank or STFT) relative to ``lr``; below 1 keeps a
            trainable front-end closer to its initial filters.
        extra (dict): anything a caller wants saved with the run (model name, mode...).

    >>> TrainConfig(epochs=2).to_dict()["optimizer"]
    'adam'
    >>> TrainConfig(optimizer="rmsprop")
    Traceback (most recent call last):
    ...
    ValueError: optimizer must be one of ('adam', 'adamw', 'sgd'), got 'rmsprop'
    """

    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    nesterov: bool = False
    scheduler: str = "none"
    loss: str = "cross_entropy"
    label_smoothing: float = 0.0
    seed: int = 0
    device: str | None = None
    amp: bool = True
    num_workers: int = 0
    early_stopping_patience: int | None = None
    out_dir: str | None = None
    progress: bool = True
    max_steps_per_epoch: int | None = None
    grad_clip: float | None = None
    frontend_lr_scale: float = 1.0
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {self.optimizer!r}")
        if self.loss not in _LOSSES:
            raise ValueError(f"loss must be one of {_LOSSES}, got {self.loss!r}")
        if self.scheduler not in _SCHEDULERS:
            raise ValueError(f"scheduler must be one of {_SCHEDULERS}, got {self.scheduler!r}")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise ValueError(f"early_stopping_patience must be >= 1 or None, got {self.early_stopping_patience}")
        if not self.frontend_lr_scale > 0:
            raise ValueError(f"frontend_lr_scale must be > 0, got {self.frontend_lr_scale}")
        if self.max_steps_per_epoch is not None and self.max_steps_per_epoch < 1:
            raise ValueError(f"max_steps_per_epoch must be >= 1 or None, got {self.max_steps_per_epoch}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig keys {unknown}; known keys: {sorted(known)}")
        return cls(**d)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        return cls.from_dict(json.loads(Path(path).read_text()))
