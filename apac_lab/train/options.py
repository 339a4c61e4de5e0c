"""The settings of one command-line run, :class:`RunSettings`: the data, the model, the
augmentation and where the run goes, with the training loop's :class:`TrainConfig` nested.

Every option is a field with its help text and check (:func:`apac_lab.train.config.setting`);
the command line's flags are made from them (:mod:`apac_lab.train.cli`) and ``run.json`` is
:meth:`RunSettings.to_dict`. Adding an option is adding a field (and using it in
:mod:`apac_lab.train.runner`).

Flat keys. Flags, config files and :func:`run_settings` name every setting by one flat key:
``batch_size`` is ``train.batch_size``, ``dataset`` is ``dataset``. ``run.json`` nests the
training loop's settings under ``"train"``; files of either shape are read.

Presets. ``preset="paper-scratch"`` (``--preset paper-scratch``) fills the training settings of
Cassetta (2023) for models trained from scratch (Adam, lr 1e-3, weight decay 1e-3, 80 epochs);
``"paper-pretrained"`` those for ImageNet-pre-trained ones (the same optimiser, lr 1e-4, 30
epochs). The values are read from :mod:`apac_lab.papers`. A preset fills only what was not
given: a flag, a config file or a keyword names a value, and that value wins (``--preset
paper-scratch --epochs 20``). :func:`preset_departures` lists where a run departs from its preset.

Notebook: 05_apac_training.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch

from apac_lab.train.config import (
    SettingError, TrainConfig, at_least, changed_fields, check_fields, coerce, field_types, low_high, one_of, setting,
    within,
)

__all__ = ["RunSettings", "UsageError", "run_settings", "read_settings_file", "flat_keys", "flag_name", "PRESETS",
           "preset_departures"]


class UsageError(ValueError):
    """A bad setting: reported as one line and exit status 2."""


def flag_name(key: str) -> str:
    """``batch_size`` -> ``--batch-size``."""
    return "--" + key.replace("_", "-")


def _usage(exc: SettingError) -> UsageError:
    return UsageError(f"{flag_name(exc.key)} {exc.problem}")


_PAIR = {"nargs": 2, "metavar": ("LOW", "HIGH")}


def _paper_presets() -> dict[str, dict]:
    from apac_lab.papers import figure

    def value(key):
        return figure(f"cassetta2023.settings.{key}").value

    common = {"optimizer": "adam", "weight_decay": value("weight_decay")}
    return {
        "paper-scratch": {**common, "lr": value("lr_scratch"), "epochs": value("epochs_scratch")},
        "paper-pretrained": {**common, "lr": value("lr_pretrained"), "epochs": value("epochs_pretrained")},
    }


#: name -> the training settings it fills (flat keys); Cassetta (2023), section 8, read from apac_lab.papers.
PRESETS: dict[str, dict] = _paper_presets()


@dataclass
class RunSettings:
    """Everything one run of ``python -m apac_lab.train`` (or :func:`apac_lab.train.run`) needs.

    Each field is an option (its flag is its name with ``-``, see ``python -m apac_lab.train
    --help``); the training loop's own settings (epochs, batch size, optimiser, seed, device...)
    are the nested :class:`TrainConfig` ``train``. ``out`` defaults to
    ``runs/<dataset>-<model>-<mode>``. Bad values raise :class:`UsageError` naming the flag.

    >>> s = run_settings(dataset="fsdd", batch_size=8)
    >>> s.train.batch_size, s.out
    (8, 'runs/fsdd-apac-std')
    >>> s.to_dict()["train"]["lr"]
    0.001
    """

    dataset: str | None = setting(None, help="speechcommands, fsdd, esc50 or synthetic (see apac_lab.data.load_dataset)")
    data_root: str | None = setting(None, help="folder of the data; default: the resolution rule ($APAC_LAB_DATA, "
                                               "cache, ...)", result=False)
    model: str = setting("apac", help="a name from apac_lab.models.list_models(), or 'package.module:function' "
                                      "(read from a settings file only with --allow-code)")
    mode: str = setting("std", help="front-end mode: std, mel, stft, mel+stft, mel+stft+fsdd")
    checkpoint: str | None = setting(None, help="front-end checkpoint (frontend.pt of an FSDD run) for mode "
                                                "mel+stft+fsdd")
    pretrained: str | None = setting(
        None, help="a local torchvision ImageNet weights file (.pth) for mobilenetv2, resnet50 or vgg19 (vgg19_bn's "
                   "file: the kit's VGG19 has BatchNorm); the first conv's RGB kernels are summed into one channel "
                   "and the 1000-class layer is replaced", flag={"metavar": "PATH"})
    preset: str | None = setting(None, help="training settings by name: paper-scratch (Adam, lr 1e-3, weight decay "
                                            "1e-3, 80 epochs) or paper-pretrained (lr 1e-4, 30 epochs); the flags "
                                            "given override it", check=one_of(tuple(PRESETS)),
                                 flag={"choices": list(PRESETS)}, result=False)
    model_kwargs: dict = setting(help="extra keyword arguments for the model builder (JSON object), e.g. "
                                      '\'{"width_mult": 0.5}\'', default_factory=dict)
    sample_rate: int = setting(16000, help="Hz the clips are resampled to (the model's rate)", check=at_least(1))
    clip_seconds: float = setting(1.0, help="clip length in seconds (padded or cropped)",
                                  check=within(0, 60, low_open=True))
    holdout_speakers: list[str] | None = setting(
        None, help="FSDD: test on these speakers, train on the others (leave-speakers-out)", flag={"nargs": "+"})
    val_fraction: float = setting(0.1, help="fraction of the training clips kept for validation, where the dataset "
                                            "has no validation split (0: no validation)",
                                  check=within(0, 1, high_open=True))
    per_class: int | None = setting(None, help="train on at most this many clips per class (quick runs)",
                                    check=at_least(1))
    test_per_class: int | None = setting(None, help="evaluate on at most this many clips per class (quick runs)",
                                         check=at_least(1))
    cache: str = setting("auto", help="hold the clips in memory: auto (when under 2 GB), yes or no",
                         check=one_of(("auto", "yes", "no")), flag={"choices": ["auto", "yes", "no"]}, result=False)
    train: TrainConfig = setting(help="the training loop (apac_lab.train.TrainConfig)",
                                 default_factory=TrainConfig)
    time_shift: float = setting(0.0, help="augmentation: largest random time shift, as a fraction of the clip (0: off)",
                                check=within(0, 1, high_open=True, what="is a fraction of the clip"))
    noise_snr: list[float] | None = setting(None, help="augmentation: white noise at an SNR drawn in [LOW, HIGH] dB",
                                            check=low_high(unit="dB"), flag=_PAIR)
    noise_p: float = setting(0.5, help="augmentation: probability of noise per clip", check=within(0, 1))
    speed: list[float] | None = setting(None, help="augmentation: play each clip at a speed drawn in [LOW, HIGH] "
                                                   "(e.g. 0.9 1.1)", check=low_high(positive=True), flag=_PAIR)
    eq_db: float = setting(0.0, help="augmentation: random smooth equaliser, largest excursion in dB (0: off)",
                           check=at_least(0))
    gain_db: list[float] | None = setting(None, help="augmentation: random gain drawn in [LOW, HIGH] dB",
                                          check=low_high(unit="dB"), flag=_PAIR)
    spec_augment: list[int] | None = setting(
        None, help="augmentation: SpecAugment, widest frequency mask (bands) and time mask (frames)",
        check=lambda v: None if len(v) == 2 and min(v) >= 0 else f"needs FREQ TIME, two whole numbers >= 0, got {list(v)}",
        flag={"nargs": 2, "metavar": ("FREQ", "TIME")})
    time_stretch: list[float] | None = setting(
        None, help="augmentation: stretch the spectrogram in time by a factor drawn in [LOW, HIGH] (speaking rate)",
        check=low_high(positive=True), flag=_PAIR)
    vtlp: list[float] | None = setting(
        None, help="augmentation: vocal tract length perturbation, warp the spectrum's frequency axis by a factor "
                   "drawn in [LOW, HIGH] (another speaker's formants)", check=low_high(positive=True), flag=_PAIR)
    reverb_p: float = setting(0.0, help="augmentation: probability of a synthetic room response per clip (RT60 "
                                        "0.1-0.5 s; 0: off)", check=within(0, 1))
    band_limit_p: float = setting(0.0, help="augmentation: probability of a band limit per clip (low-pass 1.5-4 kHz, "
                                            "high-pass up to 300 Hz: another microphone; 0: off)", check=within(0, 1))
    mu_law_p: float = setting(0.0, help="augmentation: probability of mu-law companding to 4-8 bits per clip (a "
                                        "codec; 0: off)", check=within(0, 1))
    out: str | None = setting(None, help="output folder; default runs/<dataset>-<model>-<mode>", result=False)
    resume: bool = setting(False, help="continue the run in --out from its last checkpoint (refused when a setting "
                                       "that changes the result differs)", result=False)
    quiet: bool = setting(False, help="no progress bars", result=False)

    def __post_init__(self) -> None:
        from apac_lab.data import DATASETS

        known = sorted(DATASETS)
        if self.dataset is None:
            raise UsageError(f"no dataset: give one of {known} (--dataset NAME, 'dataset' in --config, or dataset= "
                             "in Python)")
        if not isinstance(self.train, TrainConfig):
            raise UsageError(f"train must be a TrainConfig, got {type(self.train).__name__}")
        try:
            check_fields(self)
        except SettingError as exc:
            raise _usage(exc) from None
        self.dataset = self.dataset.lower()
        if self.dataset.replace("-", "").replace("_", "") not in known:
            raise UsageError(f"unknown dataset {self.dataset!r}; choose one of {known}")
        if self.train.loss != "cross_entropy":
            raise UsageError(f"a run trains a classifier: train.loss must be 'cross_entropy', got {self.train.loss!r}")
        if ":" not in self.model:
            from apac_lab.models import MODES, list_models

            if self.model not in list_models():
                raise UsageError(f"unknown model {self.model!r}; choose one of {list_models()} "
                                 "(or 'package.module:function')")
            if self.mode not in MODES:
                raise UsageError(f"unknown mode {self.mode!r}; choose one of {list(MODES)}")
        if self.mode == "mel+stft+fsdd" and not self.checkpoint:
            raise UsageError("mode mel+stft+fsdd starts from a front-end trained on FSDD: give --checkpoint "
                             "PATH/frontend.pt (the frontend.pt of a --dataset fsdd --mode mel+stft run)")
        if self.checkpoint and not Path(self.checkpoint).is_file():
            raise UsageError(f"--checkpoint {self.checkpoint} does not exist")
        if self.pretrained is not None:
            self._check_pretrained()
        device = self.train.device
        if device is not None:
            try:
                dev = torch.device(device)
            except RuntimeError:
                raise UsageError(f"--device {device!r} is not a device name (cpu, cuda, cuda:0, mps)") from None
            if dev.type == "cuda" and not torch.cuda.is_available():
                raise UsageError("--device cuda: no CUDA GPU is available here; leave --device out to use the CPU")
        if self.out is None:
            mode = self.mode.replace("+", "_")
            self.out = str(Path("runs") / f"{self.dataset}-{self.model.replace(':', '_').replace('.', '_')}-{mode}")

    def _check_pretrained(self) -> None:
        from apac_lab.models.baselines import IMAGENET_URLS

        if ":" not in self.model and self.model not in IMAGENET_URLS:
            raise UsageError(f"--pretrained: {self.model} has no ImageNet weights; they exist for mobilenetv2, "
                             "resnet50 and vgg19")
        if not Path(self.pretrained).expanduser().is_file():
            url = IMAGENET_URLS.get("vgg19_bn" if self.model == "vgg19" else self.model, "torchvision's weights")
            raise UsageError(f"--pretrained {self.pretrained} does not exist: download {url} and give the path of "
                             "the .pth file")

    def to_dict(self) -> dict:
        """The settings as JSON-ready data (what ``run.json`` holds), the training loop's under ``"train"``."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "train":
                value = {t.name: getattr(value, t.name) for t in fields(value) if t.metadata.get("saved", True)}
            out[f.name] = value
        return json.loads(json.dumps(out))

    def to_flat(self) -> dict:
        """The settings by flat key (as flags and config files name them)."""
        d = self.to_dict()
        train = d.pop("train")
        return {**d, **{k: v for k, v in train.items() if k in _TRAIN_KEYS}}

    def replace(self, **changes) -> "RunSettings":
        """A copy with some settings changed, by flat key: ``s.replace(epochs=3, out="runs/x")``."""
        _check_keys(changes, "settings")
        train = {k: v for k, v in changes.items() if k in _TRAIN_KEYS}
        top = {k: v for k, v in changes.items() if k not in _TRAIN_KEYS}
        try:
            cfg = dataclasses.replace(top.pop("train", self.train), **train)
        except SettingError as exc:
            raise _usage(exc) from None
        return dataclasses.replace(self, train=cfg, **top)

    def result_differences(self, saved: dict) -> list[tuple[str, Any, Any]]:
        """``(key, saved, now)`` for each setting outside ``train`` that changes the result and
        differs from ``saved`` (a ``run.json``; keys it lacks are not compared)."""
        return changed_fields(self, saved)


