"""How notebook 03's classroom listener epochs and probe were chosen: on validation clips only.

The classroom budget's data (FSDD's official training split; a tenth of its clips held out,
seeded, as validation clips), the kit's listener trained for 2, 3 and 4 epochs, and for each a
probe (:func:`apac_lab.recipes.fit_probe`) on its clip embeddings for every hidden size,
dropout and weight decay of the grid below. Each line prints the probe's validation accuracy
and loss at its kept epoch. The test split is never read: the classroom budget takes the
grid's best validation accuracy (ties: the lower validation loss), and notebook 03 scores that
choice once on the test split.

Usage: ``python benchmarks/listener_probe_choice.py [--threads 1]`` (about 10 minutes on one
CPU thread). Recorded: ``benchmarks/results/listener_probe_choice.md``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import apac_lab  # noqa: E402
from apac_lab.data import load_dataset  # noqa: E402
from apac_lab.recipes import clip_embeddings, fit_listener, fit_probe, listener_data, listener_settings  # noqa: E402

LISTENER_EPOCHS = (2, 3, 4)
HIDDEN = (128, 512)
DROPOUT = (0.2, 0.5)
WEIGHT_DECAY = (1e-3, 1e-2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    apac_lab.seed_everything(0)
    settings = listener_settings("classroom")
    data = listener_data(load_dataset("fsdd", "train"), load_dataset("fsdd", "test"), settings, progress=False)
    rows = []
    for epochs in LISTENER_EPOCHS:
        t0 = time.perf_counter()
        listener, _ = fit_listener(data.train, model=settings.model(),
                                   config=replace(settings.training, epochs=epochs, progress=False), val_views=data.val)
        emb = {name: clip_embeddings(listener, getattr(data, name)) for name in ("train", "val")}  # no test
        print(f"listener, {epochs} epochs: {time.perf_counter() - t0:.0f} s", flush=True)
        for hidden, dropout, wd in itertools.product(HIDDEN, DROPOUT, WEIGHT_DECAY):
            torch.manual_seed(settings.seed)
            _, history = fit_probe(emb["train"], data.train_labels, emb["val"], data.val_labels,
                                   n_classes=len(data.classes), hidden=hidden, dropout=dropout,
                                   config=replace(settings.probe_training, weight_decay=wd, progress=False))
            best = min(history, key=lambda r: r["val_loss"])
            row = {"listener_epochs": epochs, "hidden": hidden, "dropout": dropout, "weight_decay": wd,
                   "val_acc": round(best["val_acc"], 4), "val_loss": round(best["val_loss"], 4)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    pick = max(rows, key=lambda r: (r["val_acc"], -r["val_loss"]))
    print(f"chosen (best validation accuracy): {json.dumps(pick)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
