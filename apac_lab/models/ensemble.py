"""An ensemble of classifiers that averages their probabilities.

Notebook: 05_apac_training (the speaker-independent FSDD recipe, ``benchmarks/fsdd_speakers_ensemble.py``).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

__all__ = ["ProbabilityEnsemble"]


class ProbabilityEnsemble(nn.Module):
    """Classifiers whose softmax probabilities are averaged; ``forward`` returns the log of
    that average, so that it can stand wherever logits are expected (its softmax is the
    average, and cross-entropy on it trains every member together).

    Args:
        members (Sequence[nn.Module]): at least one classifier, each mapping the same input
            to ``(batch, classes)`` logits with the same number of classes.

    Shapes: input whatever the members take; output ``(batch, classes)`` log-probabilities.

    >>> torch.manual_seed(0) and None
    >>> a, b = nn.Linear(4, 3), nn.Linear(4, 3)
    >>> x = torch.randn(2, 4)
    >>> ens = ProbabilityEnsemble([a, b])
    >>> torch.allclose(ens(x).exp(), (a(x).softmax(-1) + b(x).softmax(-1)) / 2)
    True
    """

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        members = list(members)
        if not members or not all(isinstance(m, nn.Module) for m in members):
            raise ValueError(f"ProbabilityEnsemble needs at least one nn.Module member; got {members!r}")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [m(x) for m in self.members]
        shapes = {tuple(o.shape) for o in outs}
        if len(shapes) != 1:
            raise ValueError(f"ProbabilityEnsemble: the members' outputs differ in shape {sorted(shapes)}; "
                             "give members with the same classes")
        logp = torch.stack([o.log_softmax(-1) for o in outs])
        return torch.logsumexp(logp, 0) - math.log(len(outs))
