"""Checkpoint files: written atomically, read with ``weights_only=True``, bad files named in one line.

A leaf module (it imports nothing else of the package), so that :mod:`apac_lab.models`
(front-end checkpoints) and :mod:`apac_lab.train` (training checkpoints) share one
reader and one writer without importing each other.

* :func:`save_checkpoint` writes ``state`` to a temporary file beside ``path`` and renames
  it over ``path``: a reader sees the old file or the new one, never half of one.
* :func:`load_checkpoint` reads tensors, numbers, strings and containers only
  (``weights_only=True``). A missing file is a :class:`FileNotFoundError`; an empty, cut
  or foreign file is a :class:`CheckpointError` naming the file.
* :func:`write_frontend_checkpoint` / :func:`read_frontend_checkpoint`: the file format
  of a front-end checkpoint (the weights of a trainable mel + STFT front-end with the
  settings that fix their shapes), also readable from a training checkpoint whose model
  holds a ``frontend.`` sub-module. :mod:`apac_lab.models.frontend_modes` puts the
  weights into a front-end.

Notebook: 05_apac_training (and every notebook that trains).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch

__all__ = ["CheckpointError", "FRONTEND_KIND", "load_checkpoint", "read_frontend_checkpoint", "save_checkpoint",
           "write_frontend_checkpoint"]

#: The ``kind`` tag of a front-end checkpoint.
FRONTEND_KIND = "apac_lab.frontend"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read: empty, cut short, or not a checkpoint."""


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Write ``state`` with ``torch.save`` to a temporary file, then rename it over ``path``.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.pt"
    >>> save_checkpoint(p, {"w": torch.ones(2)}); load_checkpoint(p)["w"].tolist()
    [1.0, 1.0]
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint with ``weights_only=True`` (tensors, numbers, strings, containers).

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: the file is empty, cut short or not a checkpoint (one line, naming it).

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "last.pt"; _ = p.write_bytes(b"")
    >>> load_checkpoint(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    apac_lab.checkpoints.CheckpointError: .../last.pt is empty (0 bytes): not a checkpoint; delete it, or start a new run in another folder
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"{path} is empty (0 bytes): not a checkpoint; delete it, or start a new run "
                              "in another folder")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, OSError, EOFError, KeyError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        detail = (str(exc).splitlines() or [type(exc).__name__])[0].split(". ")[0][:120]
        raise CheckpointError(f"{path} ({size:,} bytes) cannot be read as a checkpoint, it may be cut short "
                              f"({type(exc).__name__}: {detail}); delete it, or start a new run in another "
                              "folder") from None


def write_frontend_checkpoint(path: str | Path, *, mode: str, config: dict, state: dict, meta: dict) -> Path:
    """Write a front-end checkpoint (atomically): its ``mode``, shape ``config``, ``state`` and ``meta``."""
    save_checkpoint(path, {"kind": FRONTEND_KIND, "mode": mode, "config": dict(config), "frontend": dict(state),
                           "meta": dict(meta)})
    return Path(path)


def read_frontend_checkpoint(path: str | Path) -> tuple[dict, dict | None, dict]:
    """The front-end weights in ``path``: ``(state, config, meta)``.

    ``path`` is a front-end checkpoint (:func:`write_frontend_checkpoint`) or a training
    checkpoint whose ``model`` holds ``frontend.`` weights (then ``config`` is None and
    ``meta`` is empty). ``state`` keys are relative to the front-end (``mel.…``).

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: an unreadable file.
        ValueError: a checkpoint without front-end weights.
    """
    ckpt = load_checkpoint(path)
    if isinstance(ckpt, dict) and ckpt.get("kind") == FRONTEND_KIND:
        return ckpt["frontend"], ckpt["config"], ckpt.get("meta", {})
    if isinstance(ckpt, dict) and isinstance(ckpt.get("model"), dict):
        state = {k[len("frontend."):]: v for k, v in ckpt["model"].items() if k.startswith("frontend.")}
        if not state:
            raise ValueError(f"{path}: a training checkpoint whose model has no 'frontend.' weights")
        return state, None, {}
    raise ValueError(f"{path}: not a front-end checkpoint (make one with apac_lab.recipes.pretrain_fsdd_frontend, "
                     "or train with python -m apac_lab.train --mode mel+stft: its frontend.pt)")
