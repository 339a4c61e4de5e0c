"""Recipes: each notebook's experiments, on top of every other layer.

=======================  ==========================================================  ========
module                   what it runs                                                notebook
=======================  ==========================================================  ========
:mod:`.strf`             Gabor STRF against free convolutions on spoken digits        02
:mod:`.listener`         the listener: echoic views, reconstruction, embeddings, probe  03
:mod:`.mst_piczak`       the MSTmodel, then Piczak's CNN in four configurations       04
:mod:`.apac_modes`       APAC's five modes and the baselines, the paper's tables      05
:mod:`.fsdd_frontend`    the FSDD front-end of mode ``mel+stft+fsdd``                  05
:mod:`.fsdd`             FSDD digits and leave-one-speaker-out (the benchmarks)        05
=======================  ==========================================================  ========

Layers only point down: ``frontends``, ``data`` -> ``models`` -> ``train`` -> ``recipes``.
A new experiment goes here, as a function (or a settings object) that the notebook and the
benchmark both call; nothing below imports this package (``tests/test_layers.py``).
"""

from apac_lab.recipes.apac_modes import (
    TARGET_APAC_TEST_ACCURACY, ModesPlan, apac_modes_plan, baseline_settings, departures, frontend_pretraining_settings,
    headline_rows, mode_settings, planned_runs, protocol_line, table2_rows, table3_rows, table4_rows, train_baselines, train_five_modes,
)
from apac_lab.recipes.fsdd import fsdd_digits_settings, fsdd_speakers_settings
from apac_lab.recipes.fsdd_frontend import fsdd_frontend_settings, pretrain_fsdd_frontend
from apac_lab.recipes.listener import clip_embeddings, echoic_views, fit_listener, fit_probe, reconstruction_report
from apac_lab.recipes.mst_piczak import (
    MSTSettings, clip_scores, format_results, load_segments, paper_classifier_training, paper_finetune_training,
    paper_mst_training, run_comparison, train_classifier, train_mst,
)
from apac_lab.recipes.results import format_result_rows, record_results
from apac_lab.recipes.strf import STRF_MODELS, strf_models, strf_training, train_strf_models

__all__ = [
    "TARGET_APAC_TEST_ACCURACY", "ModesPlan", "apac_modes_plan", "baseline_settings", "departures", "headline_rows",
    "frontend_pretraining_settings", "mode_settings", "planned_runs", "protocol_line", "table2_rows", "table3_rows", "table4_rows", "train_baselines",
    "train_five_modes",
    "fsdd_digits_settings", "fsdd_speakers_settings", "fsdd_frontend_settings", "pretrain_fsdd_frontend",
    "clip_embeddings", "echoic_views", "fit_listener", "fit_probe", "reconstruction_report",
    "MSTSettings", "clip_scores", "format_results", "load_segments", "paper_classifier_training",
    "paper_finetune_training", "paper_mst_training", "run_comparison", "train_classifier", "train_mst",
    "STRF_MODELS", "strf_models", "strf_training", "train_strf_models",
    "format_result_rows", "record_results",
]
