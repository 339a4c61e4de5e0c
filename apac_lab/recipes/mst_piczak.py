"""Notebook 04's experiment, Tax et al.'s, end to end on the shared training loop: data,
MSTmodel, classifiers.

1. :func:`load_segments`: train / validation / test segments of a dataset at 22,050 Hz
   (ESC-50 by its folds; any other dataset by its train/test split, validation held out
   by clip).
2. :func:`train_mst`: fit the target's normaliser on the training segments, then train
   the MSTmodel with MSE and Adam (3e-4, batch 100 in the paper), early stopping on the
   validation loss.
3. :func:`train_classifier`: one Piczak configuration (a, b, c; d from a trained c) with
   SGD, Nesterov momentum 0.9, lr 5e-3.
4. :func:`clip_scores`: segment accuracy and clip accuracy by majority and probability vote.
5. :func:`run_comparison` and :func:`format_results`: all of it, as a table beside the
   paper's claims (``benchmarks/mst_piczak.py`` prints it).

:class:`MSTSettings` holds the data's sizes and one :class:`apac_lab.train.TrainConfig` per
training (the MSTmodel's, the classifiers', the fine-tuning's): the same settings objects,
with the same names, checks and help, as every other run. :meth:`MSTSettings.quick` and
:meth:`MSTSettings.full` are the quick-mode (FSDD or synthetic, minutes on a laptop CPU)
and paper-sized runs.

Notebook: 04_learning_the_mel_mstmodel.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, fields, replace

import torch

from apac_lab.data import SegmentDataset, load_dataset
from apac_lab.models.mst import MSTmodel
from apac_lab.models.mst_targets import MST_DEFAULTS, MSTTarget, MSTTargetDataset
from apac_lab.models.piczak import PICZAK_CONFIGS, PiczakCNN, build_piczak, finetune_from
from apac_lab.models.voting import clip_accuracy
from apac_lab.train import TrainConfig, evaluate, fit
from apac_lab.train.config import at_least, check_fields, setting, within
from apac_lab.utils import get_device, is_quick, seed_everything

__all__ = [
    "MSTSettings", "load_segments", "train_mst", "train_classifier", "clip_scores", "run_comparison",
    "format_results", "paper_mst_training", "paper_classifier_training", "paper_finetune_training",
]

#: The trainings of an experiment, by field of :class:`MSTSettings`.
TRAININGS = ("mst_training", "classifier_training", "finetune_training")


def paper_mst_training(**changes) -> TrainConfig:
    """The MSTmodel's training in the paper: MSE, Adam 3e-4, batch 100, 800 epochs, early stopping after 50."""
    return replace(TrainConfig(loss="mse", optimizer="adam", lr=3e-4, batch_size=100, epochs=800,
                               early_stopping_patience=50, weight_decay=0.0), **changes)


def paper_classifier_training(**changes) -> TrainConfig:
    """Piczak's classifiers: SGD with Nesterov momentum 0.9, lr 5e-3, batch 500, 200 epochs."""
    return replace(TrainConfig(optimizer="sgd", momentum=0.9, nesterov=True, lr=5e-3, batch_size=500, epochs=200,
                               weight_decay=0.0), **changes)


def paper_finetune_training(**changes) -> TrainConfig:
    """Configuration (d): the classifiers' SGD, 50 epochs at lr 5e-4 (our choice; the paper left it open)."""
    return paper_classifier_training(**{"epochs": 50, "lr": 5e-4, **changes})


