"""The kit's one widget pattern (:class:`Widget`), and a figure that updates in place, in
JupyterLab 4 and in Colab (:class:`LiveFigure`).

Two ways to draw, one behaviour (``APAC_LAB_WIDGETS=figurewidget|output`` forces one):

* ``figurewidget`` (JupyterLab: ipywidgets 8, plotly >= 6 with anywidget): a
  ``plotly.graph_objects.FigureWidget``; an update sends plotly's restyle/relayout of the
  properties that changed (float arrays as float32 binary buffers).
* ``output`` (Colab: ipywidgets 7.7.1 and plotly 5, where ``FigureWidget`` does not render;
  anywhere anywidget is missing): two ``ipywidgets.Output`` areas. The first holds the figure,
  drawn once by a script that loads plotly.js once per page and draws only after it has loaded
  (so it cannot meet "Plotly is not defined", googlecolab/colabtools#5889, where a figure's
  inline ``Plotly.newPlot`` ran before its ``<script src>`` had loaded). The second holds only
  the latest update: a script that sets the changed trace data and layout values on the drawn
  figure (``Plotly.react``). Numeric arrays travel as base64 float32 (plotly.js >= 2.28), so a
  slider move sends what changed, not a new page, and the outputs stay small (a kernel-driven
  run stalls on outputs of about 0.5 MB, jupyter/nbclient#312).

Widgets stay out of model code: they only read tensors the package computes, and draw
the figures of :mod:`apac_lab.plots`. The reasons for this design and its sources:
README, "Open in Colab".
"""

from __future__ import annotations

import base64
import functools
import json
import os
import sys
import time
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

__all__ = ["LiveFigure", "Widget", "widget_backend"]

#: Redraws per second a widget's playback asks of the front-end, by backend (throttle).
MAX_REDRAWS_PER_S = {"figurewidget": 10.0, "output": 5.0}


def widget_backend() -> str:
    """``"figurewidget"`` where plotly's FigureWidget renders, else ``"output"``.

    >>> os.environ["APAC_LAB_WIDGETS"] = "output"; widget_backend()
    'output'
    """
    forced = os.environ.get("APAC_LAB_WIDGETS", "").strip().lower()
    if forced in ("figurewidget", "output"):
        return forced
    if "google.colab" in sys.modules or int(W.__version__.split(".")[0]) < 8:
        return "output"
    try:
        import anywidget  # noqa: F401  plotly >= 6's FigureWidget is an anywidget
    except ImportError:
        return "output"
    import plotly

    if int(plotly.__version__.split(".")[0]) < 6:  # plotly 5's FigureWidget needs its own front-end extension
        return "output"
    return "figurewidget"


# --------------------------------------------------------------------------- figure JSON, compact


def _plotlyjs_version() -> str:
    from plotly.offline import get_plotlyjs_version

    return get_plotlyjs_version()


def plotlyjs_src() -> str:
    """Where the Output path loads plotly.js from: ``$APAC_LAB_PLOTLYJS`` (a course mirror, or a
    local copy), else plotly's CDN at the version of the installed plotly (what its own "cdn"
    HTML uses).

    >>> os.environ["APAC_LAB_PLOTLYJS"] = "http://course/plotly.min.js"; plotlyjs_src()
    'http://course/plotly.min.js'
    >>> del os.environ["APAC_LAB_PLOTLYJS"]
    """
    return os.environ.get("APAC_LAB_PLOTLYJS") or f"https://cdn.plot.ly/plotly-{_plotlyjs_version()}.min.js"


def _typed_arrays_supported() -> bool:
    """plotly.js >= 2.28 decodes base64 typed arrays (``{"dtype", "bdata", "shape"}``) in trace data."""
    major, minor = (int(p) for p in _plotlyjs_version().split(".")[:2])
    return (major, minor) >= (2, 28)