_TRAIN_KEYS = tuple(f.name for f in fields(TrainConfig) if f.metadata.get("cli"))
_TOP_KEYS = tuple(f.name for f in fields(RunSettings))
assert not set(_TRAIN_KEYS) & set(_TOP_KEYS), "a flat key must name one setting"


def flat_keys() -> tuple[str, ...]:
    """Every flat key a flag, a config file or :func:`run_settings` accepts."""
    return tuple(k for k in _TOP_KEYS if k != "train") + _TRAIN_KEYS


def _check_keys(d: dict, what: str) -> None:
    unknown = sorted(set(d) - set(flat_keys()) - {"train"})
    if unknown:
        raise UsageError(f"{what}: unknown keys {unknown}; known keys are the flags' names, e.g. 'batch_size'")


def run_settings(**settings) -> RunSettings:
    """A run's settings from flat keyword arguments (the flags' names), checked.

    For notebooks: ``run(run_settings(dataset="fsdd", epochs=2))`` is the CLI without a shell.
    ``train=TrainConfig(...)`` gives the training loop's settings as one object instead.

    >>> run_settings(dataset="fsdd", batch_size=8).train.batch_size
    8
    >>> run_settings(dataset="fsdd", lr=-1)
    Traceback (most recent call last):
    ...
    apac_lab.train.options.UsageError: --lr must be > 0, got -1.0
    """
    _check_keys(settings, "settings")
    settings = _with_preset(settings)
    train = {k: v for k, v in settings.items() if k in _TRAIN_KEYS}
    top = {k: v for k, v in settings.items() if k not in _TRAIN_KEYS}
    base = top.pop("train", None)
    try:
        cfg = dataclasses.replace(base, **train) if base is not None else TrainConfig(**train)
    except SettingError as exc:
        raise _usage(exc) from None
    return RunSettings(train=cfg, **top)


