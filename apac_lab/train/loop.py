"""The one training loop, used by the notebooks and the CLI alike.

* Front-ends run batched on the device (``frontend=`` or inside the model), never per
  item in DataLoader workers: workers only read audio.
* Mixed precision on CUDA, tqdm progress, a metric history.
* Checkpoints every epoch, written atomically (temporary file, then rename) and read
  with ``weights_only=True`` (:mod:`apac_lab.checkpoints`). ``resume=True`` continues an
  interrupted run, and refuses (:class:`ResumeMismatch`) when a setting that changes the
  result differs from the checkpoint's. Shuffling and dropout are seeded per epoch from
  ``config.seed``, so on the CPU a run that is killed and resumed ends with the same
  metrics as one that was not.
* While it writes into ``config.out_dir`` it holds the folder's lock
  (:class:`apac_lab.train.lock.RunLock`): a second run on the same folder refuses.
* Augmentation (``augment=``, see :mod:`apac_lab.train.augment`) runs batched on the
  device, on training batches only.
* Under ``torchrun`` (``torch.distributed`` initialised) the model (with its front-end)
  is wrapped in DistributedDataParallel and each process reads its shard through a
  DistributedSampler; only rank 0 writes files and shows progress. A single process
  visits the clips in the same order as N processes together (the same seeded
  permutation), so with the same global batch the two runs take the same steps.
* Evaluation under DDP splits the data without padding and gathers every prediction,
  so each process gets the metrics of the whole set.

Notebook: 05_apac_training (and every notebook that trains).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, TensorDataset
from tqdm.auto import tqdm

from apac_lab.checkpoints import load_checkpoint, save_checkpoint
from apac_lab.train.config import TrainConfig
from apac_lab.train.lock import RunLock
from apac_lab.train.metrics import accuracy, confusion_matrix
from apac_lab.utils import get_device

__all__ = ["fit", "evaluate", "predict", "make_loader", "worker_count", "auto_workers", "check_resume", "ResumeMismatch"]


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def _rank() -> int:
    return dist.get_rank() if _distributed() else 0


class _Shard(torch.utils.data.Sampler):
    """Indices ``rank, rank + world, ...`` in order, without padding (evaluation shards)."""

    def __init__(self, n: int, rank: int, world: int) -> None:
        self.n, self.rank, self.world = n, rank, world

    def __iter__(self):
        return iter(range(self.rank, self.n, self.world))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world))


def make_loader(data: Dataset | DataLoader, config: TrainConfig, *, train: bool, epoch: int = 0) -> DataLoader:
    """A DataLoader over ``data`` (returned as is if it already is one).

    Training order is the permutation drawn from ``config.seed + epoch`` (as
    DistributedSampler draws it); under DDP each process takes its shard of that order
    (training) or every ``world``-th clip, unpadded (evaluation).
    """
    if isinstance(data, DataLoader):
        return data
    if len(data) == 0:
        raise ValueError("the dataset is empty: nothing to train or evaluate on")
    world, rank = (dist.get_world_size(), dist.get_rank()) if _distributed() else (1, 0)
    if train:
        sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=config.seed,
                                     drop_last=False)
        sampler.set_epoch(epoch)
    else:
        sampler = _Shard(len(data), rank, world)
    cuda = get_device(config.device).type == "cuda"
    return DataLoader(data, batch_size=config.batch_size, sampler=sampler, num_workers=worker_count(data, config),
                      pin_memory=cuda, persistent_workers=False)


MAX_AUTO_WORKERS = 8


def auto_workers(*, in_memory: bool, device_type: str, cores: int, processes: int = 1) -> int:
    """The DataLoader workers the loop starts when ``num_workers`` is None: none on the CPU
    (workers would take the cores the model trains on) or for clips already in memory;
    on a GPU, every usable core of this process's share but one (the one that feeds the
    GPU), at least 1 and at most :data:`MAX_AUTO_WORKERS`.

    >>> auto_workers(in_memory=False, device_type="cuda", cores=2)   # free Colab
    1
    >>> auto_workers(in_memory=False, device_type="cuda", cores=16), auto_workers(in_memory=False, device_type="cuda", cores=16, processes=4)
    (8, 3)
    >>> auto_workers(in_memory=False, device_type="cpu", cores=16), auto_workers(in_memory=True, device_type="cuda", cores=16)
    (0, 0)
    """
    if in_memory or device_type != "cuda":
        return 0
    return max(1, min(MAX_AUTO_WORKERS, cores // max(1, processes) - 1))


def worker_count(data: Dataset, config: TrainConfig) -> int:
    """``config.num_workers``, or when it is None the choice of :func:`auto_workers` for this
    data (a TensorDataset is in memory) and device."""
    if config.num_workers is not None:
        return config.num_workers
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return auto_workers(in_memory=isinstance(data, TensorDataset), device_type=get_device(config.device).type,
                        cores=cores, processes=dist.get_world_size() if _distributed() else 1)


_WORKER_ERROR = re.compile(r"Caught (\w+) in DataLoader worker process \d+\.\nOriginal Traceback")


def _worker_error(exc: BaseException) -> BaseException | None:
    """The error a DataLoader worker raised, with its own message (e.g. one line naming the
    file) instead of PyTorch's "Caught AudioError in DataLoader worker process 0." and the
    worker's traceback; None when ``exc`` did not come from a worker.

    >>> msg = ("Caught ValueError in DataLoader worker process 1.\\nOriginal Traceback (most recent call last):\\n"
    ...        '  File "w.py", line 1, in f\\nValueError: a.wav: bad')
    >>> _worker_error(ValueError(msg))
    ValueError('a.wav: bad')
    >>> _worker_error(ValueError("plain")) is None
    True
    """
    text = str(exc)
    m = _WORKER_ERROR.match(text)
    if m is None:
        return None
    name, lines = m[1], text.rstrip("\n").split("\n")
    for k in range(len(lines) - 1, 0, -1):  # the last line that names the exception starts its message
        head, sep, rest = lines[k].partition(": ")
        if head.rpartition(".")[2] == name and not lines[k].startswith(" "):
            message = "\n".join([rest] + lines[k + 1:]) if sep else ""
            break
    else:
        return None
    if type(exc).__name__ != name:  # PyTorch could not rebuild the type: keep its name in the message
        message = f"{name}: {message}"
    try:
        return type(exc)(message)
    except Exception:
        return RuntimeError(message)


def _shut_down(batches) -> None:
    """Stop a DataLoader iterator's workers now (a no-op without workers or when done).

    After a worker's error, PyTorch's re-raise leaves the iterator in a reference cycle;
    left to the garbage collector, whose finalizers close the queues first, each worker is
    joined only after a 5 s timeout. Shutting it down here ends the run at once."""
    shutdown = getattr(batches, "_shutdown_workers", None)
    if shutdown is not None:
        shutdown()


@contextlib.contextmanager
def _batches(loader: DataLoader):
    """Iterate ``loader``; on the way out its workers are shut down, and a worker's error is
    raised again with the worker's own message (:func:`_worker_error`)."""
    batches = iter(loader)
    try:
        yield batches
    except Exception as exc:
        _shut_down(batches)
        clean = _worker_error(exc)
        if clean is None:
            raise
        raise clean from None
    finally:
        _shut_down(batches)


