"""How long a run will take on this device, measured before it starts, and what it must download.

A long run (the full budget: Speech Commands v2, the paper's epochs) should say two things
before it begins: the download it needs, and its expected time *on this device*. Both come
from here:

* :func:`training_throughput` trains the run's own model (its settings, batch size, device,
  mixed precision and augmentation) for a few real steps on random clips of the run's
  length, through :func:`apac_lab.train.fit`, and times them; then it evaluates a few
  batches the same way. Random clips, so it needs no data: it can run before a download.
* :func:`expected_seconds` turns that into a run's time: epochs x training clips at the
  training rate, plus validation each epoch and the test split at the evaluation rate.
* :func:`plan_runs` does both for a list of runs and returns the lines to print: each run,
  its rate and expected time, the total, and the download (name, size, where it goes).

The estimate leaves out reading and resampling the data the first time (the runner caches
clips in memory) and any waiting for the disk; on a shared machine, other work slows the
timed steps and the estimate with them.

Notebook: 05_apac_training (the full budget); benchmarks/throughput.py prints the rates.
"""

from __future__ import annotations

import time
from typing import Mapping

import torch
from torch.utils.data import TensorDataset

from apac_lab.train.options import RunSettings, UsageError
from apac_lab.train.runner import attach_augmentations, build_from_settings

__all__ = ["training_throughput", "expected_seconds", "plan_runs", "format_duration"]


def training_throughput(s: RunSettings, n_classes: int, *, steps: int = 3, warmup: int = 1,
                        batch_size: int | None = None) -> dict:
    """Clips per second of the run ``s`` on this device: a few real training and evaluation steps.

    Args:
        s (RunSettings): the run (model, mode, sample rate, clip length, batch size, device,
            mixed precision, augmentation).
        n_classes (int): the model's classes.
        steps (int, default 3): timed steps (training, then evaluation).
        warmup (int, default 1): steps before the timed ones (allocation, kernel selection), not timed.
        batch_size (int | None, default None): None is the run's.

    Returns:
        dict: ``train_clips_per_s``, ``eval_clips_per_s``, ``step_seconds`` (one training
        step), ``device``, ``parameters``, ``batch_size``, ``steps``.

    >>> from apac_lab.train import run_settings
    >>> r = training_throughput(run_settings(dataset="synthetic", model="tiny", batch_size=4, device="cpu"), 3,
    ...                         steps=1, warmup=1)
    >>> r["device"], r["batch_size"], r["train_clips_per_s"] > 0
    ('cpu', 4, True)
    """
    from apac_lab.train.loop import fit, predict
    from apac_lab.utils import get_device

    for name, v, low in (("steps", steps, 1), ("warmup", warmup, 0), ("n_classes", n_classes, 2)):
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise ValueError(f"training_throughput: {name} must be a whole number >= {low}, got {v!r}")
    batch = batch_size or s.train.batch_size
    samples = int(round(s.clip_seconds * s.sample_rate))
    device = get_device(s.train.device)
    gen = torch.Generator().manual_seed(0)
    n = batch * max(steps, warmup, 1)
    data = TensorDataset(0.1 * torch.randn(n, samples, generator=gen), torch.randint(0, n_classes, (n,), generator=gen))
    torch.manual_seed(s.train.seed)
    model = build_from_settings(s, n_classes)
    augment, _ = attach_augmentations(s, model)

    def cfg(k: int):
        return s.train.__class__(**{**s.train.to_dict(), "epochs": 1, "batch_size": batch, "max_steps_per_epoch": k,
                                    "progress": False, "out_dir": None, "device": str(device),
                                    "scheduler": "none", "early_stopping_patience": None})

    if warmup:
        fit(model, data, None, cfg(warmup), augment=augment)
    hist = fit(model, data, None, cfg(steps), augment=augment)  # fit synchronises: it reads each step's loss
    train_rate = hist[-1]["train_samples"] / max(hist[-1]["train_seconds"], 1e-9)
    evaluation = cfg(steps)
    predict(model, TensorDataset(data.tensors[0][:batch], data.tensors[1][:batch]), evaluation)  # warm-up
    t0 = time.perf_counter()
    predict(model, TensorDataset(data.tensors[0][:batch * steps], data.tensors[1][:batch * steps]), evaluation)
    eval_rate = batch * steps / max(time.perf_counter() - t0, 1e-9)
    return {"train_clips_per_s": train_rate, "eval_clips_per_s": eval_rate, "step_seconds": batch / train_rate,
            "device": str(device), "parameters": sum(p.numel() for p in model.parameters()), "batch_size": batch,
            "steps": steps}


def expected_seconds(s: RunSettings, throughput: Mapping, *, train_clips: int, val_clips: int = 0,
                     test_clips: int = 0) -> float:
    """A run's expected seconds from :func:`training_throughput`'s rates.

    ``epochs x train_clips`` at the training rate, plus ``epochs x val_clips`` and
    ``test_clips`` at the evaluation rate (``max_steps_per_epoch`` caps the training clips).

    >>> from apac_lab.train import run_settings
    >>> s = run_settings(dataset="speechcommands", epochs=10)
    >>> expected_seconds(s, {"train_clips_per_s": 100.0, "eval_clips_per_s": 400.0}, train_clips=1000,
    ...                  val_clips=200, test_clips=400)
    106.0
    """
    for name, v in (("train_clips", train_clips), ("val_clips", val_clips), ("test_clips", test_clips)):
        if not isinstance(v, int) or v < 0:
            raise ValueError(f"expected_seconds: {name} must be a whole number >= 0, got {v!r}")
    epochs = s.train.epochs
    per_epoch = train_clips
    if s.train.max_steps_per_epoch:
        per_epoch = min(per_epoch, s.train.max_steps_per_epoch * s.train.batch_size)
    return (epochs * per_epoch / throughput["train_clips_per_s"]
            + (epochs * val_clips + test_clips) / throughput["eval_clips_per_s"])


