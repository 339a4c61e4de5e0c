"""The training command line: ``python -m apac_lab.train`` (or ``apac-lab-train``).

One run: load the data through :func:`apac_lab.data.load_dataset` (the resolution rule),
build a model from the registry (:func:`apac_lab.models.build_model`), train it with
:func:`apac_lab.train.fit`, then evaluate it on the test split and write, to ``--out``:

* ``run.json``: every setting of the run, :meth:`RunSettings.to_dict` (a valid ``--config``
  file for a re-run), written once the data, the model and (with ``--resume``) the
  checkpoint have loaded;
* ``config.json``, ``last.pt`` (every epoch, atomic), ``history.json``: from :func:`fit`;
* ``model.pt``: the final weights with what is needed to rebuild the model;
* ``frontend.pt``: the trained front-end, in trainable modes (the checkpoint that mode
  ``mel+stft+fsdd`` starts from);
* ``metrics.json`` (test accuracy, loss, per-class report, confusion matrix),
  ``confusion.csv`` and ``report.txt``.

Settings come from, in increasing priority: the defaults, ``OUT/run.json`` when
resuming, a ``--config`` JSON file (the same keys as the flags, with ``_``), and the
flags given. The flags are made from the fields of :class:`RunSettings` and its nested
:class:`TrainConfig` (their help text and checks live there). Bad settings print one
line, ``apac-lab-train: error: ...``, and exit with status 2.

* ``--resume`` refuses, naming the differences, when a setting that changes the result
  (model, mode, dataset, learning rate, batch size, seed, ...; fewer epochs than done)
  differs from the saved run's; without a checkpoint in ``--out`` it says that it starts
  a new run. An empty or cut ``last.pt`` is named in one line.
* ``--model package.module:function`` imports and runs that code. From the command line
  that is what was asked; from a settings file (``--config``, ``run.json``) it is refused
  unless ``--allow-code`` is given on the command line.
* One run per folder: a second run on the same ``--out`` refuses while the first holds
  ``OUT/.lock`` (naming its process).

Under ``torchrun --nproc_per_node=N`` the same command initialises the process group (NCCL
on CUDA, Gloo on the CPU) and trains with DistributedDataParallel; ``--batch-size`` is then
per process.

Examples::

    python -m apac_lab.train --dataset fsdd --model apac --mode std --epochs 20 --out runs/fsdd
    python -m apac_lab.train --out runs/fsdd --resume          # continue an interrupted run
    torchrun --nproc_per_node=2 -m apac_lab.train --config runs/fsdd/run.json --out runs/fsdd-ddp

Notebook: 05_apac_training.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Sequence

from apac_lab.train.config import add_flags
from apac_lab.train.options import RunSettings, UsageError, read_settings_file, run_settings
from apac_lab.train.runner import PROG, build_from_settings, cache_in_memory, run

__all__ = ["main", "build_parser", "run_settings_from_argv", "run_settings", "run", "build_from_settings",
           "cache_in_memory", "RunSettings", "UsageError"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit status 2
        raise UsageError(f"{message} (see {PROG} --help)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, made from :class:`RunSettings`; only the flags given appear in its namespace."""
    p = _Parser(prog=PROG, description="Train and evaluate an APAC-lab model (checkpoints, metrics, resume, DDP).",
                argument_default=argparse.SUPPRESS)
    p.add_argument("--config", help="JSON file of settings (the keys below, with '_'); flags override it")
    p.add_argument("--allow-code", action="store_true",
                   help="allow a --model package.module:function read from --config or run.json (it runs that code)")
    add_flags(p, RunSettings)
    return p


def run_settings_from_argv(argv: Sequence[str] | None = None) -> RunSettings:
    """The run's settings from the command line: defaults, ``OUT/run.json`` (with ``--resume``),
    ``--config``, then the flags; checked.

    >>> s = run_settings_from_argv(["--dataset", "synthetic", "--epochs", "2"])
    >>> s.train.epochs, s.train.lr, s.out
    (2, 0.001, 'runs/synthetic-apac-std')
    """
    args = vars(build_parser().parse_args(argv))
    allow_code = args.pop("allow_code", False)
    config_file = args.pop("config", None)
    from_file = read_settings_file(config_file, "config file") if config_file else {}
    resume = args.get("resume", from_file.get("resume", False))
    out = args.get("out", from_file.get("out"))
    previous, run_file = {}, Path(out) / "run.json" if out else None
    if resume and run_file is not None and run_file.is_file():
        previous = read_settings_file(run_file, "run file")
    merged = {**previous, **from_file, **args}
    model = merged.get("model", "")
    if ":" in model and "model" not in args and not allow_code:
        source = f"--config {config_file}" if "model" in from_file else f"{run_file}"
        raise UsageError(f"--model {model} comes from {source} and would import and run that code: give "
                         "--allow-code on the command line to allow it, or --model NAME")
    return run_settings(**merged)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 done, 2 bad settings, 130 interrupted)."""
    try:
        run(run_settings_from_argv(argv))
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; continue with --resume (same --out)", file=sys.stderr)
        return 130
    return 0


def __getattr__(name: str):
    if name == "settings":  # notebook 05 of release 0.1 imports it
        warnings.warn("apac_lab.train.cli.settings is deprecated: use apac_lab.train.run_settings (it returns a "
                      "RunSettings)", DeprecationWarning, stacklevel=2)
        return run_settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
