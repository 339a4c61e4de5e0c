"""apac_lab.utils: environment flags read in one place, and the previous release's names
kept (with a DeprecationWarning) exactly where its notebooks used them."""

import importlib
import warnings

import pytest

from apac_lab.utils import env_flag, is_offline, renamed


@pytest.mark.parametrize("value, expected", [("1", True), (" TRUE ", True), ("yes", True), ("on", True),
                                             ("0", False), ("", False), ("no", False)])
def test_env_flag(monkeypatch, value, expected):
    monkeypatch.setenv("APAC_LAB_OFFLINE", value)
    assert env_flag("APAC_LAB_OFFLINE") is expected and is_offline() is expected


def test_offline_is_one_function_everywhere():
    from apac_lab.data import is_offline as data_is_offline
    from apac_lab.data import resolve
    from apac_lab.models import baselines

    assert data_is_offline is is_offline and resolve.is_offline is is_offline and baselines.is_offline is is_offline


# (module, old name, new name) for every name a notebook of the previous release imports
OLD_NAMES = [
    ("apac_lab.models", "predict", "model_outputs"),
    ("apac_lab.models", "TRAINABLE", "TRAINABLE_MEL_STFT"),
    ("apac_lab.plots", "filterbank_figure", "mel_filterbank_figure"),
    ("apac_lab.plots", "filter_bank_figure", "kernel_grid_figure"),
    ("apac_lab.plots", "filters_figure", "filter_responses_figure"),
    ("apac_lab.widgets", "mel_explorer", "MelExplorer"),
    ("apac_lab.widgets", "FilterBankBrowser", "GaborBankBrowser"),
    ("apac_lab.widgets", "filterbank_inspector", "MelFilterInspector"),
    ("apac_lab.widgets", "upload_predictor", "UploadPredictor"),
]


@pytest.mark.parametrize("module, old, new", OLD_NAMES)
def test_old_names_warn_and_give_the_new_object(module, old, new):
    mod = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=f"{module}.{old} is renamed {module}.{new}"):
        obj = getattr(mod, old)
    assert obj is getattr(mod, new)
    assert old not in mod.__all__ and new in mod.__all__


def test_moved_and_merged_names_still_work():
    import apac_lab.data as data
    import apac_lab.plots as plots
    import apac_lab.widgets as widgets

    with pytest.warns(DeprecationWarning, match="apac_lab.widgets.wav_bytes is renamed apac_lab.data.wav_bytes"):
        assert widgets.wav_bytes is data.wav_bytes
    for old in ("compare_runs_figure", "loss_curves_figure"):
        with pytest.warns(DeprecationWarning, match="renamed apac_lab.plots.training_curves"):
            assert callable(getattr(plots, old))


def test_unknown_names_are_attribute_errors_and_removed_ones_are_gone():
    getattr_ = renamed("m", {"old": ("new", 1)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match="module 'm' has no attribute 'other'"):
            getattr_("other")
    import apac_lab.models as models
    import apac_lab.widgets as widgets

    for mod, name in ((models, "build_frontend"), (widgets, "gabor_inspector"), (widgets, "filter_bank_browser"),
                      (widgets, "echoic_scope")):
        assert not hasattr(mod, name)