@dataclass
class MSTSettings:
    """The data's sizes and the three trainings of the experiment.

    Args:
        dataset (str, default "esc50"): any :func:`apac_lab.data.load_dataset` name.
        frames (int, default 101): frames per segment (41: Piczak's short segments).
        clip_seconds (float | None, default None): clip length; None keeps the dataset's.
        per_class (int | None, default None): clips per class kept (quick mode), None all.
        test_per_class (int | None, default None): same for the test split.
        val_fraction (float, default 0.2): clips held out for validation when the
            dataset has no validation split (all but ESC-50).
        test_fold (int, default 5), val_fold (int, default 4): ESC-50's folds.
        hidden (int, default 5000): Piczak's dense units.
        seed (int, default 0): the clips kept and the validation split, each model's initial
            weights, and each training's order and dropout.
        progress (bool, default True): progress bars.
        mst_training (TrainConfig): the MSTmodel's (:func:`paper_mst_training`).
        classifier_training (TrainConfig): configurations (a)-(c)'s (:func:`paper_classifier_training`).
        finetune_training (TrainConfig): configuration (d)'s (:func:`paper_finetune_training`).

    ``seed`` and ``progress`` are the experiment's: they are written into the three
    trainings (their own ``seed`` and ``progress`` follow these), so one seed fixes the run.

    >>> s = MSTSettings.quick(mst_training={"epochs": 2})
    >>> s.mst_training.epochs, s.mst_training.lr, s.classifier_training.optimizer
    (2, 0.002, 'sgd')
    """

    dataset: str = setting("esc50", help="any apac_lab.data.load_dataset name")
    frames: int = setting(101, help="frames per segment (41: Piczak's short segments)", check=at_least(1))
    clip_seconds: float | None = setting(None, help="clip length in seconds; None keeps the dataset's",
                                         check=within(0, 60, low_open=True))
    per_class: int | None = setting(None, help="training clips kept per class (quick runs)", check=at_least(1))
    test_per_class: int | None = setting(None, help="test clips kept per class (quick runs)", check=at_least(1))
    val_fraction: float = setting(0.2, help="clips held out for validation where the dataset has no validation "
                                            "split", check=within(0, 1, low_open=True, high_open=True))
    test_fold: int = setting(5, help="ESC-50's test fold", check=within(1, 5))
    val_fold: int = setting(4, help="ESC-50's validation fold", check=within(1, 5))
    hidden: int = setting(5000, help="Piczak's dense units", check=at_least(1))
    seed: int = setting(0, help="seed of the data split, the initial weights and every training")
    progress: bool = setting(True, help="progress bars", result=False)
    mst_training: TrainConfig = setting(help="the MSTmodel's training", default_factory=paper_mst_training, cli=False)
    classifier_training: TrainConfig = setting(help="the classifiers' training", cli=False,
                                               default_factory=paper_classifier_training)
    finetune_training: TrainConfig = setting(help="configuration (d)'s fine-tuning", cli=False,
                                             default_factory=paper_finetune_training)

    def __post_init__(self) -> None:
        for name in TRAININGS:
            cfg = getattr(self, name)
            if isinstance(cfg, dict):
                cfg = TrainConfig.from_dict(cfg)
            if not isinstance(cfg, TrainConfig):
                raise ValueError(f"{name} must be a TrainConfig (or a dict of its settings), got {type(cfg).__name__}")
            setattr(self, name, cfg)
        check_fields(self)
        if self.test_fold == self.val_fold:
            raise ValueError(f"test_fold and val_fold must differ, got {self.test_fold} for both")
        for name in TRAININGS:
            setattr(self, name, replace(getattr(self, name), seed=self.seed, progress=self.progress))

    @classmethod
    def full(cls, **overrides) -> "MSTSettings":
        """The paper's run: ESC-50, 101-frame segments, the paper's epochs and sizes."""
        return _with(cls(), overrides)

    @classmethod
    def quick(cls, **overrides) -> "MSTSettings":
        """A small run on FSDD (synthetic words offline): 41-frame segments, few epochs, small dense layers.

        ``overrides`` change any field; a dict for a training changes only the keys it names
        (``mst_training={"epochs": 2}``).
        """
        base = cls(dataset="fsdd", frames=41, clip_seconds=1.5, per_class=12, test_per_class=6, hidden=256,
                   progress=False,
                   mst_training=paper_mst_training(epochs=8, early_stopping_patience=4, lr=2e-3, batch_size=8),
                   classifier_training=paper_classifier_training(epochs=12, batch_size=8),
                   finetune_training=paper_finetune_training(epochs=4, batch_size=8))
        return _with(base, overrides)

    @classmethod
    def auto(cls, **overrides) -> "MSTSettings":
        """:meth:`quick` in quick mode (``APAC_LAB_QUICK=1``), else :meth:`full`."""
        return cls.quick(**overrides) if is_quick() else cls.full(**overrides)

    def to_dict(self) -> dict:
        """The settings as plain data (for saving beside results); each training as a dict."""
        return dataclasses.asdict(self)


