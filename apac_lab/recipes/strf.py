"""Notebook 02's experiment: a Gabor STRF layer (4 numbers per filter) against free
convolution kernels of the same size, the same classifier around both, trained on spoken
digits (FSDD).

* :func:`strf_sizes`: the budget's sizes (:func:`apac_lab.by_budget`): clips per class,
  epochs. ``quick`` (CI) trains on 30 clips per digit for 3 epochs; ``classroom`` and
  ``full`` on every training clip, for 6 and 20 epochs.
* :func:`strf_splits`: train / validation / test. The validation clips are carved out of
  FSDD's *training* split (5 takes of every digit and speaker, drawn with the seed), so the
  epoch kept is chosen without looking at the official test split, which is evaluated once.
* :func:`logmel_dataset`: a split's log-mels, computed once (the front-end is fixed).
* :func:`strf_models`: the two :class:`apac_lab.models.STRFClassifier` s, ``"Gabor STRF"``
  and ``"free conv"``, each built right after seeding, so both start from the same draw.
* :func:`strf_training`: Adam, lr 3e-3, weight decay 1e-4, batch 32, one-cycle schedule;
  the weights of the epoch of lowest validation loss are kept.
* :func:`train_strf_models`, :func:`strf_test_accuracy`: train both, then test both once.
* :func:`strf_result_rows`, :func:`strf_comparison`, :func:`strf_verdict`: the results, their
  targets (:data:`STRF_TARGET_ACCURACY`) and parameter counts beside them, and a sentence
  that says which layer is ahead, computed from the numbers.

Notebook: 02_gabor_filter_learning.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from apac_lab.data.base import ClipDataset
from apac_lab.models import STRFClassifier
from apac_lab.train import TrainConfig, evaluate, fit
from apac_lab.utils import by_budget, current_budget, get_device, seed_everything

__all__ = [
    "STRF_MODELS", "STRF_NOTEBOOK", "STRF_TARGET_ACCURACY", "STRF_RESULT_NAMES", "STRF_VAL_PER_GROUP", "STRFSizes",
    "STRFSplits", "strf_sizes", "strf_budget_lines", "strf_splits", "logmel_dataset", "strf_models", "strf_training",
    "strf_seconds_per_epoch", "strf_plan", "train_strf_models", "strf_test_accuracy", "strf_result_rows",
    "strf_comparison", "strf_verdict",
]

#: The notebook's name, as :func:`apac_lab.recipes.record_results` and the benchmark know it.
STRF_NOTEBOOK = "02_gabor_filter_learning"

#: The two classifiers compared: name -> ``layer`` of :class:`STRFClassifier`.
STRF_MODELS = {"Gabor STRF": "gabor", "free conv": "conv"}

#: The classroom target (issue 11 §2, row 02): test accuracy of each model on the official
#: FSDD test split, at least this.
STRF_TARGET_ACCURACY = 0.93

#: The ``result`` string of each model's row (kept stable: ``benchmarks/classroom.py`` reads them).
STRF_RESULT_NAMES = {name: f"{name} test accuracy" for name in STRF_MODELS}

#: Validation clips held out of the training split per (digit, speaker) group: 5 of FSDD's 45
#: training takes, as many as the official test split keeps (takes 0-4).
STRF_VAL_PER_GROUP = 5


@dataclass(frozen=True)
class STRFSizes:
    """What a budget trains: ``None`` clips per class means every clip of the split.

    Args:
        train_per_class (int | None): training clips per digit.
        val_per_class (int | None): validation clips per digit.
        test_per_class (int | None): test clips per digit.
        epochs (int): training epochs of each model.
    """

    train_per_class: int | None
    val_per_class: int | None
    test_per_class: int | None
    epochs: int


def strf_sizes(budget: str | None = None) -> STRFSizes:
    """The sizes of the budget in force (:func:`apac_lab.by_budget`).

    >>> strf_sizes("quick")
    STRFSizes(train_per_class=30, val_per_class=5, test_per_class=10, epochs=3)
    >>> strf_sizes("classroom").epochs, strf_sizes("full").epochs
    (6, 20)
    """
    return by_budget(
        quick=STRFSizes(train_per_class=30, val_per_class=5, test_per_class=10, epochs=3),
        classroom=STRFSizes(train_per_class=None, val_per_class=None, test_per_class=None, epochs=6),
        full=STRFSizes(train_per_class=None, val_per_class=None, test_per_class=None, epochs=20),
        budget=budget,
    )


def _clips_text(per_class: int | None, split: str) -> str:
    return f"all {split} clips" if per_class is None else f"{per_class} {split} clips per digit"


def strf_budget_lines() -> dict[str, str]:
    """What each budget trains, for :func:`apac_lab.budget_banner` ``(expect=...)``.

    >>> strf_budget_lines()["quick"]
    'both models, 3 epochs on 30 train clips per digit (a smoke test), tested on 10 test clips per digit'
    """
    out = {}
    for budget, note in (("quick", " (a smoke test)"), ("classroom", " of FSDD"), ("full", " of FSDD")):
        s = strf_sizes(budget)
        out[budget] = (f"both models, {s.epochs} epochs on {_clips_text(s.train_per_class, 'train')}{note}, "
                       f"tested on {_clips_text(s.test_per_class, 'test')}")
    return out


class STRFSplits(NamedTuple):
    """Train, validation (carved from the training split) and test clips."""

    train: ClipDataset
    val: ClipDataset
    test: ClipDataset


def _held_out(dataset: ClipDataset, per_group: int, seed: int) -> list[int]:
    """Indices of ``per_group`` clips of every (label, speaker) group, drawn with ``seed``."""
    groups: dict[tuple, list[int]] = {}
    for i, clip in enumerate(dataset.clips):
        groups.setdefault((clip.label, clip.speaker), []).append(i)
    gen = torch.Generator().manual_seed(seed)
    held = []
    for key in sorted(groups):
        members = groups[key]
        if len(members) <= per_group:
            raise ValueError(f"{dataset.name}: digit {dataset.classes[key[0]]!r} of speaker {key[1]!r} has "
                             f"{len(members)} clips, too few to hold out {per_group} for validation; "
                             "pass a larger training split")
        order = torch.randperm(len(members), generator=gen).tolist()
        held += [members[j] for j in order[:per_group]]
    return sorted(held)


def strf_splits(train_set: ClipDataset, test_set: ClipDataset, *, budget: str | None = None,
                seed: int = 0) -> STRFSplits:
    """Train, validation and test clips for the budget (:func:`strf_sizes`).

    The validation clips are :data:`STRF_VAL_PER_GROUP` clips of every (digit, speaker) group of
    ``train_set``, drawn with ``seed``; the rest is the training set. The budget then keeps
    at most its clips per class of each. ``test_set`` is not touched but subsampled (the
    quick budget), and must share no file with ``train_set``.

    Args:
        train_set (ClipDataset): FSDD's training split (``load_dataset("fsdd", "train")``).
        test_set (ClipDataset): FSDD's official test split.
        budget (str | None, default None): as :func:`apac_lab.current_budget`.
        seed (int, default 0): seeds the held-out draw and the subsampling.

    Returns:
        STRFSplits: ``(train, val, test)``.

    >>> from apac_lab.data import load_dataset
    >>> train = load_dataset("synthetic", "train", verbose=False)
    >>> s = strf_splits(train, load_dataset("synthetic", "test", verbose=False), budget="classroom")
    >>> groups = {(c.label, c.speaker) for c in train.clips}
    >>> len(s.val) == STRF_VAL_PER_GROUP * len(groups), len(s.train) + len(s.val) == len(train)
    (True, True)
    """
    shared = {c.path for c in train_set.clips if c.path is not None} & {c.path for c in test_set.clips}
    if shared:
        raise ValueError(f"strf_splits: {len(shared)} files are in both the training and the test set (e.g. "
                         f"{sorted(shared)[0]}); pass FSDD's 'train' and 'test' splits")
    sizes = strf_sizes(budget)
    held = _held_out(train_set, STRF_VAL_PER_GROUP, seed)
    rest = sorted(set(range(len(train_set))) - set(held))
    train = train_set.subset(rest, name=f"{train_set.name}[train]")
    val = train_set.subset(held, name=f"{train_set.name}[validation]")
    test = test_set
    if sizes.train_per_class is not None:
        train = train.balanced(sizes.train_per_class, seed=seed)
    if sizes.val_per_class is not None:
        val = val.balanced(sizes.val_per_class, seed=seed)
    if sizes.test_per_class is not None:
        test = test.balanced(sizes.test_per_class, seed=seed)
    return STRFSplits(train, val, test)


@torch.no_grad()
def logmel_dataset(dataset: ClipDataset, frontend: nn.Module, *, batch_size: int = 128, device=None,
                   progress: bool = True) -> TensorDataset:
    """``(log-mel, label)`` pairs of every clip, computed once by ``frontend`` on the device.

    The front-end has no parameters to learn here, so computing it once (instead of on every
    batch of every epoch) changes nothing but the time. Returns a TensorDataset of
    ``(n_mels, frames)`` log-mels (on the CPU) with ``classes`` and ``name`` of ``dataset``.

    >>> from apac_lab import frontends as fe
    >>> ds = ClipDataset([], ["a"], sample_rate=8000, num_samples=800)
    >>> logmel_dataset(ds, fe.LogMel(sample_rate=8000, n_fft=256, hop_length=80, n_mels=16))
    Traceback (most recent call last):
    ...
    ValueError: dataset: no clips to compute log-mels of
    """
    if len(dataset) == 0:
        raise ValueError(f"{dataset.name}: no clips to compute log-mels of")
    device = get_device(device)
    frontend.to(device).eval()
    mels, labels = [], []
    for x, y in tqdm(DataLoader(dataset, batch_size=batch_size), desc=f"log-mels of {dataset.name}",
                     disable=not progress, leave=False):
        mels.append(frontend(x.to(device)).cpu())
        labels.append(torch.as_tensor(y))
    out = TensorDataset(torch.cat(mels), torch.cat(labels))
    out.classes, out.name = dataset.classes, dataset.name
    return out


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


def strf_training(budget: str | None = None, **changes) -> TrainConfig:
    """Notebook 02's training: the budget's epochs (:func:`strf_sizes`), batch 32, Adam with a
    one-cycle schedule peaking at lr 3e-3, weight decay 1e-4; the weights of the epoch with the
    lowest validation loss are kept (``early_stopping_patience`` = epochs: it never stops early).

    >>> c = strf_training("classroom")
    >>> c.epochs, c.lr, c.scheduler, c.early_stopping_patience
    (6, 0.003, 'onecycle', 6)
    """
    epochs = changes.pop("epochs", strf_sizes(budget).epochs)
    base = dict(epochs=epochs, batch_size=32, lr=3e-3, weight_decay=1e-4, scheduler="onecycle", seed=0,
                early_stopping_patience=epochs)
    return TrainConfig(**{**base, **changes})


def strf_seconds_per_epoch(model: nn.Module, clips: int, input_shape: tuple[int, int],
                           config: TrainConfig | None = None, *, steps: int = 2) -> float:
    """Seconds one training epoch of ``model`` over ``clips`` log-mels of ``input_shape``
    ``(n_mels, frames)`` should take on this device: ``steps`` training steps on random input
    are timed (after one warm-up step) on a copy of the model, which is left as it was.

    >>> m = STRFClassifier(10, n_filters=2, kernel_size=(3, 5))
    >>> strf_seconds_per_epoch(m, 64, (16, 20), TrainConfig(batch_size=8)) > 0
    True
    """
    config = config or strf_training()
    device = get_device(config.device)
    model = copy.deepcopy(model).to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(config.batch_size, *input_shape, generator=gen).to(device)
    y = torch.randint(0, 2, (config.batch_size,), generator=gen).to(device)
    timed = 0.0
    for step in range(steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if step:
            timed += time.perf_counter() - t0
    return timed / steps * math.ceil(clips / config.batch_size)


def strf_plan(models: dict[str, nn.Module], splits: STRFSplits, input_shape: tuple[int, int],
              config: TrainConfig | None = None) -> str:
    """What the training cell will run, and how long it should take on this device (from
    :func:`strf_seconds_per_epoch`, validation and test not counted)."""
    config = config or strf_training()
    n = {k: len(v) for k, v in splits._asdict().items()}
    seconds = sum(strf_seconds_per_epoch(m, n["train"], input_shape, config) for m in models.values()) * config.epochs
    device = get_device(config.device)
    where = f"{device.type}, {torch.get_num_threads()} threads" if device.type == "cpu" else device.type
    return (f"{len(models)} models x {config.epochs} epochs on {n['train']} training clips "
            f"(validation: {n['val']} clips of the training split; test: {n['test']} clips, once at the end)\n"
            f"expected training time on this device ({where}): about {_duration(seconds)}, "
            "from two timed steps of each model")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def train_strf_models(models: dict[str, nn.Module], train_data, val_data, config: TrainConfig | None = None, *,
                      frontend: nn.Module | None = None,
                      callback_for: Callable[[str], Callable[[dict], None]] | None = None) -> dict[str, list[dict]]:
    """Train each model (in place) on ``train_data``, validating on ``val_data`` (never on the test split).

    Args:
        models (dict[str, nn.Module]): e.g. :func:`strf_models`.
        train_data, val_data: ``(log-mel, digit)`` pairs (:func:`logmel_dataset`), or clips
            with ``frontend``.
        config (TrainConfig | None, default None): None is :func:`strf_training`.
        frontend (nn.Module | None, default None): run batched before each model (when the
            data are clips).
        callback_for (Callable | None, default None): ``name -> on_epoch_end`` for each model,
            e.g. ``TrainingCurves(...).callback``.

    Returns:
        dict[str, list[dict]]: each model's history (:func:`apac_lab.train.fit`); the model
        keeps the weights of its epoch of lowest validation loss.
    """
    config = config or strf_training()
    return {name: fit(model, train_data, val_data, config, frontend=frontend,
                      on_epoch_end=callback_for(name) if callback_for else None)
            for name, model in models.items()}


def strf_test_accuracy(models: dict[str, nn.Module], test_data, config: TrainConfig | None = None, *,
                       frontend: nn.Module | None = None) -> dict[str, float]:
    """Each model's accuracy on ``test_data`` (call it once, after training)."""
    config = config or strf_training()
    return {name: evaluate(model, test_data, config, frontend=frontend)["accuracy"] for name, model in models.items()}