def format_duration(seconds: float) -> str:
    """``"2 h 05 min"``, ``"7 min 30 s"``, ``"42 s"``.

    >>> format_duration(7500), format_duration(450), format_duration(41.6)
    ('2 h 05 min', '7 min 30 s', '42 s')
    """
    seconds = max(0.0, float(seconds))
    if seconds >= 3600:
        h, rest = divmod(round(seconds / 60), 60)
        return f"{h} h {rest:02d} min"
    if seconds >= 60:
        m, s = divmod(round(seconds), 60)
        return f"{m} min {s:02d} s"
    return f"{seconds:.0f} s"


def _download_line(dataset: str, data_root: str | None) -> tuple[str, int | None]:
    """One line on the data a run needs, and the bytes to download (0: it is here; None: unknown)."""
    from apac_lab.data import DATASETS, DOWNLOADS, data_home, dataset_root
    from apac_lab.data.download import _size

    key = dataset.lower().replace("-", "").replace("_", "")
    if key not in DATASETS or not DATASETS[key]["folders"]:
        return f"data: {dataset} is generated (no download)", 0
    where = dataset_root(key, data_root)
    if where is not None and where.is_dir() and any(where.iterdir()):
        return f"data: {dataset} is already at {where} (no download)", 0
    spec = DOWNLOADS.get(key)
    target = where if where is not None else data_home() / DATASETS[key]["folders"][0]
    if spec is None:
        return f"data: {dataset} is not at {target} and has no pinned download: see the README's Data section", None
    size = f"{_size(spec.size)} ({spec.size:,} bytes)" if spec.size else "size not published"
    return f"download: {dataset}, {size}, from {spec.url} (SHA-256 checked), into {target}", spec.size


def plan_runs(runs: Mapping[str, RunSettings], *, n_classes: int, clips: Mapping[str, Mapping[str, int]] | None = None,
              train_clips: int = 0, val_clips: int = 0, test_clips: int = 0, steps: int = 3, warmup: int = 1,
              progress: bool = True) -> dict:
    """What a list of runs needs before it starts: each run's throughput and expected time, and the download.

    Args:
        runs (Mapping[str, RunSettings]): name -> settings, in the order they will run.
        n_classes (int): classes of the task.
        clips (Mapping[str, Mapping[str, int]] | None, default None): run name -> its
            ``train_clips``, ``val_clips``, ``test_clips``, for runs on other data.
        train_clips, val_clips, test_clips (int): clips of each split for the other runs
            (``val_clips`` are evaluated every epoch, ``test_clips`` once).
        steps, warmup (int): as :func:`training_throughput`.
        progress (bool, default True): a progress bar over the runs measured.

    Returns:
        dict: ``runs`` (per run: ``name``, ``train_clips_per_s``, ``seconds``, ``device``, ...),
        ``seconds`` (all together), ``download_bytes`` (0: the data is there; None: unknown)
        and ``text`` (the lines to print).

    >>> from apac_lab.train import run_settings
    >>> plan = plan_runs({"tiny": run_settings(dataset="synthetic", model="tiny", epochs=2, batch_size=4,
    ...                                        device="cpu")}, n_classes=3, train_clips=40, steps=1, progress=False)
    >>> plan["download_bytes"], plan["text"].splitlines()[0]
    (0, 'data: synthetic is generated (no download)')
    """
    from tqdm.auto import tqdm

    if not runs:
        raise ValueError("plan_runs: give at least one run")
    rows, datasets = [], {}
    for name, s in tqdm(list(runs.items()), desc="timing a few training steps", leave=False, disable=not progress):
        if not isinstance(s, RunSettings):
            raise UsageError(f"plan_runs: {name!r} must be a RunSettings, got {type(s).__name__}")
        counts = {"train_clips": train_clips, "val_clips": val_clips, "test_clips": test_clips,
                  **dict((clips or {}).get(name, {}))}
        rate = training_throughput(s, n_classes, steps=steps, warmup=warmup)
        rows.append({"name": name, **rate, "seconds": expected_seconds(s, rate, **counts), "epochs": s.train.epochs})
        datasets.setdefault((s.dataset, s.data_root), None)
    total = sum(r["seconds"] for r in rows)
    lines = []
    download_bytes: int | None = 0
    for dataset, root in datasets:
        line, size = _download_line(dataset, root)
        lines.append(line)
        download_bytes = None if size is None or download_bytes is None else download_bytes + size
    device = rows[0]["device"]
    if device.startswith("cuda") and torch.cuda.is_available():
        device = f"{device} ({torch.cuda.get_device_name()})"
    lines.append(f"expected time on {device}, from {steps} timed training steps per run: {format_duration(total)}")
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        lines.append(f"  {r['name']:<{width}}  {r['epochs']:>3} epochs  {r['train_clips_per_s']:8.1f} clips/s  "
                     f"{format_duration(r['seconds'])}")
    lines.append("  (not counted: reading and resampling the clips once; other work on this machine slows both)")
    return {"runs": rows, "seconds": total, "download_bytes": download_bytes, "text": "\n".join(lines)}
