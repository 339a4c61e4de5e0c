"""Recipes: each notebook's experiments, on top of every other layer.

=======================  ==========================================================  ========
module                   what it runs                                                notebook
=======================  ==========================================================  ========
:mod:`.strf`             Gabor STRF against free convolutions on spoken digits        02
:mod:`.listener`         the listener: echoic views, reconstruction, embeddings, probe  03
:mod:`.mst_piczak`       the MSTmodel, then Piczak's CNN in four configurations       04
:mod:`.fsdd_frontend`    the FSDD front-end of mode ``mel+stft+fsdd``                  05
:mod:`.fsdd`             FSDD digits and leave-one-speaker-out (the benchmarks)        05
=======================  ==========================================================  ========

Layers only point down: ``frontends``, ``data`` -> ``models`` -> ``train`` -> ``recipes``.
A new experiment goes here, as a function (or a settings object) that the notebook and the
benchmark both call; nothing below imports this package (``tests/test_layers.py``).
"""

from apac_lab.recipes.fsdd import fsdd_digits_settings, fsdd_speakers_settings
from apac_lab.recipes.fsdd_frontend import fsdd_frontend_settings, pretrain_fsdd_frontend
from apac_lab.recipes.listener import clip_embeddings, echoic_views, fit_listener, fit_probe, reconstruction_report
from apac_lab.recipes.mst_piczak import (
    MSTSettings, clip_scores, format_results, load_segments, paper_classifier_training, paper_finetune_training,
    paper_mst_training, run_comparison, train_classifier, train_mst,
)
from apac_lab.recipes.results import format_result_rows, record_results
from apac_lab.recipes.strf import (
    STRF_MODELS, STRF_NOTEBOOK, STRF_RESULT_NAMES, STRF_TARGET_ACCURACY, STRF_VAL_PER_GROUP, STRFSizes, STRFSplits,
    logmel_dataset, strf_budget_lines, strf_comparison, strf_models, strf_plan, strf_result_rows,
    strf_seconds_per_epoch, strf_sizes, strf_splits, strf_test_accuracy, strf_training, strf_verdict,
    train_strf_models,
)

__all__ = [
    "fsdd_digits_settings", "fsdd_speakers_settings", "fsdd_frontend_settings", "pretrain_fsdd_frontend",
    "clip_embeddings", "echoic_views", "fit_listener", "fit_probe", "reconstruction_report",
    "MSTSettings", "clip_scores", "format_results", "load_segments", "paper_classifier_training",
    "paper_finetune_training", "paper_mst_training", "run_comparison", "train_classifier", "train_mst",
    "STRF_MODELS", "STRF_NOTEBOOK", "STRF_RESULT_NAMES", "STRF_TARGET_ACCURACY", "STRF_VAL_PER_GROUP", "STRFSizes",
    "STRFSplits", "logmel_dataset", "strf_budget_lines", "strf_comparison", "strf_models", "strf_plan",
    "strf_result_rows", "strf_seconds_per_epoch", "strf_sizes", "strf_splits", "strf_test_accuracy", "strf_training",
    "strf_verdict", "train_strf_models",
    "format_result_rows", "record_results",
]
