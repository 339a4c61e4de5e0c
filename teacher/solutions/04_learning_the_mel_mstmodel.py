"""Reference solutions for notebook 04_learning_the_mel_mstmodel (checked by tests/test_exercises_04.py)."""

from __future__ import annotations

import torch


def solve_frames() -> int:
    """Frames of a 1.5 s clip at 22,050 Hz (33,075 samples), hop 512, centred frames."""
    return 33075 // 512 + 1


def solve_probability_vote():
    """Each clip's class of highest mean probability over its segments."""

    def vote(probs: torch.Tensor, clip_ids: torch.Tensor) -> torch.Tensor:
        clips = torch.unique(clip_ids)
        return torch.stack([probs[clip_ids == c].mean(dim=0).argmax() for c in clips])

    return vote


def solve_freeze():
    """Freeze the MST front-end, BatchNorm statistics included."""
    from apac_lab.models import set_trainable

    def freeze(model):
        set_trainable(model.frontend, False)
        return model

    return freeze
