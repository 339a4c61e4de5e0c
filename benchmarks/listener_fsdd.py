"""Train the listener on FSDD (reconstruction, MSE), then a classifier on its embeddings.

Usage: ``python benchmarks/listener_fsdd.py [--epochs 20] [--probe-epochs 60] [--per-class N]``
(``APAC_LAB_QUICK=1`` shrinks data and epochs on the same path; any dataset that
``load_dataset`` knows works with ``--dataset``).

Prints the listener's reconstruction error on the test clips (MSE on the [0, 1] dB
scale, against predicting the mean training view, and the share of variance
reconstructed), and the test accuracy of a small feed-forward classifier on the clips'
embeddings (the views' embeddings every 200 ms, concatenated). FSDD's official split:
recordings 0-4 of every digit and speaker are the test set.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from apac_lab import quick_or_full, seed_everything  # noqa: E402
from apac_lab.data import load_dataset  # noqa: E402
from apac_lab.frontends import EchoicFrontend  # noqa: E402
from apac_lab.models import Listener  # noqa: E402
from apac_lab.recipes import (clip_embeddings, echoic_views, fit_listener, fit_probe,  # noqa: E402
                              reconstruction_report)
from apac_lab.train import TrainConfig, evaluate  # noqa: E402
from torch.utils.data import TensorDataset  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="fsdd")
    ap.add_argument("--epochs", type=int, default=quick_or_full(3, 20), help="listener epochs")
    ap.add_argument("--probe-epochs", type=int, default=quick_or_full(20, 60), help="classifier epochs")
    ap.add_argument("--per-class", type=int, default=quick_or_full(20, None), help="training clips per class (all if unset)")
    ap.add_argument("--latent", type=int, default=250)
    ap.add_argument("--view-stride", type=int, default=20, help="frames between views (20 = 200 ms)")
    ap.add_argument("--device", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    t0 = time.perf_counter()
    train, test = load_dataset(args.dataset, "train"), load_dataset(args.dataset, "test")
    if args.per_class:
        train = train.balanced(args.per_class, seed=args.seed)
    frontend = EchoicFrontend(sample_rate=train.sample_rate, view_stride=args.view_stride)
    v_train, y_train = echoic_views(train, frontend, device=args.device)
    v_test, y_test = echoic_views(test, frontend, device=args.device)
    print(f"{train.name}: {len(train)} train / {len(test)} test clips; views {tuple(v_train.shape[1:])} per clip "
          f"(views x steps x filters); {time.perf_counter() - t0:.0f} s")

    cfg = TrainConfig(epochs=args.epochs, batch_size=64, lr=2e-3, weight_decay=0.0, seed=args.seed, device=args.device)
    listener, hist = fit_listener(v_train, model=Listener(n_steps=v_train.shape[-2], n_bins=v_train.shape[-1],
                                                          latent_dim=args.latent), config=cfg, seed=args.seed)
    rec = reconstruction_report(listener, v_test, mean=v_train.reshape(-1, *v_train.shape[-2:]).mean(0),
                                config=TrainConfig(epochs=1, batch_size=256, progress=False, device=args.device))
    print(f"listener: {sum(p.numel() for p in listener.parameters()):,} parameters, {args.epochs} epochs, "
          f"final val MSE {hist[-1].get('val_loss', float('nan')):.5f}; {time.perf_counter() - t0:.0f} s")
    print(f"RECONSTRUCTION test MSE {rec['mse']:.5f} (mean-view baseline {rec['baseline_mse']:.5f}; "
          f"variance reconstructed R2 = {rec['r2']:.3f})")

    e_train, e_test = clip_embeddings(listener, v_train), clip_embeddings(listener, v_test)
    pcfg = TrainConfig(epochs=args.probe_epochs, batch_size=32, lr=1e-3, weight_decay=1e-3, seed=args.seed,
                       device=args.device, progress=False)
    clf, _ = fit_probe(e_train, y_train, n_classes=len(train.classes), config=pcfg)
    acc = evaluate(clf, TensorDataset(e_test, y_test), pcfg)["accuracy"]
    print(f"CLASSIFIER on {e_train.shape[1]}-d clip embeddings ({v_train.shape[1]} views x {args.latent}): "
          f"test accuracy {acc:.3f} ({len(test)} clips, chance {1 / len(train.classes):.2f}); "
          f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
