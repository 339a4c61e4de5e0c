"""Figures that read well (issue 7, section 4), checked on every figure function of apac_lab.plots.

Each public function of :mod:`apac_lab.plots` that returns a plotly figure is found by itself
(new plot modules are covered with no edit here), and every one of them is checked: its figures
come from the package's own docstring examples (small real inputs written by the module's
author, which ``--doctest-modules`` also runs). A figure function that no example calls fails
the tests; so does one that returns a figure without saying so, or one left out of
``apac_lab.plots.__all__``. Every figure must have:

* a title;
* a title on every axis that shows data, with its unit: a quantity of time or frequency
  names its unit (``Time (s)``, ``Frequency (Hz)``), any other axis gives a unit in
  parentheses or names a unitless count (band, epoch, class, ...), or is categorical;
* colour scales from a set that survives grey-scale printing and colour blindness
  (perceptually uniform or single-hue sequential maps; RdBu-like diverging maps).

A function that truly cannot follow a rule is listed in ``RULE_EXEMPTIONS`` with the reason;
an exemption that is no longer needed fails too.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import warnings
from typing import Callable

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import apac_lab.plots as plots

# ----------------------------------------------------------------------------- the rules

#: Colour maps allowed on figures: perceptually uniform, or single-hue, or colour-blind-safe diverging.
ALLOWED_SCALES = (
    "Viridis", "Cividis", "Plasma", "Inferno", "Magma", "Greys", "gray",
    "Blues", "Greens", "Purples", "Oranges", "Reds", "YlGnBu", "YlOrRd",
    "RdBu", "PuOr", "BrBG",
)

#: Physical quantities whose axis must say its unit.
QUANTITY = re.compile(r"\b(time|frequency|frequencies|lag|duration|latency|delay|period|modulation|pitch)\b", re.I)
#: Units (or unit-like words) accepted for them.
UNIT = re.compile(
    r"(\((s|ms|µs|us|min|h|Hz|kHz|mel|mels|dB|samples?|frames?|bins?|bands?|steps?|octaves?|"
    r"cycles?/[\w ]+|cyc/[\w ]+|c/[\w ]+|Hz[^)]*|[^)]*Hz|[^)]*\bs\b[^)]*)\)|\b(seconds|ms|Hz|kHz|octaves?|frames|samples)\b)"
)
#: Dimensionless axes: a count, an index, a score, or a parenthesised unit of any kind.
UNITLESS = re.compile(
    r"\(.+\)|\b(index|band|bands|channel|epoch|epochs|step|steps|class|classes|digit|label|filter|filters|"
    r"frame|frames|component|PC\d?|coefficient|coefficients|weight|weights|amplitude|loss|accuracy|"
    r"probability|error|MSE|count|clips|fraction|share|parameters|speaker|config|configuration|model|"
    r"mode|layer|block|dimension|value|level|gain|magnitude|power|energy|correlation|similarity)\b|%",
    re.I,
)


#: (figure function, rule) -> why it cannot follow the rule. Rules: "labels" (titles and units),
#: "colours" (colour scales). Empty: every figure function follows every rule.
RULE_EXEMPTIONS: dict[tuple[str, str], str] = {}


def _resolved_scales() -> dict[tuple, str]:
    table = {}
    for name in ALLOWED_SCALES:
        for variant in (name, name + "_r"):
            scale = go.Heatmap(colorscale=variant).colorscale
            table[tuple((float(p), str(c).replace(" ", "").lower()) for p, c in scale)] = variant
    return table


_ALLOWED = _resolved_scales()


def _scale_name(scale) -> str | None:
    key = tuple((float(p), str(c).replace(" ", "").lower()) for p, c in scale)
    return _ALLOWED.get(key)


def _template_scale(fig: go.Figure, diverging: bool):
    template = fig.layout.template
    if template is None or template.layout.colorscale is None:
        template = pio.templates[pio.templates.default]
    scales = template.layout.colorscale
    return (scales.diverging if diverging else scales.sequential) or scales.sequential


def colour_problems(fig: go.Figure) -> list[str]:
    """The colour scales of ``fig`` that are not in the allowed set (unset ones resolved)."""
    found = []
    for i, trace in enumerate(fig.data):
        if "colorscale" in trace:
            shared = trace["coloraxis"] if "coloraxis" in trace else None
            if shared:  # a shared colour axis: its scale is on the layout
                scale = fig.layout[shared].colorscale
            else:
                scale = trace.colorscale
            if scale is None:
                scale = _template_scale(fig, diverging="zmid" in trace and trace.zmid is not None)
            found.append((f"trace {i} ({trace.type})", scale))
        marker = trace["marker"] if "marker" in trace else None
        if marker is not None and "colorscale" in marker and marker.colorscale is not None:
            found.append((f"trace {i} ({trace.type}) markers", marker.colorscale))
    return [f"{where}: colour scale starting {scale[0]} is not one of {ALLOWED_SCALES}"
            for where, scale in found if scale is not None and _scale_name(scale) is None]


def _axes_with_data(fig: go.Figure) -> dict[str, list]:
    """Cartesian axes that carry at least one trace: layout name -> traces on it."""
    used: dict[str, list] = {}
    for trace in fig.data:
        if "xaxis" not in trace or "yaxis" not in trace:
            continue  # tables, pies, polar plots: no cartesian axes
        for attr, letter in (("xaxis", "x"), ("yaxis", "y")):
            ref = trace[attr] or letter
            used.setdefault(f"{letter}axis{ref[1:]}", []).append(trace)
    return used


def _categorical(traces, letter: str) -> bool:
    for trace in traces:
        values = trace[letter] if letter in trace else None
        if values is not None and len(values) and isinstance(values[0], str):
            return True
    return False


def _titled_neighbour(fig: go.Figure, axis_name: str, categorical: bool = False) -> bool:
    """Another axis of the same letter over the same span (a row's y axes, a column's x axes)
    carries the title, or this axis matches one that does: subplots title a shared axis once.
    A categorical axis (its ticks name themselves) may lean on any titled sibling."""
    axis = fig.layout[axis_name]
    for key in fig.layout:
        other = fig.layout[key] if key[:5] == axis_name[:5] and key != axis_name else None
        if other is None or other.title is None or not (other.title.text or "").strip():
            continue
        same_span = tuple(other.domain or (0, 1)) == tuple(axis.domain or (0, 1))
        matched = axis.matches is not None and key == axis_name[0] + "axis" + axis.matches[1:]
        if same_span or matched or categorical:
            return True
    return False


def label_problems(fig: go.Figure) -> list[str]:
    """Missing title, and axes without a title or without their unit."""
    problems = []
    title = fig.layout.title.text if fig.layout.title is not None else None
    if not (title or "").strip():
        problems.append("the figure has no title")
    for axis_name, traces in sorted(_axes_with_data(fig).items()):
        axis = fig.layout[axis_name] if axis_name in fig.layout else None
        if axis is None or axis.visible is False or axis.showticklabels is False:
            continue
        if axis.type == "category" or (axis.tickmode == "array" and axis.ticktext):
            continue  # labelled ticks: the categories or chosen values name themselves
        text = re.sub(r"<[^>]+>", " ", (axis.title.text or "") if axis.title is not None else "").strip()
        if not text:
            if not _titled_neighbour(fig, axis_name, _categorical(traces, axis_name[0])):
                problems.append(f"{axis_name} shows data but has no title")
        elif _categorical(traces, axis_name[0]):
            continue
        elif QUANTITY.search(text) and not UNIT.search(text):
            problems.append(f"{axis_name} title {text!r} names a quantity but not its unit, e.g. 'Time (s)'")
        elif not QUANTITY.search(text) and not UNITLESS.search(text):
            problems.append(f"{axis_name} title {text!r} gives no unit: add one in parentheses")
    return problems


# ----------------------------------------------------------------------------- finding figures

def _returns_figure(fn: Callable) -> bool:
    try:
        annotation = inspect.signature(fn).return_annotation
    except (TypeError, ValueError):
        return False
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    return "Figure" in text


def _styles_a_figure(fn: Callable) -> bool:
    """``style(fig, ...)`` and the like take a figure and dress it: not figure makers."""
    first = next(iter(inspect.signature(fn).parameters.values()), None)
    return first is not None and "Figure" in str(first.annotation)


FIGURE_FUNCTIONS: dict[str, Callable] = {
    name: obj for name in plots.__all__
    if inspect.isfunction(obj := getattr(plots, name)) and _returns_figure(obj) and not _styles_a_figure(obj)
}


def _plots_modules() -> list:
    """apac_lab.plots and every module under it."""
    return [plots] + [importlib.import_module(m.name)
                      for m in pkgutil.walk_packages(plots.__path__, prefix=plots.__name__ + ".")]


#: Public functions of apac_lab.plots (exported or not) that say they return a figure.
DEFINED_FIGURE_FUNCTIONS: set[str] = {
    name for mod in _plots_modules() for name, obj in vars(mod).items()
    if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == mod.__name__
    and _returns_figure(obj) and not _styles_a_figure(obj)
}


def _harvest_from_doctests() -> dict[str, list[go.Figure]]:
    """Run every plots module's docstring examples, recording the figures each exported function returns."""
    exported = {name: obj for name in plots.__all__ if inspect.isfunction(obj := getattr(plots, name))}
    recorded: dict[str, list[go.Figure]] = {name: [] for name in exported}
    modules = _plots_modules()
    patched = []

    def wrap(name, fn):
        def recorder(*args, **kwargs):
            out = fn(*args, **kwargs)
            if isinstance(out, go.Figure):
                recorded[name].append(out)
            return out
        return recorder

    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = [t for mod in sorted(modules, key=lambda m: m.__name__)
             for t in finder.find(mod, mod.__name__, globs=dict(vars(mod)))]  # found before patching
    wrappers = {name: wrap(name, fn) for name, fn in exported.items()}
    for name, fn in exported.items():
        for mod in modules:  # examples that import a function get the recording one
            if getattr(mod, name, None) is fn:
                patched.append((mod, name, fn))
                setattr(mod, name, wrappers[name])
    try:
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        for test in tests:
            for name, fn in exported.items():
                if test.globs.get(name) is fn:
                    test.globs[name] = wrappers[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                runner.run(test, out=lambda _: None, clear_globs=True)
    finally:
        for mod, name, fn in patched:
            setattr(mod, name, fn)
    return recorded


_FIGURES: dict[str, list[go.Figure]] | None = None


def recorded_figures() -> dict[str, list[go.Figure]]:
    """Exported function name -> the figures its docstring examples made (run once)."""
    global _FIGURES
    if _FIGURES is None:
        _FIGURES = _harvest_from_doctests()
    return _FIGURES


def figures_of(name: str) -> list[go.Figure]:
    return recorded_figures()[name]


def _check_rule(name: str, rule: str, problems: set[str]) -> None:
    reason = RULE_EXEMPTIONS.get((name, rule))
    if reason is None:
        assert not problems, f"{name}: " + "; ".join(sorted(problems))
    else:
        assert problems, f"{name} now follows the {rule!r} rule: remove its entry from RULE_EXEMPTIONS ({reason})"


# ----------------------------------------------------------------------------- the tests

def test_every_figure_function_is_found():
    """Every figure maker in apac_lab.plots is exported (so checked), and nothing exported makes a figure unannounced."""
    assert sorted(DEFINED_FIGURE_FUNCTIONS - set(FIGURE_FUNCTIONS)) == [], "add these to apac_lab.plots.__all__"
    unannounced = sorted(name for name, figs in recorded_figures().items()
                         if figs and name not in FIGURE_FUNCTIONS and not _styles_a_figure(getattr(plots, name)))
    assert unannounced == [], f"{unannounced} return a figure: annotate them `-> go.Figure`"
    assert not set(RULE_EXEMPTIONS) - {(n, r) for n in FIGURE_FUNCTIONS for r in ("labels", "colours")}


def test_every_figure_function_is_exercised():
    unchecked = sorted(name for name in FIGURE_FUNCTIONS if not figures_of(name))
    assert unchecked == [], f"no docstring example calls {unchecked}: give each a `>>>` example with a small real input"


@pytest.mark.parametrize("name", sorted(FIGURE_FUNCTIONS))
def test_titles_and_axis_units(name):
    figs = figures_of(name)
    assert figs, f"{name}: no docstring example calls it"
    _check_rule(name, "labels", {p for fig in figs for p in label_problems(fig)})


@pytest.mark.parametrize("name", sorted(FIGURE_FUNCTIONS))
def test_colour_scales_survive_greyscale_and_colour_blindness(name):
    figs = figures_of(name)
    assert figs, f"{name}: no docstring example calls it"
    _check_rule(name, "colours", {p for fig in figs for p in colour_problems(fig)})


# The checks themselves must be able to fail.

def test_the_checks_catch_a_bad_figure():
    bad = go.Figure(go.Heatmap(z=np.eye(3), colorscale="Jet"))
    bad.update_layout(xaxis_title="Time", yaxis_title="")
    problems = label_problems(bad)
    assert any("no title" in p for p in problems)
    assert any("xaxis" in p and "unit" in p for p in problems)
    assert any("yaxis" in p for p in problems)
    assert colour_problems(bad) and "Jet" not in str(_ALLOWED.values())


def test_the_checks_pass_a_good_figure():
    good = plots.heatmap(np.eye(3), title="Mel spectrogram", x_title="Time (s)", y_title="Frequency (Hz)")
    assert label_problems(good) == [] and colour_problems(good) == []
    signed = plots.heatmap(np.eye(3) - 0.5, title="Difference", x_title="Time (s)", y_title="Mel band",
                           colorscale=plots.DIVERGING, zmid=0.0)
    assert label_problems(signed) == [] and colour_problems(signed) == []


@pytest.mark.parametrize("title,ok", [
    ("Time (s)", True), ("Time (ms)", True), ("Frequency (Hz, mel-spaced)", True), ("Time lag (frames)", True),
    ("Spectral modulation (cycles/octave)", True), ("Epoch", True), ("Accuracy (%)", True), ("Mel band", True),
    ("Time", False), ("Frequency", False), ("Stuff", False),
])
def test_unit_rule(title, ok):
    fig = go.Figure(go.Scatter(x=[0.0, 1.0], y=[0.0, 1.0]))
    fig.update_layout(title="t", xaxis_title=title, yaxis_title="Amplitude (a.u.)")
    assert (label_problems(fig) == []) is ok