def _criterion(config: TrainConfig) -> nn.Module:
    if config.loss == "mse":
        return nn.MSELoss()
    return nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)


def _optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
                               weight_decay=config.weight_decay)
    if config.optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=config.lr, weight_decay=config.weight_decay)
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=config.lr, weight_decay=config.weight_decay)


def _param_groups(model: nn.Module, frontend: nn.Module | None, config: TrainConfig) -> list[dict]:
    """One group, or two when ``config.frontend_lr_scale != 1``: the front-end's parameters
    (``frontend=``, or the model's submodule named ``frontend``) get ``lr * scale``."""
    front = {id(p) for n, p in model.named_parameters() if n.startswith("frontend.") or ".frontend." in n}
    if frontend is not None:
        front |= {id(p) for p in frontend.parameters()}
    params = [p for m in ([model] + ([frontend] if frontend is not None else [])) for p in m.parameters() if p.requires_grad]
    fe = [p for p in params if id(p) in front]
    if config.frontend_lr_scale == 1.0 or not fe:
        return [{"params": params}]
    return [{"params": [p for p in params if id(p) not in front]},
            {"params": fe, "lr": config.lr * config.frontend_lr_scale}]


def _scheduler(opt, config: TrainConfig, steps_per_epoch: int):
    if config.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
    if config.scheduler == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in opt.param_groups], epochs=config.epochs,
                                                   steps_per_epoch=steps_per_epoch)
    return None


def _autocast(device: torch.device, enabled: bool):
    if enabled and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()


