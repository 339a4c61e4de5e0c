"""apac_lab.widgets.TrainingCurves: live training curves fed by the training loop's callback."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

import apac_lab.widgets.training as T
from apac_lab.train import TrainConfig, fit
from apac_lab.widgets import TrainingCurves


class _Handle:
    def __init__(self):
        self.updates = []

    def update(self, obj):
        self.updates.append(obj)


@pytest.fixture()
def shown(monkeypatch):
    """Display the curves into a recording stand-in for IPython's display handle."""
    handle, calls = _Handle(), []

    def fake_display(obj, **kwargs):
        calls.append((obj, kwargs))
        return handle

    monkeypatch.setattr(T, "_display", fake_display)
    return handle, calls


# --- what the curves hold -------------------------------------------------------------------------

def test_records_become_traces_with_the_record_values():
    curves = TrainingCurves()
    for e, (tl, ta, vl, va) in enumerate([(2.0, 0.3, 2.2, 0.25), (1.0, 0.6, 1.4, 0.5)], start=1):
        curves.update({"epoch": e, "train_loss": tl, "train_acc": ta, "val_loss": vl, "val_acc": va})
    traces = {(t.name, t.xaxis): (list(t.x), list(t.y), t.line.dash) for t in curves.figure.data}
    assert traces[("train", "x")] == ([1, 2], [2.0, 1.0], "solid")
    assert traces[("validation", "x")] == ([1, 2], [2.2, 1.4], "dash")
    assert traces[("train", "x2")] == ([1, 2], [0.3, 0.6], "solid")
    assert traces[("validation", "x2")] == ([1, 2], [0.25, 0.5], "dash")


def test_runs_are_kept_apart_by_name():
    curves = TrainingCurves(metrics=["acc"])
    gabor, free = curves.callback("gabor"), curves.callback("free conv")
    gabor({"epoch": 1, "train_acc": 0.5, "val_acc": 0.4})
    free({"epoch": 1, "train_acc": 0.6, "val_acc": 0.3})
    gabor({"epoch": 2, "train_acc": 0.7, "val_acc": 0.6})
    assert {t.name: list(t.y) for t in curves.figure.data} == {
        "gabor (train)": [0.5, 0.7], "gabor (validation)": [0.4, 0.6],
        "free conv (train)": [0.6], "free conv (validation)": [0.3],
    }
    assert [len(h) for h in curves.histories.values()] == [2, 1]


def test_before_the_first_epoch_the_figure_says_it_is_waiting():
    curves = TrainingCurves(title="Listener")
    assert len(curves.figure.data) == 0 and "waiting for the first epoch" in curves.figure.layout.title.text


@pytest.mark.parametrize("bad", [{"metrics": []}])
def test_bad_arguments_are_one_line_errors(bad):
    with pytest.raises(ValueError, match="at least one metric"):
        TrainingCurves(**bad)
    with pytest.raises(ValueError, match="record must be a dict"):
        TrainingCurves().update([1, 2])


# --- how it draws: displayed once, then updated in place --------------------------------------------

def test_display_once_then_every_epoch_updates_that_output_in_place(shown):
    handle, calls = shown
    curves = TrainingCurves(metrics=["loss"])
    curves._ipython_display_()
    assert len(calls) == 1 and calls[0][1] == {"display_id": True}
    for e in range(1, 4):
        curves.update({"epoch": e, "train_loss": 1.0 / e})
    assert len(calls) == 1  # no new output per epoch
    assert len(handle.updates) == 3 and handle.updates[-1] is curves.figure
    assert list(handle.updates[-1].data[0].y) == [1.0, 0.5, 1.0 / 3]


def test_an_update_is_small(shown):
    curves = TrainingCurves()
    curves._ipython_display_()
    for e in range(1, 31):
        curves.update({"epoch": e, "train_loss": 1 / e, "train_acc": 1 - 1 / e, "val_loss": 1.1 / e, "val_acc": 0.9})
    assert len(curves.figure.to_json()) < 20_000  # 30 epochs, 4 curves: a few kB per redraw


# --- wired to the training loop ---------------------------------------------------------------------

def test_fit_feeds_every_epoch_through_the_callback(shown):
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(32, 4), torch.randint(0, 2, (32,)))
    curves = TrainingCurves()
    curves._ipython_display_()
    history = fit(nn.Linear(4, 2), data, data, TrainConfig(epochs=3, batch_size=8, progress=False),
                  on_epoch_end=curves.callback("linear"))
    assert curves.histories["linear"] == history
    assert len(shown[0].updates) == 3
    train_loss = [t for t in curves.figure.data if t.name == "linear (train)" and t.xaxis == "x"][0]
    assert list(train_loss.y) == [h["train_loss"] for h in history]
