"""ESC-50 (Piczak, 2015): 2,000 environmental sounds, 50 classes, 5 s clips at 44.1 kHz.

The release layout is ``audio/*.wav`` and ``meta/esc50.csv`` with the columns
``filename, fold, target, category, esc10, src_file, take``. The clips are arranged in 5
folds for cross-validation, with the clips cut from one source recording in one fold:
train on four folds, test on the fifth. Class ``i`` is the category whose ``target`` is
``i``. ``esc10`` marks the 10-class subset ESC-10.

The dataset is by Karol J. Piczak, CC BY-NC 3.0 (clips from freesound.org).

Notebook: the environmental-sound notebooks (full mode).
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import Sequence

from apac_lab.data.base import Clip, ClipDataset, DatasetNotFoundError, SplitError, rate_and_length, wav_files
from apac_lab.data.synthetic import load_synthetic

__all__ = [
    "ESC50_CLASSES", "ESC50_SAMPLE_RATE", "ESC50_SECONDS", "ESC50_ARCHIVE",
    "find_esc50_root", "esc50_clips", "load_esc50", "select_folds", "esc50_synthetic",
]

#: The 50 categories, in ``target`` order (0 = dog ... 49 = hand_saw).
ESC50_CLASSES = [
    "dog", "rooster", "pig", "cow", "frog", "cat", "hen", "insects", "sheep", "crow",
    "rain", "sea_waves", "crackling_fire", "crickets", "chirping_birds", "water_drops", "wind",
    "pouring_water", "toilet_flush", "thunderstorm",
    "crying_baby", "sneezing", "clapping", "breathing", "coughing", "footsteps", "laughing",
    "brushing_teeth", "snoring", "drinking_sipping",
    "door_wood_knock", "mouse_click", "keyboard_typing", "door_wood_creaks", "can_opening",
    "washing_machine", "vacuum_cleaner", "clock_alarm", "clock_tick", "glass_breaking",
    "helicopter", "chainsaw", "siren", "car_horn", "engine", "train", "church_bells", "airplane",
    "fireworks", "hand_saw",
]
ESC50_SAMPLE_RATE = 44100
ESC50_SECONDS = 5
ESC50_FOLDS = (1, 2, 3, 4, 5)
#: GitHub's zip of the repository. No SHA-256 of any ESC-50 archive is published (by the
#: author or by TensorFlow Datasets / torchaudio), and GitHub's branch archives change with
#: the branch, so none is pinned here: download_dataset('esc50', root, sha256=...) needs the
#: hash of a copy you trust.
ESC50_ARCHIVE = {
    "url": "https://github.com/karolpiczak/ESC-50/archive/refs/heads/master.zip",
    "sha256": None,
    "filename": "ESC-50-master.zip",
    "folder": "ESC-50-master",
}
_COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")
_SPLITS = ("train", "validation", "test", "all")
_HOW_TO_GET = (
    "Get ESC-50 (600 MB) from https://github.com/karolpiczak/ESC-50 (Download .zip, unpack it) and point "
    "root (or APAC_LAB_DATA, holding an 'esc50' folder) at the folder holding audio/ and meta/. "
    "apac_lab.data.download_dataset('esc50', root, sha256=...) downloads it when you give the archive's "
    "SHA-256 (none is published)."
)


def find_esc50_root(root: str | Path) -> Path:
    """The folder holding ``meta/esc50.csv`` and ``audio/`` under ``root``.

    ``root`` may be that folder, or hold the unpacked archive (``ESC-50-master/``).

    Raises:
        DatasetNotFoundError: no such folder, or no ``meta/esc50.csv`` in it.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise DatasetNotFoundError(f"ESC-50: the folder {root} does not exist. {_HOW_TO_GET}")
    for folder in [root, *sorted(root.glob("ESC-50*"))]:
        if (folder / "meta" / "esc50.csv").is_file():
            return folder
    raise DatasetNotFoundError(
        f"ESC-50: no meta/esc50.csv in {root} (the folder is empty or has another layout). {_HOW_TO_GET}"
    )