class _Pipeline(nn.Module):
    """Front-end then model, as one module, so that DDP synchronises both."""

    def __init__(self, model: nn.Module, frontend: nn.Module | None) -> None:
        super().__init__()
        self.model, self.frontend = model, frontend

    def forward(self, x):
        return self.model(self.frontend(x) if self.frontend is not None else x)


def _forward(model, frontend, x):
    if frontend is not None:
        x = frontend(x)
    return model(x)


def _steps(loader: DataLoader, config: TrainConfig) -> int:
    n = len(loader)
    return min(n, config.max_steps_per_epoch) if config.max_steps_per_epoch else n


def _sum_across(values: list[float], device: torch.device) -> list[float]:
    if not _distributed():
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


@torch.no_grad()
def predict(model: nn.Module, data, config: TrainConfig | None = None, *, frontend: nn.Module | None = None):
    """Model outputs and targets over ``data``: ``(outputs (N, ...), targets (N, ...))``."""
    config = config or TrainConfig(epochs=1)
    device = get_device(config.device)
    model.to(device).eval()
    if frontend is not None:
        frontend.to(device).eval()
    outs, targets = [], []
    loader = make_loader(data, config, train=False)
    with _batches(loader) as batches:
        for x, y in tqdm(batches, total=len(loader), desc="evaluate", leave=False,
                         disable=not config.progress or _rank() != 0):
            with _autocast(device, config.amp):
                out = _forward(model, frontend, x.to(device, non_blocking=True))
            outs.append(out.float().cpu())
            targets.append(torch.as_tensor(y).cpu())
    outputs, targets = torch.cat(outs), torch.cat(targets)
    if _distributed() and not isinstance(data, DataLoader):
        outputs, targets = _gather_shards(outputs, targets, len(data))
    return outputs, targets


def _gather_shards(outputs: torch.Tensor, targets: torch.Tensor, n: int):
    """Reassemble every process's unpadded shard (``rank::world``) in the data's order."""
    world = dist.get_world_size()
    parts: list = [None] * world
    dist.all_gather_object(parts, (outputs, targets))
    full_out = torch.empty((n,) + tuple(outputs.shape[1:]), dtype=outputs.dtype)
    full_tgt = torch.empty((n,) + tuple(targets.shape[1:]), dtype=targets.dtype)
    for r, (o, t) in enumerate(parts):
        full_out[r::world], full_tgt[r::world] = o, t
    return full_out, full_tgt


def evaluate(model: nn.Module, data, config: TrainConfig | None = None, *, frontend: nn.Module | None = None,
             n_classes: int | None = None) -> dict:
    """Loss (and, for classification, accuracy, confusion matrix, predictions, probabilities).

    Args:
        model (nn.Module): the model (its own front-end inside, or ``frontend``).
        data (Dataset | DataLoader): ``(input, target)`` pairs.
        config (TrainConfig | None): batch size, device, loss; None uses the defaults.
        frontend (nn.Module | None): applied to each batch on the device first.
        n_classes (int | None): confusion matrix size; None uses the output width.
    """
    config = config or TrainConfig(epochs=1)
    outputs, targets = predict(model, data, config, frontend=frontend)
    result = {"loss": _criterion(config)(outputs, targets.to(outputs.dtype) if config.loss == "mse" else targets).item()}
    if config.loss == "cross_entropy":
        probs = outputs.softmax(-1)
        preds = probs.argmax(-1)
        result.update(
            accuracy=accuracy(preds, targets), predictions=preds, targets=targets, probabilities=probs,
            confusion=confusion_matrix(preds, targets, n_classes or outputs.shape[-1]),
        )
    return result


