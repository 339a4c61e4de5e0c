"""Settings as dataclasses whose fields carry their help text and checks, and the settings of
one training run, :class:`TrainConfig`.

One machinery serves every settings object of the package (:class:`TrainConfig`, the CLI's
:class:`apac_lab.train.RunSettings`, :class:`apac_lab.recipes.MSTSettings`):

* :func:`setting` makes a dataclass field with ``help``, a ``check`` (a function of the
  value returning what is wrong with it, or None), whether it changes the result of a run
  (``result``, compared on resume) and extra argparse keywords (``flag``);
* :func:`check_fields` runs the checks and raises :class:`SettingError` naming the field;
* :func:`coerce` checks a value read from JSON or the command line against the field's type;
* :func:`add_flags` turns the fields into argparse flags (``--batch-size`` for ``batch_size``),
  with their help and defaults;
* :func:`changed_fields` lists the fields that change the result and differ from saved ones.

Notebook: 05_apac_training (and every notebook that trains).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import numbers
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = [
    "TrainConfig", "SettingError", "setting", "check_fields", "coerce", "add_flags", "changed_fields", "field_types",
    "at_least", "above", "one_of", "within", "low_high", "json_object",
]

Check = Callable[[Any], "str | None"]


class SettingError(ValueError):
    """A setting with a bad value: ``key`` is the field, ``problem`` what is wrong (``must be >= 1, got 0``)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key} {problem}")
        self.key, self.problem = key, problem


def setting(default: Any = MISSING, *, help: str, check: Check | None = None, result: bool = True, cli: bool = True,
            saved: bool = True, flag: dict | None = None, default_factory: Callable[[], Any] | Any = MISSING):
    """A dataclass field with its help text and check.

    Args:
        default: the default value (or ``default_factory`` for a mutable one).
        help (str): one line for ``--help`` and the docs.
        check (Callable | None, default None): ``value -> problem or None``; None values
            (unset optional settings) are not checked.
        result (bool, default True): the value changes what a run computes, so resuming a
            run with another value is refused.
        cli (bool, default True): has a command-line flag.
        saved (bool, default True): written to ``run.json`` (False: where a run reports, not
            what it computes).
        flag (dict | None, default None): extra argparse keywords (``nargs``, ``metavar``, ``choices``).

    >>> @dataclass
    ... class Demo:
    ...     rate: float = setting(0.5, help="a rate", check=within(0, 1))
    ...     def __post_init__(self):
    ...         check_fields(self)
    >>> Demo(rate=2)
    Traceback (most recent call last):
    ...
    apac_lab.train.config.SettingError: rate must be in [0, 1], got 2
    """
    meta = {"help": help, "check": check, "result": result, "cli": cli, "saved": saved, "flag": dict(flag or {})}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


# --------------------------------------------------------------------------- checks


def at_least(low: float) -> Check:
    """``must be >= low``."""
    return lambda v: None if v >= low else f"must be >= {low}, got {v}"


def above(low: float) -> Check:
    """``must be > low``."""
    return lambda v: None if v > low else f"must be > {low:g}, got {v}"


def one_of(choices: tuple) -> Check:
    """``must be one of choices``."""
    return lambda v: None if v in choices else f"must be one of {choices}, got {v!r}"


def within(low: float, high: float, *, low_open: bool = False, high_open: bool = False, what: str = "must be") -> Check:
    """``must be in [low, high]`` (either end open)."""
    text = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"

    def check(v):
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
        return None if ok else f"{what} in {text}, got {v:g}"

    return check


def low_high(*, positive: bool = False, unit: str = "", names: str = "LOW HIGH") -> Check:
    """A pair ``[low, high]`` with ``low <= high`` (and ``0 < low`` if ``positive``)."""
    rule = "0 < LOW <= HIGH" if positive else "LOW <= HIGH"

    def check(v):
        ok = len(v) == 2 and v[0] <= v[1] and (not positive or v[0] > 0)
        return None if ok else f"needs {names} with {rule}{f' ({unit})' if unit else ''}, got {list(v)}"

    return check


# --------------------------------------------------------------------------- types


