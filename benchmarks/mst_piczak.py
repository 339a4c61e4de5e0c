"""Tax et al. (2017) on the shared training loop: the MSTmodel, then Piczak's CNN in four
configurations, as a table beside the paper's figures. The same recipe as notebook 04.

Usage::

    APAC_LAB_BUDGET=quick python benchmarks/mst_piczak.py      # CI's smoke test (FSDD, 12 clips per digit)
    python benchmarks/mst_piczak.py                            # classroom (the default): all of FSDD
    APAC_LAB_BUDGET=full python benchmarks/mst_piczak.py       # the paper's: ESC-50, test fold 5, validation 4
    APAC_LAB_BUDGET=full python benchmarks/mst_piczak.py --test-fold 1 --val-fold 2
    python benchmarks/mst_piczak.py --deltas piczak --variations 4 --classifier-training-epochs 30

The flags are made from :class:`apac_lab.recipes.MSTSettings`'s fields (``--frames``,
``--seed``, ``--target-mel``, ``--deltas``, ``--variations``, ...) and, for each of its three
trainings, from :class:`apac_lab.train.TrainConfig`'s (``--mst-training-lr``,
``--classifier-training-batch-size``, ``--finetune-training-epochs``, ...).

Before training it prints the data it needs (and whether it must be downloaded) and the
time the run should take on this device, from a few real training steps of each model.

The full budget follows the paper: 101-frame segments at 22,050 Hz, librosa's mel, four
shifted copies of each training clip, the MSTmodel trained with Adam (3e-4, batch 100)
and early stopping on the validation loss (at most 800 epochs and a patience of 50: the
reference code's; the paper gives no patience), the classifiers with SGD (Nesterov
momentum 0.9, lr 5e-3, batch 500, 200 epochs). It needs ESC-50 and a GPU. The paper
reports its results averaged over the 5 test folds; run this once per fold to do the same.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apac_lab.recipes import (  # noqa: E402
    MSTSettings, mst_data_needed, mst_estimate_run, format_mst_estimate, format_results, load_segments, record_results,
    mst_result_rows, run_comparison,
)
from apac_lab.recipes.mst_piczak import TRAININGS  # noqa: E402
from apac_lab.train import TrainConfig  # noqa: E402
from apac_lab.train.config import add_flags  # noqa: E402
from apac_lab.utils import budget_reason  # noqa: E402


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
    settings = MSTSettings.for_budget(**overrides)
    budget, why = budget_reason()
    print(f"[mst_piczak] budget {budget!r} ({why}): {settings}")
    print(mst_data_needed(settings))
    segments = load_segments(settings)
    print(format_mst_estimate(mst_estimate_run(settings, segments, configs=tuple(configs))))
    result = run_comparison(settings, configs=tuple(configs), segments=segments)
    print(format_results(result))
    record_results("04_learning_the_mel_mstmodel", mst_result_rows(result), seed=settings.seed)
    if out_json:
        out_json.write_text(json.dumps({"settings": settings.to_dict(), "rows": result["rows"],
                                        "mst_scores": result["mst_scores"], "mst_history": result["mst_history"]},
                                       indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
