"""FSDD leave-one-speaker-out with synthetic voices (espeak-ng and flite) added to the training split.

Begun as an experiment (``benchmarks/results/fsdd_espeak_voices.md``); its fold models are now
the second member of each fold's ensemble (``benchmarks/fsdd_speakers_ensemble.py``), and
:func:`mixed_fsdd_folder` makes the data of the shipped model's second member
(``benchmarks/make_voice_checkpoint.py``). It needs ``espeak-ng`` and ``flite`` on the PATH
(Debian/Ubuntu: ``apt install espeak-ng flite``); the kit's package never does.

What it does:

1. ``--voices N`` synthetic speakers: N (accent, voice variant) pairs drawn (seeded) from
   espeak-ng's 8 English accents and every installed voice variant, each with its own pitch
   (15-85) and rate (120-210 words per minute); each says the ten digit words twice (pitch
   +-8, rate +-20 per take). Resampled to 8 kHz, trimmed to the sound plus 25 ms, peak-scaled to a
   random 0.2-0.9. Written as ``{digit}_tts{NNN}_{5|6}.wav`` (indices 5-6: FSDD's official split
   puts them in training) into ``OUT/voices``, next to links to every real recording in
   ``OUT/fsdd/recordings``. ``OUT`` must be empty or this script's own folder, made with the
   same voices.
   Beside them, ``--flite-voices M`` voices of flite (:func:`synthesize_flite_voices`), made from
   its four voices built from recordings of real people, each with its own pitch, rate and
   formant scale, written as ``{digit}_fl{NNN}_{5|6}.wav``.
2. The leave-one-speaker-out folds of :func:`apac_lab.recipes.fsdd_speakers_settings` trained on
   that folder (the held-out speaker's real recordings are not in training; the synthetic
   voices always are), for ``--epochs`` (:data:`apac_lab.recipes.SYNTHETIC_VOICES_MEMBER`'s 20:
   more than twice the clips of the recipe, so fewer epochs than its 30), and
   scored on every real recording of the held-out speaker with the recipe's speed average.

How it was chosen: development runs trained on 3 real speakers (+ 100 voices or not) and
scored on the 2 left out, pairs (george, jackson) and (lucas, nicolas), seed 0, before any
fold of this script ran (recorded in the results file). ``--dev-pair A B`` makes such a run.
The 40 flite voices were added the same way: on those two pairs, with 100 espeak-ng voices
and 20 epochs, against the same without them (recorded there too). ``--model-kwargs JSON``
changes the model's settings over the recipe's for such trials (recorded in each result line),
e.g. the speech front-end tried there: ``'{"n_fft": 256, "hop_length": 128, "n_mels": 40, "n_mfcc": 13}'``.

Usage::

    python benchmarks/fsdd_espeak_voices.py --out runs/fsdd_voices/seed0 [--voices 100] [--flite-voices 40] [--seed 0]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
MARK = ".fsdd_espeak_voices"


def espeak_variants() -> list[str]:
    """The installed espeak-ng voice variants: the files of ``voices/!v`` in its data folder
    (``espeak-ng --version`` says where it is)."""
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    data = Path(version.split("Data at:")[-1].strip())
    return sorted(f.name for f in (data / "voices" / "!v").iterdir() if f.is_file())


def synthesize_voices(folder: Path, n_voices: int, seed: int = 0, sample_rate: int = 8000) -> int:
    """Write ``n_voices`` synthetic speakers' digits into ``folder``; returns the clips written."""
    import soundfile as sf

    rng = random.Random(seed)
    pairs = [(a, v) for a in ACCENTS for v in espeak_variants()]
    rng.shuffle(pairs)
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for si, (accent, variant) in enumerate(pairs[:n_voices]):
        pitch, rate = rng.randint(15, 85), rng.randint(120, 210)
        for digit, word in enumerate(WORDS):
            for take in range(2):
                cmd = ["espeak-ng", "-v", f"{accent}+{variant}", "-p", str(pitch + rng.randint(-8, 8)),
                       "-s", str(rate + rng.randint(-20, 20)), "--stdout", word]
                wav = subprocess.run(cmd, capture_output=True, check=True).stdout
                x, sr = sf.read(io.BytesIO(wav), dtype="float32")
                x = trimmed_clip(x, sr, sample_rate, rng)
                sf.write(folder / f"{digit}_tts{si:03d}_{5 + take}.wav", x, sample_rate, subtype="PCM_16")
                n += 1
    return n


