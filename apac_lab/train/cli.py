"""The training command line: ``python -m apac_lab.train`` (or ``apac-lab-train``).

One run: load the data through :func:`apac_lab.data.load_dataset` (the resolution rule),
build a model from the registry (:func:`apac_lab.models.build_model`), train it with
:func:`apac_lab.train.fit`, then evaluate it on the test split and write, to ``--out``:

* ``run.json``: every setting of the run (a valid ``--config`` file for a re-run);
* ``config.json``, ``last.pt`` (every epoch, atomic), ``history.json``: from :func:`fit`;
* ``model.pt``: the final weights with what is needed to rebuild the model;
* ``frontend.pt``: the trained front-end, in trainable modes (the checkpoint that mode
  ``mel+stft+fsdd`` starts from);
* ``metrics.json`` (test accuracy, loss, per-class report, confusion matrix),
  ``confusion.csv`` and ``report.txt``.

Settings come from, in increasing priority: the defaults, ``OUT/run.json`` when
resuming, a ``--config`` JSON file (the same keys as the flags, with ``_``), and the
flags given. Bad settings print one line, ``apac-lab-train: error: ...``, and exit
with status 2. Under ``torchrun --nproc_per_node=N`` the same command initialises the
process group (NCCL on CUDA, Gloo on the CPU) and trains with DistributedDataParallel;
``--batch-size`` is then per process.

Examples::

    python -m apac_lab.train --dataset fsdd --model apac --mode std --epochs 20 --out runs/fsdd
    python -m apac_lab.train --out runs/fsdd --resume          # continue an interrupted run
    torchrun --nproc_per_node=2 -m apac_lab.train --config run.json

Notebook: 05_apac_training.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from apac_lab.train.runner import PROG, build_from_settings, cache_in_memory, run
from apac_lab.train.settings import (
    OPTIONS, UsageError, default_settings, finish_settings, read_settings_file, settings,
)

__all__ = ["main", "build_parser", "resolve_settings", "settings", "run", "build_from_settings", "cache_in_memory",
           "OPTIONS", "UsageError"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit status 2
        raise UsageError(f"{message} (see {PROG} --help)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; only the flags actually given appear in its namespace."""
    p = _Parser(prog=PROG, description="Train and evaluate an APAC-lab model (checkpoints, metrics, resume, DDP).",
                argument_default=argparse.SUPPRESS, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--config", help="JSON file of settings (the keys below, with '_'); flags override it")
    for key, (typ, default, help_, extra) in OPTIONS.items():
        flag = "--" + key.replace("_", "-")
        help_ = f"{help_} [default: {default}]"
        if typ is bool:
            p.add_argument(flag, action=argparse.BooleanOptionalAction, help=help_)
        elif typ is dict:
            p.add_argument(flag, type=_json_object, help=help_)
        elif typ is list:
            p.add_argument(flag, **({"type": str} | extra), help=help_)
        else:
            p.add_argument(flag, type=typ, help=help_, **extra)
    return p


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object, like '{\"width_mult\": 0.5}'")
    return value


def resolve_settings(argv: Sequence[str] | None = None) -> dict:
    """Merge defaults, ``OUT/run.json`` (with ``--resume``), ``--config`` and the flags; check them.

    >>> s = resolve_settings(["--dataset", "synthetic", "--epochs", "2"])
    >>> s["epochs"], s["lr"], s["out"]
    (2, 0.001, 'runs/synthetic-apac-std')
    """
    args = vars(build_parser().parse_args(argv))
    settings = default_settings()
    config_file = args.pop("config", None)
    from_file = read_settings_file(config_file, "config file") if config_file else {}
    resume = args.get("resume", from_file.get("resume", False))
    out = args.get("out", from_file.get("out"))
    if resume and out and (Path(out) / "run.json").is_file():
        previous = read_settings_file(Path(out) / "run.json", "run file")
        settings.update(previous)
    settings.update(from_file)
    settings.update(args)
    return finish_settings(settings, "--dataset speechcommands|fsdd|synthetic (or 'dataset' in --config)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 done, 2 bad settings, 130 interrupted)."""
    try:
        s = resolve_settings(argv)
        run(s)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; continue with --resume (same --out)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
