"""The training command line: ``python -m apac_lab.train`` (or ``apac-lab-train``).

One run: load the data through :func:`apac_lab.data.load_dataset` (the resolution rule),
build a model from the registry (:func:`apac_lab.models.build_model`), train it with
:func:`apac_lab.train.fit`, then evaluate it on the test split and write, to ``--out``:

* ``run.json``: every setting of the run (a valid ``--config`` file for a re-run);
* ``config.json``, ``last.pt`` (every epoch, atomic), ``history.json``: from :func:`fit`;
* ``model.pt``: the final weights with what is needed to rebuild the model;
* ``frontend.pt``: the trained front-end, in trainable modes (the checkpoint that mode
  ``mel+stft+fsdd`` starts from);
* ``metrics.json`` (test accuracy, loss, per-class report, confusion matrix),
  ``confusion.csv`` and ``report.txt``.

Settings come from, in increasing priority: the defaults, ``OUT/run.json`` when
resuming, a ``--config`` JSON file (the same keys as the flags, with ``_``), and the
flags given. Bad settings print one line, ``apac-lab-train: error: ...``, and exit
with status 2. Under ``torchrun --nproc_per_node=N`` the same command initialises the
process group (NCCL on CUDA, Gloo on the CPU) and trains with DistributedDataParallel;
``--batch-size`` is then per process.

Examples::

    python -m apac_lab.train --dataset fsdd --model apac --mode std --epochs 20 --out runs/fsdd
    python -m apac_lab.train --out runs/fsdd --resume          # continue an interrupted run
    torchrun --nproc_per_node=2 -m apac_lab.train --config run.json

Notebook: 05_apac_training.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import torch

__all__ = ["main", "OPTIONS", "build_parser", "resolve_settings", "settings", "run", "build_from_settings",
           "cache_in_memory", "UsageError"]

PROG = "apac-lab-train"
_NONE = "none"


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


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit status 2
        raise UsageError(f"{message} (see {PROG} --help)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; only the flags actually given appear in its namespace."""
    p = _Parser(prog=PROG, description="Train and evaluate an APAC-lab model (checkpoints, metrics, resume, DDP).",
                argument_default=argparse.SUPPRESS, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--config", help="JSON file of settings (the keys below, with '_'); flags override it")
    for key, (typ, default, help_, extra) in OPTIONS.items():
        flag = "--" + key.replace("_", "-")
        help_ = f"{help_} [default: {default}]"
        if typ is bool:
            p.add_argument(flag, action=argparse.BooleanOptionalAction, help=help_)
        elif typ is dict:
            p.add_argument(flag, type=_json_object, help=help_)
        elif typ is list:
            p.add_argument(flag, **({"type": str} | extra), help=help_)
        else:
            p.add_argument(flag, type=typ, help=help_, **extra)
    return p


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object, like '{\"width_mult\": 0.5}'")
    return value


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


def _read_json(path: str | Path, what: str) -> dict:
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


def _default_out(s: dict) -> str:
    mode = s["mode"].replace("+", "_")
    return str(Path("runs") / f"{s['dataset']}-{s['model'].replace(':', '_').replace('.', '_')}-{mode}")


def resolve_settings(argv: Sequence[str] | None = None) -> dict:
    """Merge defaults, ``OUT/run.json`` (with ``--resume``), ``--config`` and the flags; check them.

    >>> s = resolve_settings(["--dataset", "synthetic", "--epochs", "2"])
    >>> s["epochs"], s["lr"], s["out"]
    (2, 0.001, 'runs/synthetic-apac-std')
    """
    args = vars(build_parser().parse_args(argv))
    settings = {k: v[1] for k, v in OPTIONS.items()}
    settings["model_kwargs"] = {}
    config_file = args.pop("config", None)
    from_file = _read_json(config_file, "config file") if config_file else {}
    resume = args.get("resume", from_file.get("resume", False))
    out = args.get("out", from_file.get("out"))
    if resume and out and (Path(out) / "run.json").is_file():
        previous = _read_json(Path(out) / "run.json", "run file")
        settings.update(previous)
    settings.update(from_file)
    settings.update(args)
    if settings["dataset"] is None:
        raise UsageError("no dataset: give --dataset speechcommands|fsdd|synthetic (or 'dataset' in --config)")
    settings["dataset"] = settings["dataset"].lower()
    if settings["out"] is None:
        settings["out"] = _default_out(settings)
    _check(settings)
    return settings


def settings(**overrides) -> dict:
    """A run's settings from keyword arguments (the same keys as the flags), checked.

    For notebooks: ``run(settings(dataset="fsdd", epochs=2))`` is the CLI without a shell.

    >>> settings(dataset="fsdd", batch_size=8)["batch_size"]
    8
    """
    unknown = sorted(set(overrides) - set(OPTIONS))
    if unknown:
        raise UsageError(f"unknown settings {unknown}; known: {sorted(OPTIONS)}")
    s = {k: v[1] for k, v in OPTIONS.items()}
    s["model_kwargs"] = {}
    s.update({k: _check_type(k, v, "settings") for k, v in overrides.items()})
    if s["dataset"] is None:
        raise UsageError("no dataset: give dataset='speechcommands', 'fsdd' or 'synthetic'")
    s["dataset"] = s["dataset"].lower()
    if s["out"] is None:
        s["out"] = _default_out(s)
    _check(s)
    return s


def _check(s: dict) -> None:
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


# --------------------------------------------------------------------------- building blocks


def _builder(name: str):
    if ":" in name:
        mod, _, fn = name.partition(":")
        try:
            return getattr(importlib.import_module(mod), fn)
        except (ImportError, AttributeError) as exc:
            raise UsageError(f"--model {name}: cannot import it ({exc})") from None
    from apac_lab.models import build_model

    return lambda **kw: build_model(name, **kw)


def build_from_settings(s: dict, n_classes: int) -> torch.nn.Module:
    """The model a run's settings describe (used by ``model.pt`` loaders and the notebook)."""
    kwargs = dict(n_classes=n_classes, sample_rate=s["sample_rate"], mode=s["mode"], checkpoint=s["checkpoint"],
                  pretrained=s["pretrained"], **s["model_kwargs"])
    return _builder(s["model"])(**kwargs)


def _load_data(s: dict, verbose: bool):
    from apac_lab.data import load_dataset

    num_samples = int(round(s["clip_seconds"] * s["sample_rate"]))
    kw = dict(root=s["data_root"], sample_rate=s["sample_rate"], num_samples=num_samples, verbose=verbose)
    if s["holdout_speakers"]:
        kw["holdout_speakers"] = s["holdout_speakers"]
    train = load_dataset(s["dataset"], "train", **kw)
    test = load_dataset(s["dataset"], "test", **kw)
    val = None
    if s["val_fraction"] > 0:
        try:
            val = load_dataset(s["dataset"], "validation", **kw)
        except ValueError:  # no validation split (SplitError): carve one from train
            gen = torch.Generator().manual_seed(s["seed"])
            order = torch.randperm(len(train), generator=gen).tolist()
            n_val = max(1, int(round(s["val_fraction"] * len(train))))
            val, train = train.subset(sorted(order[:n_val]), name=f"{train.name}[val]"), train.subset(sorted(order[n_val:]))
    if s["per_class"]:
        train = train.balanced(s["per_class"], seed=s["seed"])
        if val is not None:
            val = val.balanced(max(1, s["per_class"] // 4), seed=s["seed"])
    if s["test_per_class"]:
        test = test.balanced(s["test_per_class"], seed=s["seed"])
    return train, val, test


def cache_in_memory(ds, mode: str = "auto", *, progress: bool = True):
    """``ds`` as an in-memory TensorDataset (mode "yes", or "auto" under 2 GB), else ``ds``."""
    from torch.utils.data import DataLoader, TensorDataset
    from tqdm.auto import tqdm

    if ds is None or mode == "no" or (mode == "auto" and len(ds) * ds.num_samples * 4 > 2 * 1024**3):
        return ds
    waves, labels = [], []
    for x, y in tqdm(DataLoader(ds, batch_size=64), desc=f"reading {ds.name}", leave=False, disable=not progress):
        waves.append(x)
        labels.append(torch.as_tensor(y))
    cached = TensorDataset(torch.cat(waves), torch.cat(labels))
    cached.classes, cached.name = ds.classes, ds.name
    return cached


_DATA_KEYS = ("dataset", "data_root", "sample_rate", "clip_seconds", "holdout_speakers", "val_fraction", "per_class",
              "test_per_class", "seed", "cache")
_last_data: list = []  # [(key, (train, val, test))]: the last in-memory data, reused by the next run


def _cached(s: dict, splits, progress: bool):
    """The splits in memory, reusing the previous run's when its data settings were the same
    (a notebook that trains five modes reads and resamples the clips once)."""
    key = json.dumps({**{k: s[k] for k in _DATA_KEYS}, "env": os.environ.get("APAC_LAB_DATA")}, sort_keys=True)
    if _last_data and _last_data[0][0] == key:
        return _last_data[0][1]
    cached = tuple(cache_in_memory(d, s["cache"], progress=progress) for d in splits)
    _last_data.clear()
    if all(d is None or not hasattr(d, "clips") for d in cached):  # all in memory: worth keeping
        _last_data.append((key, cached))
    return cached


def _augmentations(s: dict, model: torch.nn.Module):
    from apac_lab.train.augment import SpecAugment, WaveAugment, attach_spec_augment

    wave = None
    if s["time_shift"] > 0 or s["noise_snr"] is not None or s["speed"] is not None or s["eq_db"] > 0 \
            or s["gain_db"] is not None:
        wave = WaveAugment(max_shift=s["time_shift"], snr_db=tuple(s["noise_snr"]) if s["noise_snr"] else None,
                           noise_p=s["noise_p"], speed=tuple(s["speed"]) if s["speed"] else None,
                           eq_db=s["eq_db"], gain_db=tuple(s["gain_db"]) if s["gain_db"] else None)
    if s["spec_augment"] is not None or s["time_stretch"] is not None:
        f, t = s["spec_augment"] or (0, 0)
        attach_spec_augment(model, SpecAugment(f, t, time_stretch=tuple(s["time_stretch"]) if s["time_stretch"] else None))
    return wave


def _write_results(out: Path, s: dict, result: dict, classes: list[str], history: list[dict], seconds: float,
                   n_params: int, data: str) -> dict:
    from apac_lab.train.metrics import format_report, per_class_report

    report = per_class_report(result["confusion"], classes)
    metrics = {
        "dataset": s["dataset"], "data": data, "model": s["model"], "mode": s["mode"], "test_accuracy": result["accuracy"],
        "test_loss": result["loss"], "test_clips": int(result["confusion"].sum()), "classes": classes,
        "confusion": result["confusion"].tolist(), "per_class": report, "parameters": n_params,
        "epochs_run": len(history), "train_seconds": seconds,
        "final": history[-1] if history else {},
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    with open(out / "confusion.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["true \\ predicted", *classes])
        for name, row in zip(classes, result["confusion"].tolist()):
            w.writerow([name, *row])
    (out / "report.txt").write_text(
        f"test accuracy {result['accuracy']:.4f} on {metrics['test_clips']} clips "
        f"({s['dataset']}, {s['model']}, mode {s['mode']})\n\n{format_report(report)}\n")
    return metrics


# --------------------------------------------------------------------------- distributed


def _init_distributed(s: dict) -> tuple[bool, int]:
    """Initialise the process group under torchrun (WORLD_SIZE > 1); return (distributed, rank)."""
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False, 0
    use_cuda = torch.cuda.is_available() and (s["device"] is None or s["device"].startswith("cuda"))
    if use_cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        s["device"] = f"cuda:{local}"
    elif s["device"] is None:
        s["device"] = "cpu"
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return True, dist.get_rank()


# --------------------------------------------------------------------------- the run


def run(s: dict) -> dict:
    """Train and evaluate the run ``s`` (settings from :func:`resolve_settings` or
    :func:`settings`); the notebooks call it too.

    Returns:
        dict: ``model`` (trained, in eval mode), ``classes``, ``history``, ``test`` (the
        :func:`evaluate` result: accuracy, confusion, probabilities...), ``metrics`` (what
        ``metrics.json`` holds; on rank 0), ``out`` (the output folder) and ``data`` (the
        training set's name: ``synthetic/...`` when the synthetic fallback was used).
    """
    import torch.distributed as dist

    from apac_lab.train.config import TrainConfig
    from apac_lab.train.loop import evaluate, fit
    from apac_lab.utils import seed_everything

    distributed, rank = _init_distributed(s)
    main_proc = rank == 0
    out = Path(s["out"])
    say = print if main_proc else (lambda *a, **k: None)
    try:
        try:  # everything that depends on the settings: a failure here is a usage error
            train, val, test = _load_data(s, verbose=main_proc)
            classes = list(train.classes)
            seed_everything(s["seed"])
            model = build_from_settings(s, len(classes))
        except (ValueError, TypeError, FileNotFoundError) as exc:
            raise UsageError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
        n_params = sum(p.numel() for p in model.parameters())
        wave_aug = _augmentations(s, model)
        progress = not s["quiet"] and main_proc
        train_c, val_c, test_c = _cached(s, (train, val, test), progress)
        cfg = TrainConfig(
            epochs=s["epochs"], batch_size=s["batch_size"], lr=s["lr"], weight_decay=s["weight_decay"],
            optimizer=s["optimizer"], scheduler=s["scheduler"], label_smoothing=s["label_smoothing"], seed=s["seed"],
            device=s["device"], amp=s["amp"], num_workers=s["num_workers"],
            early_stopping_patience=s["early_stopping_patience"], out_dir=str(out), progress=progress,
            max_steps_per_epoch=s["max_steps_per_epoch"], grad_clip=s["grad_clip"],
            frontend_lr_scale=s["frontend_lr_scale"],
            extra={"dataset": s["dataset"], "model": s["model"], "mode": s["mode"]},
        )
        if main_proc:
            out.mkdir(parents=True, exist_ok=True)
            (out / "run.json").write_text(json.dumps(s, indent=1) + "\n")
        world = dist.get_world_size() if distributed else 1
        say(f"[{PROG}] {s['model']} (mode {s['mode']}, {n_params:,} parameters), {len(classes)} classes; "
            f"train {len(train)} / val {len(val) if val is not None else 0} / test {len(test)} clips"
            + (f"; {world} processes, global batch {world * s['batch_size']}" if distributed else ""))
        say(f"[{PROG}] checkpoints: {out / 'last.pt'} (every epoch); history: {out / 'history.json'}; "
            f"test metrics: {out / 'metrics.json'}, {out / 'report.txt'}, {out / 'confusion.csv'}")

        def log(rec):
            if main_proc:
                parts = [f"epoch {rec['epoch']}/{s['epochs']}", f"train loss {rec['train_loss']:.4f}",
                         f"acc {rec.get('train_acc', float('nan')):.3f}"]
                if "val_loss" in rec:
                    parts += [f"val loss {rec['val_loss']:.4f}", f"acc {rec.get('val_acc', float('nan')):.3f}"]
                parts.append(f"{rec['seconds']:.1f} s ({rec['clips_per_s']:.0f} clips/s)")
                print(f"[{PROG}] " + ", ".join(parts), flush=True)

        t0 = time.perf_counter()
        history = fit(model, train_c, val_c, cfg, resume=s["resume"], on_epoch_end=log, augment=wave_aug)
        seconds = time.perf_counter() - t0
        result = evaluate(model, test_c, cfg, n_classes=len(classes))
        metrics = {"test_accuracy": result["accuracy"], "test_clips": int(result["confusion"].sum())}
        if main_proc:
            meta = {"model": model.state_dict(), "classes": classes, "settings": s, "n_classes": len(classes)}
            from apac_lab.train.loop import save_checkpoint

            save_checkpoint(out / "model.pt", meta)
            front = getattr(model, "frontend", None)
            if s["mode"] != "std" and front is not None and hasattr(front, "mel_filterbank"):
                from apac_lab.models import save_frontend_checkpoint

                save_frontend_checkpoint(front, out / "frontend.pt", dataset=s["dataset"])
            metrics = _write_results(out, s, result, classes, history, seconds, n_params, train.name)
            say(f"[{PROG}] test accuracy {result['accuracy']:.4f} on {metrics['test_clips']} clips; "
                f"results in {out}/")
        model.eval()
        return {"model": model, "classes": classes, "history": history, "test": result, "metrics": metrics,
                "out": out, "data": train.name}
    finally:
        if distributed and dist.is_initialized():
            dist.destroy_process_group()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 done, 2 bad settings, 130 interrupted)."""
    try:
        s = resolve_settings(argv)
        run(s)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; continue with --resume (same --out)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
