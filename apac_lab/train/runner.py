"""One training run from its settings: load the data (the resolution rule), build the model
(the registry), train with :func:`apac_lab.train.fit` (DDP under torchrun), evaluate on the
test split and write the results. The command line (:mod:`apac_lab.train.cli`) and the
notebooks call :func:`run`.

Notebook: 05_apac_training.
"""

from __future__ import annotations

import csv
import importlib
import json
import os
import time
from pathlib import Path

import torch

from apac_lab.train.settings import UsageError

__all__ = ["run", "build_from_settings", "cache_in_memory"]

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
