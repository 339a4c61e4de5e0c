"""Teach a trained classifier a new voice from a few recordings (transfer learning).

:func:`fine_tune_few_shot` takes a trained model and a handful of labelled recordings of
one new speaker (say one or two of each digit) and fine-tunes a copy of the model on them
alone, in seconds on a CPU: either the last layers only (``layers="classifier"``) or the
whole model with a small learning rate (``layers="all"``). BatchNorm statistics stay as
they were learned (a batch of ten clips is too small to estimate them), dropout stays on,
and the recordings can be augmented on the fly so that a few clips are not memorised.
:func:`pick_few_shot` draws the recordings, seeded, so that a benchmark never chooses them
by their results.
:func:`batchnorm_adapted` adapts to a voice without labels: it re-estimates a copy's BatchNorm
statistics (the mean and variance of every mel band, MFCC and channel) from recordings of the
new speaker, and changes nothing else (test-time adaptation, "AdaBN").

Notebook: 05_apac_training.
"""

from __future__ import annotations

import copy
import time

import torch
from torch import nn

from apac_lab.train.config import TrainConfig
from apac_lab.train.loop import fit

__all__ = ["fine_tune_few_shot", "pick_few_shot", "batchnorm_adapted", "FEW_SHOT_LAYERS"]

FEW_SHOT_LAYERS = ("all", "classifier")


