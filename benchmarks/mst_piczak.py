"""Tax et al. (2017) on the shared training loop: the MSTmodel, then Piczak's CNN in four
configurations, as a table beside the paper's claims.

Usage::

    APAC_LAB_QUICK=1 python benchmarks/mst_piczak.py        # quick: FSDD (or synthetic), ~1 min of CPU
    python benchmarks/mst_piczak.py                          # full: ESC-50 (test fold 5, validation fold 4)
    python benchmarks/mst_piczak.py --test-fold 1 --val-fold 2 --clf-epochs 100

The full run follows the paper: 101-frame segments at 22,050 Hz, the MSTmodel trained with
Adam (3e-4, batch 100, early stopping after 50 epochs without a better validation loss),
the classifiers with SGD (Nesterov momentum 0.9, lr 5e-3, batch 500, 200 epochs). It needs
ESC-50 (``APAC_LAB_DATA`` holding ``esc50/``, or downloads allowed) and a GPU to finish in
hours rather than days. The paper reports its results averaged over the 5 test folds; run
this once per fold to do the same.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apac_lab.models.mst_recipes import MSTSettings, format_results, run_comparison, settings_dict  # noqa: E402
from apac_lab.utils import is_quick  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    names = {f.name: f.type for f in fields(MSTSettings)}
    for name in ("dataset", "frames", "test_fold", "val_fold", "mst_epochs", "clf_epochs", "finetune_epochs", "hidden",
                 "per_class", "seed"):
        kind = {"dataset": str}.get(name, int)
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=None, help=f"override {name} ({names[name]})")
    parser.add_argument("--configs", default="abcd", help="which configurations to run (default abcd)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows and settings to this file")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in vars(args).items() if k not in ("configs", "json") and v is not None}
    settings = MSTSettings.auto(**overrides)
    print(f"[mst_piczak] {'quick' if is_quick() else 'full'} mode: {settings}")
    result = run_comparison(settings, configs=tuple(args.configs))
    print(format_results(result))
    if args.json:
        args.json.write_text(json.dumps({"settings": settings_dict(settings), "rows": result["rows"],
                                         "mst_history": result["mst_history"]}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