def _with_preset(settings: dict) -> dict:
    """``settings`` with its preset's values under the ones given."""
    name = settings.get("preset")
    if name is None:
        return settings
    if name not in PRESETS:
        raise UsageError(f"--preset must be one of {tuple(PRESETS)}, got {name!r}")
    given = dict(settings)
    if given.get("train") is not None:  # a TrainConfig given whole: its values are given
        return given
    return {**PRESETS[name], **given}


def preset_departures(s: RunSettings, preset: str | None = None) -> list[tuple[str, Any, Any]]:
    """``(flat key, the preset's value, this run's)`` for each setting the preset fills that ``s`` changes.

    Args:
        s (RunSettings): the run.
        preset (str | None, default None): a name of :data:`PRESETS`; None is ``s.preset``.

    >>> preset_departures(run_settings(dataset="fsdd", preset="paper-scratch", epochs=20))
    [('epochs', 80, 20)]
    """
    name = preset or s.preset
    if name not in PRESETS:
        raise UsageError(f"preset_departures: no preset {name!r}; choose one of {tuple(PRESETS)}")
    flat = s.to_flat()
    return [(k, v, flat[k]) for k, v in PRESETS[name].items() if flat[k] != v]


def read_settings_file(path: str | Path, what: str) -> dict:
    """The settings in a JSON file (a ``--config`` file or a ``run.json``), by flat key, type-checked.

    Both shapes are read: flat keys (``"batch_size"`` or ``"batch-size"``) and ``run.json``'s,
    with the training loop's settings under ``"train"``.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{what} {path} does not exist")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} {path} is not valid JSON: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{what} {path} cannot be read ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{what} {path} must hold a JSON object of settings")
    data = {k.replace("-", "_"): v for k, v in data.items()}
    if data.get("pretrained") is False:  # run.json of an earlier release: a bool, False for none
        data["pretrained"] = None
    nested = data.pop("train", None)
    if nested is not None:
        if not isinstance(nested, dict):
            raise UsageError(f"{what} {path}: 'train' must be a JSON object of the training loop's settings")
        nested = {k: v for k, v in nested.items() if k in _TRAIN_KEYS or k not in {f.name for f in fields(TrainConfig)}}
        data = {**nested, **data}
    _check_keys(data, f"{what} {path}")
    hints = {**field_types(RunSettings), **field_types(TrainConfig)}
    try:
        return {k: coerce(k, hints[k], v) for k, v in data.items()}
    except SettingError as exc:
        raise UsageError(f"{what} {path}: {exc.key!r} {exc.problem}") from None
