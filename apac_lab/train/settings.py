"""The settings of a training run: every option with its type, default and help, checked
in one place for the command line (:mod:`apac_lab.train.cli`), config files and notebooks.

Notebook: 05_apac_training.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

__all__ = ["OPTIONS", "UsageError", "settings", "check_settings", "read_settings_file", "default_out"]


class UsageError(ValueError):
    """A bad setting: reported as one line and exit status 2."""


# key -> (type, default, help, extra argparse kwargs). The JSON config uses the same keys.
OPTIONS: dict[str, tuple[Any, Any, str, dict]] = {
    "dataset": (str, None, "speechcommands, fsdd or synthetic (see apac_lab.data.load_dataset)", {}),
    "data_root": (str, None, "folder of the data; default: the resolution rule ($APAC_LAB_DATA, cache, ...)", {}),
    "model": (str, "apac", "a name from apac_lab.models.list_models(), or 'package.module:function'", {}),
    "mode": (str, "std", "front-end mode: std, mel, stft, mel+stft, mel+stft+fsdd", {}),
    "checkpoint": (str, None, "front-end checkpoint (frontend.pt of an FSDD run) for mode mel+stft+fsdd", {}),
    "pretrained": (bool, False, "ImageNet weights for the baselines, where they can be had", {}),
    "model_kwargs": (dict, {}, "extra keyword arguments for the model builder (JSON object), e.g. "
                     '\'{"width_mult": 0.5}\'', {}),
    "sample_rate": (int, 16000, "Hz the clips are resampled to (the model's rate)", {}),
    "clip_seconds": (float, 1.0, "clip length in seconds (padded or cropped)", {}),
    "holdout_speakers": (list, None, "FSDD: test on these speakers, train on the others (leave-speakers-out)",
                         {"nargs": "+"}),
    "val_fraction": (float, 0.1, "fraction of the training clips kept for validation, where the dataset has no "
                     "validation split (0: no validation)", {}),
    "per_class": (int, None, "train on at most this many clips per class (quick runs)", {}),
    "test_per_class": (int, None, "evaluate on at most this many clips per class (quick runs)", {}),
    "cache": (str, "auto", "hold the clips in memory: auto (when under 2 GB), yes or no",
              {"choices": ["auto", "yes", "no"]}),
    "epochs": (int, 10, "passes over the training set", {}),
    "batch_size": (int, 32, "clips per step (per process under torchrun)", {}),
    "lr": (float, 1e-3, "learning rate (the paper's: 1e-3)", {}),
    "weight_decay": (float, 1e-3, "weight decay (the paper's: 1e-3)", {}),
    "optimizer": (str, "adam", "adam, adamw or sgd", {"choices": ["adam", "adamw", "sgd"]}),
    "scheduler": (str, "none", "none, cosine or onecycle", {"choices": ["none", "cosine", "onecycle"]}),
    "label_smoothing": (float, 0.0, "cross-entropy label smoothing", {}),
    "frontend_lr_scale": (float, 1.0, "learning rate of a trainable front-end relative to --lr", {}),
    "grad_clip": (float, None, "clip the gradient norm to this value", {}),
    "early_stopping_patience": (int, None, "stop after this many epochs without a better validation loss", {}),
    "max_steps_per_epoch": (int, None, "cap on steps per epoch (quick runs)", {}),
    "time_shift": (float, 0.0, "augmentation: largest random time shift, as a fraction of the clip (0: off)", {}),
    "noise_snr": (list, None, "augmentation: white noise at an SNR drawn in [LOW, HIGH] dB",
                  {"nargs": 2, "metavar": ("LOW", "HIGH"), "type": float}),
    "noise_p": (float, 0.5, "augmentation: probability of noise per clip", {}),
    "speed": (list, None, "augmentation: play each clip at a speed drawn in [LOW, HIGH] (e.g. 0.9 1.1)",
              {"nargs": 2, "metavar": ("LOW", "HIGH"), "type": float}),
    "eq_db": (float, 0.0, "augmentation: random smooth equaliser, largest excursion in dB (0: off)", {}),
    "gain_db": (list, None, "augmentation: random gain drawn in [LOW, HIGH] dB",
                {"nargs": 2, "metavar": ("LOW", "HIGH"), "type": float}),
    "spec_augment": (list, None, "augmentation: SpecAugment, widest frequency mask (bands) and time mask (frames)",
                     {"nargs": 2, "metavar": ("FREQ", "TIME"), "type": int}),
    "time_stretch": (list, None, "augmentation: stretch the spectrogram in time by a factor drawn in [LOW, HIGH] "
                     "(speaking rate)", {"nargs": 2, "metavar": ("LOW", "HIGH"), "type": float}),
    "seed": (int, 0, "seed of the model, the order of the clips, dropout and augmentation", {}),
    "device": (str, None, "cpu, cuda, cuda:1, mps; default: the best available", {}),
    "amp": (bool, True, "mixed precision on CUDA (--no-amp turns it off)", {}),
    "num_workers": (int, 0, "DataLoader workers (they only read audio)", {}),
    "out": (str, None, "output folder; default runs/<dataset>-<model>-<mode>", {}),
    "resume": (bool, False, "continue the run in --out from its last checkpoint", {}),
    "quiet": (bool, False, "no progress bars", {}),
}


def _check_type(key: str, value: Any, source: str) -> Any:
    typ = OPTIONS[key][0]
    if value is None:
        return None
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        str: lambda v: isinstance(v, str),
        list: lambda v: isinstance(v, (list, tuple)),
        dict: lambda v: isinstance(v, dict),
    }[typ](value)
    if not ok:
        raise UsageError(f"{source}: {key!r} must be {typ.__name__}, got {value!r}")
    if typ is float:
        return float(value)
    return list(value) if typ is list else value


def read_settings_file(path: str | Path, what: str) -> dict:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{what} {path} does not exist")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{what} {path} must hold a JSON object of settings")
    data = {k.replace("-", "_"): v for k, v in data.items()}
    unknown = sorted(set(data) - set(OPTIONS))
    if unknown:
        raise UsageError(f"{what} {path}: unknown keys {unknown}; known keys are the flags' names, e.g. 'batch_size'")
    return {k: _check_type(k, v, f"{what} {path}") for k, v in data.items()}


def default_out(s: dict) -> str:
    mode = s["mode"].replace("+", "_")
    return str(Path("runs") / f"{s['dataset']}-{s['model'].replace(':', '_').replace('.', '_')}-{mode}")


def settings(**overrides) -> dict:
    """A run's settings from keyword arguments (the same keys as the flags), checked.

    For notebooks: ``run(settings(dataset="fsdd", epochs=2))`` is the CLI without a shell.

    >>> settings(dataset="fsdd", batch_size=8)["batch_size"]
    8
    """
    unknown = sorted(set(overrides) - set(OPTIONS))
    if unknown:
        raise UsageError(f"unknown settings {unknown}; known: {sorted(OPTIONS)}")
    s = default_settings()
    s.update({k: _check_type(k, v, "settings") for k, v in overrides.items()})
    return finish_settings(s, "dataset='speechcommands', 'fsdd' or 'synthetic'")


def default_settings() -> dict:
    """Every setting at its default value."""
    s = {k: v[1] for k, v in OPTIONS.items()}
    s["model_kwargs"] = {}
    return s


def finish_settings(s: dict, how_to_give_dataset: str) -> dict:
    """Lower-case the dataset name, fill in ``out``, check everything; return ``s``."""
    if s["dataset"] is None:
        raise UsageError(f"no dataset: give {how_to_give_dataset}")
    s["dataset"] = s["dataset"].lower()
    if s["out"] is None:
        s["out"] = default_out(s)
    check_settings(s)
    return s


def check_settings(s: dict) -> None:
    from apac_lab.data import DATASETS

    known = sorted(DATASETS)
    if s["dataset"].replace("-", "").replace("_", "") not in known:
        raise UsageError(f"unknown dataset {s['dataset']!r}; choose one of {known}")
    positive = ("epochs", "batch_size", "sample_rate")
    for key in positive:
        if s[key] < 1:
            raise UsageError(f"--{key.replace('_', '-')} must be >= 1, got {s[key]}")
    for key in ("per_class", "test_per_class", "max_steps_per_epoch", "early_stopping_patience"):
        if s[key] is not None and s[key] < 1:
            raise UsageError(f"--{key.replace('_', '-')} must be >= 1, got {s[key]}")
    if not s["lr"] > 0:
        raise UsageError(f"--lr must be > 0, got {s['lr']}")
    if not s["frontend_lr_scale"] > 0:
        raise UsageError(f"--frontend-lr-scale must be > 0, got {s['frontend_lr_scale']}")
    if s["weight_decay"] < 0:
        raise UsageError(f"--weight-decay must be >= 0, got {s['weight_decay']}")
    if not 0 < s["clip_seconds"] <= 60:
        raise UsageError(f"--clip-seconds must be in (0, 60], got {s['clip_seconds']}")
    if not 0 <= s["val_fraction"] < 1:
        raise UsageError(f"--val-fraction must be in [0, 1), got {s['val_fraction']}")
    if not 0 <= s["time_shift"] < 1:
        raise UsageError(f"--time-shift is a fraction of the clip in [0, 1), got {s['time_shift']}")
    if not 0 <= s["noise_p"] <= 1:
        raise UsageError(f"--noise-p must be in [0, 1], got {s['noise_p']}")
    if s["noise_snr"] is not None and (len(s["noise_snr"]) != 2 or s["noise_snr"][0] > s["noise_snr"][1]):
        raise UsageError(f"--noise-snr needs LOW HIGH with LOW <= HIGH (dB), got {s['noise_snr']}")
    if s["speed"] is not None and (len(s["speed"]) != 2 or not 0 < s["speed"][0] <= s["speed"][1]):
        raise UsageError(f"--speed needs LOW HIGH with 0 < LOW <= HIGH, got {s['speed']}")
    if s["time_stretch"] is not None and (len(s["time_stretch"]) != 2 or not 0 < s["time_stretch"][0] <= s["time_stretch"][1]):
        raise UsageError(f"--time-stretch needs LOW HIGH with 0 < LOW <= HIGH, got {s['time_stretch']}")
    if s["eq_db"] < 0:
        raise UsageError(f"--eq-db must be >= 0, got {s['eq_db']}")
    if s["gain_db"] is not None and (len(s["gain_db"]) != 2 or s["gain_db"][0] > s["gain_db"][1]):
        raise UsageError(f"--gain-db needs LOW HIGH with LOW <= HIGH (dB), got {s['gain_db']}")
    if s["spec_augment"] is not None and (len(s["spec_augment"]) != 2 or min(s["spec_augment"]) < 0):
        raise UsageError(f"--spec-augment needs FREQ TIME, two whole numbers >= 0, got {s['spec_augment']}")
    if s["num_workers"] < 0:
        raise UsageError(f"--num-workers must be >= 0, got {s['num_workers']}")
    if ":" not in s["model"]:
        from apac_lab.models import MODES, list_models

        if s["model"] not in list_models():
            raise UsageError(f"unknown model {s['model']!r}; choose one of {list_models()} (or 'package.module:function')")
        if s["mode"] not in MODES:
            raise UsageError(f"unknown mode {s['mode']!r}; choose one of {list(MODES)}")
    if s["mode"] == "mel+stft+fsdd" and not s["checkpoint"]:
        raise UsageError("mode mel+stft+fsdd starts from a front-end trained on FSDD: give --checkpoint "
                         "PATH/frontend.pt (the frontend.pt of a --dataset fsdd --mode mel+stft run)")
    if s["checkpoint"] and not Path(s["checkpoint"]).is_file():
        raise UsageError(f"--checkpoint {s['checkpoint']} does not exist")
    if s["device"] is not None:
        try:
            dev = torch.device(s["device"])
        except RuntimeError:
            raise UsageError(f"--device {s['device']!r} is not a device name (cpu, cuda, cuda:0, mps)") from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise UsageError("--device cuda: no CUDA GPU is available here; leave --device out to use the CPU")
