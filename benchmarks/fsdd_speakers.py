"""Speaker generalisation on FSDD: leave one speaker out, for every speaker.

Targets (issue 12, section 3): trained on all speakers but one, tested on every recording
of the one left out: mean >= 95% and worst speaker >= 90%, each speaker reported with the
spread over 3 seeds, <= 10 minutes of training per fold on 2 CPU cores.

Each fold is an ordinary run of the training CLI (``--holdout-speakers SPEAKER``) with the
settings of :func:`apac_lab.recipes.fsdd_speakers_settings` (its docstring lists them and
where they come from); the last epoch is evaluated on every recording of the held-out
speaker, as the run itself does (``plain``) and with the recipe's test-time average over
playback speeds :data:`apac_lab.recipes.SPEAKERS_TEST_SPEEDS` (``speeds``, the recipe's
figure). Each fold's model stays in ``OUT/seedS/SPEAKER/model.pt`` for
``benchmarks/fsdd_few_shot.py``.

Protocol. The held-out speaker's recordings are used only for its fold's final accuracy.
The recipe was chosen on development runs of branch ``speakers`` (trained on 3 speakers,
validated on each of the 2 left out, the 5 cyclic pairs, seed 0), whose pooled table holds
every speaker as a validation speaker: the choice is therefore not nested in the outer
folds (a nested, per-fold choice among those candidates picked a two-model ensemble for 3
of the 5 folds, at twice the training time; not run here). No setting was changed after
looking at an outer test result.

Each fold's training time is measured (wall clock, and the CPU time of this process) with
the load average of the machine, which other jobs share.

Commands::

    python benchmarks/fsdd_speakers.py --seeds 0 1 2          # the table, and benchmarks/results/fsdd_speakers.md
    python benchmarks/fsdd_speakers.py --protocol report      # print (and write) it again from the log
    python benchmarks/fsdd_speakers.py --speakers george --epochs 3 --results ''   # a trial, no report file
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_MEAN, GOAL_WORST = 0.95, 0.90
RESULTS = ROOT / "benchmarks" / "results" / "fsdd_speakers.md"
#: Where benchmarks/fsdd_few_shot.py's section of the report begins (kept when this one rewrites its own).
FEW_SHOT_MARK = "\n## Few-shot fine-tuning (written by benchmarks/fsdd_few_shot.py)\n"


def require_real_fsdd(data_name: str, script: str) -> None:
    """Exit with one line when the loader fell back to its synthetic stand-in (``data_name``
    starts with "synthetic"): a benchmark never trains on it or scores it as FSDD."""
    if data_name.startswith("synthetic"):
        raise SystemExit(f"{script}: no FSDD recordings found (synthetic fallback); give --data-root or set "
                         "APAC_LAB_DATA to a folder holding fsdd/")


def held_out_waves(speaker: str, *, sample_rate: int, root=None):
    """Every recording of ``speaker`` in memory: ``(waves (N, samples), labels (N,))``."""
    from apac_lab.data import load_dataset
    from apac_lab.train.runner import cache_in_memory

    ds = load_dataset("fsdd", "test", root=root, holdout_speakers=[speaker], sample_rate=sample_rate,
                      num_samples=sample_rate, verbose=False)
    require_real_fsdd(ds.name, "fsdd_speakers")
    waves, labels = cache_in_memory(ds, "yes", progress=False).tensors
    return waves, labels.long()


def _log(path: Path, rec: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(rec) + "\n")


def commit() -> str:
    """The checkout's commit (``+dirty`` when it has uncommitted changes outside ``benchmarks/results``)."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)benchmarks/results"],  # what the benchmarks write is not the code
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_fold(speaker: str, seed: int, extra: dict, out: Path, threads: int, root=None, code: str = "unknown") -> dict:
    """Train and score one fold; return its record (``code``: the commit the process started from)."""
    from apac_lab.recipes import SPEAKERS_TEST_SPEEDS, fsdd_speakers_settings, speed_averaged_probabilities
    from apac_lab.train import run

    s = fsdd_speakers_settings(speaker, **{"seed": seed, **extra}, device="cpu", out=str(out / f"seed{seed}" / speaker),
                               data_root=root)
    load0, cpu0 = os.getloadavg()[0], time.process_time()
    res = run(s)
    require_real_fsdd(res["data"], "fsdd_speakers")
    cpu = time.process_time() - cpu0
    waves, labels = held_out_waves(speaker, sample_rate=s.sample_rate, root=root)
    probs = speed_averaged_probabilities(res["model"], waves, SPEAKERS_TEST_SPEEDS)
    hist = res["history"]
    return {"speaker": speaker, "seed": seed, "plain": float(res["test"]["accuracy"]),
            "speeds": float((probs.argmax(-1) == labels).float().mean()), "clips": len(labels),
            "train_clips": res["clips"]["train"], "seconds": sum(h["train_seconds"] for h in hist),
            "cpu_seconds": cpu, "threads": threads, "load_before": load0, "load_after": os.getloadavg()[0],
            "settings": s.to_flat(), "commit": code}


