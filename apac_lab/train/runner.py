"""One training run from its settings (:class:`apac_lab.train.RunSettings`): load the data (the
resolution rule), build the model (the registry), train with :func:`apac_lab.train.fit` (DDP
under torchrun), evaluate on the test split and write the results. The command line
(:mod:`apac_lab.train.cli`), the recipes and the notebooks call :func:`run`.

Every failure that comes from the settings or the files they name (a dataset that does not
load, a model that cannot be built, an ``--out`` that is a file, an unreadable or mismatched
checkpoint, a folder another run holds) is a :class:`UsageError`: one line naming the path.

Notebook: 05_apac_training.
"""

from __future__ import annotations

import contextlib
import csv
import importlib
import json
import os
import time
from pathlib import Path
from typing import Callable

import torch

from apac_lab.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from apac_lab.train.lock import RunFolderBusy, RunLock
from apac_lab.train.options import RunSettings, UsageError, flag_name

__all__ = ["run", "build_from_settings", "cache_in_memory", "cache_bytes", "CACHE_AUTO_BYTES"]

PROG = "apac-lab-train"


def _builder(name: str):
    if ":" in name:
        mod, _, fn = name.partition(":")
        try:
            return getattr(importlib.import_module(mod), fn)
        except (ImportError, AttributeError) as exc:
            raise UsageError(f"--model {name}: cannot import it ({exc})") from None
    from apac_lab.models import build_model

    return lambda **kw: build_model(name, **kw)


