"""Free Spoken Digit Dataset (FSDD): spoken digits 0-9, 8 kHz mono WAV.

The public layout is ``recordings/{digit}_{speaker}_{index}.wav``. The official split
puts indices 0-4 of every digit and speaker in the test set. :func:`load_fsdd` can
instead hold out named speakers, for speaker generalisation. Speakers are read from
the files, never assumed.

The dataset is by Zohar Jackson et al., CC BY-SA 4.0: credit it under figures made from it.

Notebook: 01_spectrogram_and_mfcc (and every notebook's quick mode).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from apac_lab.data.base import Clip, ClipDataset, DatasetNotFoundError, SplitError, rate_and_length, speaker_list, wav_files

__all__ = ["FSDD_CLASSES", "FSDD_SAMPLE_RATE", "FSDD_ARCHIVE", "FSDD_V1_0_9_ARCHIVE", "find_fsdd_recordings", "fsdd_clips",
           "load_fsdd"]

FSDD_CLASSES = [str(d) for d in range(10)]
FSDD_SAMPLE_RATE = 8000
#: The pinned public release: GitHub's tarball of tag v1.0.10, 3,000 recordings by 6 speakers, as
#: Cassetta (2023) describes FSDD ("6 speakers ... 3,000 recordings (50 of each digit per speaker)").
#: Release v1.0.9, which TensorFlow Datasets and earlier versions of this kit use, has 2,500
#: recordings by 5 speakers: the two differ by one speaker. Code never assumes a speaker list.
#:
#: GitHub builds the archive from the tag; the hash below was computed by rebuilding it the same
#: way, ``git archive --format=tar --prefix=free-spoken-digit-dataset-1.0.10/ v1.0.10 | gzip -n``.
#: That recipe, run on v1.0.9, gives exactly the SHA-256 TensorFlow Datasets publishes for
#: GitHub's v1.0.9 tarball (tensorflow_datasets/audio/spoken_digit/checksums.tsv), kept in
#: :data:`FSDD_V1_0_9_ARCHIVE` for that check and for anyone who needs the older release.
FSDD_ARCHIVE = {
    "url": "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz",
    "sha256": "feb479fad3a37883c3d21ed7f982281c2dd1c18d5aefd7e8a5d50f58023392aa",
    "size": 15_602_882,
    "filename": "free-spoken-digit-dataset-1.0.10.tar.gz",
    "folder": "free-spoken-digit-dataset-1.0.10",
}
#: Release v1.0.9 (2,500 recordings, 5 speakers); its SHA-256 and size are TensorFlow Datasets'. A copy
#: unpacked anywhere loads as well (:func:`find_fsdd_recordings` finds ``free-spoken-digit-dataset-*/``).
FSDD_V1_0_9_ARCHIVE = {
    "url": "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.9.tar.gz",
    "sha256": "8bc44cde129d505cbbb6b365c09f80c663f2aa77578afc634e6141a2f87100c0",
    "size": 11_975_353,
    "filename": "free-spoken-digit-dataset-1.0.9.tar.gz",
    "folder": "free-spoken-digit-dataset-1.0.9",
}
_NAME = re.compile(r"^(?P<digit>\d)_(?P<speaker>[^_]+)_(?P<index>\d+)\.wav$", re.IGNORECASE)
_HOW_TO_GET = (
    "Get FSDD with apac_lab.data.download_dataset('fsdd', root) (or let load_dataset download it), "
    "or clone https://github.com/Jakobovski/free-spoken-digit-dataset and point root (or the "
    "APAC_LAB_DATA environment variable, holding a 'fsdd' folder) at it."
)


def find_fsdd_recordings(root: str | Path) -> Path:
    """Return the folder of FSDD WAV files under ``root``.

    ``root`` may be the recordings folder itself, a folder holding ``recordings/``, or a
    folder holding the extracted release (``free-spoken-digit-dataset-*/recordings``).
    ``.wav`` is matched in any case (``.WAV`` too).

    Raises:
        DatasetNotFoundError: no such folder, or no WAV files in it.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise DatasetNotFoundError(f"FSDD: the folder {root} does not exist. {_HOW_TO_GET}")
    candidates = [root / "recordings", root, *sorted(root.glob("free-spoken-digit-dataset*/recordings"))]
    for folder in candidates:
        if folder.is_dir() and wav_files(folder):
            return folder
    raise DatasetNotFoundError(f"FSDD: no .wav recordings found in {root} (the folder is empty or has another layout). {_HOW_TO_GET}")


