"""Training: one config object, one loop (fit / evaluate), metrics, augmentation, and the CLI
(settings -> runner -> cli: ``python -m apac_lab.train``)."""

from apac_lab.train.augment import (
    AddNoise, RandomEQ, SpecAugment, SpeedPerturb, TimeShift, WaveAugment, attach_spec_augment, find_frontend,
)
from apac_lab.train.config import TrainConfig
from apac_lab.train.listener import clip_embeddings, echoic_views, fit_listener, fit_probe, reconstruction_report
from apac_lab.train.loop import evaluate, fit, load_checkpoint, make_loader, predict, save_checkpoint
from apac_lab.train.metrics import accuracy, confusion_matrix, format_report, per_class_report

__all__ = [
    "TrainConfig", "evaluate", "fit", "load_checkpoint", "make_loader", "predict", "save_checkpoint",
    "accuracy", "confusion_matrix", "format_report", "per_class_report",
    "clip_embeddings", "echoic_views", "fit_listener", "fit_probe", "reconstruction_report",
    "AddNoise", "RandomEQ", "SpecAugment", "SpeedPerturb", "TimeShift", "WaveAugment", "attach_spec_augment", "find_frontend",
]
