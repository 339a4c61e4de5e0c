"""Decibels with a per-clip floor: the kit's one conversion from power to dB.

``10 log10(max(power, amin) / ref)``, then every value raised to at least ``top_db``
below the maximum of ITS OWN clip (the last two dimensions by default). This is
``torchaudio.transforms.AmplitudeToDB("power", top_db)`` applied to one clip at a time
(on a 2D or 3D batch torchaudio takes one maximum over the whole batch, so a loud clip
would change a quiet clip's floor) and ``librosa.power_to_db`` with ``ref`` a number or,
with ``ref=None``, ``np.max`` per clip. ``tests/test_frontends_db.py`` checks both.

Every dB figure, target and feature of the kit goes through :func:`power_to_db`: the
MFCC of :mod:`~apac_lab.frontends.scratch` and :mod:`~apac_lab.frontends.fixed`, the
APAC front-end's MFCC, the MSTmodel's target, the listener's [0, 1] levels, the
modulation spectrum and the figures and widgets.

Notebook: 01_spectrogram_and_mfcc (step 4, the log), and every notebook's dB figures.
"""

from __future__ import annotations

from typing import Sequence

import torch

__all__ = ["power_to_db"]


def _clip_dims(x: torch.Tensor, dims: Sequence[int] | None) -> tuple[int, ...]:
    """The dims that make one clip; all of them for None or a tensor with fewer dims than asked."""
    if dims is None or x.dim() < len(dims):
        return tuple(range(x.dim()))
    return tuple(dims)


def power_to_db(
    power: torch.Tensor,
    *,
    ref: float | torch.Tensor | None = 1.0,
    amin: float = 1e-10,
    top_db: float | None = 80.0,
    dims: Sequence[int] | None = (-2, -1),
) -> torch.Tensor:
    """Power to decibels, floored ``top_db`` below the maximum of EACH clip.

    Args:
        power (Tensor): powers ``(..., bins, frames)``; values below ``amin`` (silence,
            or the negative energies a trained mel basis can give) count as ``amin``.
        ref (float | Tensor | None, default 1.0): the power that is 0 dB (a tensor
            broadcasts, e.g. one per clip); None is each clip's own maximum, so that the
            loudest point of every clip is 0 dB.
        amin (float, default 1e-10): smallest power before the log, > 0.
        top_db (float | None, default 80.0): dynamic range kept below each clip's
            maximum, in dB (>= 0); None keeps everything.
        dims (Sequence[int] | None, default (-2, -1)): the dimensions of one clip, over
            which the maximum is taken; None (or a tensor with fewer dimensions) takes the
            whole tensor as one clip.

    Returns:
        Tensor: same shape and dtype as ``power``, in dB re ``ref``.

    >>> power_to_db(torch.tensor([[1.0, 1e-12]]))
    tensor([[  0., -80.]])
    >>> power_to_db(torch.tensor([[4.0, 0.4, 0.0]]), ref=None, top_db=20.0)
    tensor([[  0., -10., -20.]])
    """
    if not amin > 0:
        raise ValueError(f"amin must be > 0 (the smallest power before the log), got {amin}")
    if top_db is not None and top_db < 0:
        raise ValueError(f"top_db must be >= 0 dB (or None for no floor), got {top_db}")
    dims = _clip_dims(power, dims)
    x = torch.clamp(power, min=amin)
    if ref is None:
        x = x / x.amax(dim=dims, keepdim=True)
    elif isinstance(ref, torch.Tensor):
        x = x / torch.clamp(ref.to(x), min=amin)
    elif float(ref) != 1.0:  # (dividing by 1 changes nothing)
        x = x / max(float(ref), amin)
    db = 10.0 * torch.log10(x)
    if top_db is not None:
        db = torch.maximum(db, db.amax(dim=dims, keepdim=True) - top_db)
    return db