def build_from_settings(s: RunSettings, n_classes: int) -> torch.nn.Module:
    """The model a run's settings describe (used by ``model.pt`` loaders and the notebook).

    Raises:
        UsageError: the model cannot be built with these settings (one line).
    """
    kwargs = dict(n_classes=n_classes, sample_rate=s.sample_rate, mode=s.mode, checkpoint=s.checkpoint,
                  pretrained=s.pretrained, **s.model_kwargs)
    build = _builder(s.model)
    try:
        return build(**kwargs)
    except (ValueError, TypeError, RuntimeError, FileNotFoundError) as exc:
        given = f" --model-kwargs '{json.dumps(s.model_kwargs)}'" if s.model_kwargs else ""
        raise UsageError(f"--model {s.model}{given}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_DATA_ERRORS = (ValueError, TypeError, OSError, RuntimeError, EOFError)


def _load_data(s: RunSettings, verbose: bool):
    from apac_lab.data import load_dataset

    num_samples = int(round(s.clip_seconds * s.sample_rate))
    kw = dict(root=s.data_root, sample_rate=s.sample_rate, num_samples=num_samples, verbose=verbose)
    if s.holdout_speakers:
        kw["holdout_speakers"] = s.holdout_speakers
    try:
        train = load_dataset(s.dataset, "train", **kw)
        test = load_dataset(s.dataset, "test", **kw)
        val = None
        if s.val_fraction > 0:
            try:
                val = load_dataset(s.dataset, "validation", **kw)
            except ValueError:  # no validation split (SplitError): carve one from train
                gen = torch.Generator().manual_seed(s.train.seed)
                order = torch.randperm(len(train), generator=gen).tolist()
                n_val = max(1, int(round(s.val_fraction * len(train))))
                val, train = (train.subset(sorted(order[:n_val]), name=f"{train.name}[val]"),
                              train.subset(sorted(order[n_val:])))
        if s.per_class:
            train = train.balanced(s.per_class, seed=s.train.seed)
            if val is not None:
                val = val.balanced(max(1, s.per_class // 4), seed=s.train.seed)
        if s.test_per_class:
            test = test.balanced(s.test_per_class, seed=s.train.seed)
    except _DATA_ERRORS as exc:
        raise UsageError(_data_error(s, exc)) from None
    return train, val, test


def _data_error(s: RunSettings, exc: BaseException) -> str:
    """One line: what failed, and where the data was looked for (unless the message says)."""
    from apac_lab.data import dataset_root

    msg = _first_line(exc)
    try:
        where = dataset_root(s.dataset, s.data_root)
    except ValueError:
        where = None
    if where is not None and str(where) not in msg:
        return f"dataset {s.dataset} at {where}: {msg}"
    return f"dataset {s.dataset}: {msg}"


#: ``--cache auto`` holds a split in memory when its float32 waveforms take at most this many
#: bytes: the three splits of Speech Commands v2 at 16 kHz then hold the validation and test splits
#: (0.6 and 0.7 GB) and read the training split (5.4 GB) from disk, well inside Colab's 12 GB.
CACHE_AUTO_BYTES = 2 * 1024**3


def cache_bytes(ds) -> int:
    """The bytes a split takes in memory as float32 waveforms (what :func:`cache_in_memory` holds)."""
    return len(ds) * ds.num_samples * 4


def cache_in_memory(ds, mode: str = "auto", *, progress: bool = True):
    """``ds`` as an in-memory TensorDataset (mode "yes", or "auto" up to :data:`CACHE_AUTO_BYTES`),
    else ``ds``."""
    from torch.utils.data import DataLoader, TensorDataset
    from tqdm.auto import tqdm

    if ds is None or mode == "no" or (mode == "auto" and cache_bytes(ds) > CACHE_AUTO_BYTES):
        return ds
    waves, labels, n = torch.empty(len(ds), ds.num_samples), torch.empty(len(ds), dtype=torch.long), 0
    for x, y in tqdm(DataLoader(ds, batch_size=64), desc=f"reading {ds.name}", leave=False, disable=not progress):
        waves[n:n + len(x)], labels[n:n + len(x)] = x, torch.as_tensor(y)  # filled in place: one copy in memory
        n += len(x)
    cached = TensorDataset(waves, labels)
    cached.classes, cached.name = ds.classes, ds.name
    return cached


_DATA_KEYS = ("dataset", "data_root", "sample_rate", "clip_seconds", "holdout_speakers", "val_fraction", "per_class",
              "test_per_class", "seed", "cache")
_last_data: list = []  # [(key, (train, val, test))]: the last in-memory data, reused by the next run


def _cached(s: RunSettings, splits, progress: bool):
    """The splits in memory, reusing the previous run's when its data settings were the same
    (a notebook that trains five modes reads and resamples the clips once)."""
    flat = s.to_flat()
    key = json.dumps({**{k: flat[k] for k in _DATA_KEYS}, "env": os.environ.get("APAC_LAB_DATA")}, sort_keys=True)
    if _last_data and _last_data[0][0] == key:
        return _last_data[0][1]
    try:
        cached = tuple(cache_in_memory(d, s.cache, progress=progress) for d in splits)
    except _DATA_ERRORS as exc:
        raise UsageError(_data_error(s, exc)) from None
    _last_data.clear()
    if all(d is None or not hasattr(d, "clips") for d in cached):  # all in memory: worth keeping
        _last_data.append((key, cached))
    return cached


def wave_augmentation(s: RunSettings) -> torch.nn.Module | None:
    """The run's waveform augmentation (applied to training batches), or None.

    :class:`~apac_lab.train.augment.WaveAugment` (time shift, speed, equaliser and gain,
    noise), then a room response, a band limit and mu-law companding, each on its share of
    the clips (``reverb_p``, ``band_limit_p``, ``mu_law_p``).

    >>> from apac_lab.train import run_settings
    >>> [type(m).__name__ for m in wave_augmentation(run_settings(dataset="fsdd", time_shift=0.1, mu_law_p=0.2))]
    ['WaveAugment', 'RandomMuLaw']
    """
    from apac_lab.train.augment import RandomBandLimit, RandomMuLaw, RandomReverb, WaveAugment

    mods = []
    if s.time_shift > 0 or s.noise_snr is not None or s.speed is not None or s.eq_db > 0 or s.gain_db is not None:
        mods.append(WaveAugment(max_shift=s.time_shift, snr_db=tuple(s.noise_snr) if s.noise_snr else None,
                                noise_p=s.noise_p, speed=tuple(s.speed) if s.speed else None,
                                eq_db=s.eq_db, gain_db=tuple(s.gain_db) if s.gain_db else None))
    if s.reverb_p > 0:
        mods.append(RandomReverb(s.sample_rate, p=s.reverb_p))
    if s.band_limit_p > 0:
        mods.append(RandomBandLimit(s.sample_rate, p=s.band_limit_p))
    if s.mu_law_p > 0:
        mods.append(RandomMuLaw(p=s.mu_law_p))
    if not mods:
        return None
    return mods[0] if len(mods) == 1 and isinstance(mods[0], WaveAugment) else torch.nn.Sequential(*mods)


def attach_augmentations(s: RunSettings, model: torch.nn.Module) -> tuple[torch.nn.Module | None, list]:
    """Attach the run's spectrogram augmentation to ``model`` (active in training mode only)
    and return ``(wave_augmentation(s), hook handles)``.

    The spectrum warp (``vtlp``) acts on the linear power spectrogram, before the mel
    filterbank; SpecAugment and the time stretch on the front-end's output.
    """
    from apac_lab.train.augment import SpecAugment, VocalTractWarp, attach_spec_augment, find_spectrogram

    handles = []
    if s.vtlp is not None:
        handles.append(attach_spec_augment(model, VocalTractWarp(tuple(s.vtlp)), where=find_spectrogram(model)))
    if s.spec_augment is not None or s.time_stretch is not None:
        f, t = s.spec_augment or (0, 0)
        handles.append(attach_spec_augment(
            model, SpecAugment(f, t, time_stretch=tuple(s.time_stretch) if s.time_stretch else None)))
    return wave_augmentation(s), handles


def _write_results(out: Path, s: RunSettings, result: dict, classes: list[str], history: list[dict], seconds: float,
                   n_params: int, data: str) -> dict:
    from apac_lab.train.metrics import format_report, per_class_report

    report = per_class_report(result["confusion"], classes)
    metrics = {
        "dataset": s.dataset, "data": data, "model": s.model, "mode": s.mode, "test_accuracy": result["accuracy"],
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
        f"({s.dataset}, {s.model}, mode {s.mode})\n\n{format_report(report)}\n")
    return metrics


# --------------------------------------------------------------------------- distributed


def _init_distributed(device: str | None) -> tuple[bool, int, str | None]:
    """Initialise the process group under torchrun (WORLD_SIZE > 1); return (distributed, rank, device)."""
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False, 0, device
    use_cuda = torch.cuda.is_available() and (device is None or device.startswith("cuda"))
    if use_cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    elif device is None:
        device = "cpu"
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return True, dist.get_rank(), device


# --------------------------------------------------------------------------- the run


def _resume_checkpoint(s: RunSettings, cfg, out: Path) -> dict | None:
    """Before anything is read or written: the run's checkpoint, read, after checking that it
    was trained with the same settings (those that change the result); None without one
    (then fit() says that it starts a new run). Otherwise a one-line UsageError."""
    from apac_lab.train.options import read_settings_file

    last = out / "last.pt"
    if not last.is_file():
        return None
    ckpt = load_checkpoint(last)
    if not isinstance(ckpt, dict) or "epoch" not in ckpt or "model" not in ckpt:
        raise UsageError(f"--resume: {last} is not a training checkpoint (no epoch or model); start a new run with "
                         "another --out")
    diffs = [(flag_name(k), a, b) for k, a, b in cfg.resume_differences(ckpt.get("config") or {}, int(ckpt["epoch"]))]
    if (out / "run.json").is_file():
        saved = read_settings_file(out / "run.json", "run file")
        diffs = [(flag_name(k), a, b) for k, a, b in s.result_differences(saved)] + diffs
    if diffs:
        what = "; ".join(f"{k} {a} -> {b}" for k, a, b in diffs)
        raise UsageError(f"--resume: {out} was trained with other settings ({what}); resume it with its own "
                         f"settings (leave those out), or start a new run with another --out")
    return ckpt


def _check_fits(model: torch.nn.Module, ckpt: dict, last: Path) -> None:
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, KeyError, TypeError) as exc:
        raise UsageError(f"--resume: {last} does not fit this model ({_first_line(exc)[:200]}); start a new run "
                         "with another --out") from None


def run(s: RunSettings, *, on_epoch_end: Callable[[dict], None] | None = None) -> dict:
    """Train and evaluate the run ``s`` (from :func:`apac_lab.train.run_settings`, the command
    line or a recipe); the notebooks call it too.

    Args:
        s (RunSettings): the run.
        on_epoch_end (Callable[[dict], None] | None, default None): called with each epoch's
            record (as :func:`apac_lab.train.fit` passes it), after the run prints its line;
            e.g. ``apac_lab.widgets.TrainingCurves(...).callback("std")`` for live curves. On
            the main process only under torchrun.

    Returns:
        dict: ``model`` (trained, in eval mode), ``classes``, ``history``, ``test`` (the
        :func:`evaluate` result: accuracy, confusion, probabilities...), ``metrics`` (what
        ``metrics.json`` holds; on rank 0), ``out`` (the output folder) and ``data`` (the
        training set's name: ``synthetic/...`` when the synthetic fallback was used).

    Raises:
        UsageError: bad settings or files (one line; see the module docstring).
    """
    import torch.distributed as dist

    if not isinstance(s, RunSettings):
        raise UsageError(f"run() takes a RunSettings (apac_lab.train.run_settings(...)), got {type(s).__name__}")
    if on_epoch_end is not None and not callable(on_epoch_end):
        raise UsageError(f"run(on_epoch_end=...) must be a function of one epoch's record, got "
                         f"{type(on_epoch_end).__name__}")
    out = Path(s.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder: give a folder for the run's files")
    distributed, rank, device = _init_distributed(s.train.device)
    main_proc = rank == 0
    try:
        lock = RunLock(out) if main_proc else contextlib.nullcontext()
        try:
            with lock:
                return _run(s, out, distributed, main_proc, device, on_epoch_end)
        except RunFolderBusy as exc:
            raise UsageError(str(exc)) from None
        except CheckpointError as exc:
            raise UsageError(f"--resume: {exc}") from None
    finally:
        if distributed and dist.is_initialized():
            dist.destroy_process_group()


def _run(s: RunSettings, out: Path, distributed: bool, main_proc: bool, device: str | None,
         on_epoch_end: Callable[[dict], None] | None = None) -> dict:
    import dataclasses

    import torch.distributed as dist

    from apac_lab.data import AudioError
    from apac_lab.train.loop import ResumeMismatch, evaluate, fit
    from apac_lab.utils import seed_everything

    say = print if main_proc else (lambda *a, **k: None)
    progress = not s.quiet and main_proc
    cfg = dataclasses.replace(s.train, device=device, out_dir=str(out), progress=progress,
                              extra={"dataset": s.dataset, "model": s.model, "mode": s.mode})
    ckpt = _resume_checkpoint(s, cfg, out) if s.resume and main_proc else None
    train, val, test = _load_data(s, verbose=main_proc)
    classes = list(train.classes)
    seed_everything(s.train.seed)
    model = build_from_settings(s, len(classes))
    if ckpt is not None:
        _check_fits(model, ckpt, out / "last.pt")  # fit() loads it (and the optimiser) again
    n_params = sum(p.numel() for p in model.parameters())
    wave_aug, _ = attach_augmentations(s, model)
    train_c, val_c, test_c = _cached(s, (train, val, test), progress)
    if main_proc:
        out.mkdir(parents=True, exist_ok=True)
        (out / "run.json").write_text(json.dumps(s.to_dict(), indent=1) + "\n")
    world = dist.get_world_size() if distributed else 1
    say(f"[{PROG}] {s.model} (mode {s.mode}, {n_params:,} parameters), {len(classes)} classes; "
        f"train {len(train)} / val {len(val) if val is not None else 0} / test {len(test)} clips"
        + (f"; {world} processes, global batch {world * s.train.batch_size}" if distributed else ""))
    say(f"[{PROG}] checkpoints: {out / 'last.pt'} (every epoch); history: {out / 'history.json'}; "
        f"test metrics: {out / 'metrics.json'}, {out / 'report.txt'}, {out / 'confusion.csv'}")

    def log(rec):
        if main_proc:
            parts = [f"epoch {rec['epoch']}/{cfg.epochs}", f"train loss {rec['train_loss']:.4f}",
                     f"acc {rec.get('train_acc', float('nan')):.3f}"]
            if "val_loss" in rec:
                parts += [f"val loss {rec['val_loss']:.4f}", f"acc {rec.get('val_acc', float('nan')):.3f}"]
            parts.append(f"{rec['seconds']:.1f} s ({rec['clips_per_s']:.0f} clips/s)")
            print(f"[{PROG}] " + ", ".join(parts), flush=True)
            if on_epoch_end is not None:
                on_epoch_end(rec)

    t0 = time.perf_counter()
    try:
        history = fit(model, train_c, val_c, cfg, resume=s.resume, on_epoch_end=log, augment=wave_aug)
    except ResumeMismatch as exc:
        raise UsageError(str(exc)) from None
    except AudioError as exc:  # a clip read by the loader during training
        raise UsageError(_data_error(s, exc)) from None
    seconds = time.perf_counter() - t0
    result = evaluate(model, test_c, cfg, n_classes=len(classes))
    metrics = {"test_accuracy": result["accuracy"], "test_clips": int(result["confusion"].sum())}
    if main_proc:
        meta = {"model": model.state_dict(), "classes": classes, "settings": s.to_dict(), "n_classes": len(classes)}
        save_checkpoint(out / "model.pt", meta)
        front = getattr(model, "frontend", None)
        if s.mode != "std" and front is not None and hasattr(front, "mel_filterbank"):
            from apac_lab.models import save_frontend_checkpoint

            save_frontend_checkpoint(front, out / "frontend.pt", dataset=train.name, model=s.model,
                                     epochs=len(history), test_accuracy=float(result["accuracy"]))
        metrics = _write_results(out, s, result, classes, history, seconds, n_params, train.name)
        say(f"[{PROG}] test accuracy {result['accuracy']:.4f} on {metrics['test_clips']} clips; results in {out}/")
    model.eval()
    return {"model": model, "classes": classes, "history": history, "test": result, "metrics": metrics,
            "out": out, "data": train.name,
            "clips": {"train": len(train), "validation": len(val) if val is not None else 0, "test": len(test)}}
