"""Small models for the CLI tests, built the way the registry builds models
(``--model cli_models:linear_mel``). No BatchNorm and no dropout: one process and two
DDP processes then take exactly the same steps."""

import torch
from torch import nn

from apac_lab.frontends import LogMel


class LinearMel(nn.Module):
    def __init__(self, n_classes: int, sample_rate: int) -> None:
        super().__init__()
        self.frontend = LogMel(sample_rate=sample_rate, n_mels=32)
        self.head = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.head(self.frontend(x).mean(-1))


def linear_mel(*, n_classes, sample_rate=16000, mode="std", checkpoint=None, pretrained=False):
    if mode != "std":
        raise ValueError(f"linear_mel has only mode 'std', got {mode!r}")
    return LinearMel(n_classes, sample_rate)
