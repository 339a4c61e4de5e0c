"""Make the shipped speaker-independent digit model (issue 12, section 3).

Trains the two members of :func:`apac_lab.recipes.fsdd_voice_model_member_settings` from their
seed on FSDD's official training split of every speaker found (no one held out):

1. the leave-one-speaker-out recipe, in ``RUN_DIR``;
2. the same recipe for :data:`apac_lab.recipes.SYNTHETIC_VOICES_MEMBER`'s epochs, with its
   synthetic espeak-ng and flite voices (drawn with the member's seed) beside the real
   recordings, in ``RUN_DIR_voices`` (its data in ``RUN_DIR_voices_data``, made by
   ``benchmarks/fsdd_espeak_voices.py``'s :func:`mixed_fsdd_folder`; needs ``espeak-ng`` and
   ``flite``).

Then it scores their ensemble (probabilities averaged, as ``benchmarks/fsdd_speakers_ensemble.py``
does) on the official test split and writes both members to
:data:`apac_lab.recipes.VOICE_MODEL_FILE` (package data; a few MB), which
:func:`apac_lab.recipes.load_voice_model` reads with ``weights_only=True``.
``tests/test_recipes_fsdd.py`` checks that the file is what these settings describe and that
it still scores >= 99% on the official test split.

Usage::

    python benchmarks/make_voice_checkpoint.py                 # 2 threads, the shipped file
    python benchmarks/make_voice_checkpoint.py --out /tmp/v.pt --epochs 1 --run-dir /tmp/vm   # a trial
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--epochs", type=int, default=None, help="epochs of both members (default: the recipe's; trials)")
    p.add_argument("--out", default=None, help="file to write (default: the shipped VOICE_MODEL_FILE)")
    p.add_argument("--run-dir", default="runs/fsdd_voice_model", help="the first member's run folder")
    p.add_argument("--data-root", default=None, help="FSDD folder (default: the resolution rule)")
    args = p.parse_args(argv)

    from fsdd_espeak_voices import check_out_folder, mixed_fsdd_folder, require_program  # noqa: E402  (benchmarks/)
    from fsdd_speakers import require_real_fsdd  # noqa: E402

    for program in ("espeak-ng", "flite"):
        require_program(program, "make_voice_checkpoint")
    voices_data = Path(args.run_dir + "_voices_data")
    check_out_folder(voices_data, "make_voice_checkpoint")

    import torch

    torch.set_num_threads(args.threads)
    os.environ.setdefault("APAC_LAB_OFFLINE", "1")
    from apac_lab.data import load_dataset
    from apac_lab.models import ProbabilityEnsemble
    from apac_lab.recipes import (
        SYNTHETIC_VOICES_MEMBER as MEMBER, VOICE_MODEL_FILE, fsdd_voice_model_member_settings, write_voice_model,
    )
    from apac_lab.train import run
    from apac_lab.train.runner import cache_in_memory

    real = load_dataset("fsdd", "all", root=args.data_root, verbose=False)
    require_real_fsdd(real.name, "make_voice_checkpoint")
    recipe, with_voices = fsdd_voice_model_member_settings()
    data = mixed_fsdd_folder(voices_data, real.clips, MEMBER["espeak_voices"], with_voices.train.seed,
                             script="make_voice_checkpoint", n_flite=MEMBER["flite_voices"])
    extra = {"epochs": args.epochs} if args.epochs is not None else {}
    runs = [(recipe, args.run_dir, args.data_root), (with_voices, args.run_dir + "_voices", str(data))]
    models, seconds, train_clips, member_acc = [], [], [], []
    for s, out, root in runs:
        t0 = time.perf_counter()
        res = run(s.replace(**extra, device="cpu", out=out, data_root=root))
        seconds.append(round(time.perf_counter() - t0, 1))
        models.append(res["model"].eval())
        train_clips.append(res["clips"]["train"])
        member_acc.append(float(res["test"]["accuracy"]))  # the official test split (real recordings only)
        classes = res["classes"]
    test = load_dataset("fsdd", "test", root=args.data_root, sample_rate=recipe.sample_rate,
                        num_samples=recipe.sample_rate, verbose=False)
    waves, labels = cache_in_memory(test, "yes", progress=False).tensors
    ensemble = ProbabilityEnsemble(models).eval()
    with torch.no_grad():
        pred = torch.cat([ensemble(waves[i:i + 256]).argmax(-1) for i in range(0, len(waves), 256)])
    acc = float((pred == labels).float().mean())
    out = Path(args.out) if args.out else VOICE_MODEL_FILE
    # the file records the recipe's settings, not where this machine kept its data and runs
    shipped = [s.replace(**extra) for s, _, _ in runs] if extra else [recipe, with_voices]
    write_voice_model(out, models, shipped, classes,
                      metrics={"test_accuracy": acc, "member_test_accuracy": member_acc, "test_clips": len(labels),
                               "train_clips": train_clips[0], "member_train_clips": train_clips,
                               "espeak_voices": MEMBER["espeak_voices"],
                               "flite_voices": MEMBER["flite_voices"], "train_seconds": seconds})
    print(f"members trained on {train_clips} clips in {seconds} s; official test split: members {member_acc}, "
          f"ensemble {acc:.4f} on {len(labels)} clips; wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
