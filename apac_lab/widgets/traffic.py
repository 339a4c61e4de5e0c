"""What widgets send to the front-end, measured without a browser (tests and
``benchmarks/widget_updates.py``; not a widget).

``CommTraffic`` replaces the comm factory of ipywidgets 8 (``comm.create_comm``; ipywidgets 7's
``Comm``) with a comm that records every message it would publish (its JSON and its binary buffers), so a test can
count the bytes one update sends. ``browser_update(control, value)`` moves a control the way a
browser does: a ``comm_msg`` with ``{"method": "update", "state": {"value": ...}}`` handed to
the widget's message handler.
"""

from __future__ import annotations

import json

try:  # ipywidgets 8 creates its comms through the `comm` package; ipywidgets 7 (Colab) may lack it
    import comm
    from comm.base_comm import BaseComm
except ImportError:  # pragma: no cover - Colab-like environments
    comm, BaseComm = None, object


class _RecordingComm(BaseComm):
    log: list[tuple[str, str, int]]  # (msg_type, comm_id, bytes)

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        size = len(json.dumps(data or {}, default=str)) + sum(memoryview(b).nbytes for b in (buffers or []))
        self.log.append((msg_type, self.comm_id, size))


def _recording_comm7(log: list) -> type | None:
    """ipywidgets 7 (Colab) builds ``ipykernel.comm.Comm`` itself: a subclass that records instead of sending."""
    try:
        from ipykernel.comm import Comm
    except ImportError:  # pragma: no cover
        return None

    import traitlets

    class Recording7(Comm):
        kernel = traitlets.Any(None, allow_none=True)

        def __init__(self, target_name="", data=None, metadata=None, buffers=None, **kwargs):
            super().__init__(target_name=target_name, data=data, metadata=metadata, buffers=buffers, **kwargs)
            self._record("comm_open", data, buffers)  # no kernel yet, so Comm did not open
            self.kernel = True  # ipywidgets 7 sends only through a comm with a kernel

        def close(self, data=None, metadata=None, buffers=None, deleting=False):
            pass

        def _record(self, kind, data, buffers):
            size = len(json.dumps(data or {}, default=str)) + sum(memoryview(b).nbytes for b in (buffers or []))
            log.append((kind, self.comm_id, size))

        def send(self, data=None, metadata=None, buffers=None):
            self._record("comm_msg", data, buffers)

    return Recording7


class CommTraffic:
    """Records the messages of every widget created inside ``with CommTraffic() as t:``
    (ipywidgets 8 through ``comm.create_comm``, ipywidgets 7 through its ``Comm``)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, int]] = []

    def __enter__(self) -> "CommTraffic":
        import ipywidgets.widgets.widget as widget_module

        log = self.log
        recording8 = type("Recording", (_RecordingComm,), {"log": log})
        recording7 = _recording_comm7(log)
        self._old = comm.create_comm if comm is not None else None
        if comm is not None:
            comm.create_comm = lambda *a, **k: recording8(*a, **k)
        self._old7 = getattr(widget_module, "Comm", None)
        if self._old7 is not None and recording7 is not None:
            widget_module.Comm = recording7
        return self

    def __exit__(self, *exc) -> None:
        import ipywidgets.widgets.widget as widget_module

        if comm is not None:
            comm.create_comm = self._old
        if self._old7 is not None:
            widget_module.Comm = self._old7

    def mark(self) -> int:
        return len(self.log)

    def sent_since(self, mark: int) -> int:
        """Bytes of the update messages (``comm_msg``) sent since ``mark``."""
        return sum(size for kind, _, size in self.log[mark:] if kind == "comm_msg")


def browser_state(control, value) -> dict:
    """The state a browser sends when the user moves ``control`` to ``value``: a selection
    widget (dropdown, selection slider) sends the option's ``index``, the others their ``value``."""
    options = getattr(control, "options", None)
    if options is not None:
        values = [o[1] if isinstance(o, tuple) else o for o in options]
        return {"index": values.index(value)}
    return {"value": value}


def browser_update(control, value) -> None:
    """Move ``control`` to ``value`` the way a browser does: a comm message handed to its handler."""
    control._handle_msg({"content": {"data": {"method": "update", "state": browser_state(control, value),
                                              "buffer_paths": []}}, "buffers": []})


def another_value(control):
    """A value the control can take that differs from its current one (its far end, or another option)."""
    options = getattr(control, "options", None)
    if options is not None:
        values = [o[1] if isinstance(o, tuple) else o for o in options]
        return values[-1] if control.value != values[-1] else values[0]
    lo, hi = control.min, control.max
    return hi if control.value != hi else lo


