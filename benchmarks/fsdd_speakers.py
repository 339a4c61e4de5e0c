"""Speaker generalisation on FSDD: leave one speaker out, for every speaker.

Goal (issue 3, section 8): train on all speakers but one, test on every recording of the
one left out; report each speaker and the mean; aim for >= 90% on each.

Each fold is an ordinary run of the training CLI (``--holdout-speakers SPEAKER``) with the
settings of :func:`apac_lab.recipes.fsdd_speakers_settings` (its docstring lists them: the FSDD
recipe's training, a full-width APAC, and augmentation against what differs between speakers
and their recordings).

With five speakers, each fold trains on four: results move by several points with the seed
(george: 83% with seed 0, 90% with seed 1 in our trials), so read one run with care.

Usage::

    python benchmarks/fsdd_speakers.py                       # every speaker, 2 threads
    python benchmarks/fsdd_speakers.py --speakers george --epochs 3 --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL = 0.90


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: the recipe's, 30)")
    p.add_argument("--speakers", nargs="+", default=None, help="only these folds (default: every speaker)")
    p.add_argument("--seed", type=int, default=None, help="seed (default: the recipe's, 0)")
    p.add_argument("--no-time-stretch", action="store_true", help="leave the time stretch out (for comparison)")
    p.add_argument("--out", default="runs/fsdd_speakers")
    p.add_argument("--data-root", default=None, help="FSDD folder (default: the resolution rule)")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    os.environ.setdefault("APAC_LAB_OFFLINE", "1")
    from apac_lab.data import load_dataset
    from apac_lab.recipes import fsdd_speakers_settings
    from apac_lab.train import run

    speakers = args.speakers or load_dataset("fsdd", "all", root=args.data_root, verbose=False).speakers
    print(f"FSDD leave-one-speaker-out: {len(speakers)} folds ({', '.join(speakers)}); {args.threads} torch threads")
    extra = {k: v for k, v in (("epochs", args.epochs), ("seed", args.seed)) if v is not None}
    if args.no_time_stretch:
        extra["time_stretch"] = None
    first = fsdd_speakers_settings(speakers[0], **extra).to_dict()
    print("settings: " + json.dumps({k: v for k, v in first.items() if k not in ("holdout_speakers", "out", "quiet")}))
    results = {}
    for spk in speakers:
        s = fsdd_speakers_settings(spk, **extra, device="cpu", out=str(Path(args.out) / spk),
                                   data_root=args.data_root)
        t0 = time.perf_counter()
        res = run(s)
        hist = res["history"]
        results[spk] = (res["test"]["accuracy"], int(res["test"]["confusion"].sum()), time.perf_counter() - t0,
                        sum(h["train_seconds"] for h in hist) / len(hist))
        print(f"held out {spk}: accuracy {results[spk][0]:.4f} on {results[spk][1]} clips "
              f"({results[spk][2]:.0f} s, {results[spk][3]:.1f} s per epoch)", flush=True)
    print()
    print(f"{'speaker left out':<18} {'test clips':>10} {'accuracy':>9} {'>= 90%':>7}")
    for spk, (acc, n, _, _) in results.items():
        print(f"{spk:<18} {n:>10d} {acc:>9.4f} {'yes' if acc >= GOAL else 'no':>7}")
    accs = [r[0] for r in results.values()]
    mean = sum(accs) / len(accs)
    print(f"{'mean':<18} {sum(r[1] for r in results.values()):>10d} {mean:>9.4f} "
          f"{'yes' if min(accs) >= GOAL else 'no':>7}")
    print(f"worst speaker {min(results, key=lambda k: results[k][0])}: {min(accs):.4f}; "
          f"total time {sum(r[2] for r in results.values()):.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
