"""Data: audio reading and bounded resampling, FSDD, Speech Commands v2, ESC-50, a synthetic word set, downloads, and
the one resolution rule (:func:`load_dataset`) every notebook uses."""

from apac_lab.data.audio import AudioError, check_waveform, decode_wav_bytes, fix_length, load_audio, to_mono, wav_bytes
from apac_lab.data.base import (
    Clip, ClipDataset, DatasetNotFoundError, SplitError, rate_and_length, speaker_list, wav_files,
)
from apac_lab.data.download import (
    DOWNLOADS, ArchiveSpec, DownloadError, UnsafeArchiveError, archive_url, download_dataset, download_file,
    safe_extract, sha256sum,
)
from apac_lab.data.esc50 import (
    ESC50_CLASSES, ESC50_SAMPLE_RATE, esc50_clips, esc50_synthetic, find_esc50_root, load_esc50, select_folds,
)
from apac_lab.data.fsdd import FSDD_CLASSES, FSDD_SAMPLE_RATE, find_fsdd_recordings, fsdd_clips, load_fsdd
from apac_lab.data.resample import (
    MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, ChunkResampler, ResamplePlan, check_sample_rate, resample_plan,
    resample_waveform,
)
from apac_lab.data.resolve import DATASETS, SyntheticFallbackWarning, data_home, dataset_root, is_offline, load_dataset
from apac_lab.data.speechcommands import (
    SPEECHCOMMANDS_CLASSES, SPEECHCOMMANDS_SAMPLE_RATE, background_noise_files, find_speechcommands_root,
    load_background_noise, load_speechcommands, speechcommands_clips, speechcommands_synthetic,
)
from apac_lab.data.synthetic import load_synthetic, synthesize_word
from apac_lab.data.segments import (
    SegmentDataset, draw_variations, peak_normalize, segment_samples, segment_starts, shifted_variation,
)

__all__ = [
    "AudioError", "check_waveform", "fix_length", "load_audio", "to_mono", "decode_wav_bytes", "wav_bytes",
    "Clip", "ClipDataset", "DatasetNotFoundError", "SplitError", "rate_and_length", "speaker_list", "wav_files",
    "MAX_SAMPLE_RATE", "MIN_SAMPLE_RATE", "ChunkResampler", "ResamplePlan", "check_sample_rate", "resample_plan",
    "resample_waveform",
    "DOWNLOADS", "ArchiveSpec", "DownloadError", "UnsafeArchiveError", "archive_url", "download_dataset",
    "download_file", "safe_extract", "sha256sum",
    "ESC50_CLASSES", "ESC50_SAMPLE_RATE", "esc50_clips", "esc50_synthetic", "find_esc50_root", "load_esc50",
    "select_folds",
    "FSDD_CLASSES", "FSDD_SAMPLE_RATE", "find_fsdd_recordings", "fsdd_clips", "load_fsdd",
    "DATASETS", "SyntheticFallbackWarning", "data_home", "dataset_root", "is_offline", "load_dataset",
    "SPEECHCOMMANDS_CLASSES", "SPEECHCOMMANDS_SAMPLE_RATE", "background_noise_files", "find_speechcommands_root",
    "load_background_noise", "load_speechcommands", "speechcommands_clips", "speechcommands_synthetic",
    "load_synthetic", "synthesize_word",
    "SegmentDataset", "draw_variations", "peak_normalize", "segment_samples", "segment_starts", "shifted_variation",
]