def _run_epoch(model, frontend, loader, config, device, opt, scaler, sched_step, criterion, epoch, train: bool,
               augment: nn.Module | None = None):
    model.train(train)
    if frontend is not None:
        frontend.train(train)
    if augment is not None:
        augment.train(train)
    steps = _steps(loader, config)
    totals = [0.0, 0.0, 0.0]  # loss sum, correct, count
    bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{config.epochs} {'train' if train else 'val'}", leave=False,
               disable=not config.progress or _rank() != 0)
    grad = torch.enable_grad() if train else torch.no_grad()
    with grad, _batches(loader) as batches:
        for i, (x, y) in enumerate(batches):
            if i >= steps:
                break
            x, y = x.to(device, non_blocking=True), torch.as_tensor(y).to(device, non_blocking=True)
            if train and augment is not None:
                with torch.no_grad():
                    x = augment(x)
            with _autocast(device, config.amp):
                out = _forward(model, frontend, x)
                loss = criterion(out.float(), y.float() if config.loss == "mse" else y)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"epoch {epoch + 1}, step {i}: the loss is {loss.item()}; lower lr or check the input")
            if train:
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if config.grad_clip:
                    scaler.unscale_(opt)
                    nn.utils.clip_grad_norm_([p for g in opt.param_groups for p in g["params"]], config.grad_clip)
                scaler.step(opt)
                scaler.update()
                if sched_step is not None:
                    sched_step.step()
            n = x.shape[0]
            totals[0] += loss.item() * n
            totals[2] += n
            if config.loss == "cross_entropy":
                totals[1] += (out.argmax(-1) == y).sum().item()
            bar.update(1)
            bar.set_postfix(loss=f"{totals[0] / totals[2]:.4f}")
    bar.close()
    loss_sum, correct, count = _sum_across(totals, device)
    metrics = {"loss": loss_sum / count, "samples": int(count)}
    if config.loss == "cross_entropy":
        metrics["acc"] = correct / count
    return metrics


def fit(
    model: nn.Module,
    train_data,
    val_data=None,
    config: TrainConfig | None = None,
    *,
    frontend: nn.Module | None = None,
    resume: bool = False,
    on_epoch_end: Callable[[dict], None] | None = None,
    augment: nn.Module | None = None,
) -> list[dict]:
    """Train ``model`` and return its history, one dict per epoch.

    Args:
        model (nn.Module): maps a batch of inputs (after ``frontend``) to outputs.
        train_data (Dataset | DataLoader): ``(input, target)`` pairs.
        val_data (Dataset | DataLoader | None, default None): validation pairs.
        config (TrainConfig | None, default None): the run's settings.
        frontend (nn.Module | None, default None): applied batched on the device; its
            trainable parameters (if any) are optimised with the model's.
        resume (bool, default False): continue from ``config.out_dir/last.pt``; without a
            checkpoint there it says so (on stderr) and starts a new run. Refused
            (:class:`ResumeMismatch`) when a setting that changes the result differs.
        on_epoch_end (Callable[[dict], None] | None): called with each epoch's record.
        augment (nn.Module | None, default None): applied to each training batch on the
            device before ``frontend`` (e.g. :class:`apac_lab.train.WaveAugment`); never
            to validation batches.

    Returns:
        list[dict]: ``epoch``, ``train_loss``, ``train_acc``, ``train_samples`` (clips
        seen, all processes together), ``val_loss``, ``val_acc``, ``val_samples``,
        ``lr``, ``train_seconds``, ``clips_per_s`` (training throughput) and ``seconds``
        per epoch (accuracies for classification only).

    >>> from torch.utils.data import TensorDataset
    >>> data = TensorDataset(torch.randn(32, 4), torch.randint(0, 2, (32,)))
    >>> hist = fit(nn.Linear(4, 2), data, data, TrainConfig(epochs=2, batch_size=8, progress=False))
    >>> [h["epoch"] for h in hist]
    [1, 2]
    """
    config = config or TrainConfig()
    out = Path(config.out_dir) if config.out_dir else None
    lock = RunLock(out) if out is not None and _rank() == 0 else contextlib.nullcontext()
    with lock:
        return _fit(model, train_data, val_data, config, frontend=frontend, resume=resume, on_epoch_end=on_epoch_end,
                    augment=augment)


class ResumeMismatch(ValueError):
    """Resuming a run with settings that would change its result."""


def check_resume(checkpoint: dict, config: TrainConfig, path: str | Path) -> None:
    """Refuse (:class:`ResumeMismatch`, one line) to continue ``checkpoint`` with ``config`` when
    a setting that changes the result differs (see :meth:`TrainConfig.resume_differences`)."""
    saved = checkpoint.get("config")
    if not isinstance(saved, dict):
        return
    diffs = config.resume_differences(saved, int(checkpoint.get("epoch", 0)))
    if diffs:
        what = "; ".join(f"{k} {a} -> {b}" for k, a, b in diffs)
        raise ResumeMismatch(f"cannot resume {path}: it was trained with other settings ({what}); resume with its "
                             "own settings, or start a new run in another folder")


