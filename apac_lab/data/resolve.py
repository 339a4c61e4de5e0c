"""One rule for finding data, used by every notebook and the CLI.

1. If the data is found (the ``root`` argument, else ``$APAC_LAB_DATA/<folder>``, else
   the user cache ``$APAC_LAB_CACHE/<folder>``, by default ``~/.cache/apac_lab/<folder>``;
   ``<folder>`` is e.g. ``fsdd``, ``speechcommands``, ``esc50``), use it.
2. Otherwise download it into the cache, where downloading is allowed (the pinned archives
   of :mod:`apac_lab.data.download`; ``APAC_LAB_MIRROR`` serves them from elsewhere).
3. Otherwise (``APAC_LAB_OFFLINE=1``, ``download=False``, or the download failed), fall
   back to the synthetic stand-in, with a visible notice (printed, and a
   :class:`SyntheticFallbackWarning`) saying so.

An explicit ``root`` that holds no data is an error (with the way to get the data),
unless ``download=True`` asks for the data to be downloaded into it.

Notebook: every notebook's first data cell.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Sequence

from apac_lab.data.base import ClipDataset, speaker_list
from apac_lab.data.esc50 import ESC50_SAMPLE_RATE, esc50_synthetic, load_esc50
from apac_lab.data.fsdd import FSDD_CLASSES, FSDD_SAMPLE_RATE, load_fsdd
from apac_lab.data.speechcommands import SPEECHCOMMANDS_SAMPLE_RATE, load_speechcommands, speechcommands_synthetic
from apac_lab.data.synthetic import load_synthetic
from apac_lab.utils import is_offline

__all__ = ["DATASETS", "SyntheticFallbackWarning", "data_home", "is_offline", "load_dataset", "dataset_root"]

class SyntheticFallbackWarning(UserWarning):
    """Real data was not available, so the synthetic set is used instead."""


def data_home() -> Path:
    """The default download folder: ``$APAC_LAB_CACHE`` or ``~/.cache/apac_lab``."""
    return Path(os.environ.get("APAC_LAB_CACHE", Path.home() / ".cache" / "apac_lab")).expanduser()


def _fsdd_synthetic(
    split: str = "train",
    sample_rate: int | None = None,
    num_samples: int | None = None,
    *,
    holdout_speakers: Sequence[str] | None = None,
    **_: object,
) -> ClipDataset:
    """FSDD's stand-in: digits "0".."9" by 5 synthetic speakers, 8 kHz, 1 s.

    Real speaker names mean nothing here: holding out k named speakers holds out the
    first k synthetic ones (``spk0``...), so a speaker-wise split stays speaker-wise.
    """
    held = None
    if holdout_speakers is not None:
        names = speaker_list(holdout_speakers)
        synthetic = [f"spk{i}" for i in range(5)]
        held = names if set(names) <= set(synthetic) else synthetic[: max(1, min(len(names), 4))]
        if held != names:
            print(f"[apac_lab] synthetic FSDD: holding out synthetic speakers {held} in place of {names}.")
    rate = FSDD_SAMPLE_RATE if sample_rate is None else sample_rate
    return load_synthetic(split=split, classes=FSDD_CLASSES, holdout_speakers=held, sample_rate=rate,
                          num_samples=num_samples, name="synthetic-fsdd")


#: name -> {"load": loader(root, split=, sample_rate=, num_samples=, **kw),
#:          "synthetic": the offline stand-in (same arguments, no root),
#:          "defaults": {"sample_rate": Hz}, "folders": names tried under $APAC_LAB_DATA and the cache}
DATASETS: dict[str, dict] = {
    "fsdd": {
        "load": load_fsdd, "synthetic": _fsdd_synthetic, "defaults": {"sample_rate": FSDD_SAMPLE_RATE},
        "folders": ["fsdd", "free-spoken-digit-dataset"],
    },
    "speechcommands": {
        "load": load_speechcommands, "synthetic": speechcommands_synthetic,
        "defaults": {"sample_rate": SPEECHCOMMANDS_SAMPLE_RATE},
        "folders": ["speechcommands", "speech_commands", "SpeechCommands", "speech_commands_v0.02"],
    },
    "esc50": {
        "load": load_esc50, "synthetic": esc50_synthetic, "defaults": {"sample_rate": ESC50_SAMPLE_RATE},
        "folders": ["esc50", "ESC-50", "ESC-50-master"],
    },
    "synthetic": {"load": None, "synthetic": None, "defaults": {"sample_rate": 8000}, "folders": []},
}


def _check_name(name: str) -> str:
    key = str(name).lower().replace("-", "").replace("_", "")
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}.")
    return key


def _has_content(folder: Path) -> bool:
    return folder.is_dir() and any(not p.name.startswith(".apac_lab-tmp-") for p in folder.iterdir())


def dataset_root(name: str, root: str | Path | None = None) -> Path | None:
    """Where ``name``'s data is, by the rule above, or None if it is nowhere yet.

    An explicit ``root`` is returned as given. Otherwise the first non-empty folder among
    ``$APAC_LAB_DATA/<folder>`` and ``<cache>/<folder>``, for the dataset's folder names
    (e.g. ``fsdd``).

    >>> dataset_root("fsdd", "/data/fsdd")
    PosixPath('/data/fsdd')
    """
    key = _check_name(name)
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("APAC_LAB_DATA", "").strip()
    for base in ([Path(env).expanduser()] if env else []) + [data_home()]:
        for folder in DATASETS[key]["folders"]:
            if _has_content(base / folder):
                return base / folder
    return None


def load_dataset(
    name: str,
    split: str = "train",
    *,
    root: str | Path | None = None,
    download: bool | None = None,
    sample_rate: int | None = None,
    num_samples: int | None = None,
    verbose: bool = True,
    **kwargs: object,
) -> ClipDataset:
    """Load a dataset by name, by the resolution rule in this module's docstring.

    Args:
        name (str): ``"fsdd"``, ``"speechcommands"``, ``"esc50"`` or ``"synthetic"``.
        split (str, default "train"): the dataset's split name.
        root (str | Path | None, default None): where the data is; None follows the rule.
        download (bool | None, default None): None downloads when the data is missing and
            ``APAC_LAB_OFFLINE`` is not set; True always may; False never does.
        sample_rate (int | None, default None): Hz; None keeps the dataset's own rate.
        num_samples (int | None, default None): clip length; None keeps the dataset's.
        verbose (bool, default True): print where the data came from.
        **kwargs: passed to the dataset's loader (e.g. ``holdout_speakers`` for FSDD).

    Returns:
        ClipDataset: ``(waveform, label)`` items; ``.name`` starts with ``synthetic``
        when the fallback was used.

    >>> import os; os.environ["APAC_LAB_OFFLINE"] = "1"
    >>> load_dataset("synthetic", "test", verbose=False).name
    'synthetic/test'
    """
    key = _check_name(name)
    spec = DATASETS[key]
    sample_rate = spec["defaults"]["sample_rate"] if sample_rate is None else sample_rate  # 0 is the loader's error
    if key == "synthetic":
        return load_synthetic(split=split, sample_rate=sample_rate, num_samples=num_samples, **kwargs)
    load = spec["load"]
    explicit = root is not None
    where = dataset_root(key, root)
    if where is not None and where.exists() and not (explicit and download and not _has_content(where)):
        ds = load(where, split=split, sample_rate=sample_rate, num_samples=num_samples, **kwargs)
        if verbose:
            print(f"[apac_lab] {key}: {len(ds)} clips ({split}) from {where}")
        return ds
    allowed = (not is_offline()) if download is None else bool(download)
    if explicit and not allowed:
        load(where, split=split, sample_rate=sample_rate, num_samples=num_samples, **kwargs)  # raises with how-to
    reason = "downloads are off (APAC_LAB_OFFLINE=1)" if download is None else "download=False"
    if allowed:
        from apac_lab.data.download import download_dataset

        target = where if explicit else data_home() / spec["folders"][0]
        try:
            download_dataset(key, target, progress=verbose)
        except OSError as exc:
            if explicit:
                raise
            reason = f"the download failed ({exc})"
        else:
            return load_dataset(key, split, root=target, download=False, sample_rate=sample_rate,
                                num_samples=num_samples, verbose=verbose, **kwargs)
    notice = (
        f"[apac_lab] NOTICE: {key} data not found and {reason}: using a SYNTHETIC stand-in for {key} instead. "
        f"Results will not be the real dataset's. To use the real data, set APAC_LAB_DATA to a folder holding "
        f"'{spec['folders'][0]}/', pass root=, or allow downloads (unset APAC_LAB_OFFLINE)."
    )
    print(notice)
    warnings.warn(notice, SyntheticFallbackWarning, stacklevel=2)
    return spec["synthetic"](split=split, sample_rate=sample_rate, num_samples=num_samples, **kwargs)