def seed_table(last: dict, key: str, extra_header: str = "", speaker_extra=None, summary_extra=None) -> list[str]:
    """The lines of a per-speaker table of accuracy ``key``: one row per held-out speaker (a column
    per seed, then mean and sd over seeds), then, over the seeds with every fold, rows ``mean``
    and ``worst`` (each seed's mean and worst speaker, with their mean and sd over seeds) and the
    line saying which seeds meet the targets.

    Args:
        last (dict): the latest record of each fold, keyed ``(speaker, seed)``.
        key (str): the record's accuracy to tabulate.
        extra_header (str, default ""): the header of columns added at the right of each row.
        speaker_extra (callable or None): ``(records, accuracies) -> str``, those columns for a
            speaker (its records and their ``key`` values, in seed order).
        summary_extra (callable or None): ``(aggregate, complete_seeds, values) -> str``, those
            columns for the ``mean`` (``aggregate`` = statistics.mean) and ``worst`` (min) rows.
    """
    seeds = sorted({s for _, s in last})
    speakers = sorted({sp for sp, _ in last})
    lines = [f"{'speaker':<10}{'clips':>6}" + "".join(f"{'seed ' + str(s):>9}" for s in seeds)
             + f"{'mean':>8}{'sd':>7}{extra_header}"]
    for spk in speakers:
        rs = [last[spk, s] for s in seeds if (spk, s) in last]
        accs = [r[key] for r in rs]
        cells = "".join(f"{last[spk, s][key]:>9.4f}" if (spk, s) in last else f"{'-':>9}" for s in seeds)
        lines.append(f"{spk:<10}{rs[0]['clips']:>6}{cells}{statistics.mean(accs):>8.4f}"
                     f"{(statistics.stdev(accs) if len(accs) > 1 else 0.0):>7.4f}"
                     + (speaker_extra(rs, accs) if speaker_extra else ""))
    complete = [s for s in seeds if all((spk, s) in last for spk in speakers)]
    if not complete:
        return lines
    per_seed = {}
    for label, agg in (("mean", statistics.mean), ("worst", min)):
        per_seed[label] = {s: agg([last[spk, s][key] for spk in speakers]) for s in complete}
        vals = list(per_seed[label].values())
        lines.append(f"{label:<16}" + "".join(f"{per_seed[label][s]:>9.4f}" if s in complete else f"{'-':>9}"
                                              for s in seeds)
                     + f"{statistics.mean(vals):>8.4f}{(statistics.stdev(vals) if len(vals) > 1 else 0.0):>7.4f}"
                     + (summary_extra(agg, complete, vals) if summary_extra else ""))
    ok = [s for s in complete if per_seed["mean"][s] >= GOAL_MEAN and per_seed["worst"][s] >= GOAL_WORST]
    lines.append(f"targets (mean >= {GOAL_MEAN:.0%}, worst speaker >= {GOAL_WORST:.0%}) met by seeds {ok} "
                 f"of {complete}")
    return lines


