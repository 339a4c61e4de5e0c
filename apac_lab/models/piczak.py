"""Piczak's CNN for environmental sounds, on log-mel or, with MSTmodel layers in front, on raw audio.

Piczak (2015), "Environmental sound classification with convolutional neural networks"
(MLSP), as re-implemented in Tax et al.'s public code (corticph/MSTmodel), one input channel:

====================  ==========================================================
layer                 setting
====================  ==========================================================
conv 1                80 filters of 57 bands x 6 frames, valid; ReLU; dropout 0.5
max-pool 1            4 x 3, stride 1 x 3
conv 2                80 filters of 1 x 3, valid; ReLU
max-pool 2            1 x 3, stride 1 x 3
dense 1, dense 2      5000 units each; ReLU; dropout 0.5
output                n_classes (softmax in the loss)
====================  ==========================================================

Weights are Xavier-uniform, biases zero (as the reference). With 60 bands and 101 frames
the flattened feature has 80 x 10 = 800 values.

Tax et al.'s configurations (:func:`build_piczak`):

- ``"a"``: on the log-mel target (:class:`apac_lab.models.MSTTarget` as a fixed front-end);
  with ``deltas=`` it also gets the target's deltas as a second channel
  (:class:`apac_lab.frontends.WithDeltas`), Piczak's original input. Tax et al. replicate
  Piczak with deltas (~62%), then compare their raw-audio models with Piczak WITHOUT
  deltas (~53%), since the MSTmodel learns the mel only: both ESC-50, majority vote, mean
  of the 5 test folds (:data:`apac_lab.papers.FIGURES`, ``tax2017.piczak.*``).
- ``"b"``: on raw audio, the MST layers Xavier-initialised and dropout 0.5 after each;
- ``"c"``: on raw audio, the MST layers copied from a trained MSTmodel and frozen;
- ``"d"``: (c) after training, its MST layers unfrozen and fine-tuned (the paper's open
  question), built from the trained (c) model with :func:`finetune_from`.

One deliberate difference from the reference: its raw classifier rebuilt the MST layers
WITHOUT BatchNorm and loaded only their convolution weights; here the front-end is the
whole learned MSTmodel, BatchNorm included (frozen in eval mode in (c)), so (c) sees
exactly the learned transform.

Notebook: 04_learning_the_mel_mstmodel.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from apac_lab import papers
from apac_lab.frontends.deltas import WithDeltas
from apac_lab.models.mst import MSTmodel, set_trainable
from apac_lab.models.mst_targets import MSTTarget

__all__ = ["PICZAK_LAYERS", "PICZAK_CONFIGS", "PiczakCNN", "build_piczak", "finetune_from", "paper_comparator"]

PICZAK_LAYERS = {
    "conv1": {"filters": 80, "kernel": (57, 6), "pool": (4, 3), "pool_stride": (1, 3), "dropout": 0.5},
    "conv2": {"filters": 80, "kernel": (1, 3), "pool": (1, 3), "pool_stride": (1, 3), "dropout": 0.0},
    "dense": {"units": 5000, "layers": 2, "dropout": 0.5},
}

#: Each configuration: what it is, and what the paper says of it (Tax et al. give numbers for
#: Piczak's CNN on log-mel only; (b) and (c) are in their Figure 3, whose values the text does not state).
PICZAK_CONFIGS = {
    "a": {"name": "(a) log-mel", "input": "log-mel (fixed)",
          "paper": "Piczak's CNN on log-mel: the figures of paper_comparator (with or without deltas)"},
    "b": {"name": "(b) raw, Xavier-init MST layers + dropout", "input": "raw audio",
          "paper": "Figure 3 only: below (c), which converges better (no number in the text)"},
    "c": {"name": "(c) raw, learned MST layers frozen", "input": "raw audio",
          "paper": "Figure 3 only: 'approximately to mel-spectrogram-levels' (no number in the text)"},
    "d": {"name": "(d) raw, learned MST layers fine-tuned", "input": "raw audio",
          "paper": "not run: the paper's open question"},
}


def paper_comparator(config: str, *, deltas: bool = False) -> papers.PaperFigure | None:
    """The paper's own figure to show beside configuration ``config``, or None where it states none.

    Configuration (a) without deltas is Tax et al.'s baseline for the raw-audio models,
    Piczak's CNN without deltas (~53%); with deltas, Piczak's original (~62%). Both are
    ESC-50 test accuracies by majority vote, averaged over the 5 folds. (b), (c) and (d) have
    no number in the text.

    >>> paper_comparator("a").shown, paper_comparator("a", deltas=True).shown, paper_comparator("c")
    ('~53%', '~62%', None)
    """
    if config not in PICZAK_CONFIGS:
        raise ValueError(f"unknown configuration {config!r}; choose one of {sorted(PICZAK_CONFIGS)}")
    if config != "a":
        return None
    return papers.figure("tax2017.piczak.deltas" if deltas else "tax2017.piczak.no_deltas")


class PiczakCNN(nn.Module):
    """Piczak's two-conv, two-dense CNN, with an optional front-end in front of it.

    Args:
        n_classes (int): output classes.
        n_mels (int, default 60): bands of the input (>= 60 for the 57-band filters and 4-band pool).
        frames (int, default 101): frames of the input (41 gives Piczak's short segments).
        n_filters (int, default 80): filters of each convolution.
        hidden (int, default 5000): units of each dense layer (smaller in quick mode).
        dropout (float, default 0.5): after conv 1 and each dense layer.
        frontend (nn.Module | None, default None): maps the model's input to
            ``(batch, n_mels, frames)``: an :class:`MSTTarget` (configuration a) or an
            :class:`MSTmodel` (b, c, d). None means the input already is that.
        in_channels (int, default 1): input channels; 2 for log-mel and deltas
            (``(batch, 2, n_mels, frames)``, e.g. from :class:`apac_lab.frontends.WithDeltas`).

    Shape: ``(batch, samples)`` with a front-end, else ``(batch, n_mels, frames)`` (one
    channel) or ``(batch, in_channels, n_mels, frames)`` -> ``(batch, n_classes)`` logits.

    >>> PiczakCNN(n_classes=50, hidden=64)(torch.randn(2, 60, 101)).shape
    torch.Size([2, 50])
    >>> PiczakCNN(n_classes=10, hidden=64, frames=41, frontend=MSTmodel())(torch.randn(2, 20480)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        *,
        n_classes: int,
        n_mels: int = 60,
        frames: int = 101,
        n_filters: int = 80,
        hidden: int = 5000,
        dropout: float = 0.5,
        frontend: nn.Module | None = None,
        in_channels: int = 1,
    ) -> None:
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        if n_mels < 60:
            raise ValueError(f"n_mels must be >= 60 for the 57-band filters and the 4-band pool, got {n_mels}")
        if frames < 20:
            raise ValueError(f"frames must be >= 20 for two convolutions and two 3-frame pools, got {frames}")
        if n_filters < 1 or hidden < 1:
            raise ValueError(f"n_filters and hidden must be >= 1, got {n_filters} and {hidden}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if isinstance(in_channels, bool) or int(in_channels) != in_channels or in_channels < 1:
            raise ValueError(f"in_channels must be a whole number >= 1 (2 for log-mel and deltas), got {in_channels!r}")
        self.n_classes, self.n_mels, self.frames, self.in_channels = n_classes, n_mels, frames, int(in_channels)
        self.frontend = frontend
        c1, c2 = PICZAK_LAYERS["conv1"], PICZAK_LAYERS["conv2"]
        self.features = nn.Sequential(
            nn.Conv2d(self.in_channels, n_filters, c1["kernel"]), nn.ReLU(), nn.Dropout(dropout),
            nn.MaxPool2d(c1["pool"], stride=c1["pool_stride"]),
            nn.Conv2d(n_filters, n_filters, c2["kernel"]), nn.ReLU(),
            nn.MaxPool2d(c2["pool"], stride=c2["pool_stride"]),
            nn.Flatten(),
        )
        with torch.no_grad():
            flat = self.features(torch.zeros(1, self.in_channels, n_mels, frames)).shape[1]
        self.classifier = nn.Sequential(
            nn.Linear(flat, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, n_classes),
        )
        self.flat_features = flat
        for m in [*self.features, *self.classifier]:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.frontend is not None:
            x = self.frontend(x)
        if x.dim() == 3 and self.in_channels == 1:
            x = x.unsqueeze(1)
        if x.dim() != 4 or tuple(x.shape[1:]) != (self.in_channels, self.n_mels, self.frames):
            want = (f"(batch, n_mels={self.n_mels}, frames={self.frames})" if self.in_channels == 1 else
                    f"(batch, {self.in_channels}, n_mels={self.n_mels}, frames={self.frames})")
            raise ValueError(
                f"PiczakCNN expects {want} features"
                f"{' from its front-end' if self.frontend is not None else ''}, got shape {tuple(x.shape)}; "
                "check the segment length (hop_length * (frames - 1) samples), n_mels and in_channels"
            )
        return self.classifier(self.features(x))


def build_piczak(
    config: str,
    *,
    n_classes: int,
    target: MSTTarget | None = None,
    mst: MSTmodel | None = None,
    frames: int = 101,
    hidden: int = 5000,
    n_mels: int = 60,
    deltas: str | None = None,
) -> PiczakCNN:
    """Build one of Tax et al.'s configurations ``"a"``, ``"b"`` or ``"c"`` (see the module docstring).

    Args:
        config (str): ``"a"`` (needs a fitted ``target``), ``"b"``, ``"c"`` (needs a trained ``mst``).
            For ``"d"`` train (c), then call :func:`finetune_from` on it.
        n_classes (int): output classes.
        target (MSTTarget | None): configuration (a)'s front-end (fitted on the training data); COPIED.
        mst (MSTmodel | None): the learned MSTmodel for (c); it is COPIED, the original is untouched.
        frames (int, default 101): frames per segment.
        hidden (int, default 5000): dense units.
        n_mels (int, default 60): bands.
        deltas (str | None, default None): configuration (a) only: also feed the target's deltas
            (:func:`apac_lab.frontends.spectral_deltas` method ``"piczak"`` or ``"regression"``), as
            Piczak's original; None is the no-delta baseline Tax et al. compare the raw models with.

    >>> m = build_piczak("b", n_classes=10, frames=41, hidden=32)
    >>> m.frontend.dropout, m.frontend.trainable
    (0.5, True)
    """
    if deltas is not None and config != "a":
        raise ValueError(f"deltas are for configuration 'a' (log-mel) only; the MSTmodel learns the mel without "
                         f"deltas, got config={config!r}")
    in_channels = 1
    if config == "a":
        if target is None or not bool(target.normalizer.fitted):
            raise ValueError("configuration 'a' needs target=MSTTarget(...).fit(training_segments)")
        frontend = copy.deepcopy(target)  # the model may move to another device; the caller's target stays
        if deltas is not None:
            frontend, in_channels = WithDeltas(frontend, method=deltas), 2
    elif config == "b":
        frontend = MSTmodel(n_mels=n_mels, dropout=0.5)
    elif config == "c":
        if mst is None:
            raise ValueError("configuration 'c' needs mst=<a trained MSTmodel>")
        frontend = set_trainable(copy.deepcopy(mst), False)
    elif config == "d":
        raise ValueError("configuration 'd' is (c) after training, unfrozen: use finetune_from(trained_c_model)")
    else:
        raise ValueError(f"unknown configuration {config!r}; choose 'a', 'b', 'c' (and 'd' via finetune_from)")
    return PiczakCNN(n_classes=n_classes, n_mels=n_mels, frames=frames, hidden=hidden, frontend=frontend,
                     in_channels=in_channels)


def finetune_from(model: PiczakCNN) -> PiczakCNN:
    """Configuration (d): a copy of a trained (c) model with its MST layers unfrozen.

    >>> c = build_piczak("c", n_classes=3, mst=MSTmodel(), frames=41, hidden=8)
    >>> d = finetune_from(c)
    >>> d.frontend.trainable, c.frontend.trainable
    (True, False)
    """
    if not isinstance(getattr(model, "frontend", None), MSTmodel):
        raise ValueError("finetune_from needs a PiczakCNN whose front-end is an MSTmodel (configuration c)")
    new = copy.deepcopy(model)
    set_trainable(new.frontend, True)
    return new
