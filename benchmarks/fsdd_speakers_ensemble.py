"""Speaker generalisation on FSDD, leave one speaker out: a two-model ensemble.

Targets (issue 12, section 3): mean >= 95% and worst speaker >= 90% over every FSDD speaker,
each speaker reported with the spread over 3 seeds, <= 10 minutes of training per fold on 2
CPU cores.

The ensemble of one fold averages the probabilities
(:class:`apac_lab.models.ProbabilityEnsemble`, then the recipe's speed average
:func:`apac_lab.recipes.speed_averaged_probabilities`) of two models trained for that fold,
with the same held-out speaker and seed:

1. the recipe, ``runs/fsdd_speakers/seed{seed}/{speaker}``, made by
   ``python benchmarks/fsdd_speakers.py --seeds SEED`` (30 epochs on the real recordings);
2. the recipe with synthetic voices added to its training split (100 of espeak-ng and 40 of
   flite, :data:`apac_lab.recipes.SYNTHETIC_VOICES_MEMBER`),
   ``runs/fsdd_voices/seed{seed}/runs/{speaker}``, made by
   ``python benchmarks/fsdd_espeak_voices.py --out runs/fsdd_voices/seedSEED --seed SEED``
   (20 epochs; the voices are drawn with the same seed). Until 2026-12-02 it had the espeak-ng
   voices only (``--flite-voices 0``); the results file compares the two ensembles.

This script trains nothing: it scores the members and their ensemble on every recording of
the held-out speaker and reports each member's training time (the sum of its epochs; the two
can train at once, one per core). ``--members`` takes other folders (``{seed}`` and
``{speaker}`` are filled in).

How the ensemble was chosen (recorded in ``benchmarks/results/fsdd_speakers_ensemble.md``):
on the development models of the espeak-ng experiment only (trained on 3 real speakers, the
pairs george + jackson and lucas + nicolas held out, seed 0), before any leave-one-speaker-out
fold was scored as an ensemble; the flite voices were added to the second member the same way.
``--speakers`` and ``--members`` without placeholders score such a pair.

``--adapt batchnorm`` adds an unsupervised speaker adaptation at test time
(:func:`apac_lab.train.few_shot.batchnorm_adapted`): each member's BatchNorm statistics are
re-estimated on the held-out speaker's recordings, without their labels. No clip is scored by a
model adapted on itself: the speaker's recordings are split in two halves (alternate clips of
each digit), and each half is scored by the members adapted on the other half; ``--adapt-clips N``
adapts on N clips of the other half only (drawn at random, seeded, labels unseen). It needs
recordings of the new voice before it answers, so it is reported apart from the plain ensemble.

Commands::

    python benchmarks/fsdd_speakers_ensemble.py --seeds 0 1 2      # the table, and its report file
    python benchmarks/fsdd_speakers_ensemble.py --protocol report  # print (and write) it again from the log
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import fsdd_speakers as S  # noqa: E402  (held-out recordings, commit, log, targets)

RESULTS = ROOT / "benchmarks" / "results" / "fsdd_speakers_ensemble.md"
#: The members of the ensemble and the command that trains each (``{seed}``, ``{speaker}`` filled in).
MEMBERS = {
    "runs/fsdd_speakers/seed{seed}/{speaker}": "python benchmarks/fsdd_speakers.py --seeds {seed}",
    "runs/fsdd_voices/seed{seed}/runs/{speaker}":
        "python benchmarks/fsdd_espeak_voices.py --out runs/fsdd_voices/seed{seed} --seed {seed}",
}
#: Where the text written by hand in the report ends and this script's table begins.
MARK = "\n## Leave one speaker out (written by benchmarks/fsdd_speakers_ensemble.py)\n"


def member_folder(template: str, seed: int, speaker: str) -> Path:
    """The member's run folder; exits with one line (naming the command that makes it) when its
    ``model.pt`` is missing."""
    folder = Path(template.format(seed=seed, speaker=speaker))
    if not (folder / "model.pt").is_file():
        how = MEMBERS.get(template, "the benchmark that trained this member").format(seed=seed)
        raise SystemExit(f"fsdd_speakers_ensemble: no model at {folder / 'model.pt'}; train it with {how}")
    return folder


def training_seconds(folder: Path) -> float:
    """The sum of the training epochs' wall time in the run's ``history.json``."""
    return float(sum(h["train_seconds"] for h in json.loads((folder / "history.json").read_text())))


def cross_adapted_probabilities(model, waves, n_clips: int | None = None, seed: int = 0):
    """The speed-averaged probabilities of every clip, each half of ``waves`` (alternate clips)
    scored by ``model`` with its BatchNorm statistics re-estimated on the other half (on
    ``n_clips`` of its clips drawn with ``seed`` when given)."""
    import torch

    from apac_lab.recipes import SPEAKERS_TEST_SPEEDS, speed_averaged_probabilities
    from apac_lab.train.few_shot import batchnorm_adapted

    probs = None
    halves = torch.arange(len(waves)) % 2
    for h in (0, 1):
        scored, other = halves == h, (halves != h).nonzero().flatten()
        if n_clips is not None:
            if not 2 <= n_clips <= len(other):
                raise SystemExit(f"fsdd_speakers_ensemble: --adapt-clips {n_clips}: give 2 to {len(other)} "
                                 "(half the speaker's recordings)")
            gen = torch.Generator().manual_seed(seed + h)
            other = other[torch.randperm(len(other), generator=gen)[:n_clips]]
        p = speed_averaged_probabilities(batchnorm_adapted(model, waves[other]), waves[scored], SPEAKERS_TEST_SPEEDS)
        probs = p.new_zeros(len(waves), p.shape[-1]) if probs is None else probs
        probs[scored] = p
    return probs


def score_fold(templates, seed: int, speaker: str, root=None, code: str = "unknown", adapt: str = "none",
               adapt_clips: int | None = None) -> dict:
    """Each member's and the ensemble's speed-averaged accuracy on every recording of ``speaker``
    (``adapt="batchnorm"``: with :func:`cross_adapted_probabilities` on ``adapt_clips``, drawn with the seed)."""
    from apac_lab.recipes import SPEAKERS_TEST_SPEEDS, speed_averaged_probabilities

    from fsdd_few_shot import load_fold_model

    folders = [member_folder(t, seed, speaker) for t in templates]
    loaded = [load_fold_model(f) for f in folders]
    rates = {s.sample_rate for _, s in loaded}
    if len(rates) != 1:
        raise SystemExit(f"fsdd_speakers_ensemble: members at different sample rates {sorted(rates)}: {folders}")
    waves, labels = S.held_out_waves(speaker, sample_rate=rates.pop(), root=root)

    # the ensemble's probabilities at each speed are the members' mean, so its speed average is the
    # mean of theirs (ProbabilityEnsemble's average, without a second pass of each member)
    if adapt == "batchnorm":
        probs = [cross_adapted_probabilities(m, waves, adapt_clips, seed) for m, _ in loaded]
    else:
        probs = [speed_averaged_probabilities(m, waves, SPEAKERS_TEST_SPEEDS) for m, _ in loaded]

    def accuracy(p) -> float:
        return float((p.argmax(-1) == labels).float().mean())

    return {"speaker": speaker, "seed": seed, "clips": len(labels), "members": [str(f) for f in folders],
            "member_speeds": [accuracy(p) for p in probs], "speeds": accuracy(sum(probs) / len(probs)),
            "member_seconds": [training_seconds(f) for f in folders], "commit": code,
            **({"adapt": adapt, "adapt_clips": adapt_clips} if adapt != "none" else {})}


def report(log: Path, results: Path | None, command: str) -> int:
    """Print the per-speaker table of every seed in ``log`` (the latest record of each fold);
    write it into ``results`` below its hand-written part unless None."""
    recs = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []
    if not recs:
        raise SystemExit(f"fsdd_speakers_ensemble: no results in {log}; score the folds first (--protocol score)")
    last = {(r["speaker"], r["seed"]): r for r in recs}
    adapts = {(r.get("adapt", "none"), r.get("adapt_clips")) for r in last.values()}
    if len(adapts) != 1:
        raise SystemExit(f"fsdd_speakers_ensemble: {log} mixes folds scored with --adapt/--adapt-clips "
                         f"{sorted(adapts, key=str)}; give each its own --log")
    adapt, adapt_clips = adapts.pop()
    if adapt != "none" and results is not None and results.resolve() == RESULTS.resolve():
        raise SystemExit(f"fsdd_speakers_ensemble: an adapted table does not replace the plain one in {RESULTS.name}; "
                         "give --results '' (print only) or another file")
    seeds = sorted({s for _, s in last})
    speakers = sorted({sp for sp, _ in last})
    n_members = len(next(iter(last.values()))["members"])
    lines = [f"FSDD leave-one-speaker-out, ensemble of {n_members} models: accuracy on every recording of the "
             f"held-out speaker, speed average ({len(speakers)} folds, seeds {seeds})"
             + (", BatchNorm statistics adapted on " + (f"{adapt_clips} clips of " if adapt_clips else "")
                + "the other half of the speaker's recordings (no labels)" if adapt == "batchnorm" else ""), ""]

    def member_means(rs, accs) -> str:
        return "".join(f"{statistics.mean(r['member_speeds'][i] for r in rs):>10.4f}" for i in range(n_members))

    def member_summary(agg, complete, vals) -> str:
        means = [statistics.mean(agg([last[spk, s]["member_speeds"][i] for spk in speakers]) for s in complete)
                 for i in range(n_members)]
        return "".join(f"{m:>10.4f}" for m in means)

    lines += S.seed_table(last, "speeds", "".join(f"{'member ' + str(i + 1):>10}" for i in range(n_members)),
                          member_means, member_summary)
    sums = [sum(r["member_seconds"]) for r in last.values()]
    maxes = [max(r["member_seconds"]) for r in last.values()]
    lines += ["", f"training per fold: the members one after the other {statistics.mean(sums):.0f} s on average "
                  f"(max {max(sums):.0f} s); side by side, one per core, the longer member "
                  f"{statistics.mean(maxes):.0f} s on average (max {max(maxes):.0f} s)",
              "members: " + ", ".join(f"{i + 1} = {p}" for i, p in
                                      enumerate(next(iter(last.values()))["members"])),
              f"commits: {sorted({r['commit'] for r in last.values()})}"]
    text = "\n".join(lines)
    print(text)
    if results is not None:
        head = results.read_text().partition(MARK)[0] if results.is_file() else "# FSDD: a two-model ensemble\n"
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(head.rstrip("\n") + "\n" + MARK + f"\nCommand: `{command}`\n\n```\n{text}\n```\n")
        print(f"wrote {results}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--protocol", choices=["score", "report"], default="score",
                   help="score: score the folds' members and ensembles; report: print the table of --log again")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--speakers", nargs="+", default=None, help="only these folds (default: every speaker)")
    p.add_argument("--members", nargs="+", default=list(MEMBERS), help="the members' run folders ({seed}, {speaker})")
    p.add_argument("--adapt", choices=["none", "batchnorm"], default="none",
                   help="batchnorm: adapt each member's BatchNorm statistics to the held-out speaker, without labels")
    p.add_argument("--adapt-clips", type=int, default=None, metavar="N",
                   help="with --adapt batchnorm: adapt on N clips of the other half (default: all of it)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--log", default="runs/fsdd_speakers_ensemble/results.jsonl", help="results log")
    p.add_argument("--results", default=str(RESULTS), help="markdown report to write ('' for none)")
    p.add_argument("--data-root", default=None, help="FSDD folder (default: the resolution rule)")
    args = p.parse_args(argv)
    if args.adapt_clips is not None and args.adapt != "batchnorm":
        p.error("--adapt-clips needs --adapt batchnorm")
    log = Path(args.log)
    results = Path(args.results) if args.results else None
    if args.adapt != "none" and results is not None and results.resolve() == RESULTS.resolve():
        p.error(f"--adapt: an adapted table does not replace the plain one in {RESULTS.name}; "
                "give --results '' (print only) or another file")
    command = "python benchmarks/fsdd_speakers_ensemble.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.protocol == "report":
        return report(log, results, command)

    import torch

    torch.set_num_threads(args.threads)
    os.environ.setdefault("APAC_LAB_OFFLINE", "1")
    from apac_lab.data import load_dataset

    real = load_dataset("fsdd", "all", root=args.data_root, verbose=False)
    S.require_real_fsdd(real.name, "fsdd_speakers_ensemble")
    speakers = args.speakers or real.speakers
    jobs = [(seed, spk) for seed in args.seeds for spk in speakers]
    for seed, spk in jobs:  # every member is there before anything is scored or logged
        for t in args.members:
            member_folder(t, seed, spk)
    code = S.commit()
    for seed, spk in jobs:
        rec = score_fold(args.members, seed, spk, args.data_root, code, args.adapt, args.adapt_clips)
        S._log(log, rec)
        print(f"  seed {seed}, held out {spk}: ensemble {rec['speeds']:.4f}, members "
              + ", ".join(f"{a:.4f}" for a in rec["member_speeds"]), flush=True)
    return report(log, results, command)


if __name__ == "__main__":
    raise SystemExit(main())