def report(log: Path, results: Path | None, command: str) -> int:
    """Print the per-speaker table of every seed in ``log`` (the latest run of each fold);
    write it to ``results`` (markdown) unless None."""
    recs = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    if not recs:
        raise SystemExit(f"fsdd_speakers: no results in {log}")
    last = {(r["speaker"], r["seed"]): r for r in recs}
    seeds = sorted({s for _, s in last})
    speakers = sorted({sp for sp, _ in last})
    lines = [f"FSDD leave-one-speaker-out: accuracy on every recording of the held-out speaker "
             f"({len(speakers)} folds, seeds {seeds})"]

    def spread(vals) -> str:
        return f"{max(vals) - min(vals):>8.4f}"

    for key, name in (("speeds", "the recipe: probabilities averaged over playback speeds 0.9, 1.0, 1.1"),
                      ("plain", "plain (the run's own test accuracy, one pass)")):
        lines += ["", name] + seed_table(last, key, f"{'range':>8}", lambda rs, accs: spread(accs),
                                         lambda agg, complete, vals: spread(vals))
    secs = [r["seconds"] for r in last.values()]
    cpu = [r["cpu_seconds"] for r in last.values()]
    loads = [r["load_before"] for r in last.values()] + [r["load_after"] for r in last.values()]
    lines += ["", f"training per fold: {statistics.mean(secs):.0f} s wall (max {max(secs):.0f} s), "
                  f"{statistics.mean(cpu):.0f} s CPU of this process, {sorted({r['threads'] for r in last.values()})} "
                  f"torch threads, load average {min(loads):.1f}-{max(loads):.1f} (other jobs share the machine); "
                  f"{statistics.mean(r['train_clips'] for r in last.values()):.0f} training clips per fold",
              f"commits: {sorted({r['commit'] for r in last.values()})}"]
    text = "\n".join(lines)
    print(text)
    if results is not None:
        results.parent.mkdir(parents=True, exist_ok=True)
        settings = next(iter(last.values()))["settings"]
        settings = {k: v for k, v in settings.items() if k not in ("holdout_speakers", "out", "data_root", "seed")}
        kept = results.read_text().partition(FEW_SHOT_MARK) if results.is_file() else ("", "", "")
        results.write_text(
            "# FSDD leave-one-speaker-out (written by benchmarks/fsdd_speakers.py)\n\n"
            f"Command: `{command}`\n\n```\n{text}\n```\n\nSettings of every fold (besides the held-out speaker and "
            f"the seed):\n\n```\n{json.dumps(settings)}\n```\n" + "".join(kept[1:]))
        print(f"wrote {results}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--protocol", choices=["loso", "report"], default="loso",
                   help="loso: train and score the folds; report: print the table of --log again")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: the recipe's, 30; trials only)")
    p.add_argument("--speakers", nargs="+", default=None, help="only these folds (default: every speaker)")
    p.add_argument("--out", default="runs/fsdd_speakers", help="the folds' runs: OUT/seedS/SPEAKER")
    p.add_argument("--log", default=None, help="results log (default: OUT/results.jsonl)")
    p.add_argument("--results", default=str(RESULTS), help="markdown report to write ('' for none)")
    p.add_argument("--data-root", default=None, help="FSDD folder (default: the resolution rule)")
    args = p.parse_args(argv)
    out = Path(args.out)
    log = Path(args.log) if args.log else out / "results.jsonl"
    results = Path(args.results) if args.results else None
    command = "python benchmarks/fsdd_speakers.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.protocol == "report":
        return report(log, results, command)

    import torch

    torch.set_num_threads(args.threads)
    os.environ.setdefault("APAC_LAB_OFFLINE", "1")
    from apac_lab.data import load_dataset

    speakers = args.speakers or load_dataset("fsdd", "all", root=args.data_root, verbose=False).speakers
    extra = {"epochs": args.epochs} if args.epochs is not None else {}
    code = commit()  # the code this process imported
    print(f"FSDD leave-one-speaker-out: {len(speakers)} folds ({', '.join(speakers)}), seeds {args.seeds}; "
          f"{args.threads} torch threads; commit {code}", flush=True)
    for seed in args.seeds:
        for spk in speakers:
            rec = run_fold(spk, seed, extra, out, args.threads, args.data_root, code)
            _log(log, rec)
            print(f"  seed {seed}, held out {spk}: {rec['speeds']:.4f} (plain {rec['plain']:.4f}) on {rec['clips']} "
                  f"clips; training {rec['seconds']:.0f} s wall, {rec['cpu_seconds']:.0f} s CPU, load "
                  f"{rec['load_before']:.1f}-{rec['load_after']:.1f}", flush=True)
    return report(log, results, command)


if __name__ == "__main__":
    raise SystemExit(main())
