"""Models: the MSTmodel that learns the log-mel transform, its targets and analysis, and
Piczak's CNN with test-time voting."""

from apac_lab.models.mst import MST_LAYERS, MSTmodel, mst_frame_centers, mst_num_frames, set_trainable
from apac_lab.models.mst_analysis import (
    band_errors, filter_responses, mel_band_centers, predict, probe_errors, probe_signals, sort_filters_by_peak,
)
from apac_lab.models.mst_targets import MST_DEFAULTS, LogMelDB, MSTTarget, MSTTargetDataset, RangeNormalizer, power_to_db
from apac_lab.models.mst_recipes import (
    MSTSettings, clip_scores, format_results, load_segments, run_comparison, train_classifier, train_mst,
)
from apac_lab.models.piczak import PICZAK_CONFIGS, PICZAK_LAYERS, PiczakCNN, build_piczak, finetune_from
from apac_lab.models.voting import VOTING_METHODS, clip_accuracy, vote_majority, vote_probability

__all__ = [
    "MST_LAYERS", "MSTmodel", "mst_frame_centers", "mst_num_frames", "set_trainable",
    "MST_DEFAULTS", "LogMelDB", "MSTTarget", "MSTTargetDataset", "RangeNormalizer", "power_to_db",
    "band_errors", "filter_responses", "mel_band_centers", "predict", "probe_errors", "probe_signals",
    "sort_filters_by_peak",
    "MSTSettings", "clip_scores", "format_results", "load_segments", "run_comparison", "train_classifier",
    "train_mst",
    "PICZAK_CONFIGS", "PICZAK_LAYERS", "PiczakCNN", "build_piczak", "finetune_from",
    "VOTING_METHODS", "clip_accuracy", "vote_majority", "vote_probability",
]
