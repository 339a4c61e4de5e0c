"""FSDD recipes on the CPU: spoken digits on the official split, and speaker generalisation.

Both are ordinary runs of the training CLI (:func:`apac_lab.train.run`), so each is a small
function returning a :class:`apac_lab.train.RunSettings`; ``benchmarks/fsdd_recipe.py`` and
``benchmarks/fsdd_speakers.py`` run them and print the results.

* :func:`fsdd_digits_settings` (goal: >= 99% on FSDD's official test split after <= 10 minutes
  of training on 2 CPU cores): FSDD at its own 8 kHz (no resampling), clips centred and padded
  to 1 s; the front-end scaled to 8 kHz (``apac_defaults(8000)``: n_fft 1024 = 128 ms, hop 256
  = 32 ms), mode ``std``, 40 mel bands and 20 MFCCs; a half-width APAC (``width_mult=0.5``),
  dropout 0.1; 30 epochs of Adam, weight decay 1e-3 (the paper's), one-cycle learning rate
  peaking at 3e-3, batch 32, label smoothing 0.1; speed perturbation 0.9-1.1 and time shifts
  of up to 0.1 s; every training clip (2,250 in release v1.0.9, 2,700 in v1.0.10), no validation split (nothing is chosen on the test
  split: the last epoch is evaluated).
* :func:`fsdd_speakers_settings` (leave one speaker out; aim: >= 90% on each): the same
  training with a full-width APAC, 64 mel bands and 32 MFCCs (dropout 0.2), and augmentation
  against what differs between speakers and their recordings: speed perturbation 0.85-1.15
  (moves pitch and formants together, like another vocal tract), a random equaliser (smooth
  response within 12 dB) and gain (-12..12 dB) for other microphones and levels, time shifts
  up to 0.1 s, white noise at 10-30 dB SNR on half the clips, and on the log-mel a random time
  stretch 0.75-1.35 (speaking rate) and SpecAugment (up to 6 mel bands and 4 frames, twice each).

Notebook: 05_apac_training (the benchmarks behind its FSDD numbers).
"""

from __future__ import annotations

from apac_lab.train import RunSettings, run_settings

__all__ = ["fsdd_digits_settings", "fsdd_speakers_settings"]

_DIGITS = dict(
    dataset="fsdd", model="apac", mode="std", sample_rate=8000, clip_seconds=1.0,
    model_kwargs={"width_mult": 0.5, "n_mels": 40, "n_mfcc": 20, "dropout": 0.1},
    epochs=30, batch_size=32, lr=3e-3, weight_decay=1e-3, optimizer="adam", scheduler="onecycle",
    label_smoothing=0.1, time_shift=0.1, speed=[0.9, 1.1], val_fraction=0.0, seed=0, quiet=True,
)

_SPEAKERS = dict(
    _DIGITS,
    model_kwargs={"width_mult": 1.0, "n_mels": 64, "n_mfcc": 32, "dropout": 0.2},
    speed=[0.85, 1.15], eq_db=12.0, gain_db=[-12.0, 12.0], noise_snr=[10.0, 30.0], noise_p=0.5,
    spec_augment=[6, 4], time_stretch=[0.75, 1.35],
)


def fsdd_digits_settings(**changes) -> RunSettings:
    """The FSDD digits recipe (see the module docstring), with ``changes`` (flat keys) on top.

    >>> s = fsdd_digits_settings(epochs=3)
    >>> s.train.epochs, s.train.scheduler, s.model_kwargs["width_mult"], s.sample_rate
    (3, 'onecycle', 0.5, 8000)
    """
    return run_settings(**{**_DIGITS, **changes})


def fsdd_speakers_settings(speaker: str, **changes) -> RunSettings:
    """The leave-one-speaker-out recipe: train on every FSDD speaker but ``speaker``, test on
    every recording of ``speaker``; ``changes`` (flat keys) on top.

    >>> s = fsdd_speakers_settings("george", time_stretch=None)
    >>> s.holdout_speakers, s.time_stretch, s.eq_db
    (['george'], None, 12.0)
    """
    return run_settings(**{**_SPEAKERS, "holdout_speakers": [speaker], **changes})