def esc50_clips(root: str | Path, *, esc10: bool = False) -> tuple[list[Clip], list[str]]:
    """Read ``meta/esc50.csv``: every clip, and the class names (in ``target`` order).

    Each :class:`Clip` has ``fold`` set, ``speaker`` = ``src_file`` (the source
    recording) and ``extra`` = ``{"take", "target", "esc10"}``. Every listed file must be
    in ``audio/`` (``.wav`` matched in any case); WAV files that the CSV does not list are
    not part of the dataset. The CSV may start with a UTF-8 byte-order mark (as Excel
    writes it). A row with too few or too many fields, a fold outside 1-5, or a file
    listed twice is an error naming the CSV line.

    Args:
        root (str | Path): see :func:`find_esc50_root`.
        esc10 (bool, default False): only the ESC-10 subset, relabelled 0..9 in target order.
    """
    folder = find_esc50_root(root)
    csv_path = folder / "meta" / "esc50.csv"
    audio = folder / "audio"
    present = wav_files(audio) if audio.is_dir() else {}
    rows, first_line = [], {}
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing_cols = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
        if missing_cols:
            raise ValueError(f"ESC-50: {csv_path} lacks the columns {missing_cols}; expected {list(_COLUMNS)}.")
        for row in reader:
            n = reader.line_num
            where = f"{csv_path}, line {n}"
            if None in row or None in row.values():
                got = sum(v is not None for k, v in row.items() if k is not None) + len(row.get(None) or [])
                raise ValueError(
                    f"ESC-50: {where}: has {got} fields, the header {len(reader.fieldnames)}; "
                    "fix or delete this line."
                )
            try:
                fold, target = int(row["fold"]), int(row["target"])
                is_esc10 = row["esc10"].strip().lower() in ("true", "1", "yes")
            except (TypeError, ValueError) as exc:
                raise ValueError(f"ESC-50: {where}: bad fold/target/esc10 value ({exc}); fix this line.") from exc
            if fold not in ESC50_FOLDS:
                raise ValueError(f"ESC-50: {where}: fold {fold} is not one of ESC-50's folds 1-5; fix this line.")
            if not 0 <= target < len(ESC50_CLASSES) or ESC50_CLASSES[target] != row["category"]:
                raise ValueError(
                    f"ESC-50: {where}: target {target} with category {row['category']!r} does not match ESC-50's "
                    f"classes (target {target} is {ESC50_CLASSES[target] if 0 <= target < 50 else 'out of range'!r})."
                )
            name = row["filename"].strip()
            key = name[:-4] + ".wav" if name.lower().endswith(".wav") else name
            if key in first_line:
                raise ValueError(
                    f"ESC-50: {where}: {name} is already listed on line {first_line[key]}; a clip belongs to one "
                    "fold only: delete one of the two lines."
                )
            first_line[key] = n
            if key not in present:
                raise DatasetNotFoundError(
                    f"ESC-50: {where} names {audio / name}, which does not exist. The copy is incomplete: "
                    f"remove {folder} and get the data again. {_HOW_TO_GET}"
                )
            rows.append((row, present[key], fold, target, is_esc10))
    if not rows:
        raise DatasetNotFoundError(f"ESC-50: {csv_path} lists no clips (the dataset is empty). {_HOW_TO_GET}")
    targets = sorted({t for *_, t, e in rows if e}) if esc10 else list(range(len(ESC50_CLASSES)))
    if esc10 and not targets:
        raise SplitError(f"ESC-50: {csv_path} marks no clip as esc10, so the ESC-10 subset is empty.")
    label = {t: i for i, t in enumerate(targets)}
    clips = [
        Clip(path, label[target], row["src_file"], fold, extra={"take": row["take"], "target": target, "esc10": is_esc10})
        for row, path, fold, target, is_esc10 in rows if target in label
    ]
    return clips, [ESC50_CLASSES[t] for t in targets]


def select_folds(
    clips: Sequence[Clip],
    split: str = "train",
    *,
    folds: Sequence[int] | None = None,
    test_fold: int = 5,
    val_fold: int | None = None,
    name: str = "ESC-50",
) -> list[Clip]:
    """Choose clips by fold: explicit ``folds``, or a split around ``test_fold`` (and ``val_fold``).

    ``folds`` wins over ``split``. Otherwise "test" is ``test_fold``, "validation" is
    ``val_fold`` (which must then be given), "train" the other folds, "all" everything.

    >>> cs = [Clip(None, 0, fold=f) for f in (1, 2, 3, 4, 5)]
    >>> [c.fold for c in select_folds(cs, "train", test_fold=5, val_fold=4)]
    [1, 2, 3]
    """
    present = sorted({c.fold for c in clips})
    if folds is not None:
        wanted = {int(f) for f in folds}
        unknown = sorted(wanted - set(present))
        if not wanted or unknown:
            raise SplitError(f"{name}: folds {sorted(unknown or wanted)} are not in the data (folds present: {present}).")
        chosen = [c for c in clips if c.fold in wanted]
    else:
        if split not in _SPLITS:
            raise SplitError(f"{name}: unknown split {split!r}; use one of {list(_SPLITS)}, or folds=[...].")
        for arg, fold in (("test_fold", test_fold), ("val_fold", val_fold)):
            if fold is not None and fold not in present:
                raise SplitError(f"{name}: {arg}={fold} is not a fold of the data (folds present: {present}).")
        if val_fold is not None and val_fold == test_fold:
            raise SplitError(f"{name}: val_fold and test_fold are both {test_fold}; choose two different folds.")
        if split == "validation" and val_fold is None:
            raise SplitError(f"{name}: the 'validation' split needs val_fold=<fold> (test_fold is {test_fold}).")
        keep = {
            "all": lambda c: True,
            "test": lambda c: c.fold == test_fold,
            "validation": lambda c: c.fold == val_fold,
            "train": lambda c: c.fold not in (test_fold, val_fold),
        }[split]
        chosen = [c for c in clips if keep(c)]
    if not chosen:
        raise SplitError(f"{name}: the {split!r} split (folds={folds}, test_fold={test_fold}, val_fold={val_fold}) is empty.")
    return chosen


