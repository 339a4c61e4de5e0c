"""Tax et al.'s experiment end to end, on the shared training loop: data, MSTmodel, classifiers.

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

:class:`MSTSettings` holds the sizes; :meth:`MSTSettings.quick` and :meth:`MSTSettings.full`
are the quick-mode (FSDD or synthetic, minutes on a laptop CPU) and paper-sized runs.

Notebook: 04_learning_the_mel_mstmodel.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import torch

from apac_lab.data import SegmentDataset, load_dataset
from apac_lab.models.mst import MSTmodel
from apac_lab.models.mst_targets import MST_DEFAULTS, MSTTarget, MSTTargetDataset
from apac_lab.models.piczak import PICZAK_CONFIGS, PiczakCNN, build_piczak, finetune_from
from apac_lab.models.voting import clip_accuracy
from apac_lab.utils import get_device, is_quick, seed_everything

__all__ = [
    "MSTSettings", "load_segments", "train_mst", "train_classifier", "clip_scores", "run_comparison",
    "format_results", "settings_dict",
]


@dataclass
class MSTSettings:
    """Sizes and optimiser settings of the whole experiment.

    Args:
        dataset (str, default "esc50"): any :func:`apac_lab.data.load_dataset` name.
        frames (int, default 101): frames per segment (41: Piczak's short segments).
        clip_seconds (float | None, default None): clip length; None keeps the dataset's.
        per_class (int | None, default None): clips per class kept (quick mode), None all.
        test_per_class (int | None, default None): same for the test split.
        val_fraction (float, default 0.2): clips held out for validation when the
            dataset has no validation split (all but ESC-50).
        test_fold (int, default 5), val_fold (int, default 4): ESC-50's folds.
        mst_epochs (int, default 800), mst_patience (int, default 50), mst_lr (float, default 3e-4),
        mst_batch (int, default 100): the MSTmodel's training (the paper's values).
        clf_epochs (int, default 200), clf_lr (float, default 5e-3), clf_batch (int, default 500),
        momentum (float, default 0.9): the classifiers' SGD with Nesterov momentum.
        finetune_epochs (int, default 50), finetune_lr (float, default 5e-4): configuration (d).
        hidden (int, default 5000): Piczak's dense units.
        seed (int, default 0).
        progress (bool, default True): progress bars.
    """

    dataset: str = "esc50"
    frames: int = 101
    clip_seconds: float | None = None
    per_class: int | None = None
    test_per_class: int | None = None
    val_fraction: float = 0.2
    test_fold: int = 5
    val_fold: int = 4
    mst_epochs: int = 800
    mst_patience: int = 50
    mst_lr: float = 3e-4
    mst_batch: int = 100
    clf_epochs: int = 200
    clf_lr: float = 5e-3
    clf_batch: int = 500
    momentum: float = 0.9
    finetune_epochs: int = 50
    finetune_lr: float = 5e-4
    hidden: int = 5000
    seed: int = 0
    progress: bool = True

    @classmethod
    def full(cls, **overrides) -> "MSTSettings":
        """The paper's run: ESC-50, 101-frame segments, the paper's epochs and sizes."""
        return cls(**overrides)

    @classmethod
    def quick(cls, **overrides) -> "MSTSettings":
        """A small run on FSDD (synthetic words offline): 41-frame segments, few epochs, small dense layers."""
        base = cls(dataset="fsdd", frames=41, clip_seconds=1.5, per_class=12, test_per_class=6, mst_epochs=8,
                   mst_patience=4, mst_lr=2e-3, mst_batch=8, clf_epochs=12, clf_batch=8, finetune_epochs=4,
                   hidden=256, progress=False)
        return replace(base, **overrides)

    @classmethod
    def auto(cls, **overrides) -> "MSTSettings":
        """:meth:`quick` in quick mode (``APAC_LAB_QUICK=1``), else :meth:`full`."""
        return cls.quick(**overrides) if is_quick() else cls.full(**overrides)


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


def _train_config(settings: MSTSettings, **kw):
    from apac_lab.train import TrainConfig

    return TrainConfig(seed=settings.seed, progress=settings.progress, weight_decay=0.0, **kw)


def train_mst(
    segments: dict[str, SegmentDataset], settings: MSTSettings, *, target: MSTTarget | None = None
) -> tuple[MSTmodel, MSTTarget, list[dict]]:
    """Fit the target on the training segments and train an MSTmodel to reproduce it.

    Returns:
        (model, target, history): the MSTmodel with its best validation weights, the fitted
        target, and the training loop's history (``train_loss``, ``val_loss`` per epoch).
    """
    from apac_lab.train import fit

    seed_everything(settings.seed)
    target = target or MSTTarget().fit(segments["train"])
    train = MSTTargetDataset(segments["train"], target)
    val = MSTTargetDataset(segments["validation"], target)
    model = MSTmodel(n_mels=target.n_mels)
    config = _train_config(settings, loss="mse", optimizer="adam", lr=settings.mst_lr, batch_size=settings.mst_batch,
                           epochs=settings.mst_epochs, early_stopping_patience=settings.mst_patience)
    history = fit(model, train, val, config)
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
    from apac_lab.train import fit

    seed_everything(settings.seed)
    n_classes = len(segments["train"].classes)
    if config == "d":
        if base is None:
            raise ValueError("configuration 'd' fine-tunes a trained (c) model: pass base=<trained c>")
        model, epochs, lr = finetune_from(base), settings.finetune_epochs, settings.finetune_lr
    else:
        model = build_piczak(config, n_classes=n_classes, target=target, mst=mst, frames=settings.frames,
                             hidden=settings.hidden)
        epochs, lr = settings.clf_epochs, settings.clf_lr
    cfg = _train_config(settings, optimizer="sgd", momentum=settings.momentum, nesterov=True, lr=lr,
                        batch_size=settings.clf_batch, epochs=epochs)
    history = fit(model, segments["train"], segments["validation"], cfg)
    return model.cpu().eval(), history


def clip_scores(model: torch.nn.Module, segments: SegmentDataset, settings: MSTSettings | None = None) -> dict:
    """Segment accuracy and clip accuracy by majority and by probability vote."""
    from apac_lab.train import TrainConfig, evaluate

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


def settings_dict(settings: MSTSettings) -> dict:
    """The settings as a plain dict (for saving beside results)."""
    return asdict(settings)
