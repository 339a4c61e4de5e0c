"""Speech Commands v2 (Warden, 2018): 35 spoken words, 16 kHz mono, 1 s clips.

The release layout is one folder per word, ``<word>/<speaker>_nohash_<n>.wav``, plus
``_background_noise_/`` (long noise recordings, for augmentation: not a class) and the
official split lists ``validation_list.txt`` and ``testing_list.txt`` (paths relative to
the root, one per line). The train split is every clip in neither list. The speaker is
the file-name prefix before ``_nohash_``; the official lists keep each speaker in one
split.

The dataset is by Pete Warden (Google), CC BY 4.0.

Notebook: the APAC speech-classifier notebooks (full mode).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from apac_lab.data.audio import load_audio
from apac_lab.data.base import Clip, ClipDataset, DatasetNotFoundError, SplitError, rate_and_length, wav_files
from apac_lab.data.synthetic import load_synthetic

__all__ = [
    "SPEECHCOMMANDS_CLASSES", "SPEECHCOMMANDS_SAMPLE_RATE", "SPEECHCOMMANDS_ARCHIVE",
    "find_speechcommands_root", "speechcommands_clips", "load_speechcommands",
    "background_noise_files", "load_background_noise", "speechcommands_synthetic",
]

#: The 35 words of v2, sorted (the label order).
SPEECHCOMMANDS_CLASSES = sorted([
    "backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow", "forward",
    "four", "go", "happy", "house", "learn", "left", "marvin", "nine", "no", "off", "on",
    "one", "right", "seven", "sheila", "six", "stop", "three", "tree", "two", "up", "visual",
    "wow", "yes", "zero",
])
SPEECHCOMMANDS_SAMPLE_RATE = 16000
BACKGROUND_NOISE = "_background_noise_"
#: The pinned release; its SHA-256 is the one torchaudio pins (torchaudio/datasets/speechcommands.py).
#: The archive has no top folder: the word folders and lists are at its root. Its size, 2,428,923,189
#: bytes (2.26 GiB), is the one TensorFlow Datasets and ESPnet's Speech Commands recipe record.
SPEECHCOMMANDS_ARCHIVE = {
    "url": "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz",
    "sha256": "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
    "filename": "speech_commands_v0.02.tar.gz",
    "folder": None,
    "size": 2_428_923_189,
}
_LISTS = {"validation": "validation_list.txt", "test": "testing_list.txt"}
_SPLITS = ("train", "validation", "test", "all")
_HOW_TO_GET = (
    "Get Speech Commands v2 (2.3 GB) with apac_lab.data.download_dataset('speechcommands', root) "
    "(or load_dataset('speechcommands', download=True)), or unpack "
    "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz yourself and point root "
    "(or APAC_LAB_DATA, holding a 'speechcommands' folder) at it."
)


def find_speechcommands_root(root: str | Path) -> Path:
    """The folder holding the word folders and the split lists, under ``root``.

    ``root`` may be that folder itself, or hold ``speech_commands_v0.02/`` or
    ``SpeechCommands/speech_commands_v0.02/`` (torchaudio's layout).

    Raises:
        DatasetNotFoundError: no such folder, or no Speech Commands layout in it.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise DatasetNotFoundError(f"Speech Commands: the folder {root} does not exist. {_HOW_TO_GET}")
    candidates = [root, root / "speech_commands_v0.02", root / "SpeechCommands" / "speech_commands_v0.02"]
    for folder in candidates:
        if (folder / _LISTS["test"]).is_file() or (folder / _LISTS["validation"]).is_file():
            return folder
    if any(c.is_dir() and any((c / w).is_dir() for w in SPEECHCOMMANDS_CLASSES) for c in candidates):
        raise DatasetNotFoundError(
            f"Speech Commands: {root} has word folders but not the official split lists "
            f"({_LISTS['validation']}, {_LISTS['test']}), which come with the release. {_HOW_TO_GET}"
        )
    raise DatasetNotFoundError(
        f"Speech Commands: no Speech Commands data in {root} (the folder is empty or has another layout). {_HOW_TO_GET}"
    )


def _read_list(folder: Path, split: str) -> list[tuple[int, str]]:
    path = folder / _LISTS[split]
    if not path.is_file():
        raise DatasetNotFoundError(
            f"Speech Commands: {path} is missing; the official split lists come with the release. {_HOW_TO_GET}"
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(n, line.strip().replace("\\", "/")) for n, line in enumerate(lines, 1) if line.strip()]


def _speaker(path: Path) -> tuple[str, int]:
    stem = path.stem
    if "_nohash_" not in stem:
        raise ValueError(
            f"Speech Commands: {path} does not follow the '<speaker>_nohash_<n>.wav' naming. "
            "Rename it or move it out of the word folder."
        )
    speaker, _, n = stem.partition("_nohash_")
    return speaker, int(n) if n.isdigit() else 0


def speechcommands_clips(root: str | Path, classes: Sequence[str] | None = None) -> dict[str, list[Clip]]:
    """Every clip of the chosen words under ``root``, by official split.

    Word folders that are absent are fine (their class is simply empty); a list entry
    naming a file that is not there, or a word that is not a class, is an error.
    ``.wav`` is matched in any case (``.WAV`` too), in the folders and in the lists.

    Args:
        root (str | Path): see :func:`find_speechcommands_root`.
        classes (Sequence[str] | None, default None): the words; None is all 35.
            ``Clip.label`` indexes this list.

    Returns:
        dict[str, list[Clip]]: ``{"train": [...], "validation": [...], "test": [...]}``.
    """
    classes = list(SPEECHCOMMANDS_CLASSES if classes is None else classes)
    unknown = [c for c in classes if c not in SPEECHCOMMANDS_CLASSES]
    if unknown or not classes or len(set(classes)) != len(classes):
        raise ValueError(
            f"Speech Commands: classes must be distinct words of the 35 ({SPEECHCOMMANDS_CLASSES}); got {classes}."
        )
    folder = find_speechcommands_root(root)
    present: dict[str, Path] = {}  # "<word>/<name>.wav" (extension in lower case) -> the file
    for word in SPEECHCOMMANDS_CLASSES:
        word_dir = folder / word
        if word_dir.is_dir():
            present.update((f"{word}/{key}", path) for key, path in wav_files(word_dir).items())
    official: dict[str, str] = {}
    for split in ("validation", "test"):
        for n, entry in _read_list(folder, split):
            where = f"{folder / _LISTS[split]}, line {n}"
            if entry.lower().endswith(".wav"):
                entry = entry[:-4] + ".wav"
            word = entry.split("/", 1)[0]
            if word not in SPEECHCOMMANDS_CLASSES:
                raise ValueError(f"Speech Commands: {where} names {entry!r}, whose folder {word!r} is not one of the 35 words.")
            if entry not in present:
                raise DatasetNotFoundError(
                    f"Speech Commands: {where} names {folder / entry}, which does not exist. "
                    f"The copy is incomplete: remove {folder} and get the data again. {_HOW_TO_GET}"
                )
            if official.get(entry, split) != split:
                raise SplitError(f"Speech Commands: {entry} is in both {_LISTS['validation']} and {_LISTS['test']}.")
            official[entry] = split
    index = {w: i for i, w in enumerate(classes)}
    out: dict[str, list[Clip]] = {"train": [], "validation": [], "test": []}
    for entry in sorted(present):
        word = entry.split("/", 1)[0]
        if word not in index:
            continue
        path = present[entry]
        speaker, utterance = _speaker(path)
        out[official.get(entry, "train")].append(Clip(path, index[word], speaker, extra={"utterance": utterance}))
    return out


def load_speechcommands(
    root: str | Path,
    *,
    split: str = "train",
    classes: Sequence[str] | None = None,
    sample_rate: int | None = SPEECHCOMMANDS_SAMPLE_RATE,
    num_samples: int | None = None,
) -> ClipDataset:
    """Load Speech Commands v2 from ``root``, with the official split.

    Args:
        root (str | Path): see :func:`find_speechcommands_root`.
        split (str, default "train"): ``"train"``, ``"validation"``, ``"test"`` or ``"all"``.
        classes (Sequence[str] | None, default None): a subset of the words, in label
            order; None is all 35 (sorted).
        sample_rate (int | None, default 16000): output rate in Hz; None is 16000; 0 is an error.
        num_samples (int | None, default None): clip length; None means 1 s; 0 is an error.

    Returns:
        ClipDataset: ``(waveform (num_samples,), label)`` items; ``.classes`` the words.

    Raises:
        DatasetNotFoundError: no data at ``root``, a split list missing, or a list entry
            naming a missing file.
        SplitError: unknown or empty split.
        ValueError: a bad ``sample_rate`` or ``num_samples``.

    >>> import pathlib, tempfile, numpy as np, soundfile as sf
    >>> root = pathlib.Path(tempfile.mkdtemp()); (root / "yes").mkdir()
    >>> for n in (0, 1): sf.write(root / "yes" / f"ab12_nohash_{n}.wav", np.zeros(800, "float32"), 16000)
    >>> _ = (root / "validation_list.txt").write_text("yes/ab12_nohash_1.wav\\n")
    >>> _ = (root / "testing_list.txt").write_text("")
    >>> ds = load_speechcommands(root, split="train"); len(ds), len(ds.classes), ds.speakers, ds[0][0].shape
    (1, 35, ['ab12'], torch.Size([16000]))
    """
    sample_rate, num_samples = rate_and_length(sample_rate, num_samples, default_rate=SPEECHCOMMANDS_SAMPLE_RATE,
                                               default_seconds=1, name="Speech Commands")
    if split not in _SPLITS:
        raise SplitError(f"Speech Commands: unknown split {split!r}; use one of {list(_SPLITS)}.")
    parts = speechcommands_clips(root, classes)
    clips = [c for s in ("train", "validation", "test") for c in parts[s]] if split == "all" else parts[split]
    if not clips:
        raise SplitError(
            f"Speech Commands: the {split!r} split of {root} is empty (no clips of {len(classes or SPEECHCOMMANDS_CLASSES)} "
            "words there); check the word folders and the split lists."
        )
    return ClipDataset(
        clips, list(SPEECHCOMMANDS_CLASSES if classes is None else classes), sample_rate=sample_rate,
        num_samples=num_samples, name=f"speechcommands/{split}",
    )


def background_noise_files(root: str | Path) -> list[Path]:
    """The WAV files (``.wav`` in any case) of ``_background_noise_`` (empty list if the folder is absent)."""
    folder = find_speechcommands_root(root) / BACKGROUND_NOISE
    return list(wav_files(folder).values()) if folder.is_dir() else []


def load_background_noise(root: str | Path, *, sample_rate: int = SPEECHCOMMANDS_SAMPLE_RATE) -> dict[str, torch.Tensor]:
    """The background-noise recordings, ``{file stem: (samples,) float32}``, for augmentation."""
    return {p.stem: load_audio(p, sample_rate=sample_rate) for p in background_noise_files(root)}


def speechcommands_synthetic(
    split: str = "train",
    sample_rate: int | None = None,
    num_samples: int | None = None,
    *,
    classes: Sequence[str] | None = None,
    **_: object,
) -> ClipDataset:
    """The offline stand-in: synthetic words named like the 35 classes, 16 kHz, 1 s.

    4 speakers x 6 takes per word: take 0 is test, take 1 validation, the rest train.

    >>> ds = speechcommands_synthetic("validation")
    >>> len(ds.classes), len(ds), ds.sample_rate
    (35, 140, 16000)
    """
    classes = list(SPEECHCOMMANDS_CLASSES if classes is None else classes)
    sample_rate, num_samples = rate_and_length(sample_rate, num_samples, default_rate=SPEECHCOMMANDS_SAMPLE_RATE,
                                               default_seconds=1, name="synthetic-speechcommands")
    return load_synthetic(
        split=split, classes=classes, n_speakers=4, takes=6, test_takes=1, val_takes=1,
        sample_rate=sample_rate, num_samples=num_samples, name="synthetic-speechcommands",
    )