def field_types(cls) -> dict[str, Any]:
    """Each field's resolved type hint."""
    return typing.get_type_hints(cls)


def _unwrap(hint) -> tuple[Any, bool]:
    """``(inner type, optional)`` of ``X | None``."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True
    return hint, False


def _is(value, kind) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:  # NumPy's integers too
        return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if kind is float:
        return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    return isinstance(value, kind)


def coerce(key: str, hint, value: Any) -> Any:
    """``value`` checked against the type ``hint`` (JSON's ints pass as floats, lists as lists).

    Raises:
        SettingError: wrong type, e.g. ``epochs must be int, got '3'``.

    >>> coerce("lr", float, 1), coerce("speed", list[float] | None, (1, 2))
    (1.0, [1.0, 2.0])
    """
    inner, optional = _unwrap(hint)
    if value is None:
        if optional:
            return None
        raise SettingError(key, f"must be {getattr(inner, '__name__', inner)}, got None")
    origin = typing.get_origin(inner)
    if origin in (typing.Union, types.UnionType):  # e.g. bool | str: the first that fits
        for alt in typing.get_args(inner):
            if _is(value, typing.get_origin(alt) or alt):
                return value
        raise SettingError(key, f"must be {inner}, got {value!r}")
    if origin is list:
        (elem,) = typing.get_args(inner) or (object,)
        if not isinstance(value, (list, tuple)) or not all(elem is object or _is(v, elem) for v in value):
            raise SettingError(key, f"must be a list of {getattr(elem, '__name__', elem)}, got {value!r}")
        return [float(v) if elem is float else int(v) if elem is int else v for v in value]
    if origin is dict or inner is dict:
        if not isinstance(value, dict):
            raise SettingError(key, f"must be a JSON object, got {value!r}")
        return dict(value)
    if not _is(value, inner):
        raise SettingError(key, f"must be {inner.__name__}, got {value!r}")
    return float(value) if inner is float else int(value) if inner is int else value


def check_fields(obj) -> None:
    """Check every field of ``obj`` against its type (:func:`coerce`, which also turns JSON's
    ints into floats and tuples into lists) and its ``check``; raise :class:`SettingError`
    on the first problem. Fields that hold a settings dataclass are checked by their own class."""
    hints = field_types(type(obj))
    for f in fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            continue
        value = coerce(f.name, hints[f.name], value)
        setattr(obj, f.name, value)
        check = f.metadata.get("check")
        if check is not None and value is not None:
            problem = check(value)
            if problem:
                raise SettingError(f.name, problem)


def changed_fields(obj, saved: dict) -> list[tuple[str, Any, Any]]:
    """``(name, saved value, value)`` for each field that changes the result (``result=True``)
    and differs from ``saved`` (a JSON dict; keys it lacks are not compared).

    >>> changed_fields(TrainConfig(lr=0.5, num_workers=2), {"lr": 0.001, "num_workers": 0, "seed": 0})
    [('lr', 0.001, 0.5)]
    """
    out = []
    for f in fields(obj):
        if not f.metadata.get("result", False) or f.name not in saved or dataclasses.is_dataclass(getattr(obj, f.name)):
            continue
        now = json.loads(json.dumps(getattr(obj, f.name)))
        if now != saved[f.name]:
            out.append((f.name, saved[f.name], now))
    return out


def add_flags(parser: argparse.ArgumentParser, cls, *, prefix: str = "", only: tuple[str, ...] | None = None,
              defaults: bool = True) -> dict[str, str]:
    """Add one flag per field of ``cls`` that has ``cli=True`` (``--prefix-name``); return ``{dest: field}``.

    Types come from the fields' hints: booleans become ``--x/--no-x``, lists take ``nargs``
    values (from ``flag``), dicts a JSON object; a field holding settings (a dataclass, e.g.
    ``RunSettings.train``) adds its fields' flags, under the same flat names, as a group. The help shows each field's default;
    ``argument_default=SUPPRESS`` on the parser keeps unset flags out of the namespace.

    >>> p = argparse.ArgumentParser(argument_default=argparse.SUPPRESS)
    >>> _ = add_flags(p, TrainConfig)
    >>> vars(p.parse_args(["--batch-size", "8", "--no-amp"]))
    {'batch_size': 8, 'amp': False}
    """
    hints, dests = field_types(cls), {}
    for f in fields(cls):
        if not f.metadata.get("cli", False) or (only is not None and f.name not in only):
            continue
        name = f"{prefix}_{f.name}" if prefix else f.name
        flag = "--" + name.replace("_", "-")
        default = f.default if f.default is not MISSING else (f.default_factory() if f.default_factory is not MISSING
                                                              else None)
        help_ = f.metadata["help"] + (f" [default: {default}]" if defaults else "")
        inner, _ = _unwrap(hints[f.name])
        extra = dict(f.metadata.get("flag", {}))
        if dataclasses.is_dataclass(inner):  # nested settings: their own flags, in a group of the help
            group = parser.add_argument_group(f.metadata["help"])
            dests |= add_flags(group, inner, prefix=prefix, defaults=defaults)
        elif inner is bool:
            parser.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, help=help_)
        elif typing.get_origin(inner) is list:
            (elem,) = typing.get_args(inner) or (str,)
            parser.add_argument(flag, dest=name, type=elem, help=help_, **({"nargs": "+"} | extra))
        elif inner is dict or typing.get_origin(inner) is dict:
            parser.add_argument(flag, dest=name, type=json_object, help=help_, **extra)
        else:
            parser.add_argument(flag, dest=name, type=inner, help=help_, **extra)
        dests[name] = f.name
    return dests


def json_object(text: str) -> dict:
    """An argparse ``type`` for a flag that takes a JSON object (``--model-kwargs``).

    >>> json_object('{"n_mfcc": 13}')
    {'n_mfcc': 13}
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object, like '{\"width_mult\": 0.5}'")
    return value


# --------------------------------------------------------------------------- TrainConfig

_OPTIMIZERS = ("adam", "adamw", "sgd", "adagrad")
_LOSSES = ("cross_entropy", "mse")
_SCHEDULERS = ("none", "cosine", "onecycle")


@dataclass
class TrainConfig:
    """Settings of one training run. Defaults are the APAC paper's (Adam, lr 1e-3, wd 1e-3).

    Args:
        epochs (int, default 10): passes over the training set.
        batch_size (int, default 32): clips per step (per process under DDP).
        lr (float, default 1e-3): learning rate.
        weight_decay (float, default 1e-3): L2 penalty (the paper's "inhibition").
        optimizer (str, default "adam"): "adam", "adamw", "sgd" or "adagrad" (Rothmann's
            2018 listener; PyTorch's Adagrad, ``lr`` and ``weight_decay`` as given).
        momentum (float, default 0.9): SGD momentum.
        nesterov (bool, default False): SGD Nesterov momentum.
        scheduler (str, default "none"): "none", "cosine" (per epoch) or "onecycle" (per step).
        loss (str, default "cross_entropy"): "cross_entropy" (targets are class ids) or "mse".
        label_smoothing (float, default 0.0): for cross-entropy.
        seed (int, default 0): seeds shuffling and dropout, epoch by epoch (so resume repeats).
        device (str | None, default None): None picks CUDA, MPS, then CPU.
        amp (bool, default True): mixed precision, used on CUDA only.
        num_workers (int | None, default None): DataLoader workers (they only read audio);
            None chooses (:func:`apac_lab.train.loop.worker_count`): none on the CPU or for
            clips held in memory, else one per usable core but one, up to 8, so that reading
            WAVs does not leave a GPU waiting.
        early_stopping_patience (int | None, default None): stop after this many epochs
            without a better validation loss; the best weights are restored.
        out_dir (str | None, default None): where checkpoints and metrics go; None keeps
            everything in memory.
        progress (bool, default True): tqdm progress bars.
        max_steps_per_epoch (int | None, default None): cap on steps per epoch (quick mode).
        grad_clip (float | None, default None): clip the gradient norm to this value.
        frontend_lr_scale (float, default 1.0): learning rate of the front-end's parameters
            (a trainable mel filterbank or STFT) relative to ``lr``; below 1 keeps a
            trainable front-end closer to its initial filters.
        extra (dict): anything a caller wants saved with the run (model name, mode...).

    Each field's help and check live on the field (:func:`setting`): the CLI's flags and
    their checks are made from them.

    >>> TrainConfig(epochs=2).to_dict()["optimizer"]
    'adam'
    >>> TrainConfig(optimizer="rmsprop")
    Traceback (most recent call last):
    ...
    apac_lab.train.config.SettingError: optimizer must be one of ('adam', 'adamw', 'sgd', 'adagrad'), got 'rmsprop'
    """

    epochs: int = setting(10, help="passes over the training set", check=at_least(1))
    batch_size: int = setting(32, help="clips per step (per process under torchrun)", check=at_least(1))
    lr: float = setting(1e-3, help="learning rate (the paper's: 1e-3)", check=above(0))
    weight_decay: float = setting(1e-3, help="weight decay (the paper's: 1e-3)", check=at_least(0))
    optimizer: str = setting("adam", help="adam, adamw, sgd or adagrad", check=one_of(_OPTIMIZERS),
                             flag={"choices": list(_OPTIMIZERS)})
    momentum: float = setting(0.9, help="SGD momentum", check=within(0, 1, high_open=True))
    nesterov: bool = setting(False, help="SGD Nesterov momentum")
    scheduler: str = setting("none", help="none, cosine or onecycle", check=one_of(_SCHEDULERS),
                             flag={"choices": list(_SCHEDULERS)})
    loss: str = setting("cross_entropy", help="cross_entropy (class ids) or mse", check=one_of(_LOSSES), cli=False)
    label_smoothing: float = setting(0.0, help="cross-entropy label smoothing", check=within(0, 1, high_open=True))
    seed: int = setting(0, help="seed of the model, the order of the clips, dropout and augmentation")
    device: str | None = setting(None, help="cpu, cuda, cuda:1, mps; default: the best available", result=False)
    amp: bool = setting(True, help="mixed precision on CUDA (--no-amp turns it off)", result=False)
    num_workers: int | None = setting(
        None, help="DataLoader workers (they only read audio); default: none on the CPU or for clips held in memory, "
                   "else one per core but one, up to 8", check=at_least(0), result=False)
    early_stopping_patience: int | None = setting(
        None, help="stop after this many epochs without a better validation loss", check=at_least(1))
    out_dir: str | None = setting(None, help="where checkpoints and metrics go", result=False, cli=False, saved=False)
    progress: bool = setting(True, help="progress bars", result=False, cli=False, saved=False)
    max_steps_per_epoch: int | None = setting(None, help="cap on steps per epoch (quick runs)", check=at_least(1))
    grad_clip: float | None = setting(None, help="clip the gradient norm to this value", check=above(0))
    frontend_lr_scale: float = setting(1.0, help="learning rate of a trainable front-end relative to --lr",
                                       check=above(0))
    extra: dict = setting(help="anything saved with the run", default_factory=dict, result=False, cli=False,
                          saved=False)

    def __post_init__(self) -> None:
        check_fields(self)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig keys {unknown}; known keys: {sorted(known)}")
        return cls(**d)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        return cls.from_dict(json.loads(Path(path).read_text()))

    def resume_differences(self, saved: dict, epochs_done: int) -> list[tuple[str, Any, Any]]:
        """What stops this config from continuing a run saved with ``saved`` after ``epochs_done``
        epochs: ``(name, saved, now)`` for each changed setting that changes the result, and
        ``epochs`` when fewer than done, or changed under a learning-rate schedule (its length
        is fixed when the run starts)."""
        diffs = [d for d in changed_fields(self, saved) if d[0] != "epochs"]
        if self.epochs < epochs_done:
            diffs.append(("epochs", f"{epochs_done} done", self.epochs))
        elif "epochs" in saved and self.epochs != saved["epochs"] and self.scheduler != "none":
            diffs.append(("epochs", saved["epochs"], f"{self.epochs} (the {self.scheduler} schedule is fixed)"))
        return diffs