def fsdd_clips(root: str | Path) -> list[Clip]:
    """Parse every ``{digit}_{speaker}_{index}.wav`` under ``root`` into a :class:`Clip`.

    A WAV file (``.wav`` in any case) whose name does not follow the pattern, or two files
    naming the same digit, speaker and index, are errors, not skipped.
    """
    folder = find_fsdd_recordings(root)
    clips, seen = [], {}
    for path in wav_files(folder).values():
        m = _NAME.match(path.name)
        if m is None:
            raise ValueError(
                f"FSDD: {path} does not follow the '{{digit}}_{{speaker}}_{{index}}.wav' naming. "
                "Rename or move it out of the recordings folder."
            )
        key = (int(m["digit"]), m["speaker"], int(m["index"]))
        if key in seen:
            raise ValueError(f"FSDD: {path} and {seen[key].name} are the same recording (digit, speaker, index); delete one.")
        seen[key] = path
        clips.append(Clip(path, key[0], key[1], extra={"index": key[2]}))
    return clips


def load_fsdd(
    root: str | Path,
    *,
    split: str = "train",
    holdout_speakers: Sequence[str] | None = None,
    sample_rate: int | None = FSDD_SAMPLE_RATE,
    num_samples: int | None = None,
) -> ClipDataset:
    """Load FSDD from ``root``.

    Args:
        root (str | Path): see :func:`find_fsdd_recordings`.
        split (str, default "train"): ``"train"``, ``"test"`` or ``"all"``.
        holdout_speakers (str | Sequence[str] | None, default None): None gives the official
            split (indices 0-4 are test). Otherwise the named speakers are the test set
            and the others the train set; one string is one speaker (``"george"``).
        sample_rate (int | None, default 8000): output rate in Hz (resampled if not 8000);
            None is 8000; 0 or a negative rate is an error.
        num_samples (int | None, default None): clip length; None means 1 s; 0 is an error.

    Returns:
        ClipDataset: ``(waveform (num_samples,), digit)`` items, ``classes`` "0".."9".

    Raises:
        DatasetNotFoundError: no data at ``root``.
        SplitError: unknown split, or a held-out speaker that is not in the data.
        ValueError: a bad ``sample_rate`` or ``num_samples``.

    >>> import pathlib, tempfile, numpy as np, soundfile as sf
    >>> rec = pathlib.Path(tempfile.mkdtemp()) / "recordings"; rec.mkdir()
    >>> for i in (0, 7): sf.write(rec / f"3_kim_{i}.wav", np.zeros(400, "float32"), 8000)
    >>> ds = load_fsdd(rec.parent, split="test"); len(ds), ds.speakers, ds[0]
    (1, ['kim'], (tensor([0., 0., 0.,  ..., 0., 0., 0.]), 3))
    """
    sample_rate, num_samples = rate_and_length(sample_rate, num_samples, default_rate=FSDD_SAMPLE_RATE,
                                               default_seconds=1, name="FSDD")
    if split not in ("train", "test", "all"):
        raise SplitError(f"FSDD: unknown split {split!r}; use 'train', 'test' or 'all'.")
    clips = fsdd_clips(root)
    if holdout_speakers is not None:
        held = set(speaker_list(holdout_speakers))
        present = {c.speaker for c in clips}
        missing = held - present
        if not held or missing:
            raise SplitError(
                f"FSDD: cannot hold out speakers {sorted(missing or held)}: the speakers in the data are {sorted(present)}."
            )
        if held == present and split == "train":
            raise SplitError("FSDD: holding out every speaker leaves no training data; hold out fewer speakers.")
        in_test = lambda c: c.speaker in held  # noqa: E731
    else:
        in_test = lambda c: c.extra["index"] <= 4  # noqa: E731
    if split == "train":
        clips = [c for c in clips if not in_test(c)]
    elif split == "test":
        clips = [c for c in clips if in_test(c)]
    if not clips:
        raise SplitError(f"FSDD: the {split!r} split of {root} is empty; check the file indices and speakers.")
    return ClipDataset(
        clips, FSDD_CLASSES, sample_rate=sample_rate, num_samples=num_samples,
        name=f"fsdd/{split}",
    )
