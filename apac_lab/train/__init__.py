"""Training: one loop (fit / evaluate), metrics, augmentation, the settings of a run and the CLI
(options -> runner -> cli: ``python -m apac_lab.train``), and a run's expected time measured
before it starts (throughput).

Layer: above :mod:`apac_lab.models`, below :mod:`apac_lab.recipes` (the notebooks' experiments).
"""

from apac_lab.train.augment import (
    AddNoise, RandomEQ, SpecAugment, SpeedPerturb, TimeShift, WaveAugment, attach_spec_augment, find_frontend,
)
from apac_lab.train.config import SettingError, TrainConfig, setting
from apac_lab.train.lock import RunFolderBusy, RunLock
from apac_lab.train.loop import ResumeMismatch, check_resume, evaluate, fit, make_loader, predict
from apac_lab.train.metrics import accuracy, confusion_matrix, format_report, per_class_report
from apac_lab.train.options import PRESETS, RunSettings, UsageError, preset_departures, read_settings_file, run_settings
from apac_lab.train.runner import build_from_settings, run
from apac_lab.train.throughput import expected_seconds, format_duration, plan_runs, training_throughput

__all__ = [
    "TrainConfig", "SettingError", "setting", "evaluate", "fit", "make_loader", "predict", "check_resume",
    "ResumeMismatch", "RunLock", "RunFolderBusy",
    "accuracy", "confusion_matrix", "format_report", "per_class_report",
    "RunSettings", "UsageError", "read_settings_file", "run_settings", "run", "build_from_settings",
    "PRESETS", "preset_departures", "training_throughput", "expected_seconds", "plan_runs", "format_duration",
    "AddNoise", "RandomEQ", "SpecAugment", "SpeedPerturb", "TimeShift", "WaveAugment", "attach_spec_augment", "find_frontend",
]