def strf_result_rows(test_accuracy: dict[str, float]) -> list[dict]:
    """The rows for :func:`apac_lab.recipes.record_results`: each model's test accuracy and the target.

    >>> [(r["result"], r["met"]) for r in strf_result_rows({"Gabor STRF": 0.95, "free conv": 0.92})]
    [('Gabor STRF test accuracy', True), ('free conv test accuracy', False)]
    """
    return [{"result": STRF_RESULT_NAMES[name], "value": float(test_accuracy[name]),
             "target": f">= {STRF_TARGET_ACCURACY:g}", "met": bool(test_accuracy[name] >= STRF_TARGET_ACCURACY)}
            for name in STRF_MODELS]


def _selected(history: list[dict]) -> dict:
    """The epoch whose weights :func:`fit` kept: the lowest validation loss."""
    return min(history, key=lambda h: h["val_loss"])


def strf_comparison(models: dict[str, STRFClassifier], histories: dict[str, list[dict]],
                    test_accuracy: dict[str, float]) -> str:
    """A small table: per model, the learnable numbers of the first layer (per filter and in
    all) and of the whole model, the epoch kept and its validation accuracy, the test accuracy."""
    head = ("model", "per filter", "first layer", "whole model", "epoch kept", "validation", "test")
    rows = [head]
    for name, model in models.items():
        kept = _selected(histories[name])
        per_filter = model.strf_parameters() // model.strf.n_filters
        total = sum(p.numel() for p in model.parameters() if p.requires_grad)
        rows.append((name, f"{per_filter:,}", f"{model.strf_parameters():,}", f"{total:,}",
                     f"{kept['epoch']} of {len(histories[name])}", f"{kept['val_acc']:.1%}",
                     f"{test_accuracy[name]:.1%}"))
    widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
    return "\n".join("  ".join(cell.rjust(w) if c else cell.ljust(w) for c, (cell, w) in enumerate(zip(r, widths)))
                     for r in rows)


