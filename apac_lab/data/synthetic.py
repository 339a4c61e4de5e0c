"""A synthetic spoken-word set that apac_lab generates itself, so every notebook runs
with no data and no internet.

Each class is a "word": a short sequence of vowel-like formant targets (F1, F2, F3)
with its own pitch contour and, for some classes, a fricative onset. Each "speaker"
scales the formants (vocal tract length), the pitch and the speaking rate; each take
adds jitter, a random onset and background noise. The sounds are built by additive
synthesis of pitch harmonics weighted by the formant envelope, all from one seed.

Notebook: every notebook's offline fallback (see :func:`apac_lab.data.load_dataset`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from apac_lab.data.base import Clip, ClipDataset, SplitError, rate_and_length, speaker_list

__all__ = ["synthesize_word", "load_synthetic"]

_VOWELS = np.array(  # F1, F2, F3 in Hz (adult male averages)
    [[730, 1090, 2440], [270, 2290, 3010], [530, 1840, 2480], [300, 870, 2240],
     [660, 1720, 2410], [490, 1350, 1690], [570, 840, 2410], [440, 1020, 2240],
     [390, 1990, 2550], [640, 1190, 2390]],
    dtype=np.float64,
)


def _class_recipe(label: int, seed: int) -> dict:
    rng = np.random.default_rng([seed, 7919, label])
    n_targets = int(rng.integers(2, 4))
    return {
        "vowels": rng.choice(len(_VOWELS), size=n_targets, replace=True),
        "contour": rng.uniform(-0.35, 0.35, size=2),  # pitch glide: start, end (octaves-ish)
        "fricative": bool(rng.random() < 0.5),
        "fric_band": rng.uniform(2000, 3500),
        "duration": rng.uniform(0.35, 0.6),
    }


def _speaker_traits(speaker: int, seed: int) -> dict:
    rng = np.random.default_rng([seed, 104729, speaker])
    return {"f0": rng.uniform(90, 230), "tract": rng.uniform(0.85, 1.2), "rate": rng.uniform(0.85, 1.15)}


def synthesize_word(
    label: int, speaker: int, take: int, *, sample_rate: int = 8000, seed: int = 0, snr_db: float | None = None
) -> torch.Tensor:
    """Synthesise one take of word ``label`` by ``speaker``.

    Args:
        label (int): class index (any non-negative int: each gets its own recipe).
        speaker (int): speaker index.
        take (int): take index; varies jitter, onset and noise.
        sample_rate (int, default 8000): Hz.
        seed (int, default 0): the seed of the whole set.
        snr_db (float | None, default None): noise level; None draws 15-35 dB.

    Returns:
        Tensor: ``(samples,)`` float32, peak about 0.5, length set by the word and speaker.

    >>> w = synthesize_word(3, 1, 0); w.dtype, float(w.abs().max()) <= 1.0
    (torch.float32, True)
    """
    recipe, traits = _class_recipe(label, seed), _speaker_traits(speaker, seed)
    rng = np.random.default_rng([seed, label, speaker, take])
    duration = recipe["duration"] / traits["rate"] * rng.uniform(0.9, 1.1)
    n = max(int(duration * sample_rate), 16)
    t = np.linspace(0.0, 1.0, n)
    # Pitch: speaker base, class glide, per-take jitter.
    glide = np.interp(t, [0, 1], recipe["contour"]) + rng.normal(0, 0.02)
    f0 = traits["f0"] * 2.0**glide * (1 + 0.01 * np.sin(2 * np.pi * 5 * t * duration))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    # Formants: glide between the class's vowel targets, scaled by the speaker's tract.
    targets = _VOWELS[recipe["vowels"]] / traits["tract"] * rng.uniform(0.97, 1.03)
    knots = np.linspace(0, 1, len(targets))
    formants = np.stack([np.interp(t, knots, targets[:, i]) for i in range(3)])  # (3, n)
    # Harmonics far above the highest formant weigh nothing (the envelope is Gaussian): stop at
    # six bandwidths past it, which keeps high sample rates (16 kHz, 44.1 kHz) cheap.
    f_top = min(sample_rate / 2, formants.max() + 6 * 160.0)
    n_harm = max(1, int(f_top / f0.max()))
    k = np.arange(1, n_harm + 1)[:, None]  # (K, 1)
    # Harmonic amplitudes change slowly: weigh them by the formant envelope every ~2 ms, then
    # interpolate linearly to every sample.
    step = max(1, sample_rate // 500)
    coarse = np.unique(np.append(np.arange(0, n, step), n - 1))
    freqs = k * f0[None, coarse]  # (K, n_coarse)
    bandwidth = np.array([80.0, 120.0, 160.0])[:, None, None]
    envelope = np.exp(-0.5 * ((freqs[None] - formants[:, None, coarse]) / bandwidth) ** 2)
    amp_c = (envelope * np.array([1.0, 0.6, 0.3])[:, None, None]).sum(0) * (freqs < sample_rate / 2)
    pos = np.interp(np.arange(n), coarse, np.arange(len(coarse)))
    j0 = np.minimum(pos.astype(int), len(coarse) - 2) if len(coarse) > 1 else np.zeros(n, dtype=int)
    w = (pos - j0)[None, :]
    amp = amp_c[:, j0] * (1 - w) + amp_c[:, np.minimum(j0 + 1, len(coarse) - 1)] * w
    # sum_k amp_k sin(k phase) = Im(sum_k amp_k z^k), z = exp(i phase), by Horner's scheme
    # (K complex multiply-adds instead of K x n sines).
    z = np.exp(1j * phase)
    acc = amp[-1].astype(np.complex128)
    for a in amp[-2::-1]:
        acc = acc * z + a
    voiced = (acc * z).imag
    attack = np.minimum(1.0, t * duration / 0.03)
    release = np.minimum(1.0, (1 - t) * duration / 0.06)
    voiced *= attack * release
    if recipe["fricative"]:  # a noisy onset: white noise in a Gaussian band
        m = int(0.08 * sample_rate)
        spec = np.fft.rfft(rng.normal(size=m))
        f = np.fft.rfftfreq(m, 1 / sample_rate)
        spec *= np.exp(-0.5 * ((f - min(recipe["fric_band"], 0.45 * sample_rate)) / 600) ** 2)
        burst = np.fft.irfft(spec, m) * np.hanning(m)
        voiced = np.concatenate([burst / (np.abs(burst).max() + 1e-9) * 0.3 * np.abs(voiced).max(), voiced])
    voiced = voiced / (np.abs(voiced).max() + 1e-9) * 0.5
    snr = rng.uniform(15, 35) if snr_db is None else snr_db
    noise = rng.normal(size=voiced.shape) * np.sqrt(np.mean(voiced**2) / 10 ** (snr / 10))
    return torch.from_numpy((voiced + noise).astype(np.float32))


def load_synthetic(
    *,
    split: str = "train",
    classes: Sequence[str] | None = None,
    n_speakers: int = 5,
    takes: int = 10,
    test_takes: int = 2,
    val_takes: int = 0,
    holdout_speakers: str | Sequence[str] | None = None,
    sample_rate: int | None = 8000,
    num_samples: int | None = None,
    seed: int = 0,
    name: str = "synthetic",
) -> ClipDataset:
    """The synthetic word set, split by take (the first ``test_takes`` are test) or by speaker.

    Speakers are named ``"spk0"``, ``"spk1"``... Takes ``0 .. test_takes-1`` are the test
    split, the next ``val_takes`` the validation split, the rest the train split. With
    ``holdout_speakers``, the named speakers are the test split and the others the train
    split, as in :func:`apac_lab.data.load_fsdd`.

    Args:
        split (str, default "train"): ``"train"``, ``"validation"``, ``"test"`` or ``"all"``.
        classes (Sequence[str] | None, default None): class names; None gives "0".."9",
            like FSDD.
        n_speakers (int, default 5): number of synthetic speakers.
        takes (int, default 10): takes per class and speaker.
        test_takes (int, default 2): takes per class and speaker in the test split.
        val_takes (int, default 0): takes per class and speaker in the validation split.
        holdout_speakers (str | Sequence[str] | None, default None): speaker-wise split
            instead; one string is one speaker.
        sample_rate (int | None, default 8000): Hz; None is 8000; 0 is an error.
        num_samples (int | None, default None): clip length; None means 1 s; 0 is an error.
        seed (int, default 0): the seed of the whole set.
        name (str, default "synthetic"): the dataset's name prefix (``"<name>/<split>"``).

    Returns:
        ClipDataset: ``(waveform (num_samples,), label)`` items, generated when read.

    Raises:
        SplitError: unknown split, impossible sizes, unknown held-out speaker, empty split.

    >>> ds = load_synthetic(split="test", n_speakers=2, takes=3, test_takes=1)
    >>> len(ds), ds[0][0].shape
    (20, torch.Size([8000]))
    """
    classes = [str(d) for d in range(10)] if classes is None else list(classes)
    sample_rate, num_samples = rate_and_length(sample_rate, num_samples, default_rate=8000, default_seconds=1, name=name)
    splits = ("train", "validation", "test", "all")
    if split not in splits:
        raise SplitError(f"synthetic: unknown split {split!r}; use one of {list(splits)}.")
    if n_speakers < 1 or takes < 1 or test_takes < 0 or val_takes < 0 or test_takes + val_takes > takes or not classes:
        raise SplitError(
            f"synthetic: impossible sizes (classes={len(classes)}, n_speakers={n_speakers}, takes={takes}, "
            f"test_takes={test_takes}, val_takes={val_takes}); need at least one class, speaker and take, "
            "and 0 <= test_takes + val_takes <= takes."
        )
    speakers = [f"spk{s}" for s in range(n_speakers)]
    all_clips = [
        Clip(None, label, spk, extra={"take": take})
        for label in range(len(classes)) for spk in speakers for take in range(takes)
    ]
    if holdout_speakers is not None:
        held = set(speaker_list(holdout_speakers))
        unknown = held - set(speakers)
        if not held or unknown:
            raise SplitError(
                f"synthetic: cannot hold out speakers {sorted(unknown or held)}: the speakers are {speakers}."
            )
        if split == "validation":
            raise SplitError("synthetic: a speaker-wise split has no 'validation' split; use 'train' or 'test'.")
        part = {"train": lambda c: c.speaker not in held, "test": lambda c: c.speaker in held}
    else:
        def part_of(c: Clip) -> str:
            take = c.extra["take"]
            return "test" if take < test_takes else "validation" if take < test_takes + val_takes else "train"

        part = {k: (lambda c, k=k: part_of(c) == k) for k in ("train", "validation", "test")}
    clips = all_clips if split == "all" else [c for c in all_clips if part[split](c)]
    if not clips:
        raise SplitError(
            f"synthetic: the {split!r} split is empty (takes={takes}, test_takes={test_takes}, "
            f"val_takes={val_takes}, holdout_speakers={holdout_speakers})."
        )

    def synth(clip: Clip) -> torch.Tensor:
        return synthesize_word(clip.label, int(clip.speaker[3:]), clip.extra["take"], sample_rate=sample_rate, seed=seed)

    return ClipDataset(
        clips, classes, sample_rate=sample_rate, num_samples=num_samples, name=f"{name}/{split}", synth=synth,
    )