# flite's voices built from recordings of real people (CMU ARCTIC and the kal diphones), with the
# range of mean pitch (Hz) each is drawn from; rms's clustergen model keeps its own pitch, which
# only the formant scaling below moves.
FLITE_VOICES = {"kal16": (80, 180), "awb": (80, 180), "rms": (80, 180), "slt": (140, 280)}


def trimmed_clip(x, sr: int, sample_rate: int, rng: random.Random, scale: float = 1.0):
    """``x`` (at ``sr``) resampled to ``sample_rate / scale`` and read as ``sample_rate`` (formants,
    pitch and duration all times ``scale``), trimmed to the sound plus 25 ms, peak-scaled to a random
    0.2-0.9."""
    import numpy as np
    import torch
    import torchaudio.functional as AF

    x = AF.resample(torch.from_numpy(x), sr, int(round(sample_rate / scale))).numpy()
    energy = np.convolve(x ** 2, np.ones(80) / 80, "same")
    on = np.where(energy > energy.max() * 1e-3)[0]
    x = x[max(0, on[0] - 200):on[-1] + 200]
    return x / (abs(x).max() + 1e-9) * rng.uniform(0.2, 0.9)


def synthesize_flite_voices(folder: Path, n_voices: int, seed: int = 0, sample_rate: int = 8000) -> int:
    """Write ``n_voices`` flite speakers' digits into ``folder`` (``{digit}_fl{NNN}_{5|6}.wav``);
    returns the clips written. Voice ``i`` is :data:`FLITE_VOICES`'s ``i % 4``-th with its own
    mean pitch, duration stretch (0.8-1.3) and formant scale (0.85-1.2, pitch and duration
    compensated); each digit twice (pitch +-8%, stretch +-0.1 per take)."""
    import soundfile as sf

    rng = random.Random(seed + 7919)
    names = list(FLITE_VOICES)
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for si in range(n_voices):
        name = names[si % len(names)]
        f0, stretch, scale = rng.uniform(*FLITE_VOICES[name]), rng.uniform(0.8, 1.3), rng.uniform(0.85, 1.2)
        scale = sample_rate / (100 * round(sample_rate / scale / 100))  # a rate in 100 Hz steps: a short filter
        for digit, word in enumerate(WORDS):
            for take in range(2):
                wav = folder / f"{digit}_fl{si:03d}_{5 + take}.wav"
                take_f0 = f0 * rng.uniform(0.92, 1.08) / scale
                take_stretch = (stretch + rng.uniform(-0.1, 0.1)) * scale
                subprocess.run(["flite", "-voice", name, "--setf", f"int_f0_target_mean={take_f0:.1f}",
                                "--setf", f"duration_stretch={take_stretch:.3f}", "-t", word, "-o", str(wav)],
                               capture_output=True, check=True)
                x, sr = sf.read(wav, dtype="float32")
                sf.write(wav, trimmed_clip(x, sr, sample_rate, rng, scale), sample_rate, subtype="PCM_16")
                n += 1
    return n


def require_program(program: str, script: str) -> None:
    """Exit with one line saying how to install ``program`` (``espeak-ng``, ``flite``: Debian's
    package of the same name) when it is not on the PATH."""
    if shutil.which(program) is None:
        raise SystemExit(f"{script}: {program} is not on the PATH; install it (apt install {program})")