def _fit(model, train_data, val_data, config, *, frontend, resume, on_epoch_end, augment) -> list[dict]:
    device = get_device(config.device)
    if _distributed() and device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    model.to(device)
    if frontend is not None:
        frontend.to(device)
    if augment is not None:
        augment.to(device)
    groups = _param_groups(model, frontend, config)
    params = [p for g in groups for p in g["params"]]
    if not params:
        raise ValueError("the model has no trainable parameters")
    train_model, train_frontend = model, frontend
    if _distributed():
        ids = [device.index] if device.type == "cuda" else None
        train_model, train_frontend = nn.parallel.DistributedDataParallel(_Pipeline(model, frontend), device_ids=ids), None
    opt = _optimizer(groups, config)
    scaler = torch.amp.GradScaler("cuda", enabled=config.amp and device.type == "cuda")
    criterion = _criterion(config)
    steps_per_epoch = _steps(make_loader(train_data, config, train=True), config)
    sched = _scheduler(opt, config, steps_per_epoch)
    history: list[dict] = []
    start_epoch, best_loss, best_state, stale = 0, float("inf"), None, 0
    out = Path(config.out_dir) if config.out_dir else None
    if resume and out is None:
        raise ValueError("resume=True continues the run in config.out_dir: set out_dir")
    if resume and not (out / "last.pt").is_file() and _rank() == 0:
        print(f"[apac_lab] resume: no checkpoint at {out / 'last.pt'}; starting a new run from epoch 1",
              file=sys.stderr, flush=True)
    if resume and (out / "last.pt").is_file():
        ckpt = load_checkpoint(out / "last.pt", map_location=device)
        check_resume(ckpt, config, out / "last.pt")
        model.load_state_dict(ckpt["model"])
        if frontend is not None and "frontend" in ckpt:
            frontend.load_state_dict(ckpt["frontend"])
        opt.load_state_dict(ckpt["optimizer"])
        scaler.load_state_dict(ckpt["scaler"])
        if sched is not None and "scheduler" in ckpt:
            sched.load_state_dict(ckpt["scheduler"])
        history = [dict(h) for h in ckpt["history"]]
        start_epoch, best_loss, stale = ckpt["epoch"], ckpt["best_loss"], ckpt["stale"]
        best_state = ckpt.get("best_model")
        if _rank() == 0 and config.progress:
            print(f"[apac_lab] resumed from {out / 'last.pt'} after epoch {start_epoch}")
    if out is not None and _rank() == 0:
        out.mkdir(parents=True, exist_ok=True)
        config.save(out / "config.json")
    for epoch in range(start_epoch, config.epochs):
        torch.manual_seed(config.seed * 1000 + epoch + 7919 * _rank())  # dropout and augmentation, per epoch
        t0 = time.perf_counter()
        loader = make_loader(train_data, config, train=True, epoch=epoch)
        step_sched = sched if config.scheduler == "onecycle" else None
        train_m = _run_epoch(train_model, train_frontend, loader, config, device, opt, scaler, step_sched, criterion,
                             epoch, True, augment)
        train_s = time.perf_counter() - t0
        record = {"epoch": epoch + 1, **{f"train_{k}": v for k, v in train_m.items()}, "lr": opt.param_groups[0]["lr"],
                  "train_seconds": train_s, "clips_per_s": train_m["samples"] / max(train_s, 1e-9)}
        if val_data is not None:
            val_m = _run_epoch(model, frontend, make_loader(val_data, config, train=False), config, device, None, None,
                               None, criterion, epoch, False)
            record.update({f"val_{k}": v for k, v in val_m.items()})
        if sched is not None and config.scheduler != "onecycle":
            sched.step()
        record["seconds"] = time.perf_counter() - t0
        history.append(record)
        monitor = record.get("val_loss", record["train_loss"])
        if monitor < best_loss:
            best_loss, stale = monitor, 0
            if config.early_stopping_patience:
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
        if out is not None and _rank() == 0:
            state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "scaler": scaler.state_dict(),
                     "epoch": epoch + 1, "history": history, "best_loss": best_loss, "stale": stale,
                     "config": config.to_dict()}
            if frontend is not None:
                state["frontend"] = frontend.state_dict()
            if sched is not None:
                state["scheduler"] = sched.state_dict()
            if best_state is not None:
                state["best_model"] = best_state
            save_checkpoint(out / "last.pt", state)
            (out / "history.json").write_text(json.dumps(history, indent=1) + "\n")
        if on_epoch_end is not None:
            on_epoch_end(record)
        if config.early_stopping_patience and stale >= config.early_stopping_patience:
            break
    if config.early_stopping_patience and best_state is not None:
        model.load_state_dict(best_state)
    return history
