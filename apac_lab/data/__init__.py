"""Data: audio reading, FSDD, Speech Commands v2, ESC-50, a synthetic word set, and the
one resolution rule (:func:`load_dataset`) every notebook uses."""

from apac_lab.data.audio import AudioError, check_waveform, fix_length, load_audio, to_mono
from apac_lab.data.base import Clip, ClipDataset, DatasetNotFoundError, SplitError
from apac_lab.data.fsdd import FSDD_CLASSES, FSDD_SAMPLE_RATE, find_fsdd_recordings, fsdd_clips, load_fsdd
from apac_lab.data.resolve import DATASETS, SyntheticFallbackWarning, data_home, dataset_root, is_offline, load_dataset
from apac_lab.data.synthetic import load_synthetic, synthesize_word
from apac_lab.data.segments import SegmentDataset, peak_normalize, segment_samples, segment_starts

__all__ = [
    "AudioError", "check_waveform", "fix_length", "load_audio", "to_mono",
    "Clip", "ClipDataset", "DatasetNotFoundError", "SplitError",
    "FSDD_CLASSES", "FSDD_SAMPLE_RATE", "find_fsdd_recordings", "fsdd_clips", "load_fsdd",
    "DATASETS", "SyntheticFallbackWarning", "data_home", "dataset_root", "is_offline", "load_dataset",
    "load_synthetic", "synthesize_word",
    "SegmentDataset", "peak_normalize", "segment_samples", "segment_starts",
]
