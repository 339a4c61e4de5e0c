"""The dataset every loader returns: a list of clips, read lazily, one shape for all.

Notebook: 01_spectrogram_and_mfcc.
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch.utils.data import Dataset

from apac_lab.data.audio import fix_length, load_audio
from apac_lab.data.resample import check_sample_rate

__all__ = ["Clip", "ClipDataset", "DatasetNotFoundError", "SplitError", "wav_files", "rate_and_length",
           "speaker_list"]


class DatasetNotFoundError(FileNotFoundError):
    """The data is not where it was looked for; the message says how to get it."""


class SplitError(ValueError):
    """A split that cannot be made: unknown name, unknown speaker or fold, or empty."""


def wav_files(folder: str | Path) -> dict[str, Path]:
    """The WAV files directly in ``folder``, whatever the case of their extension (``.wav``,
    ``.WAV``...), keyed by their name with the extension written ``.wav``, in name order.

    Raises:
        ValueError: two files differ only in the case of their extension (``a.wav``, ``a.WAV``).

    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = [(d / n).touch() for n in ("b.WAV", "a.wav", "c.txt")]
    >>> {k: p.name for k, p in wav_files(d).items()}
    {'a.wav': 'a.wav', 'b.wav': 'b.WAV'}
    """
    with os.scandir(folder) as entries:  # scandir knows each entry's type without a stat per file
        names = sorted(e.name for e in entries if e.name[-4:].lower() == ".wav" and e.is_file())
    found: dict[str, Path] = {}
    for name in names:
        key = name[:-4] + ".wav"
        if key in found:
            raise ValueError(
                f"{found[key]} and {name} are the same clip with two spellings of '.wav'; delete one of them."
            )
        found[key] = Path(folder) / name
    return found


def rate_and_length(
    sample_rate: int | None, num_samples: int | None, *, default_rate: int, default_seconds: float, name: str
) -> tuple[int, int]:
    """A loader's ``(sample_rate, num_samples)``: None takes the dataset's default, anything else is checked.

    0 or a negative value is an error, never a reason to fall back on the default.

    >>> rate_and_length(None, None, default_rate=8000, default_seconds=1, name="FSDD")
    (8000, 8000)
    >>> rate_and_length(16000, 0, default_rate=8000, default_seconds=1, name="FSDD")
    Traceback (most recent call last):
    ...
    ValueError: FSDD: num_samples must be a positive whole number of samples, got 0; pass e.g. 16000, or None for 1 s.
    """
    rate = default_rate if sample_rate is None else check_sample_rate(sample_rate, f"{name}: sample_rate")
    if num_samples is None:
        return rate, int(round(default_seconds * rate))
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) or num_samples <= 0:
        raise ValueError(
            f"{name}: num_samples must be a positive whole number of samples, got {num_samples!r}; "
            f"pass e.g. {int(round(default_seconds * rate))}, or None for {default_seconds:g} s."
        )
    return rate, int(num_samples)


def speaker_list(speakers: str | Sequence[str]) -> list[str]:
    """Speaker names as a list: one string is one speaker (``"george"``, not its letters).

    >>> speaker_list("george"), speaker_list(("jackson", 7))
    (['george'], ['jackson', '7'])
    """
    if isinstance(speakers, str):
        return [speakers]
    return [str(s) for s in speakers]


@dataclass(frozen=True)
class Clip:
    """One labelled clip: where it lives and what it is.

    Args:
        path (Path | None): the audio file, or None for generated audio.
        label (int): class index into the dataset's ``classes``.
        speaker (str, default ""): speaker (or source) id, for speaker-wise splits.
        fold (int | None, default None): cross-validation fold, where the dataset has one.
        extra (dict): anything else the loader knows (index, take, seed...).
    """

    path: Path | None
    label: int
    speaker: str = ""
    fold: int | None = None
    extra: dict = field(default_factory=dict, compare=False)


class ClipDataset(Dataset):
    """A map-style dataset of ``(waveform, label)`` pairs.

    Waveforms are float32 mono, ``(num_samples,)``, at ``sample_rate``. Files are read
    when an item is asked for, so building the dataset is cheap.

    Args:
        clips (Sequence[Clip]): the clips, in order.
        classes (Sequence[str]): class names; ``clip.label`` indexes them.
        sample_rate (int): output rate in Hz.
        num_samples (int): output length in samples (pad or crop).
        name (str, default "dataset"): shown in messages and notices.
        pad_mode (str, default "center"): where short clips are padded, see
            :func:`apac_lab.data.fix_length`.
        synth (Callable[[Clip], Tensor] | None, default None): makes the audio of a clip
            whose ``path`` is None (the synthetic set).

    >>> ds = ClipDataset([Clip(None, 1)], ["a", "b"], sample_rate=8000, num_samples=4,
    ...                  synth=lambda clip: torch.ones(2))
    >>> ds[0]
    (tensor([0., 1., 1., 0.]), 1)
    """

    def __init__(
        self,
        clips: Sequence[Clip],
        classes: Sequence[str],
        *,
        sample_rate: int,
        num_samples: int,
        name: str = "dataset",
        pad_mode: str = "center",
        synth: Callable[[Clip], torch.Tensor] | None = None,
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be > 0 Hz, got {sample_rate}")
        if num_samples <= 0:
            raise ValueError(f"num_samples must be > 0, got {num_samples}")
        self.clips = list(clips)
        self.classes = list(classes)
        self.sample_rate = int(sample_rate)
        self.num_samples = int(num_samples)
        self.name = name
        self.pad_mode = pad_mode
        self.synth = synth
        bad = [c for c in self.clips if not 0 <= c.label < len(self.classes)]
        if bad:
            raise ValueError(f"{name}: label {bad[0].label} of {bad[0].path} is not in 0..{len(self.classes) - 1}")

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        clip = self.clips[index]
        if clip.path is None:
            if self.synth is None:
                raise ValueError(f"{self.name}: clip {index} has no path and the dataset no synthesiser")
            wave = fix_length(self.synth(clip), self.num_samples, pad_mode=self.pad_mode)
        else:
            wave = load_audio(
                clip.path, sample_rate=self.sample_rate, num_samples=self.num_samples, pad_mode=self.pad_mode
            )
        return wave, clip.label

    @property
    def labels(self) -> list[int]:
        """The label of every clip, in order."""
        return [c.label for c in self.clips]

    @property
    def speakers(self) -> list[str]:
        """The sorted distinct speakers."""
        return sorted({c.speaker for c in self.clips})

    def subset(self, indices: Sequence[int] | Callable[[Clip], bool], name: str | None = None) -> "ClipDataset":
        """A new dataset of the chosen clips (by index list or by a predicate on :class:`Clip`)."""
        if callable(indices):
            chosen = [c for c in self.clips if indices(c)]
        else:
            chosen = [self.clips[i] for i in indices]
        return ClipDataset(
            chosen, self.classes, sample_rate=self.sample_rate, num_samples=self.num_samples,
            name=name or self.name, pad_mode=self.pad_mode, synth=self.synth,
        )

    def balanced(self, per_class: int, *, seed: int = 0) -> "ClipDataset":
        """At most ``per_class`` clips of each class, drawn with ``seed`` (quick mode uses this).

        >>> ds = ClipDataset([Clip(None, i % 2) for i in range(10)], ["a", "b"], sample_rate=8000,
        ...                  num_samples=8, synth=lambda c: torch.zeros(8))
        >>> sorted(ds.balanced(2).labels)
        [0, 0, 1, 1]
        """
        if per_class < 1:
            raise ValueError(f"per_class must be >= 1, got {per_class}")
        gen = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(self), generator=gen).tolist()
        counts: dict[int, int] = {}
        keep = []
        for i in order:
            label = self.clips[i].label
            if counts.get(label, 0) < per_class:
                counts[label] = counts.get(label, 0) + 1
                keep.append(i)
        return self.subset(sorted(keep))

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Load every clip: ``(N, num_samples)`` waveforms and ``(N,)`` labels (small sets only)."""
        if len(self) == 0:
            raise ValueError(f"{self.name}: the dataset is empty")
        waves, labels = zip(*(self[i] for i in range(len(self))))
        return torch.stack(waves), torch.tensor(labels)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, clips={len(self)}, classes={len(self.classes)}, "
            f"sample_rate={self.sample_rate}, num_samples={self.num_samples})"
        )
