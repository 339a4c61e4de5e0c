"""Tax et al. (2017) on the shared training loop: the MSTmodel, then Piczak's CNN in four
configurations, as a table beside the paper's claims.

Usage::

    APAC_LAB_QUICK=1 python benchmarks/mst_piczak.py        # quick: FSDD (or synthetic), ~1 min of CPU
    python benchmarks/mst_piczak.py                          # full: ESC-50 (test fold 5, validation fold 4)
    python benchmarks/mst_piczak.py --test-fold 1 --val-fold 2 --classifier-training-epochs 100

The flags are made from :class:`apac_lab.recipes.MSTSettings`'s fields (``--frames``,
``--seed``, ...) and, for each of its three trainings, from :class:`apac_lab.train.TrainConfig`'s
(``--mst-training-lr``, ``--classifier-training-batch-size``, ``--finetune-training-epochs``, ...).

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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apac_lab.recipes import MSTSettings, format_results, run_comparison  # noqa: E402
from apac_lab.recipes.mst_piczak import TRAININGS  # noqa: E402
from apac_lab.train import TrainConfig  # noqa: E402
from apac_lab.train.config import add_flags  # noqa: E402
from apac_lab.utils import is_quick  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     argument_default=argparse.SUPPRESS)
    add_flags(parser, MSTSettings, defaults=False)
    per_training = tuple(f for f in TrainConfig.__dataclass_fields__ if f not in ("seed", "progress"))  # seed: --seed
    for name in TRAININGS:
        add_flags(parser.add_argument_group(name.replace("_", " ")), TrainConfig, prefix=name, only=per_training,
                  defaults=False)
    parser.add_argument("--configs", default="abcd", help="which configurations to run (default abcd)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows and settings to this file")
    args = vars(parser.parse_args(argv))
    configs, out_json = args.pop("configs"), args.pop("json")
    overrides = {k: v for k, v in args.items() if not k.startswith(TRAININGS)}
    for name in TRAININGS:
        changes = {k[len(name) + 1:]: v for k, v in args.items() if k.startswith(name + "_")}
        if changes:
            overrides[name] = changes
    settings = MSTSettings.auto(**overrides)
    print(f"[mst_piczak] {'quick' if is_quick() else 'full'} mode: {settings}")
    result = run_comparison(settings, configs=tuple(configs))
    print(format_results(result))
    if out_json:
        out_json.write_text(json.dumps({"settings": settings.to_dict(), "rows": result["rows"],
                                        "mst_history": result["mst_history"]}, indent=1) + "\n")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
