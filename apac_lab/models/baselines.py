"""Baselines of the APAC paper: MobileNetV2, ResNet50 and VGG19 on one-channel spectrograms.

Compact re-implementations of the standard torchvision architectures (torchvision is not
needed), with the SAME module names, so that torchvision's ImageNet state dicts load:

* :class:`MobileNetV2` (Sandler et al. 2018): width 1.0, 17 inverted residuals, 1280-d head.
* :class:`ResNet50` (He et al. 2016): bottleneck blocks [3, 4, 6, 3], stride on the 3x3 conv
  (torchvision's "v1.5").
* :class:`VGG19` (Simonyan & Zisserman 2015): configuration E, adaptive 7x7 pool, the
  4096-4096 classifier; ``batch_norm=True`` (default) is torchvision's ``vgg19_bn``
  (choice: VGG19 without BatchNorm trains poorly from scratch with Adam on spectrograms).

Each takes ``(batch, in_channels, height, width)`` images (``in_channels=1`` for a
spectrogram: height = mel bands, width = frames) and returns ``(batch, n_classes)``.
:class:`SpectrogramClassifier` puts a front-end in front of one, so that it takes
waveforms like APAC does.

ImageNet pre-training, only when asked (never at test time): :func:`load_imagenet_weights`
reads a torchvision state dict from a local file (the CLI's ``--pretrained PATH``), or
:func:`imagenet_weights_file`'s copy in ``torch.hub``'s cache (downloaded when missing) when
``source=True``, and :func:`adapt_imagenet_state_dict` fits it to one input channel by
SUMMING the first conv's RGB weights (a grey image repeated on R, G and B gives the same
output: the spectrogram is read as that grey image) and drops the 1000-class output layer
when ``n_classes != 1000`` (a new one, for the task's classes, starts from random weights).
Only the backbone is pre-trained: the front-end and the BatchNorm per mel band in front of
it are not ImageNet's.

Notebook: 05_apac_training.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from apac_lab.models.blocks import ConvNormAct, InvertedResidual, make_divisible
from apac_lab.utils import is_offline

__all__ = ["MobileNetV2", "ResNet50", "VGG19", "SpectrogramClassifier", "IMAGENET_URLS",
           "adapt_imagenet_state_dict", "imagenet_weights_file", "load_imagenet_weights"]

IMAGENET_URLS: dict[str, str] = {
    "mobilenetv2": "https://download.pytorch.org/models/mobilenet_v2-b0353104.pth",
    "resnet50": "https://download.pytorch.org/models/resnet50-0676ba61.pth",
    "vgg19": "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
    "vgg19_bn": "https://download.pytorch.org/models/vgg19_bn-c79401a0.pth",
}


def _check(n_classes: int, in_channels: int) -> None:
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    if in_channels < 1:
        raise ValueError(f"in_channels must be >= 1, got {in_channels}")


class MobileNetV2(nn.Module):
    """MobileNetV2 (torchvision layout: ``features``, ``classifier``).

    Args:
        n_classes (int): output classes.
        in_channels (int, default 1): 1 for spectrograms, 3 for RGB.
        width_mult (float, default 1.0): channel multiplier.
        dropout (float, default 0.2): before the last linear layer.

    Shape: ``(B, in_channels, H, W)`` -> ``(B, n_classes)``.

    >>> MobileNetV2(10)(torch.randn(2, 1, 128, 32)).shape
    torch.Size([2, 10])
    """

    CONFIG = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))

    def __init__(self, n_classes: int, *, in_channels: int = 1, width_mult: float = 1.0, dropout: float = 0.2) -> None:
        super().__init__()
        _check(n_classes, in_channels)
        c = make_divisible(32 * width_mult)
        last = make_divisible(1280 * max(1.0, width_mult))
        layers: list[nn.Module] = [ConvNormAct(in_channels, c, 3, stride=2, act="relu6")]
        for t, out, n, s in self.CONFIG:
            out = make_divisible(out * width_mult)
            for i in range(n):
                layers.append(InvertedResidual(c, out, s if i == 0 else 1, t))
                c = out
        layers.append(ConvNormAct(c, last, 1, act="relu6"))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(last, n_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean((2, 3)))


class _Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet50(nn.Module):
    """ResNet-50 (torchvision layout: ``conv1``, ``bn1``, ``layer1..4``, ``fc``).

    Args:
        n_classes (int): output classes.
        in_channels (int, default 1): 1 for spectrograms, 3 for RGB.

    >>> ResNet50(10)(torch.randn(1, 1, 64, 32)).shape
    torch.Size([1, 10])
    """

    LAYERS = (3, 4, 6, 3)

    def __init__(self, n_classes: int, *, in_channels: int = 1) -> None:
        super().__init__()
        _check(n_classes, in_channels)
        self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), self.LAYERS)):
            stride = 1 if i == 0 else 2
            down = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))
            blocks = [_Bottleneck(inplanes, planes, stride, down)]
            inplanes = planes * 4
            blocks += [_Bottleneck(inplanes, planes) for _ in range(n - 1)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(2048, n_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(x.mean((2, 3)))


class VGG19(nn.Module):
    """VGG-19 (configuration E; torchvision layout: ``features``, ``avgpool``, ``classifier``).

    Args:
        n_classes (int): output classes.
        in_channels (int, default 1): 1 for spectrograms, 3 for RGB.
        batch_norm (bool, default True): BatchNorm after each conv (torchvision ``vgg19_bn``).
        dropout (float, default 0.5): in the classifier.

    Inputs must be at least 32 x 32 (five 2x2 max-pools); smaller ones are padded
    symmetrically with zeros (a 128-mel, 32-frame log-mel passes as is).

    >>> VGG19(10)(torch.randn(1, 1, 32, 32)).shape
    torch.Size([1, 10])
    """

    CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")

    def __init__(self, n_classes: int, *, in_channels: int = 1, batch_norm: bool = True, dropout: float = 0.5) -> None:
        super().__init__()
        _check(n_classes, in_channels)
        self.batch_norm = batch_norm
        layers: list[nn.Module] = []
        c = in_channels
        for v in self.CONFIG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers.append(nn.Conv2d(c, v, 3, padding=1))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(v))
                layers.append(nn.ReLU(inplace=True))
                c = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(dropout), nn.Linear(4096, n_classes),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h < 32 or w < 32:
            ph, pw = max(0, 32 - h), max(0, 32 - w)
            x = nn.functional.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class SpectrogramClassifier(nn.Module):
    """A front-end, a BatchNorm per mel band, then an image backbone on ``(B, 1, n_mels, frames)``.

    Args:
        frontend (APACFrontEnd): waveform -> (log-mel, MFCC or None); only the log-mel is used.
        backbone (nn.Module): one-channel image classifier.

    Shape: ``(batch, samples)`` -> ``(batch, n_classes)``.

    >>> from apac_lab.models.frontend_modes import APACFrontEnd
    >>> m = SpectrogramClassifier(APACFrontEnd("std", n_mfcc=0), MobileNetV2(5)).eval()
    >>> m(torch.randn(2, 16000)).shape
    torch.Size([2, 5])
    """

    def __init__(self, frontend: nn.Module, backbone: nn.Module) -> None:
        super().__init__()
        self.frontend = frontend
        self.mel_norm = nn.BatchNorm1d(frontend.n_mels)
        self.backbone = backbone

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        log_mel, _ = self.frontend(waveform)
        return self.backbone(self.mel_norm(log_mel).unsqueeze(1))


def adapt_imagenet_state_dict(state_dict: dict, model: nn.Module) -> tuple[dict, list[str]]:
    """Fit a torchvision ImageNet state dict to ``model`` (one input channel, any classes).

    * A 4-D weight with 3 input channels where ``model`` has 1 is summed over R, G, B.
    * Entries whose shapes still differ from ``model``'s (the 1000-class output layer) and
      entries ``model`` does not have are dropped, and named in the second return value.

    Args:
        state_dict (dict): torchvision-format weights (e.g. ``mobilenet_v2-b0353104.pth``).
        model (nn.Module): the backbone to load into (e.g. ``MobileNetV2(10)``).

    Returns:
        tuple[dict, list[str]]: the adapted state dict and the names of dropped entries.

    >>> rgb = MobileNetV2(1000, in_channels=3).state_dict()
    >>> sd, dropped = adapt_imagenet_state_dict(rgb, MobileNetV2(10))
    >>> dropped
    ['classifier.1.bias', 'classifier.1.weight']
    """
    own = model.state_dict()
    out, dropped = {}, []
    for k, v in state_dict.items():
        if k not in own:
            dropped.append(k)
            continue
        if v.dim() == 4 and v.shape[1] == 3 and own[k].shape[1] == 1:
            v = v.sum(1, keepdim=True)
        if v.shape != own[k].shape:
            dropped.append(k)
            continue
        out[k] = v
    return out, sorted(dropped)


def imagenet_weights_file(arch: str, *, download: bool = True) -> Path:
    """The local copy of torchvision's ImageNet weights for ``arch``, in ``torch.hub``'s cache.

    Args:
        arch (str): "mobilenetv2", "resnet50", "vgg19" or "vgg19_bn".
        download (bool, default True): fetch :data:`IMAGENET_URLS` ``[arch]`` when it is not
            cached (refused under ``APAC_LAB_OFFLINE=1``).

    Returns:
        Path: ``torch.hub.get_dir()/checkpoints/<file name>`` (what ``--pretrained PATH`` takes).

    Raises:
        ValueError: unknown ``arch``.
        RuntimeError: not cached, and downloads are off (or ``download=False``).
    """
    if arch not in IMAGENET_URLS:
        raise ValueError(f"no ImageNet weights for {arch!r}; known: {sorted(IMAGENET_URLS)}")
    url = IMAGENET_URLS[arch]
    cached = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
    if cached.is_file():
        return cached
    if not download or is_offline():
        why = "downloads are off (APAC_LAB_OFFLINE=1)" if is_offline() else "download=False"
        raise RuntimeError(f"ImageNet weights for {arch} are not cached at {cached} and {why}: download {url} "
                           "and pass its path (pretrained='/path/to/file.pth', or --pretrained PATH)")
    cached.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(url, str(cached), progress=True)
    return cached


def _read_weights(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"no ImageNet weights file at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors have no common base: name the file, in one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise ValueError(f"{path} is not a torchvision weights file that torch.load can read ({first})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} does not hold a state dict (names -> tensors), as torchvision's .pth files do")
    return state


def load_imagenet_weights(model: nn.Module, source: bool | str | Path, arch: str) -> dict:
    """Load ImageNet weights into a baseline backbone, adapted to one channel.

    Args:
        model (nn.Module): a :class:`MobileNetV2`, :class:`ResNet50` or :class:`VGG19`.
        source (bool | str | Path): a local torchvision ``.pth`` file, or True for
            :func:`imagenet_weights_file` (``torch.hub``'s cached copy, downloaded when missing).
        arch (str): "mobilenetv2", "resnet50", "vgg19" or "vgg19_bn".

    Returns:
        dict: ``{"loaded": [...], "dropped": [...], "missing": [...]}`` parameter names.

    Raises:
        ValueError: unknown ``arch``, or a file that is not a state dict or does not fit the model.
        FileNotFoundError: no file at ``source``.
        RuntimeError: ``source=True`` with downloads off (``APAC_LAB_OFFLINE=1``) and no cached copy.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "rgb.pth")
    >>> torch.save(MobileNetV2(1000, in_channels=3).state_dict(), path)
    >>> report = load_imagenet_weights(MobileNetV2(10), path, "mobilenetv2")
    >>> report["missing"]
    ['classifier.1.bias', 'classifier.1.weight']
    """
    if arch not in IMAGENET_URLS:
        raise ValueError(f"no ImageNet weights for {arch!r}; known: {sorted(IMAGENET_URLS)}")
    path = imagenet_weights_file(arch) if source is True else Path(source).expanduser()
    state = _read_weights(path)
    adapted, dropped = adapt_imagenet_state_dict(state, model)
    if len(adapted) < 0.9 * len(model.state_dict()):
        raise ValueError(f"{path} fits only {len(adapted)} of {len(model.state_dict())} entries of {arch}: "
                         f"is this {arch}'s file ({IMAGENET_URLS[arch].rsplit('/', 1)[-1]})?")
    result = model.load_state_dict(adapted, strict=False)
    return {"loaded": sorted(adapted), "dropped": dropped, "missing": sorted(result.missing_keys)}
