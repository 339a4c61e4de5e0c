"""Teach it your voice (notebook 05): a digit recogniser that has never heard one FSDD
speaker, and that speaker's recordings to play to the few-shot widget as if recorded.

* :func:`voice_base_settings`: the leave-one-speaker-out recipe (:func:`fsdd_speakers_settings`:
  augmentation against what differs between speakers and microphones) with one speaker held
  out (:data:`VOICE_SPEAKER`): trained on the other speakers only, so the held-out speaker is
  a new voice, as a student's is. Sizes follow the budget: quick, a few clips and one epoch
  (near chance); classroom, :data:`VOICE_EPOCHS` epochs on every clip of the other speakers,
  with the digits recipe's smaller model (:func:`fsdd_digits_settings`: half width, 40 mel
  bands) to fit a class; full, the speakers recipe as it is.
* :data:`VOICE_FINE_TUNE`: how the widget fine-tunes, :func:`apac_lab.train.few_shot.fine_tune_few_shot`'s
  own defaults (the whole model, learning rate 1e-4, 40 passes), the setting
  ``benchmarks/fsdd_few_shot.py`` measures on every speaker; the recipe's time shift and
  speed perturbation augment the few clips (:func:`voice_augment`).
* :func:`voice_takes`: the held-out speaker's recordings in the order the widget prompts for
  them; the fine-tuning takes are drawn by :func:`apac_lab.train.few_shot.pick_few_shot`
  (seeded, never chosen by their results), the check takes from the rest.
* :func:`voice_rest_accuracy`: before and after on all the speaker's other recordings (the
  widget's test round is one per digit; the speaker has fifty).

Notebook: 05_apac_training (section "Teach it your voice").
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import torch

from apac_lab.data import ClipDataset, load_dataset
from apac_lab.recipes.fsdd import fsdd_digits_settings, fsdd_speakers_settings
from apac_lab.train import RunSettings, WaveAugment
from apac_lab.train.few_shot import pick_few_shot
from apac_lab.utils import by_budget

__all__ = ["VOICE_SPEAKER", "VOICE_SHOTS", "VOICE_EPOCHS", "VOICE_FINE_TUNE", "voice_base_settings",
           "voice_augment", "voice_takes", "voice_rest_accuracy"]

#: The FSDD speaker the base model never hears (the stand-in for a student's voice).
VOICE_SPEAKER = "george"
#: Recordings per digit the model is fine-tuned on.
VOICE_SHOTS = 2
#: Epochs of the base model in the classroom budget (the digits recipe runs 30).
VOICE_EPOCHS = 6
#: fine_tune_few_shot's settings (its defaults; benchmarks/fsdd_few_shot.py measures them).
VOICE_FINE_TUNE = {"layers": "all", "lr": 1e-4, "steps": 40}


def voice_base_settings(speaker: str = VOICE_SPEAKER, *, budget: str | None = None, **changes) -> RunSettings:
    """The digit model of "teach it your voice": every FSDD speaker but ``speaker``.

    Args:
        speaker (str, default VOICE_SPEAKER): the held-out speaker (also its test set).
        budget (str | None, default None): ``"quick"``, ``"classroom"`` or ``"full"``; None is
            the budget in force.
        **changes: flat keys of :func:`apac_lab.train.run_settings` on top.

    >>> s = voice_base_settings(budget="classroom")
    >>> s.holdout_speakers, s.train.epochs, s.per_class, s.sample_rate, s.model_kwargs["width_mult"], s.eq_db
    (['george'], 6, None, 8000, 0.5, 12.0)
    """
    small = fsdd_digits_settings().model_kwargs
    sizes = dict(epochs=by_budget(quick=1, classroom=VOICE_EPOCHS, full=30, budget=budget),
                 per_class=by_budget(quick=4, classroom=None, full=None, budget=budget),
                 test_per_class=by_budget(quick=2, classroom=None, full=None, budget=budget),
                 model_kwargs=by_budget(quick=small, classroom=small, full=fsdd_speakers_settings(speaker).model_kwargs,
                                        budget=budget))
    return fsdd_speakers_settings(speaker, **{"out": f"runs/05_apac/voice_without_{speaker}", **sizes, **changes})


def voice_augment() -> WaveAugment:
    """The digits recipe's waveform augmentation (time shift 0.1, speed 0.9-1.1), no noise.

    >>> [type(m).__name__ for m in voice_augment()]
    ['SpeedPerturb', 'TimeShift']
    """
    s = fsdd_digits_settings()
    return WaveAugment(max_shift=s.time_shift, snr_db=None, speed=tuple(s.speed))


def voice_takes(prompts: Sequence[tuple[int, str]], *, speaker: str = VOICE_SPEAKER, dataset: ClipDataset | None = None,
                seed: int = 0, sample_rate: int = 8000) -> dict:
    """``speaker``'s FSDD recordings (1 s, as a fixed-length recording holds them), one per prompt.

    Args:
        prompts (Sequence[tuple[int, str]]): ``(digit, "teach" | "check")`` in the order asked
            (:attr:`apac_lab.widgets.VoiceFineTuner.prompts`).
        speaker (str, default VOICE_SPEAKER): whose recordings (FSDD's test split with that
            speaker held out is every recording of the speaker).
        dataset (ClipDataset | None, default None): one speaker's recordings to draw from instead.
        seed (int, default 0): seed of the draw (:func:`pick_few_shot`; the teach takes for
            k per digit are those of ``pick_few_shot(labels, k, seed=seed)``).
        sample_rate (int, default 8000): Hz.

    Returns:
        dict: ``waves`` (list of Tensor ``(sample_rate,)``, in the prompts' order), ``indices``
        (their clips in ``dataset``), ``dataset`` (the speaker's recordings: FSDD's, or the
        synthetic stand-in's when FSDD is not available) and ``speaker`` (whose they are).

    >>> one = load_dataset("synthetic", "test", classes=list("0123456789"), holdout_speakers=["spk0"], verbose=False)
    >>> takes = voice_takes([(0, "teach"), (1, "teach"), (0, "check")], dataset=one)
    >>> len(takes["waves"]), tuple(takes["waves"][0].shape), takes["speaker"]
    (3, (8000,), 'spk0')
    """
    ds = dataset if dataset is not None else load_dataset(
        "fsdd", "test", holdout_speakers=[speaker], sample_rate=sample_rate, num_samples=sample_rate, verbose=False)
    labels = torch.tensor([c.label for c in ds.clips])
    teach = Counter(c for c, role in prompts if role == "teach")
    every = Counter(c for c, _ in prompts)
    first = set(pick_few_shot(labels, max(teach.values(), default=1), seed=seed).tolist())
    rest = pick_few_shot(labels, max(every.values()), seed=seed).tolist()  # nested: includes `first`
    queues = {c: [i for i in sorted(first) if labels[i] == c] + [i for i in rest if labels[i] == c and i not in first]
              for c in every}
    indices = [queues[c].pop(0) for c, _ in prompts]
    return {"waves": [ds[i][0] for i in indices], "indices": indices, "roles": [role for _, role in prompts],
            "dataset": ds, "speaker": ds.clips[0].speaker}


@torch.no_grad()
def voice_rest_accuracy(models: dict[str, torch.nn.Module], takes: dict, *, budget: str | None = None,
                        batch_size: int = 64) -> dict:
    """Accuracy of each model on the speaker's recordings that no fine-tuning used (every one
    but the ``teach`` takes; the quick budget keeps 2 per digit, seeded).

    Args:
        models (dict[str, nn.Module]): name -> classifier (e.g. before and after fine-tuning).
        takes (dict): what :func:`voice_takes` returned.
        budget (str | None, default None): as :func:`apac_lab.by_budget`.
        batch_size (int, default 64): clips per forward pass.

    Returns:
        dict: ``clips`` (how many were scored) and, per model name, its accuracy.

    >>> one = load_dataset("synthetic", "test", classes=list("0123456789"), holdout_speakers=["spk0"], verbose=False)
    >>> takes = voice_takes([(0, "teach"), (1, "teach")], dataset=one)
    >>> class Zero(torch.nn.Module):
    ...     def forward(self, x): return torch.nn.functional.one_hot(torch.zeros(len(x), dtype=torch.long), 10).float()
    >>> res = voice_rest_accuracy({"zero": Zero()}, takes, budget="quick"); res["clips"], round(res["zero"], 6)
    (20, 0.1)
    """
    ds = takes["dataset"]
    used = {i for i, role in zip(takes["indices"], takes["roles"]) if role == "teach"}
    rest = [i for i in range(len(ds)) if i not in used]
    per_class = by_budget(quick=2, classroom=None, full=None, budget=budget)
    if per_class:
        gen = torch.Generator().manual_seed(0)
        rest = sorted(i for c in range(len(ds.classes))
                      for i in [rest[j] for j in torch.randperm(len(rest), generator=gen).tolist()
                                if ds.clips[rest[j]].label == c][:per_class])
    labels = torch.tensor([ds.clips[i].label for i in rest])
    out = {"clips": len(rest)}
    for name, model in models.items():
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        model.eval()
        pred = torch.cat([model(torch.stack([ds[i][0] for i in rest[k:k + batch_size]]).to(device)).argmax(-1).cpu()
                          for k in range(0, len(rest), batch_size)])
        out[name] = float((pred == labels).float().mean())
    return out
