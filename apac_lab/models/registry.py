"""One registry: any model with any front-end mode, waveform in, logits out.

>>> from apac_lab.models import build_model, list_models
>>> list_models()
['apac', 'mobilenetv2', 'resnet50', 'tiny', 'vgg19']
>>> build_model("tiny", n_classes=10, sample_rate=8000, mode="mel")(torch.randn(2, 8000)).shape
torch.Size([2, 10])

Notebook: 05_apac_training (and every notebook that trains a model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from torch import nn

from apac_lab.models.apac import APAC
from apac_lab.models.baselines import MobileNetV2, ResNet50, SpectrogramClassifier, VGG19, load_imagenet_weights
from apac_lab.models.frontend_modes import MODES, APACFrontEnd, check_mode

__all__ = ["TinyCNN", "build_model", "count_parameters", "list_models", "register_model", "MODES"]

_FRONTEND_KEYS = ("n_fft", "hop_length", "n_mels", "n_mfcc", "f_min", "f_max", "eps", "top_db", "peak_norm", "cmvn", "active_db")


class TinyCNN(nn.Module):
    """A very small classifier for fast tests and demos: front-end, two strided convs, pool, linear.

    Args:
        n_classes (int): output classes.
        frontend (APACFrontEnd): waveform -> (log-mel, ...).
        channels (int, default 8): channels of the first conv (the second has twice as many).

    >>> from apac_lab.models.frontend_modes import APACFrontEnd
    >>> TinyCNN(3, APACFrontEnd(n_mfcc=0)).eval()(torch.randn(1, 16000)).shape
    torch.Size([1, 3])
    """

    def __init__(self, n_classes: int, frontend: APACFrontEnd, channels: int = 8) -> None:
        super().__init__()
        if not isinstance(channels, int) or isinstance(channels, bool) or channels < 1:
            raise ValueError(f"channels must be a whole number >= 1, got {channels!r}")
        self.frontend = frontend
        self.mel_norm = nn.BatchNorm1d(frontend.n_mels)
        self.net = nn.Sequential(
            nn.Conv2d(1, channels, 3, 2, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
            nn.Conv2d(channels, 2 * channels, 3, 2, 1, bias=False), nn.BatchNorm2d(2 * channels), nn.ReLU(inplace=True),
        )
        self.fc = nn.Linear(2 * channels, n_classes)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        log_mel, _ = self.frontend(waveform)
        return self.fc(self.net(self.mel_norm(log_mel).unsqueeze(1)).mean((2, 3)))


_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str) -> Callable:
    """Decorator: register ``builder(n_classes, frontend, pretrained, **kw) -> nn.Module`` under ``name``."""

    def deco(fn: Callable) -> Callable:
        _REGISTRY[name] = fn
        return fn

    return deco


def list_models() -> list[str]:
    """Names accepted by :func:`build_model`, sorted."""
    return sorted(_REGISTRY)


def _no_pretrained(name: str, pretrained) -> None:
    if pretrained:
        raise ValueError(f"{name!r} has no ImageNet weights; pretrained=True works for mobilenetv2, resnet50 and vgg19")


@register_model("apac")
def _apac(n_classes: int, frontend: APACFrontEnd, pretrained, **kw) -> nn.Module:
    _no_pretrained("apac", pretrained)
    return APAC(n_classes, frontend=frontend, **kw)


@register_model("tiny")
def _tiny(n_classes: int, frontend: APACFrontEnd, pretrained, **kw) -> nn.Module:
    _no_pretrained("tiny", pretrained)
    return TinyCNN(n_classes, frontend, **kw)


def _baseline(cls, arch: str):
    def build(n_classes: int, frontend: APACFrontEnd, pretrained, **kw) -> nn.Module:
        backbone = cls(n_classes, in_channels=1, **kw)
        if pretrained:
            which = "vgg19_bn" if arch == "vgg19" and backbone.batch_norm else arch
            report = load_imagenet_weights(backbone, pretrained, which)
            print(f"[apac_lab] {arch}: ImageNet weights loaded ({len(report['loaded'])} entries; "
                  f"new: {', '.join(report['missing']) or 'none'})")
        return SpectrogramClassifier(frontend, backbone)

    return build


register_model("mobilenetv2")(_baseline(MobileNetV2, "mobilenetv2"))
register_model("resnet50")(_baseline(ResNet50, "resnet50"))
register_model("vgg19")(_baseline(VGG19, "vgg19"))


def build_model(
    name: str,
    *,
    n_classes: int,
    sample_rate: int = 16000,
    mode: str = "std",
    checkpoint: str | Path | None = None,
    pretrained: bool | str | Path = False,
    **kw,
) -> nn.Module:
    """Build any registered model with any front-end mode: ``(batch, samples)`` -> ``(batch, n_classes)``.

    Args:
        name (str): one of :func:`list_models` ("apac", "mobilenetv2", "resnet50", "vgg19", "tiny").
        n_classes (int): output classes.
        sample_rate (int, default 16000): Hz of the input; window and hop scale with it.
        mode (str, default "std"): one of :data:`MODES`.
        checkpoint (str | Path | None, default None): front-end checkpoint, for mode
            "mel+stft+fsdd" (the ``frontend.pt`` of :func:`apac_lab.recipes.pretrain_fsdd_frontend`).
        pretrained (bool | str | Path, default False): ImageNet weights for the baselines:
            True downloads torchvision's file with torch.hub; a path reads a local copy.
        **kw: front-end settings (``n_fft``, ``hop_length``, ``n_mels``, ``n_mfcc``, ``f_min``,
            ``f_max``, ``eps``, ``top_db``, ``peak_norm``, ``cmvn``, ``active_db``) and the model's own arguments (e.g. ``width_mult``,
            ``dropout``, ``batch_norm``).

    Returns:
        nn.Module: with a ``frontend`` attribute (:class:`APACFrontEnd`).

    Raises:
        ValueError: unknown name or mode, bad settings, or a checkpoint that does not fit.

    >>> build_model("apac", n_classes=35).frontend.mode
    'std'
    >>> build_model("alexnet", n_classes=2)
    Traceback (most recent call last):
    ...
    ValueError: unknown model 'alexnet'; choose one of ['apac', 'mobilenetv2', 'resnet50', 'tiny', 'vgg19']
    """
    key = name.lower().replace("-", "").replace("_", "")
    if key not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; choose one of {list_models()}")
    check_mode(mode)
    if not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2, got {n_classes!r}")
    fe_kw = {k: kw.pop(k) for k in _FRONTEND_KEYS if k in kw}
    if key != "apac":
        fe_kw.setdefault("n_mfcc", 0)  # only APAC has an MFCC pathway
    frontend = APACFrontEnd(mode, sample_rate=sample_rate, checkpoint=checkpoint, **fe_kw)
    builder = _REGISTRY[key]
    try:
        model = builder(n_classes, frontend, pretrained, **kw)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise ValueError(f"{name}: {exc}; front-end settings are {list(_FRONTEND_KEYS)}") from None
        raise
    model.model_name = key
    return model


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (all, or only those with ``requires_grad``).

    >>> count_parameters(nn.Linear(3, 2))
    8
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)

