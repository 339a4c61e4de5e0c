"""training_curves, the kit's one plotter of training histories: training solid, validation
dashed, one colour per run, shifted starts, and the previous release's two plotters on top of it."""

import warnings

import numpy as np
import pytest

from apac_lab.plots import MARKERS, SPLIT_DASH, training_curves

_RUN = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e, "train_acc": 0.5 + 0.1 * e, "val_acc": 0.4 + 0.1 * e}
        for e in (1, 2, 3)]


def test_one_run_train_solid_validation_dashed_in_a_panel_per_metric():
    fig = training_curves(_RUN)
    by_panel = {}
    for t in fig.data:
        by_panel.setdefault(t.xaxis, []).append((t.name, t.line.dash, list(t.y)))
    assert SPLIT_DASH == {"train": "solid", "val": "dash"}
    assert [(n, d) for n, d, _ in by_panel["x"]] == [("train", "solid"), ("validation", "dash")]
    np.testing.assert_allclose(by_panel["x"][0][2], [1.0, 1 / 2, 1 / 3])
    np.testing.assert_allclose(by_panel["x"][1][2], [1.2, 1.2 / 2, 1.2 / 3])
    assert [n for n, _, _ in by_panel["x2"]] == ["train", "validation"]
    assert sum(bool(t.showlegend) for t in fig.data) == 2  # each split named once in the legend
    assert list(fig.layout.yaxis2.range) == [0, 1.02] and fig.layout.xaxis.title.text == "Epoch"


def test_runs_differ_in_colour_and_marker_and_start_shifts_one():
    fig = training_curves({"gabor": _RUN, "free": _RUN[:2]}, metrics=["acc"], start={"free": 3})
    names = [t.name for t in fig.data]
    assert names == ["gabor (train)", "gabor (validation)", "free (train)", "free (validation)"]
    assert fig.data[0].line.color == MARKERS[0][1] != fig.data[2].line.color == MARKERS[1][1]
    assert fig.data[2].marker.symbol == MARKERS[1][0]
    assert list(fig.data[2].x) == [4, 5] and list(fig.data[0].x) == [1, 2, 3]


def test_missing_values_and_splits():
    fig = training_curves([{"epoch": 1, "train_loss": 2.0}, {"epoch": 2, "train_loss": 1.0}],
                          y_titles={"loss": "MSE (scaled units²)"})
    assert [t.name for t in fig.data] == ["train"]  # no validation, no accuracy: nothing drawn for them
    assert fig.layout.yaxis.title.text == "MSE (scaled units²)"
    only_val = training_curves({"a": _RUN}, metrics=["acc"], splits=["val"])
    assert [(t.name, t.line.dash) for t in only_val.data] == [("a", "dash")]
    with pytest.raises(ValueError, match="splits"):
        training_curves(_RUN, splits=["test"])
    with pytest.raises(ValueError, match="at least one epoch"):
        training_curves({"a": []})


def test_the_previous_plotters_are_training_curves():
    import apac_lab.plots as plots

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare = plots.compare_runs_figure({"a": _RUN})
        curves = plots.loss_curves_figure({"train": [1.0, 0.5], "tuned": [0.4]}, start={"tuned": 2})
    assert all(issubclass(w.category, DeprecationWarning) for w in caught) and len(caught) == 2
    assert [(t.name, t.line.dash) for t in compare.data] == [("a (train)", "solid"), ("a (validation)", "dash")]
    assert [list(t.x) for t in curves.data] == [[1, 2], [3]] and np.allclose(curves.data[1].y, [0.4])
