"""The one widget pattern: every widget is a Widget with .widget, _ipython_display_, named
controls and update(**values), which tests call without a browser."""

import inspect

import ipywidgets as W
import pytest

import apac_lab.widgets as widgets
from apac_lab.widgets import Widget

WIDGET_CLASSES = [obj for name in widgets.__all__ if inspect.isclass(obj := getattr(widgets, name))
                  and name not in ("LiveFigure", "Widget", "TrainingCurves")]
# TrainingCurves is a live display, not an interactive widget: no controls; its pure handler is
# update(record, run=...), fed by the training loop (tests/test_widgets_training.py).


def test_every_widget_class_follows_the_pattern():
    assert {c.__name__ for c in WIDGET_CLASSES} == {
        "MelExplorer", "GaborInspector", "GaborBankBrowser", "EchoicScope", "MelFilterInspector", "UploadPredictor",
        "MSTFilterInspector", "Recorder", "VoiceFineTuner"}
    for cls in WIDGET_CLASSES:
        assert issubclass(cls, Widget), cls
        assert cls._ipython_display_ is Widget._ipython_display_ and cls.update is Widget.update
    assert not [n for n in widgets.__all__ if inspect.isfunction(getattr(widgets, n)) and n[0].islower()
                and n not in ("widget_backend", "predict_wav_bytes", "recording_quality", "browser_error_message")], "no builder functions beside the classes"


class _Two(Widget):
    def __init__(self):
        self.controls = {"a": W.IntSlider(value=1, min=0, max=5), "b": W.Dropdown(options=["x", "y"])}
        self.widget, self.seen = W.VBox(list(self.controls.values())), []
        self._watch()

    def _draw(self):
        self.seen.append((self.controls["a"].value, self.controls["b"].value))


def test_update_sets_several_controls_then_draws_once():
    w = _Two()
    w.update(a=3, b="y")
    assert w.seen == [(1, "x"), (3, "y")]
    w.controls["a"].value = 4  # a change in the browser draws too
    assert w.seen[-1] == (4, "y")


@pytest.mark.parametrize("values, match", [({"a": 9}, "a must be in 0..5, got 9"), ({"b": "z"}, "b must be one of"),
                                           ({"c": 1}, "unknown control")])
def test_update_refuses_values_the_controls_cannot_take(values, match):
    w = _Two()
    with pytest.raises(ValueError, match=match):
        w.update(**values)
    assert w.seen == [(1, "x")] and w.controls["a"].value == 1  # nothing moved, nothing redrawn


def test_display_shows_the_widget(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    w = _Two()
    w._ipython_display_()
    assert shown == [w.widget]