def strf_verdict(test_accuracy: dict[str, float], n_test: int) -> str:
    """One sentence, computed from the numbers: which layer is ahead on the test split, by how
    many clips, and whether that is more than the noise of a test set of ``n_test`` clips.

    >>> print(strf_verdict({"Gabor STRF": 0.92, "free conv": 0.94}, 250))  # doctest: +ELLIPSIS
    The Gabor STRF layer trails the free convolution on the test split: 92.0% against 94.0%, 5 of 250 clips (...).
    """
    gabor, free = test_accuracy["Gabor STRF"], test_accuracy["free conv"]
    clips = round(abs(gabor - free) * n_test)
    # one standard error of the difference of two accuracies measured on the same n_test clips (at most)
    noise = math.sqrt(gabor * (1 - gabor) / n_test + free * (1 - free) / n_test)
    size = ("within about one standard error of a test set this size" if abs(gabor - free) <= noise
            else "more than one standard error of a test set this size")
    pair = f"{gabor:.1%} against {free:.1%}, {clips} of {n_test} clips ({size}, {noise:.1%})"
    if clips == 0:
        return f"The Gabor STRF layer and the free convolution tie on the test split: {pair}."
    if gabor < free:
        return f"The Gabor STRF layer trails the free convolution on the test split: {pair}."
    return f"The Gabor STRF layer is ahead of the free convolution on the test split: {pair}."
