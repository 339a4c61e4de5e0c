"""Recipes: each notebook's experiments, on top of every other layer.

=======================  ==========================================================  ========
module                   what it runs                                                notebook
=======================  ==========================================================  ========
:mod:`.first_steps`      the set-up check and the from-scratch MFCC's agreement       00, 01
:mod:`.strf`             Gabor STRF against free convolutions on spoken digits        02
:mod:`.listener`         the listener: echoic views, reconstruction, embeddings, probe  03
:mod:`.mst_piczak`       the MSTmodel, then Piczak's CNN in four configurations       04
:mod:`.apac_modes`       APAC's five modes and the baselines, the paper's tables      05
:mod:`.fsdd_frontend`    the FSDD front-end of mode ``mel+stft+fsdd``                  05
:mod:`.fsdd`             FSDD digits and leave-one-speaker-out (the benchmarks)        05
:mod:`.voice`            teach it your voice: a model without one speaker, its takes   05
=======================  ==========================================================  ========

Layers only point down: ``frontends``, ``data`` -> ``models`` -> ``train`` -> ``recipes``.
A new experiment goes here, as a function (or a settings object) that the notebook and the
benchmark both call; nothing below imports this package (``tests/test_layers.py``).
"""

from apac_lab.recipes.apac_modes import (
    TARGET_APAC_TEST_ACCURACY, ModesPlan, apac_full_budget_estimate, apac_modes_plan, baseline_settings, best_mode,
    departures, filterbank_change, format_rows, frontend_pretraining_settings, headline_rows, imagenet_files,
    mode_settings, paper_tables_markdown, planned_runs, protocol_line, table2_rows, table3_rows, table4_rows,
    train_baselines, train_five_modes,
)
from apac_lab.recipes.first_steps import (
    MFCC_TOLERANCE, mfcc_agreement_rows, mfcc_clips, setup_rows,
)
from apac_lab.recipes.fsdd import (
    SYNTHETIC_VOICES_MEMBER, SPEAKERS_TEST_SPEEDS, VOICE_MODEL_FILE, VOICE_MODEL_KIND, fsdd_digits_settings,
    fsdd_speakers_settings, fsdd_voice_model_member_settings, fsdd_voice_model_settings, load_voice_model, speed_averaged_probabilities, write_voice_model,
)
from apac_lab.recipes.fsdd_frontend import (
    fsdd_frontend_settings, pretrain_fsdd_frontend,
)
from apac_lab.recipes.listener import (
    LISTENER_ACCURACY_RESULT, LISTENER_R2_RESULT, LISTENER_TARGETS, ListenerData, ListenerSettings, clip_embeddings,
    dead_units, describe_listeners, echoic_views, fit_listener, fit_probe, listener_data,
    listener_full_budget_estimate, listener_result_rows, listener_settings, paper_listener, paper_listener_training,
    peak_bin_agreement, probe_embeddings, reconstruction_report,
)
from apac_lab.recipes.mst_piczak import (
    MST_RESULT_NAMES, MST_TARGETS, MSTSettings, clip_scores, format_mst_estimate, format_results, load_segments,
    mst_budget_lines, mst_data_needed, mst_estimate_run, mst_result_rows, mst_scores, paper_classifier_training,
    paper_finetune_training, paper_mst_training, run_comparison, train_classifier, train_mst,
)
from apac_lab.recipes.results import (
    format_result_rows, format_value, record_results, shows_percent,
)
from apac_lab.recipes.strf import (
    STRF_MODELS, STRF_NOTEBOOK, STRF_RESULT_NAMES, STRF_TARGET_ACCURACY, STRF_VAL_PER_GROUP, STRFSizes, STRFSplits,
    logmel_dataset, strf_budget_lines, strf_comparison, strf_models, strf_plan, strf_result_rows,
    strf_seconds_per_epoch, strf_sizes, strf_splits, strf_test_accuracy, strf_training, strf_verdict,
    train_strf_models,
)
from apac_lab.recipes.voice import (
    VOICE_EPOCHS, VOICE_FINE_TUNE, VOICE_SHOTS, VOICE_SPEAKER, voice_augment, voice_base_settings,
    voice_rest_accuracy, voice_takes,
)

__all__ = [
    # apac_modes
    "TARGET_APAC_TEST_ACCURACY", "ModesPlan", "apac_modes_plan", "mode_settings", "baseline_settings",
    "frontend_pretraining_settings", "departures", "train_five_modes", "train_baselines", "table2_rows",
    "table3_rows", "table4_rows", "headline_rows", "protocol_line", "format_rows", "planned_runs",
    "apac_full_budget_estimate", "imagenet_files", "best_mode", "filterbank_change", "paper_tables_markdown",
    # first_steps
    "MFCC_TOLERANCE", "mfcc_clips", "setup_rows", "mfcc_agreement_rows",
    # fsdd
    "SYNTHETIC_VOICES_MEMBER", "SPEAKERS_TEST_SPEEDS", "VOICE_MODEL_FILE", "VOICE_MODEL_KIND", "fsdd_digits_settings",
    "fsdd_speakers_settings", "fsdd_voice_model_member_settings", "fsdd_voice_model_settings", "load_voice_model", "speed_averaged_probabilities", "write_voice_model",
    # fsdd_frontend
    "fsdd_frontend_settings", "pretrain_fsdd_frontend",
    # listener
    "LISTENER_TARGETS", "LISTENER_R2_RESULT", "LISTENER_ACCURACY_RESULT", "ListenerSettings", "listener_settings",
    "paper_listener", "paper_listener_training", "ListenerData", "listener_data", "echoic_views", "fit_listener",
    "peak_bin_agreement", "reconstruction_report", "clip_embeddings", "fit_probe", "probe_embeddings", "dead_units",
    "listener_result_rows", "describe_listeners", "listener_full_budget_estimate",
    # mst_piczak
    "MSTSettings", "MST_TARGETS", "MST_RESULT_NAMES", "mst_budget_lines", "mst_data_needed", "load_segments",
    "mst_estimate_run", "format_mst_estimate", "train_mst", "mst_scores", "train_classifier", "clip_scores",
    "run_comparison", "format_results", "mst_result_rows", "paper_mst_training", "paper_classifier_training",
    "paper_finetune_training",
    # results
    "record_results", "format_result_rows", "format_value", "shows_percent",
    # strf
    "STRF_MODELS", "STRF_NOTEBOOK", "STRF_TARGET_ACCURACY", "STRF_RESULT_NAMES", "STRF_VAL_PER_GROUP", "STRFSizes",
    "STRFSplits", "strf_sizes", "strf_budget_lines", "strf_splits", "logmel_dataset", "strf_models",
    "strf_training", "strf_seconds_per_epoch", "strf_plan", "train_strf_models", "strf_test_accuracy",
    "strf_result_rows", "strf_comparison", "strf_verdict",
    # voice
    "VOICE_SPEAKER", "VOICE_SHOTS", "VOICE_EPOCHS", "VOICE_FINE_TUNE", "voice_base_settings", "voice_augment",
    "voice_takes", "voice_rest_accuracy",
]
