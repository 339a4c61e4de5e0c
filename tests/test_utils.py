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


# --- the budget: quick, classroom (the default), full ---------------------------------------------

@pytest.fixture()
def clean_budget(monkeypatch):
    from apac_lab.utils import set_budget

    monkeypatch.delenv("APAC_LAB_BUDGET", raising=False)
    monkeypatch.delenv("APAC_LAB_QUICK", raising=False)
    set_budget(None)
    yield monkeypatch
    set_budget(None)


def test_budget_default_is_classroom_even_on_a_gpu(clean_budget):
    from apac_lab.utils import budget_reason

    assert budget_reason() == ("classroom", "the default: neither APAC_LAB_BUDGET nor APAC_LAB_QUICK is set")


@pytest.mark.parametrize("env, expected", [
    ({"APAC_LAB_QUICK": "1"}, "quick"),                                   # the older switch still works
    ({"APAC_LAB_QUICK": "0"}, "classroom"),
    ({"APAC_LAB_BUDGET": "full"}, "full"),
    ({"APAC_LAB_BUDGET": " Classroom "}, "classroom"),
    ({"APAC_LAB_BUDGET": "full", "APAC_LAB_QUICK": "1"}, "full"),        # the explicit budget wins
])
def test_budget_from_the_environment(clean_budget, env, expected):
    from apac_lab.utils import current_budget

    for k, v in env.items():
        clean_budget.setenv(k, v)
    assert current_budget() == expected


def test_budget_order_argument_then_set_budget_then_environment(clean_budget):
    from apac_lab.utils import budget_reason, current_budget, set_budget

    clean_budget.setenv("APAC_LAB_BUDGET", "quick")
    assert set_budget("full") == "full"
    assert budget_reason() == ("full", "apac_lab.set_budget('full') was called")
    assert current_budget("classroom") == "classroom"
    set_budget(None)
    assert current_budget() == "quick"


@pytest.mark.parametrize("bad", ["huge", "", "Quick mode"])
def test_unknown_budget_is_a_one_line_error(clean_budget, bad):
    from apac_lab.utils import current_budget, set_budget

    if bad:
        clean_budget.setenv("APAC_LAB_BUDGET", bad)
        with pytest.raises(ValueError, match=r"^APAC_LAB_BUDGET must be one of quick, classroom, full, got") as e:
            current_budget()
        assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match=r"set_budget\(budget\) must be one of"):
        set_budget(bad or "none")


def test_by_budget_picks_the_value_of_the_budget_in_force(clean_budget):
    from apac_lab.utils import by_budget

    values = dict(quick=1, classroom=2, full=3)
    assert by_budget(**values) == 2
    clean_budget.setenv("APAC_LAB_QUICK", "1")
    assert by_budget(**values) == 1
    assert by_budget(**values, budget="full") == 3


def test_banner_names_budget_reason_and_how_to_change(clean_budget):
    from apac_lab.utils import budget_banner

    text = budget_banner("05_apac_training", expect={"classroom": "5 modes, 9 min"})
    lines = text.splitlines()
    assert lines[0] == "05_apac_training: budget 'classroom' (the default: neither APAC_LAB_BUDGET nor APAC_LAB_QUICK is set)"
    assert lines[2] == "  -> classroom 5 modes, 9 min"
    assert lines[1].startswith("     quick ") and lines[3].startswith("     full ")
    assert "apac_lab.set_budget(" in lines[-1] and "APAC_LAB_BUDGET" in lines[-1]


def test_quick_or_full_is_deprecated_and_keeps_its_meaning(clean_budget):
    import apac_lab

    with pytest.warns(DeprecationWarning, match="by_budget"):
        assert apac_lab.quick_or_full(2, 30) == 30  # classroom is not quick
    clean_budget.setenv("APAC_LAB_QUICK", "1")
    with pytest.warns(DeprecationWarning):
        assert apac_lab.quick_or_full(2, 30) == 2
