"""The architecture of a model as a table and a block diagram: the shape after each block
(recorded with forward hooks) and its parameter count.

Notebook: 05_apac_training.
"""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
import torch
from torch import nn

from apac_lab.plots.core import style

__all__ = ["layer_shapes", "format_shapes", "block_diagram"]


def _shape(out) -> str:
    if isinstance(out, torch.Tensor):
        return "×".join(str(d) for d in out.shape[1:]) or "scalar"
    if isinstance(out, (tuple, list)):
        return " + ".join(_shape(o) for o in out if o is not None)
    return type(out).__name__


def _targets(model: nn.Module, expand: Sequence[str]) -> list[tuple[str, nn.Module]]:
    chosen = []
    for name, child in model.named_children():
        grand = list(child.named_children()) if name in expand else []
        chosen += [(f"{name}.{g}", m) for g, m in grand] or [(name, child)]
    return chosen


@torch.no_grad()
def layer_shapes(model: nn.Module, waveform: torch.Tensor, *, expand: Sequence[str] = ("blocks",)) -> list[dict]:
    """Run ``waveform`` through ``model`` and record, for each top-level block in the order
    it ran, the shape of its output (batch left out) and its parameter count.

    Forward hooks record the shapes, so any model works; the children named in ``expand``
    (a Sequential of blocks) are listed one by one.

    Args:
        model (nn.Module): the model (put in eval mode for the call, then restored).
        waveform (Tensor): ``(batch, samples)`` input.
        expand (Sequence[str], default ("blocks",)): children to list block by block.

    Returns:
        list[dict]: ``name``, ``kind`` (class name), ``shape`` (e.g. "32×128×32"),
        ``params`` (int), in execution order; a block that runs twice appears twice.

    >>> m = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    >>> [(r["name"], r["shape"], r["params"]) for r in layer_shapes(m, torch.zeros(2, 4))]
    [('0', '3', 15), ('1', '3', 0)]
    """
    rows: list[dict] = []
    handles = []
    for name, module in _targets(model, expand):
        def hook(mod, inputs, output, name=name):
            rows.append({"name": name, "kind": type(mod).__name__, "shape": _shape(output),
                         "params": sum(p.numel() for p in mod.parameters())})
        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        model(waveform)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return rows


def format_shapes(rows: list[dict]) -> str:
    """The rows of :func:`layer_shapes` as a fixed-width table (with the total)."""
    lines = [f"{'block':<22} {'kind':<24} {'output shape':<22} {'parameters':>11}"]
    for r in rows:
        lines.append(f"{r['name']:<22} {r['kind']:<24} {r['shape']:<22} {r['params']:>11,}")
    seen, total = set(), 0
    for r in rows:
        if r["name"] not in seen:
            seen.add(r["name"])
            total += r["params"]
    lines.append(f"{'total (listed blocks)':<70} {total:>11,}")
    return "\n".join(lines)


# Lanes of the APAC diagram: which blocks sit side by side, which are auxiliary.
_PARALLEL = ({"branch3", "branch7"},)
_AUX = ("aux",)
_AFTER = ("classifier",)


def block_diagram(rows: list[dict], *, title: str = "APAC, block by block", height: int | None = None) -> go.Figure:
    """A block diagram of :func:`layer_shapes` rows: one box per block with its output
    shape and parameter count, arrows in the order data flows.

    APAC's layout is recognised: the 3×3 and 7×7 branches side by side, the MFCC
    (``aux``) pathway in its own lane beside the main pathway, both joining before the
    ``classifier``. Other models are drawn as one column.

    >>> fig = block_diagram([{"name": "a", "kind": "Linear", "shape": "3", "params": 15}])
    >>> fig.layout.title.text
    'APAC, block by block'
    """
    # assign (row, column) to each block
    first = {}
    for r in rows:
        first.setdefault(r["name"], r)
    names = list(first)
    pos: dict[str, tuple[float, float]] = {}
    level = 0
    placed_parallel: set[str] = set()
    main_names = [n for n in names if n.split(".")[0] not in _AUX + _AFTER]
    for n in main_names:
        if n in placed_parallel:
            continue
        group = next((g for g in _PARALLEL if n in g), None)
        if group and all(g in first for g in group):
            members = [m for m in main_names if m in group]
            for i, m in enumerate(members):
                pos[m] = (-0.55 + 1.1 * i / max(1, len(members) - 1), -level)
                placed_parallel.add(m)
        else:
            pos[n] = (0.0, -level)
        level += 1
    aux = [n for n in names if n.split(".")[0] in _AUX]
    for i, n in enumerate(aux):
        pos[n] = (1.9, -(1 + i))
    for n in names:
        if n.split(".")[0] in _AFTER:
            pos[n] = (0.95 if aux else 0.0, -level)
            level += 1
    fig = go.Figure()
    w, h = 0.5, 0.36
    for n, (x, y) in pos.items():
        r = first[n]
        colour = "#fde725" if n.startswith("frontend") else "#c8e6c9" if n.split(".")[0] in _AUX else "#dbe9f6"
        fig.add_shape(type="rect", x0=x - w, x1=x + w, y0=y - h, y1=y + h, line=dict(color="#31688e"),
                      fillcolor=colour)
        fig.add_annotation(x=x, y=y, showarrow=False, font=dict(size=11),
                           text=f"<b>{n}</b> ({r['kind']})<br>{r['shape']} · {r['params']:,} params")

    def arrow(a: str, b: str) -> None:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        fig.add_annotation(x=x1, y=y1 + h, ax=x0, ay=y0 - h, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=2, arrowwidth=1.2, arrowcolor="#440154", text="")

    prev: list[str] = []
    for n in main_names:
        group = next((g for g in _PARALLEL if n in g), None)
        if group and n != next(m for m in main_names if m in group):
            continue
        current = [m for m in main_names if group and m in group] or [n]
        for a in prev:
            for b in current:
                arrow(a, b)
        prev = current
    after = [n for n in names if n.split(".")[0] in _AFTER]
    if aux:
        frontend = next((n for n in main_names if n.startswith("frontend")), None)
        if frontend:
            arrow(frontend, aux[0])
        for a, b in zip(aux, aux[1:]):
            arrow(a, b)
        for b in after[:1]:
            arrow(aux[-1], b)
    for a in prev:
        for b in after[:1]:
            arrow(a, b)
    for a, b in zip(after, after[1:]):
        arrow(a, b)
    fig.update_xaxes(visible=False, range=[-1.3, 2.6 if aux else 1.3])
    fig.update_yaxes(visible=False, range=[-level + 0.4, 0.6])
    style(fig, title=title, x_title="", y_title="", height=height or 70 * level + 120)
    fig.add_annotation(text="shapes leave out the batch: channels×mel bands×frames (main), "
                            "coefficients×frames or features (auxiliary)",
                       xref="paper", yref="paper", x=0, y=-0.02, showarrow=False, font=dict(size=10, color="gray"),
                       xanchor="left", yanchor="top")
    return fig