def _with(base: MSTSettings, overrides: dict) -> MSTSettings:
    known = {f.name for f in fields(MSTSettings)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown MSTSettings fields {unknown}; known: {sorted(known)} (a training's settings go in "
                         "a dict: mst_training={'epochs': 2})")
    changes = dict(overrides)
    for name in TRAININGS:
        if isinstance(changes.get(name), dict):
            changes[name] = replace(getattr(base, name), **changes[name])
    return replace(base, **changes)


def load_segments(settings: MSTSettings) -> dict[str, SegmentDataset]:
    """``{"train", "validation", "test"}`` segment datasets at 22,050 Hz, through :func:`load_dataset`."""
    sr, hop = MST_DEFAULTS["sample_rate"], MST_DEFAULTS["hop_length"]
    num = None if settings.clip_seconds is None else int(round(settings.clip_seconds * sr))
    kw = dict(sample_rate=sr, num_samples=num)
    if settings.dataset.lower().replace("-", "") == "esc50":
        kw.update(test_fold=settings.test_fold, val_fold=settings.val_fold)
        clips = {s: load_dataset("esc50", s, **kw) for s in ("train", "validation", "test")}
    else:
        clips = {s: load_dataset(settings.dataset, s, **kw) for s in ("train", "test")}
    if settings.per_class:
        clips["train"] = clips["train"].balanced(settings.per_class, seed=settings.seed)
        if "validation" in clips:
            clips["validation"] = clips["validation"].balanced(max(1, settings.per_class // 4), seed=settings.seed)
    if settings.test_per_class:
        clips["test"] = clips["test"].balanced(settings.test_per_class, seed=settings.seed)
    cut = dict(frames=settings.frames, hop_length=hop, progress=settings.progress)
    segs = {s: SegmentDataset(c, **cut) for s, c in clips.items()}
    if "validation" not in segs:
        segs["train"], segs["validation"] = segs["train"].split_clips(settings.val_fraction, seed=settings.seed)
    return segs


def train_mst(
    segments: dict[str, SegmentDataset], settings: MSTSettings, *, target: MSTTarget | None = None
) -> tuple[MSTmodel, MSTTarget, list[dict]]:
    """Fit the target on the training segments and train an MSTmodel to reproduce it.

    Returns:
        (model, target, history): the MSTmodel with its best validation weights, the fitted
        target, and the training loop's history (``train_loss``, ``val_loss`` per epoch).
    """
    seed_everything(settings.seed)
    target = target or MSTTarget().fit(segments["train"])
    train = MSTTargetDataset(segments["train"], target)
    val = MSTTargetDataset(segments["validation"], target)
    model = MSTmodel(n_mels=target.n_mels)
    history = fit(model, train, val, settings.mst_training)
    return model.cpu().eval(), target.cpu(), history


def train_classifier(
    config: str,
    segments: dict[str, SegmentDataset],
    settings: MSTSettings,
    *,
    target: MSTTarget | None = None,
    mst: MSTmodel | None = None,
    base: PiczakCNN | None = None,
) -> tuple[PiczakCNN, list[dict]]:
    """Build and train configuration ``config`` (``"d"`` needs ``base``, the trained (c) model)."""
    seed_everything(settings.seed)
    n_classes = len(segments["train"].classes)
    if config == "d":
        if base is None:
            raise ValueError("configuration 'd' fine-tunes a trained (c) model: pass base=<trained c>")
        model, cfg = finetune_from(base), settings.finetune_training
    else:
        model = build_piczak(config, n_classes=n_classes, target=target, mst=mst, frames=settings.frames,
                             hidden=settings.hidden)
        cfg = settings.classifier_training
    history = fit(model, segments["train"], segments["validation"], cfg)
    return model.cpu().eval(), history


def clip_scores(model: torch.nn.Module, segments: SegmentDataset, settings: MSTSettings | None = None) -> dict:
    """Segment accuracy and clip accuracy by majority and by probability vote."""
    cfg = TrainConfig(batch_size=64, progress=bool(settings and settings.progress))
    model.to(get_device(cfg.device))  # evaluate() runs the model where it is and sends batches to the device
    result = evaluate(model, segments, cfg)
    probs = result["probabilities"]
    return {
        "segment": float(result["accuracy"]),
        "majority": clip_accuracy(probs, segments.labels, segments.clip_ids, method="majority"),
        "probability": clip_accuracy(probs, segments.labels, segments.clip_ids, method="probability"),
        "loss": float(result["loss"]),
    }


def run_comparison(
    settings: MSTSettings,
    *,
    configs: tuple[str, ...] = ("a", "b", "c", "d"),
    segments: dict[str, SegmentDataset] | None = None,
    mst: MSTmodel | None = None,
    target: MSTTarget | None = None,
    mst_history: list[dict] | None = None,
) -> dict:
    """The whole experiment. Returns ``{"settings", "segments", "mst", "target", "mst_history",
    "models", "histories", "rows"}``; ``rows`` feed :func:`format_results`.

    Pass ``segments`` (from :func:`load_segments`) and a trained ``mst`` with its fitted
    ``target`` (from :func:`train_mst`) to reuse them instead of starting over.
    """
    segs = segments if segments is not None else load_segments(settings)
    mst_seconds = None
    if mst is None:
        t0 = time.perf_counter()
        mst, target, mst_history = train_mst(segs, settings, target=target)
        mst_seconds = time.perf_counter() - t0
    elif target is None:
        raise ValueError("a trained mst needs the target it was trained on: pass target=")
    models, histories, rows = {}, {}, []
    for cfg in configs:
        t0 = time.perf_counter()
        model, hist = train_classifier(cfg, segs, settings, target=target, mst=mst, base=models.get("c"))
        seconds = time.perf_counter() - t0
        models[cfg], histories[cfg] = model, hist
        scores = clip_scores(model, segs["test"], settings)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        rows.append({"config": cfg, "name": PICZAK_CONFIGS[cfg]["name"], "epochs": len(hist),
                     "trainable": trainable, "seconds": seconds, **scores, "paper": PICZAK_CONFIGS[cfg]["paper"]})
    return {"settings": settings, "segments": segs, "mst": mst, "target": target, "mst_history": mst_history or [],
            "mst_seconds": mst_seconds, "models": models, "histories": histories, "rows": rows}


def format_results(result: dict) -> str:
    """A plain-text table of :func:`run_comparison`'s results beside the paper's claims."""
    s, segs, rows = result["settings"], result["segments"], result["rows"]
    mh = result["mst_history"]
    best = min((h.get("val_loss", h["train_loss"]) for h in mh), default=float("nan"))
    lines = [
        f"dataset {s.dataset} ({segs['train'].name.split('/')[0]}), {s.frames}-frame segments at 22050 Hz; "
        f"segments train/val/test {len(segs['train'])}/{len(segs['validation'])}/{len(segs['test'])} "
        f"from {segs['train'].num_clips}/{segs['validation'].num_clips}/{segs['test'].num_clips} clips",
        f"MSTmodel: {len(mh)} epochs, best validation MSE {best:.4f} (target scaled to [-1, 1])"
        + (f", {result['mst_seconds']:.1f} s" if result.get("mst_seconds") is not None else " (trained earlier)"),
        "",
        f"{'configuration':44s} {'epochs':>6s} {'trainable':>10s} {'segment':>8s} {'majority':>9s} {'prob.':>7s} {'s':>6s}  paper",
    ]
    for r in rows:
        lines.append(
            f"{r['name']:44s} {r['epochs']:6d} {r['trainable']:10,d} {100 * r['segment']:7.1f}% "
            f"{100 * r['majority']:8.1f}% {100 * r['probability']:6.1f}% {r['seconds']:6.1f}  {r['paper']}"
        )
    lines.append("accuracies on the test split; majority / prob. = clip accuracy after the segments' vote")
    return "\n".join(lines)