class _KeepNormStatistics(nn.Module):
    """The model in training mode except its BatchNorm layers, which stay in eval mode."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def train(self, mode: bool = True):
        super().train(mode)
        for m in self.model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def pick_few_shot(labels: torch.Tensor, k: int, *, seed: int = 0) -> torch.Tensor:
    """Indices of ``k`` clips of every class, drawn at random with ``seed``.

    The draw for a larger ``k`` extends the draw for a smaller one (the same seed gives
    nested picks), so the clips left over by the largest ``k`` are left over by all.

    Args:
        labels (Tensor): ``(N,)`` class ids.
        k (int): clips per class (>= 1).
        seed (int, default 0): seed of the draw.

    Returns:
        Tensor: ``(k * n_classes,)`` sorted indices into ``labels``.

    Raises:
        ValueError: ``k < 1``, or a class with fewer than ``k`` clips.

    >>> pick_few_shot(torch.tensor([0, 0, 1, 1, 1]), 1, seed=0).tolist()
    [0, 2]
    """
    if k < 1:
        raise ValueError(f"k is the number of clips per class, >= 1; got {k}")
    labels = torch.as_tensor(labels)
    gen = torch.Generator().manual_seed(seed)
    chosen = []
    for c in torch.unique(labels).tolist():
        rows = (labels == c).nonzero().flatten()
        if len(rows) < k:
            raise ValueError(f"class {c} has {len(rows)} clips, fewer than k={k}; lower k")
        chosen.append(rows[torch.randperm(len(rows), generator=gen)[:k]])
    return torch.cat(chosen).sort().values


def fine_tune_few_shot(
    model: nn.Module,
    waves: torch.Tensor,
    labels: torch.Tensor,
    *,
    layers: str = "all",
    lr: float = 1e-4,
    steps: int = 40,
    batch_size: int = 32,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.1,
    augment: nn.Module | None = None,
    seed: int = 0,
    device: str | None = "cpu",
) -> tuple[nn.Module, dict]:
    """Fine-tune a copy of ``model`` on a few labelled clips of a new speaker.

    The model itself is left unchanged. Training uses :func:`apac_lab.train.fit` (Adam,
    cosine-annealed learning rate, one pass over the clips per step when they fit in a
    batch), with the BatchNorm layers kept in eval mode.

    Args:
        model (nn.Module): a trained classifier, waveforms ``(batch, samples)`` to logits.
        waves (Tensor): ``(N, samples)`` the new speaker's clips (e.g. 1 or 2 per class).
        labels (Tensor): ``(N,)`` their class ids.
        layers (str, default "all"): ``"all"`` trains every parameter; ``"classifier"``
            only the model's ``classifier`` submodule (APAC's last layers).
        lr (float, default 1e-4): peak learning rate (small: the model is already trained).
        steps (int, default 40): passes over the clips (epochs of :func:`fit`).
        batch_size (int, default 32): clips per optimiser step.
        weight_decay (float, default 0.0): Adam's L2 penalty.
        label_smoothing (float, default 0.1): of the cross-entropy.
        augment (nn.Module | None, default None): waveform augmentation of the training
            clips (e.g. :class:`apac_lab.train.WaveAugment`); it runs in training mode.
        seed (int, default 0): seeds the order of the clips, dropout and augmentation.
        device (str | None, default "cpu"): where to train (None: the best available).

    Returns:
        tuple: the fine-tuned copy (in eval mode) and ``{"seconds", "steps", "trained_parameters"}``.

    Raises:
        ValueError: bad ``layers``, shapes, ``lr`` or ``steps``, or no ``classifier``.

    >>> from apac_lab.models import build_model
    >>> net = build_model("apac", n_classes=3, sample_rate=8000, width_mult=0.25, n_mels=16, n_mfcc=8)
    >>> x, y = torch.randn(6, 8000), torch.tensor([0, 1, 2, 0, 1, 2])
    >>> tuned, info = fine_tune_few_shot(net, x, y, layers="classifier", steps=2)
    >>> info["steps"], tuned is net, tuned.training
    (2, False, False)
    """
    if layers not in FEW_SHOT_LAYERS:
        raise ValueError(f"layers must be one of {FEW_SHOT_LAYERS}, got {layers!r}")
    if not lr > 0 or steps < 1 or batch_size < 1:
        raise ValueError(f"need lr > 0, steps >= 1 and batch_size >= 1; got lr={lr}, steps={steps}, "
                         f"batch_size={batch_size}")
    waves, labels = torch.as_tensor(waves), torch.as_tensor(labels).long()
    if waves.dim() != 2 or labels.shape != (waves.shape[0],) or waves.shape[0] == 0:
        raise ValueError(f"need waves (N, samples) and labels (N,) with N >= 1; got {tuple(waves.shape)} and "
                         f"{tuple(labels.shape)}")
    tuned = copy.deepcopy(model)
    if layers == "classifier":
        head = getattr(tuned, "classifier", None)
        if not isinstance(head, nn.Module):
            raise ValueError(f"{type(model).__name__} has no 'classifier' submodule; use layers='all'")
        for p in tuned.parameters():
            p.requires_grad_(False)
        for p in head.parameters():
            p.requires_grad_(True)
    n_trained = sum(p.numel() for p in tuned.parameters() if p.requires_grad)
    wrapper = _KeepNormStatistics(tuned)
    cfg = TrainConfig(epochs=steps, batch_size=batch_size, lr=lr, weight_decay=weight_decay, optimizer="adam",
                      scheduler="cosine", label_smoothing=label_smoothing, seed=seed, device=device, progress=False)
    t0 = time.perf_counter()
    if augment is not None:
        augment.train()
    fit(wrapper, torch.utils.data.TensorDataset(waves, labels), None, cfg, augment=augment)
    seconds = time.perf_counter() - t0
    for p in tuned.parameters():
        p.requires_grad_(True)
    tuned.eval()
    return tuned, {"seconds": seconds, "steps": steps, "trained_parameters": n_trained}


def batchnorm_adapted(model: nn.Module, waves: torch.Tensor, *, batch_size: int = 50) -> nn.Module:
    """A copy of ``model`` whose BatchNorm statistics are re-estimated on ``waves`` (no labels).

    Every BatchNorm layer forgets its running mean and variance and takes instead the average,
    over batches of ``waves``, of the statistics of its input (equal weight per batch); the
    weights, biases and every other layer are unchanged, and no gradient is computed. Dropout,
    SpecAugment and any other training-time behaviour stay off. Given the recordings of one
    speaker, this moves each band's normalisation to that voice: an unsupervised speaker
    adaptation, as Li et al. 2016 ("Revisiting batch normalization for practical domain
    adaptation", AdaBN) do for images.

    Args:
        model (nn.Module): a trained classifier with BatchNorm layers, ``(batch, samples)`` to logits.
        waves (Tensor): ``(N, samples)`` recordings of the new speaker, N >= 2; their labels are
            not needed.
        batch_size (int, default 50): clips per forward pass (>= 2).

    Returns:
        nn.Module: the adapted copy, in eval mode; ``model`` is left unchanged.

    Raises:
        ValueError: ``waves`` not ``(N, samples)`` with N >= 2, ``batch_size < 2``, or a model
            without BatchNorm.

    >>> from apac_lab.models import build_model
    >>> net = build_model("apac", n_classes=3, sample_rate=8000, width_mult=0.25, n_mels=16, n_mfcc=8).eval()
    >>> adapted = batchnorm_adapted(net, torch.randn(4, 8000))
    >>> adapted is net, adapted.training, bool(adapted.mel_norm.running_mean.ne(0).any())
    (False, False, True)
    """
    waves = torch.as_tensor(waves)
    if waves.dim() != 2 or waves.shape[0] < 2:
        raise ValueError(f"need waves (N, samples) with N >= 2 recordings; got shape {tuple(waves.shape)}")
    if batch_size < 2:
        raise ValueError(f"batch_size must be >= 2 (a batch's statistics need two clips); got {batch_size}")
    adapted = copy.deepcopy(model).eval()
    norms = [m for m in adapted.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        raise ValueError(f"{type(model).__name__} has no BatchNorm layer: there are no statistics to adapt")
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches
        m.train()
    device = next(adapted.parameters()).device
    starts = list(range(0, len(waves), batch_size))
    if len(waves) - starts[-1] < 2:  # a last batch of one clip has no variance: join it to the one before
        starts.pop()
    ends = starts[1:] + [len(waves)]
    with torch.no_grad():
        for a, b in zip(starts, ends):
            adapted(waves[a:b].to(device))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    return adapted.eval()
