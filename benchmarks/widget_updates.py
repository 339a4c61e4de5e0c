"""Bytes each widget of the kit sends to the front-end: when first shown, and per update.

For every widget class exported by ``apac_lab.widgets`` (built with its ``example()``, the
size its notebook uses), on both drawing paths (``figurewidget``: JupyterLab; ``output``:
Colab), this moves each control once the way a browser does (a comm message) and prints the
bytes of the comm messages that follow (``apac_lab.widgets.traffic.CommTraffic``). The
target is <= 200 KB per update (issue 15); ``tests/test_widget_updates.py`` asserts it.

    python benchmarks/widget_updates.py
"""

from __future__ import annotations

import argparse
import inspect

import apac_lab.widgets as widgets
from apac_lab.widgets import Widget
from apac_lab.widgets.traffic import CommTraffic, another_value, browser_update


def widget_classes() -> list[type]:
    return [obj for name in widgets.__all__ if inspect.isclass(obj := getattr(widgets, name))
            and issubclass(obj, Widget) and obj is not Widget]


def measure(cls: type, backend: str) -> dict:
    """``{"shown": bytes, "updates": {control: bytes}}`` for one widget class on one backend."""
    with CommTraffic() as traffic:
        w = cls.example(backend=backend)
        shown = sum(size for _, _, size in traffic.log)
        updates = {}
        for name, control in w.controls.items():
            mark = traffic.mark()
            browser_update(control, another_value(control))
            updates[name] = traffic.sent_since(mark)
    return {"shown": shown, "updates": updates}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["figurewidget", "output", "both"], default="both")
    args = parser.parse_args(argv)
    backends = ["figurewidget", "output"] if args.backend == "both" else [args.backend]
    print(f"{'widget':<20} {'backend':<13} {'shown (KB)':>10}  largest update (KB), by control")
    for cls in widget_classes():
        for backend in backends:
            m = measure(cls, backend)
            per = ", ".join(f"{k} {v / 1000:.1f}" for k, v in m["updates"].items()) or "no controls"
            print(f"{cls.__name__:<20} {backend:<13} {m['shown'] / 1000:>10.1f}  "
                  f"{max(m['updates'].values(), default=0) / 1000:.1f} ({per})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