def check_out_folder(out: Path, script: str) -> None:
    """Exit with one line when ``out`` holds anything and was not made by :func:`mixed_fsdd_folder`."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not (out / MARK).exists():
        raise SystemExit(f"{script}: {out} is not empty and not this script's folder; give another --out")


def mixed_fsdd_folder(out: Path, real_clips, n_voices: int, seed: int, script: str = "fsdd_espeak_voices",
                      n_flite: int = 0) -> Path:
    """``out/fsdd``: an FSDD tree of links to the real recordings (``real_clips``, FSDD clips)
    and to ``n_voices`` espeak-ng voices and ``n_flite`` flite voices written (once) into
    ``out/voices``, which the training loader reads as FSDD. ``out`` must be empty or made by this
    function with the same voices (the mark file records them)."""
    check_out_folder(out, script)
    out.mkdir(parents=True, exist_ok=True)
    made = {"espeak": n_voices, "flite": n_flite, "seed": seed}
    mark, mixed = out / MARK, out / "fsdd" / "recordings"
    recorded = mark.read_text().strip() if mark.exists() else ""  # empty: made before the mark said which voices
    if (recorded and json.loads(recorded) != made) or (not recorded and mixed.exists() and n_flite):
        raise SystemExit(f"{script}: {out} holds other voices ({recorded or 'espeak-ng only'}, not "
                         f"{json.dumps(made)}); give another --out")
    if not mixed.exists():
        mark.write_text(json.dumps(made) + "\n")
        n = synthesize_voices(out / "voices", n_voices, seed)
        if n_flite:
            require_program("flite", script)
            n += synthesize_flite_voices(out / "voices", n_flite, seed)
        partial = out / "fsdd" / "recordings.partial"  # a cut run leaves no half-linked folder behind
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for clip in real_clips:
            (partial / Path(clip.path).name).symlink_to(Path(clip.path).resolve())
        for f in sorted((out / "voices").iterdir()):
            (partial / f.name).symlink_to(f.resolve())
        partial.rename(mixed)
        print(f"{n} synthetic clips of {n_voices} espeak-ng and {n_flite} flite voices; {mixed}", flush=True)
    return out / "fsdd"


def main(argv=None) -> int:
    from apac_lab.train.config import json_object

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="an empty folder (or this script's earlier one)")
    p.add_argument("--voices", type=int, default=None,
                   help="espeak-ng voices (default: SYNTHETIC_VOICES_MEMBER's, 100)")
    p.add_argument("--flite-voices", type=int, default=None,
                   help="flite voices added to the espeak-ng ones (default: SYNTHETIC_VOICES_MEMBER's, 40)")
    p.add_argument("--seed", type=int, default=0, help="the voices' draw and the training seed")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default: SYNTHETIC_VOICES_MEMBER's, 20)")
    p.add_argument("--speakers", nargs="+", default=None, help="folds (default: every real speaker)")
    p.add_argument("--dev-pair", nargs=2, default=None, metavar="SPEAKER",
                   help="instead of the folds, one development run holding out these two speakers, scored on each")
    p.add_argument("--model-kwargs", type=json_object, default={}, metavar="JSON",
                   help="development trials: model settings over the recipe's, e.g. '{\"n_mfcc\": 13}'")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data-root", default=None, help="the real FSDD (default: the resolution rule)")
    args = p.parse_args(argv)
    from apac_lab.recipes import SYNTHETIC_VOICES_MEMBER as MEMBER

    voices = args.voices if args.voices is not None else MEMBER["espeak_voices"]
    flite = args.flite_voices if args.flite_voices is not None else MEMBER["flite_voices"]
    epochs = args.epochs if args.epochs is not None else MEMBER["epochs"]
    require_program("espeak-ng", "fsdd_espeak_voices")
    if flite:
        require_program("flite", "fsdd_espeak_voices")
    out = Path(args.out)
    check_out_folder(out, "fsdd_espeak_voices")

    import torch

    torch.set_num_threads(args.threads)
    os.environ.setdefault("APAC_LAB_OFFLINE", "1")
    from apac_lab.data import load_dataset
    from apac_lab.recipes import fsdd_speakers_settings, speed_averaged_probabilities
    from apac_lab.train import run

    from fsdd_speakers import commit, held_out_waves, require_real_fsdd  # noqa: E402  (benchmarks/)

    real = load_dataset("fsdd", "all", root=args.data_root, verbose=False)
    require_real_fsdd(real.name, "fsdd_espeak_voices")
    data = mixed_fsdd_folder(out, real.clips, voices, args.seed, n_flite=flite)
    code = commit()
    folds = [args.dev_pair] if args.dev_pair else [[spk] for spk in args.speakers or real.speakers]
    recipe_kwargs = fsdd_speakers_settings(folds[0][0]).model_kwargs
    model = {"model_kwargs": {**recipe_kwargs, **args.model_kwargs}} if args.model_kwargs else {}
    for fold in folds:
        s = fsdd_speakers_settings(fold[0], holdout_speakers=fold, seed=args.seed, epochs=epochs, device="cpu",
                                   out=str(out / "runs" / "+".join(fold)), data_root=str(data), **model)
        t0 = time.perf_counter()
        res = run(s)
        for spk in fold:
            waves, labels = held_out_waves(spk, sample_rate=s.sample_rate, root=args.data_root)
            acc = float((speed_averaged_probabilities(res["model"], waves).argmax(-1) == labels).float().mean())
            rec = {"speaker": spk, "held_out": fold, "seed": args.seed, "voices": voices, "flite_voices": flite,
                   "epochs": epochs, **({"model_kwargs": args.model_kwargs} if args.model_kwargs else {}),
                   "train_clips": res["clips"]["train"], "seconds": time.perf_counter() - t0, "speeds": acc,
                   "threads": args.threads, "commit": code}
            print(json.dumps(rec), flush=True)
            with open(out / "results.jsonl", "a") as f:
                f.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