def load_esc50(
    root: str | Path,
    *,
    split: str = "train",
    folds: Sequence[int] | None = None,
    test_fold: int = 5,
    val_fold: int | None = None,
    esc10: bool = False,
    sample_rate: int | None = ESC50_SAMPLE_RATE,
    num_samples: int | None = None,
) -> ClipDataset:
    """Load ESC-50 from ``root``.

    Args:
        root (str | Path): see :func:`find_esc50_root`.
        split (str, default "train"): ``"train"``, ``"validation"``, ``"test"`` or ``"all"``.
        folds (Sequence[int] | None, default None): exactly these folds (overrides ``split``).
        test_fold (int, default 5): the test fold.
        val_fold (int | None, default None): the validation fold, if any.
        esc10 (bool, default False): the ESC-10 subset (10 classes).
        sample_rate (int | None, default 44100): output rate in Hz; None is 44100; 0 is an error.
        num_samples (int | None, default None): clip length; None means 5 s; 0 is an error.

    Returns:
        ClipDataset: ``(waveform (num_samples,), label)``; ``.classes`` in target order.

    Raises:
        DatasetNotFoundError: no data at ``root``, or a listed file missing.
        SplitError: unknown split, a fold not in the data, or an empty split.

    >>> import pathlib, tempfile, numpy as np, soundfile as sf
    >>> root = pathlib.Path(tempfile.mkdtemp()); (root / "audio").mkdir(); (root / "meta").mkdir()
    >>> for f in (1, 5): sf.write(root / "audio" / f"{f}-7-A-5.wav", np.zeros(4410, "float32"), 44100)
    >>> _ = (root / "meta" / "esc50.csv").write_text("filename,fold,target,category,esc10,src_file,take\\n"
    ...     "1-7-A-5.wav,1,5,cat,False,7,A\\n5-7-A-5.wav,5,5,cat,False,7,A\\n")
    >>> ds = load_esc50(root, split="test"); len(ds), ds.classes[5], ds[0][0].shape
    (1, 'cat', torch.Size([220500]))
    """
    sample_rate, num_samples = rate_and_length(sample_rate, num_samples, default_rate=ESC50_SAMPLE_RATE,
                                               default_seconds=ESC50_SECONDS, name="ESC-50")
    clips, classes = esc50_clips(root, esc10=esc10)
    chosen = select_folds(clips, split, folds=folds, test_fold=test_fold, val_fold=val_fold)
    tag = f"folds{''.join(str(f) for f in sorted(set(folds)))}" if folds is not None else split
    return ClipDataset(
        chosen, classes, sample_rate=sample_rate, num_samples=num_samples, name=f"esc50/{tag}",
    )


def esc50_synthetic(
    split: str = "train",
    sample_rate: int | None = None,
    num_samples: int | None = None,
    *,
    folds: Sequence[int] | None = None,
    test_fold: int = 5,
    val_fold: int | None = None,
    esc10: bool = False,
    **_: object,
) -> ClipDataset:
    """The offline stand-in: one synthetic sound per ESC-50 class, 5 folds of 2 takes, 5 s.

    Synthetic "speaker" ``k`` is fold ``k + 1``; splits follow :func:`select_folds`.

    >>> ds = esc50_synthetic("test", sample_rate=16000)
    >>> len(ds.classes), len(ds), ds.num_samples
    (50, 100, 80000)
    """
    sample_rate, num_samples = rate_and_length(sample_rate, num_samples, default_rate=ESC50_SAMPLE_RATE,
                                               default_seconds=ESC50_SECONDS, name="synthetic-esc50")
    targets = [0, 1, 10, 11, 12, 20, 21, 38, 40, 41] if esc10 else list(range(len(ESC50_CLASSES)))
    base = load_synthetic(
        split="all", classes=[ESC50_CLASSES[t] for t in targets], n_speakers=len(ESC50_FOLDS), takes=2,
        test_takes=0, sample_rate=sample_rate, num_samples=num_samples, name="synthetic-esc50",
    )
    base.clips = [dataclasses.replace(c, fold=int(c.speaker[3:]) + 1) for c in base.clips]
    chosen = select_folds(base.clips, split, folds=folds, test_fold=test_fold, val_fold=val_fold, name="synthetic-esc50")
    keep = {id(c) for c in chosen}
    return base.subset([i for i, c in enumerate(base.clips) if id(c) in keep], name=f"synthetic-esc50/{split}")
