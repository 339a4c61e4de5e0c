"""Pre-train a trainable (mel + STFT) front-end on FSDD, for the fifth mode ``mel+stft+fsdd``.

There is one way to make this front-end: an ordinary training run (:func:`apac_lab.train.run`,
the same as ``python -m apac_lab.train --dataset fsdd --mode mel+stft``). Every run in a
trainable mode saves its front-end as ``OUT/frontend.pt`` (mel filterbank and STFT kernels,
with the settings that fix their shapes); a model built with
``build_model(..., mode="mel+stft+fsdd", checkpoint="OUT/frontend.pt")`` starts from those
filters and fine-tunes them on its own task.

FSDD is recorded at 8 kHz: it is resampled to ``sample_rate`` so that the saved kernels fit
models at that rate (16 kHz by default, the paper's rate).

Only the front-end is carried over: the model that starts from ``frontend.pt`` gets the mel
filterbank and STFT kernels, and every other weight of APAC starts from random values. Cassetta
(2023) names the mode "Fine tune trainable Mel + STFT pretrained on the Digits dataset" and says
no more, so this is one reading of the paper (another would carry over the whole network).

Notebook: 05_apac_training.
"""

from __future__ import annotations

from pathlib import Path

from apac_lab.train import RunSettings, run, run_settings
from apac_lab.train.options import PRESETS

__all__ = ["fsdd_frontend_settings", "pretrain_fsdd_frontend"]

#: What makes a run the FSDD front-end's pre-training.
_FIXED = {"dataset": "fsdd", "mode": "mel+stft"}


def fsdd_frontend_settings(**settings) -> RunSettings:
    """The run that pre-trains the front-end of mode ``mel+stft+fsdd``: a ``mel+stft`` model on FSDD.

    Args:
        **settings: any :func:`apac_lab.train.run_settings` key (``epochs``, ``model``,
            ``sample_rate``, ``out``, ``preset``...). ``dataset`` and ``mode`` are fixed ("fsdd",
            "mel+stft"); giving others is an error. Defaults: 5 epochs (or the preset's), no
            validation split.

    >>> s = fsdd_frontend_settings(epochs=2, out="runs/fsdd_frontend")
    >>> s.dataset, s.mode, s.train.epochs, s.val_fraction
    ('fsdd', 'mel+stft', 2, 0.0)
    >>> fsdd_frontend_settings(preset="paper-scratch").train.epochs
    80
    """
    for key, want in _FIXED.items():
        if key in settings and settings[key] != want:
            raise ValueError(f"the FSDD front-end is pre-trained with {key}={want!r}, not {settings[key]!r}; "
                             f"leave {key} out")
    defaults = {"epochs": 5, "val_fraction": 0.0}
    if settings.get("preset") in PRESETS:  # the preset's values, where it has them
        defaults = {k: v for k, v in defaults.items() if k not in PRESETS[settings["preset"]]}
    return run_settings(**{**defaults, **settings, **_FIXED})


def pretrain_fsdd_frontend(*, on_epoch_end=None, **settings) -> dict:
    """Run :func:`fsdd_frontend_settings` and return where its front-end checkpoint is.

    Args:
        on_epoch_end (Callable[[dict], None] | None, default None): as :func:`apac_lab.train.run`
            (e.g. a :class:`apac_lab.widgets.TrainingCurves` callback).
        **settings: as :func:`fsdd_frontend_settings` (e.g. ``out``, ``sample_rate``,
            ``model="tiny"`` for a quick demo, ``model_kwargs={"n_mels": 32}``).

    Returns:
        dict: ``path`` (``OUT/frontend.pt``), ``history`` (per epoch), ``test_accuracy``
        (FSDD's test split), ``dataset`` (``fsdd/train``, or ``synthetic-fsdd/train`` when
        the synthetic stand-in was used) and ``run`` (all of :func:`apac_lab.train.run`'s result).

    Example (not run here: it trains)::

        info = pretrain_fsdd_frontend(out="runs/fsdd_frontend", epochs=5)
        model = build_model("apac", n_classes=35, mode="mel+stft+fsdd", checkpoint=info["path"])
    """
    result = run(fsdd_frontend_settings(**settings), on_epoch_end=on_epoch_end)
    return {"path": Path(result["out"]) / "frontend.pt", "history": result["history"],
            "test_accuracy": float(result["test"]["accuracy"]), "dataset": result["data"], "run": result}
