"""Recipes: each notebook's experiments, on top of every other layer.

=======================  ==========================================================  ========
module                   what it runs                                                notebook
=======================  ==========================================================  ========
:mod:`.first_steps`      the set-up check and the from-scratch MFCC's agreement       00, 01
:mod:`.strf`             Gabor STRF against free convolutions on spoken digits        02
:mod:`.listener`         the listener: echoic views, reconstruction, embeddings, probe  03
:mod:`.mst_piczak`       the MSTmodel, then Piczak's CNN in four configurations       04
:mod:`.fsdd_frontend`    the FSDD front-end of mode ``mel+stft+fsdd``                  05
:mod:`.fsdd`             FSDD digits and leave-one-speaker-out (the benchmarks)        05
:mod:`.voice`            teach it your voice: a model without one speaker, its takes   05
=======================  ==========================================================  ========

Layers only point down: ``frontends``, ``data`` -> ``models`` -> ``train`` -> ``recipes``.
A new experiment goes here, as a function (or a settings object) that the notebook and the
benchmark both call; nothing below imports this package (``tests/test_layers.py``).
"""

from apac_lab.recipes.first_steps import MFCC_TOLERANCE, mfcc_agreement_rows, mfcc_clips, setup_rows
from apac_lab.recipes.fsdd import fsdd_digits_settings, fsdd_speakers_settings
from apac_lab.recipes.fsdd_frontend import fsdd_frontend_settings, pretrain_fsdd_frontend
from apac_lab.recipes.listener import (
    ACCURACY_RESULT, R2_RESULT, TARGETS, ListenerData, ListenerSettings, clip_embeddings, dead_units, describe_listeners,
    echoic_views, fit_listener, fit_probe, full_budget_estimate, listener_data, listener_result_rows, listener_settings,
    paper_listener, paper_listener_training, peak_bin_agreement, probe_embeddings, reconstruction_report,
)
from apac_lab.recipes.mst_piczak import (
    RESULT_NAMES, TARGETS, MSTSettings, budget_lines, clip_scores, data_needed, estimate_run, format_estimate,
    format_results, load_segments, mst_scores, paper_classifier_training, paper_finetune_training, paper_mst_training,
    result_rows, run_comparison, train_classifier, train_mst,
)
from apac_lab.recipes.results import format_result_rows, format_value, record_results, shows_percent
from apac_lab.recipes.strf import STRF_MODELS, strf_models, strf_training, train_strf_models
from apac_lab.recipes.voice import (
    VOICE_EPOCHS, VOICE_FINE_TUNE, VOICE_SHOTS, VOICE_SPEAKER, voice_augment, voice_base_settings,
    voice_rest_accuracy, voice_takes,
)

__all__ = [
    "MFCC_TOLERANCE", "mfcc_agreement_rows", "mfcc_clips", "setup_rows",
    "fsdd_digits_settings", "fsdd_speakers_settings", "fsdd_frontend_settings", "pretrain_fsdd_frontend",
    "ACCURACY_RESULT", "R2_RESULT", "TARGETS", "ListenerData", "ListenerSettings", "clip_embeddings", "dead_units",
    "describe_listeners", "echoic_views", "fit_listener", "fit_probe", "full_budget_estimate", "listener_data",
    "listener_result_rows", "listener_settings", "paper_listener", "paper_listener_training", "peak_bin_agreement",
    "probe_embeddings", "reconstruction_report",
    "MSTSettings", "RESULT_NAMES", "TARGETS", "budget_lines", "clip_scores", "data_needed", "estimate_run",
    "format_estimate", "format_results", "load_segments", "mst_scores", "paper_classifier_training",
    "paper_finetune_training", "paper_mst_training", "result_rows", "run_comparison", "train_classifier", "train_mst",
    "STRF_MODELS", "strf_models", "strf_training", "train_strf_models",
    "format_result_rows", "format_value", "record_results", "shows_percent",
    "VOICE_SPEAKER", "VOICE_SHOTS", "VOICE_EPOCHS", "VOICE_FINE_TUNE", "voice_base_settings",
    "voice_augment", "voice_takes", "voice_rest_accuracy",
]
