"""The full budget's first GPU check (issue 11 §5): APAC's training run (the CLI's
:func:`apac_lab.train.run`) for one epoch on a Speech Commands tree, with and without mixed
precision; prints clips/s, the losses against chance and whether anything was NaN.

The loop raises on a NaN or infinite loss, so a finished epoch had none; "the loss fell" means
the epoch's mean training loss, and the validation loss, are below chance, ``ln(35)`` for 35
classes (what an untrained model scores).

Usage (on a GPU machine; the tree from ``benchmarks/make_speechcommands_tree.py``)::

    python benchmarks/make_speechcommands_tree.py /tmp/sc/speechcommands
    python benchmarks/full_first_epoch.py /tmp/sc/speechcommands --device cuda --out /tmp/first-epoch
    python benchmarks/full_first_epoch.py ROOT --device cpu --max-steps 2 --out /tmp/fe   # a CPU dry run
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root", type=Path, help="a Speech Commands v2 tree")
    p.add_argument("--out", type=Path, required=True, help="a new folder for the runs' files")
    p.add_argument("--device", default="cuda")
    p.add_argument("--mode", default="std", help="APAC's front-end mode")
    p.add_argument("--batch-size", type=int, default=None, help="default: TrainConfig's")
    p.add_argument("--max-steps", type=int, default=None, help="cap the epoch's steps (a dry run)")
    args = p.parse_args(argv)

    import torch

    from apac_lab.train import run, run_settings

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("full_first_epoch: no CUDA GPU here (give --device cpu for a dry run)", file=sys.stderr)
        return 2
    if args.device.startswith("cuda"):
        print(f"GPU: {torch.cuda.get_device_name()}; torch {torch.__version__}")
    ok, rows = True, []
    for amp in (True, False):
        name = f"{args.mode}-{'amp' if amp else 'fp32'}"
        extra = {k: v for k, v in (("batch_size", args.batch_size), ("max_steps_per_epoch", args.max_steps)) if v}
        result = run(run_settings(dataset="speechcommands", data_root=str(args.root), model="apac", mode=args.mode,
                                  epochs=1, amp=amp, device=args.device, out=str(args.out / name), **extra))
        h, chance = result["history"][-1], math.log(len(result["classes"]))
        fell = h["train_loss"] < chance and h.get("val_loss", 0.0) < chance
        finite = all(math.isfinite(h[k]) for k in ("train_loss", "val_loss") if k in h)
        ok &= fell and finite
        rows.append((name, h["clips_per_s"], h["train_loss"], h.get("val_loss", float("nan")), result["test"]["accuracy"],
                     fell, finite, h["train_seconds"]))
    print(f"\none epoch of APAC (mode {args.mode}) on {args.root}; chance loss ln({len(result['classes'])}) = {chance:.3f}")
    print(f"{'run':<12} {'clips/s':>9} {'train loss':>10} {'val loss':>9} {'test acc':>9}  loss fell  finite  train s")
    for name, cps, tl, vl, acc, fell, finite, secs in rows:
        print(f"{name:<12} {cps:>9.1f} {tl:>10.4f} {vl:>9.4f} {acc:>9.4f}  {'yes' if fell else 'NO':<9}  "
              f"{'yes' if finite else 'NO':<6}  {secs:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
