"""Make the shipped speaker-independent digit model (issue 12, section 3).

Trains :func:`apac_lab.recipes.fsdd_voice_model_settings` (the leave-one-speaker-out recipe
with no speaker held out) from its seed on FSDD's official training split of every speaker
found, evaluates it on the official test split, and writes it to
:data:`apac_lab.recipes.VOICE_MODEL_FILE` (package data; a few MB), which
:func:`apac_lab.recipes.load_voice_model` reads with ``weights_only=True``.
``tests/test_recipes_fsdd.py`` checks that the file is what these settings describe and that
it still scores >= 99% on the official test split.

Usage::

    python benchmarks/make_voice_checkpoint.py                 # 2 threads, the shipped file
    python benchmarks/make_voice_checkpoint.py --out /tmp/v.pt --epochs 1   # a trial
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: the recipe's; trials only)")
    p.add_argument("--out", default=None, help="file to write (default: the shipped VOICE_MODEL_FILE)")
    p.add_argument("--run-dir", default="runs/fsdd_voice_model", help="the training run's folder")
    p.add_argument("--data-root", default=None, help="FSDD folder (default: the resolution rule)")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    os.environ.setdefault("APAC_LAB_OFFLINE", "1")
    from apac_lab.recipes import VOICE_MODEL_FILE, fsdd_voice_model_settings, write_voice_model
    from apac_lab.train import run

    from fsdd_speakers import require_real_fsdd  # noqa: E402  (benchmarks/)

    extra = {"epochs": args.epochs} if args.epochs is not None else {}
    s = fsdd_voice_model_settings(**extra, device="cpu", out=args.run_dir, data_root=args.data_root)
    t0 = time.perf_counter()
    res = run(s)
    require_real_fsdd(res["data"], "make_voice_checkpoint")
    seconds = time.perf_counter() - t0
    acc = float(res["test"]["accuracy"])
    out = Path(args.out) if args.out else VOICE_MODEL_FILE
    # the file records the recipe's settings, not where this machine kept its data and run
    shipped = s.replace(data_root=None, out=fsdd_voice_model_settings().out, device=None)
    write_voice_model(out, res["model"], shipped, res["classes"],
                      metrics={"test_accuracy": acc, "test_clips": int(res["test"]["confusion"].sum()),
                               "train_clips": res["clips"]["train"], "train_seconds": round(seconds, 1)})
    print(f"trained on {res['clips']['train']} clips in {seconds:.0f} s; official test split: accuracy {acc:.4f} "
          f"on {int(res['test']['confusion'].sum())} clips; wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