_DTYPES = {"f": ("f4", np.float32), "i": ("i4", np.int32), "u": ("u4", np.uint32), "b": ("u1", np.uint8)}


def _numeric_list(value) -> np.ndarray | None:
    """A long list of numbers (None for gaps) as a float array, else None."""
    if len(value) < 32 or not all(v is None or (isinstance(v, (int, float, np.number)) and not isinstance(v, bool))
                                  for v in value):
        return None
    return np.array([np.nan if v is None else v for v in value], dtype=np.float64)


def _is_spec(value) -> bool:
    """A plotly typed-array spec (what plotly >= 6's ``to_plotly_json`` makes of numpy arrays)."""
    return isinstance(value, dict) and "bdata" in value and "dtype" in value


def _decode_spec(spec: dict) -> np.ndarray:
    arr = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"]).newbyteorder("<"))
    shape = spec.get("shape")
    if shape is not None:
        arr = arr.reshape([int(n) for n in (shape.split(",") if isinstance(shape, str) else shape)])
    return arr


def _encode(value, typed: bool):
    """Plotly JSON with numeric arrays made compact: base64 typed arrays (float32) where plotly.js
    reads them, else lists rounded to 6 significant digits."""
    if _is_spec(value):
        value = _decode_spec(value)
    elif isinstance(value, dict):
        return {k: _encode(v, typed) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        arr = _numeric_list(value)
        if arr is None:
            return [_encode(v, typed) for v in value]
        value = arr
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _DTYPES or value.ndim > 2 or value.size == 0:
            return value.tolist()
        if not typed:
            return np.vectorize(lambda v: None if not np.isfinite(v) else float(f"{v:.6g}"), otypes=[object])(
                value.astype(np.float64)).tolist()
        code, dtype = _DTYPES[value.dtype.kind]
        data = np.ascontiguousarray(value, dtype=np.dtype(dtype).newbyteorder("<"))
        spec = {"dtype": code, "bdata": base64.b64encode(data.tobytes()).decode("ascii")}
        if value.ndim == 2:
            spec["shape"] = f"{value.shape[0]}, {value.shape[1]}"
        return spec
    if isinstance(value, np.generic):
        return value.item()
    return value


def _flat(obj: dict, prefix: str = "") -> dict[str, Any]:
    """``{"marker": {"color": c}}`` -> ``{"marker.color": c}`` (lists and arrays are leaves)."""
    out = {}
    for key, value in obj.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and not _is_spec(value):
            out.update(_flat(value, path + "."))
        else:
            out[path] = value
    return out


def _same(a, b) -> bool:
    if _is_spec(a) or _is_spec(b):
        a = _decode_spec(a) if _is_spec(a) else a
        b = _decode_spec(b) if _is_spec(b) else b
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _snapshot(fig: go.Figure) -> tuple[list[dict], dict]:
    spec = fig.to_plotly_json()
    return [_flat(t) for t in spec["data"]], _flat(spec["layout"])


def _dumps(obj) -> str:
    from plotly.utils import PlotlyJSONEncoder

    # "</" would end the <script> that carries the JSON
    return json.dumps(obj, cls=PlotlyJSONEncoder, separators=(",", ":")).replace("</", "<\\/")


_LOADER = """(function () {
  var w = window;
  if (!w.__apacPlotly) {  // plotly.js, fetched once per page; everything that draws waits for it
    w.__apacPlotly = new Promise(function (ok, fail) {
      if (w.Plotly) { ok(w.Plotly); return; }
      var amd = w.define; w.define = undefined;  // a require.js page would keep plotly.js from window
      var s = document.createElement("script");
      s.src = %(src)s; s.charset = "utf-8";
      s.onload = function () { w.define = amd; ok(w.Plotly); };
      s.onerror = function () { w.define = amd; fail(new Error("could not load " + s.src)); };
      document.head.appendChild(s);
    });
  }
  w.__apacLive = w.__apacLive || {};
})();
"""

_PAGE = """<div class="apac-live" data-apac-live="%(id)s" style="min-height:%(height)dpx"></div>
<script>
%(loader)s(function () {
  var id = %(id_js)s, fig = %(fig)s;
  window.__apacLive[id] = window.__apacPlotly.then(function (Plotly) {
    var els = document.querySelectorAll('[data-apac-live="' + id + '"]');
    return Promise.all(Array.prototype.map.call(els, function (el) {
      return el._fullLayout ? el : Plotly.newPlot(el, fig.data, fig.layout, fig.config);
    }));
  }).catch(function (err) {
    var els = document.querySelectorAll('[data-apac-live="' + id + '"]');
    Array.prototype.forEach.call(els, function (el) { el.textContent = "Figure not drawn: " + err; });
  });
})();
</script>"""

_UPDATE = """<script>
(function () {
  var w = window, id = %(id_js)s, ch = %(changes)s;
  if (!w.__apacLive || !w.__apacLive[id]) return;  // the figure is not on this page
  function set(obj, path, value) {  // a copy of obj with obj[path] = value (path "a.b.c")
    var keys = path.split("."), out = Object.assign({}, obj), node = out;
    for (var i = 0; i < keys.length - 1; i++) {
      node[keys[i]] = Object.assign({}, node[keys[i]] || {});
      node = node[keys[i]];
    }
    if (value === null) { delete node[keys[keys.length - 1]]; } else { node[keys[keys.length - 1]] = value; }
    return out;
  }
  w.__apacLive[id] = w.__apacLive[id].then(function (els) {
    return Promise.all(els.map(function (el) {
      if (!el._fullLayout) return el;
      var data = el.data.map(function (t) { return t; }), layout = el.layout;
      Object.keys(ch.data).forEach(function (i) {
        Object.keys(ch.data[i]).forEach(function (p) { data[i] = set(data[i], p, ch.data[i][p]); });
      });
      Object.keys(ch.layout).forEach(function (p) { layout = set(layout, p, ch.layout[p]); });
      layout = set(layout, "datarevision", %(seq)d);
      return w.Plotly.react(el, data, layout).catch(function () { return el; });
    }));
  });
})();
</script>"""


def _html_output(html: str, text: str) -> dict:
    return {"output_type": "display_data", "data": {"text/html": html, "text/plain": text}, "metadata": {}}


class LiveFigure:
    """Hold a plotly figure and redraw it in place.

    Args:
        figure (go.Figure): the initial figure.
        backend (str | None, default None): ``"figurewidget"`` or ``"output"``; None
            picks with :func:`widget_backend`.

    ``widget`` is the ipywidget to place in a layout; ``update(fn)`` calls ``fn(fig)``
    to change traces or layout, then sends what changed.

    >>> live = LiveFigure(go.Figure(go.Scatter(y=[1, 2])), backend="output")
    >>> live.update(lambda f: f.data[0].update(y=[3, 4])); list(live.figure.data[0].y)
    [3, 4]
    >>> live.changed
    {'data': {0: ['y']}, 'layout': []}
    """

    def __init__(self, figure: go.Figure, backend: str | None = None) -> None:
        self.backend = backend or widget_backend()
        if self.backend not in ("figurewidget", "output"):
            raise ValueError(f"backend must be 'figurewidget' or 'output', got {backend!r}")
        if self.backend == "figurewidget":
            self.figure = _light_figure_widget(figure)
            self.widget = self.figure
            return
        self.figure = go.Figure(figure)
        self.id = uuid.uuid4().hex[:12]
        self._typed = _typed_arrays_supported()
        self._view = W.Output()  # the figure, drawn once
        self._channel = W.Output()  # the latest update only
        self.widget = W.VBox([self._view, self._channel])
        self._seq = 0
        self._page()

    @property
    def changed(self) -> dict:
        """Output backend: which trace properties and layout paths differ from the first
        drawing (what every update carries, so that the latest update alone restores the figure)."""
        return {"data": {i: sorted(p) for i, p in sorted(self._dirty_data.items())}, "layout": sorted(self._dirty_layout)}

    def _page(self) -> None:
        """Draw the whole figure into the first Output (at start, or when traces were added or removed)."""
        self._sent = _snapshot(self.figure)
        self._dirty_data: dict[int, set[str]] = {}
        self._dirty_layout: set[str] = set()
        spec = self.figure.to_plotly_json()
        fig = {"data": _encode(spec["data"], self._typed), "layout": _encode(spec["layout"], self._typed),
               "config": {"responsive": True, "displaylogo": False}}
        src = plotlyjs_src()
        html = _PAGE % {"id": self.id, "id_js": json.dumps(self.id), "fig": _dumps(fig),
                        "height": int(self.figure.layout.height or 450), "loader": _LOADER % {"src": json.dumps(src)}}
        self._view.outputs = (_html_output(html, f"<plotly figure {self.id}>"),)
        self._channel.outputs = ()

    def _send_changes(self) -> None:
        data, layout = _snapshot(self.figure)
        if len(data) != len(self._sent[0]):
            self._page()
            return
        for i, (new, old) in enumerate(zip(data, self._sent[0])):
            keys = {k for k in new.keys() | old.keys() if not _same(new.get(k), old.get(k))}
            if keys:
                self._dirty_data.setdefault(i, set()).update(keys)
        self._dirty_layout |= {k for k in layout.keys() | self._sent[1].keys()
                               if not _same(layout.get(k), self._sent[1].get(k))}
        changes = {"data": {str(i): {k: _encode(data[i].get(k), self._typed) for k in sorted(keys)}
                            for i, keys in self._dirty_data.items()},
                   "layout": {k: _encode(layout.get(k), self._typed) for k in sorted(self._dirty_layout)}}
        self._seq += 1
        html = _UPDATE % {"id_js": json.dumps(self.id), "changes": _dumps(changes), "seq": self._seq}
        self._channel.outputs = (_html_output(html, ""),)

    def update(self, fn: Callable[[go.Figure], None]) -> None:
        """Apply ``fn`` to the figure and send what changed."""
        if self.backend == "figurewidget":
            with self.figure.batch_update():
                fn(self.figure)
        else:
            fn(self.figure)
            self._send_changes()


def _light(value):
    """What a FigureWidget message carries, made light: float arrays as float32 binary buffers
    (plotly sends 1D numeric arrays as buffers but 2D ones as JSON lists: rows become buffers)."""
    if isinstance(value, dict):
        return {k: _light(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_light(v) for v in value]
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        if value.ndim == 1:
            return value.astype(np.float32)
        if value.ndim == 2:
            return [row for row in np.ascontiguousarray(value, dtype=np.float32)]
    return value


def _light_figure_widget(figure: go.Figure) -> go.FigureWidget:
    """A ``FigureWidget`` whose updates send float32 buffers; its own data stays as given."""
    return _light_figure_widget_class()(figure)


@functools.cache
def _light_figure_widget_class() -> type:
    # defined on first use: plotly >= 6 cannot even name FigureWidget where anywidget is missing

    class LightFigureWidget(go.FigureWidget):
        def _send_restyle_msg(self, restyle_data, trace_indexes=None, source_view_id=None):
            super()._send_restyle_msg(_light(restyle_data), trace_indexes=trace_indexes,
                                      source_view_id=source_view_id)

        def _send_update_msg(self, restyle_data, relayout_data, trace_indexes=None, source_view_id=None):
            super()._send_update_msg(_light(restyle_data), _light(relayout_data), trace_indexes=trace_indexes,
                                     source_view_id=source_view_id)

    return LightFigureWidget


class Widget:
    """The one pattern every widget of the kit follows.

    * A class: ``__init__`` takes explicit keyword arguments, checks them (one-line errors)
      and builds everything.
    * ``widget``: the ipywidget to place in a layout; the object itself displays it
      (``_ipython_display_``), so a cell can end with the object.
    * ``controls``: its sliders and pickers by name.
    * ``update(**values)``: moves the named controls to ``values`` and redraws once. It is
      what a control's change does in the browser, and what code and tests call without
      one. A widget fed by uploads has ``handle(data)`` instead.
    * ``example()``: a classmethod building an instance the size its notebook uses, on made-up
      data (``tests/test_widget_updates.py`` measures what each update sends with it).

    Subclasses set ``widget`` and ``controls``, implement ``_draw()`` (read the controls,
    redraw the :class:`LiveFigure` in place), and call ``_watch()`` at the end of ``__init__``.
    A widget whose control can fire faster than a front-end draws (a Play button) sets
    ``min_redraw_interval_s``: changes from the browser closer together than that are
    merged, the latest drawn (``update()`` from code always draws at once).

    >>> class Counter(Widget):
    ...     def __init__(self):
    ...         self.controls = {"n": W.IntSlider(value=0, min=0, max=9)}
    ...         self.widget, self.drawn = W.VBox(list(self.controls.values())), []
    ...         self._watch()
    ...     def _draw(self):
    ...         self.drawn.append(self.controls["n"].value)
    >>> c = Counter(); c.update(n=3); c.controls["n"].value = 5; c.drawn
    [0, 3, 5]
    >>> c.update(n=12)
    Traceback (most recent call last):
    ...
    ValueError: Counter.update: n must be in 0..9, got 12
    """

    widget: W.Widget
    controls: dict[str, W.ValueWidget]
    min_redraw_interval_s: float = 0.0

    @classmethod
    def example(cls, *, backend: str | None = None) -> "Widget":
        """An instance the size its notebook uses, on made-up data."""
        raise NotImplementedError(f"{cls.__name__}.example() is missing: build an instance the size its notebook uses")

    def _draw(self) -> None:
        """Redraw from the current control values (nothing to redraw by default)."""

    def _watch(self, *, draw: bool = True) -> None:
        """Redraw on every control change; draw once now unless the figures already show the controls."""
        self._holding = False
        self._last_draw = 0.0
        self._pending = None
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        if draw:
            self._draw()

    def _on_change(self, _change: dict) -> None:
        if getattr(self, "_holding", False):
            return
        wait = self.min_redraw_interval_s - (time.monotonic() - getattr(self, "_last_draw", 0.0))
        if wait <= 0:
            self._redraw()
            return
        if getattr(self, "_pending", None) is None:  # draw the latest value once the interval is over
            try:
                import asyncio

                self._pending = asyncio.get_running_loop().call_later(wait, self._redraw)
            except RuntimeError:  # no event loop (plain Python): draw now
                self._redraw()

    def _redraw(self) -> None:
        self._pending = None
        self._last_draw = time.monotonic()
        self._draw()

    @contextmanager
    def _hold(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def _check(self, name: str, value: Any) -> None:
        control = self.controls[name]
        options = getattr(control, "options", None)
        if options is not None:
            if value not in tuple(options):
                raise ValueError(f"{type(self).__name__}.update: {name} must be one of {list(options)}, got {value!r}")
            return
        lo, hi = getattr(control, "min", None), getattr(control, "max", None)
        if lo is not None and hi is not None and not lo <= value <= hi:
            raise ValueError(f"{type(self).__name__}.update: {name} must be in {lo:g}..{hi:g}, got {value}")

    def update(self, **values: Any) -> None:
        """Move the named controls to ``values`` (any of ``controls``) and redraw once."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"{type(self).__name__}.update: unknown control(s) {unknown}; use {sorted(self.controls)}")
        for name, value in values.items():
            self._check(name, value)
        with self._hold():
            for name, value in values.items():
                self.controls[name].value = value
        self._redraw()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
