"""Drawing a trace as a computational graph (matplotlib).

Each variable is a box labelled with its operation and value, arrows run
from arguments to results, and the boxes stand in layers by depth: the
inputs on the left, then every operation that needs only them, and so on.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as _np

from diffkit.wengert.recording import Const, plain
from diffkit.wengert.text import DISPLAY, fmt, fmt_const, format_line, sub

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from diffkit.wengert.evaluation import Trace

__all__ = ["draw_trace"]


def _math_name(i: int, accent: str = "") -> str:
    v = rf"\{accent}{{v}}" if accent else "v"
    return f"${v}_{{{i}}}$"


def _math_input(name: str) -> str:
    """``x1`` -> ``$x_{1}$`` for matplotlib's mathtext (other names as they are)."""
    stem = name.rstrip("0123456789")
    if stem != name and stem.isidentifier() and len(stem) == 1:
        return f"${stem}_{{{name[len(stem):]}}}$"
    return name


def _layers(t: Trace) -> dict[int, list[int]]:
    """Variables by depth, each layer ordered to keep arrows short.

    Inputs sit in layer 0 in their own order; a later node goes near the mean
    height of its arguments (the barycentre heuristic of layered drawing).
    """
    parents = {line.index: [a for a in line.args if not isinstance(a, Const)]
               for line in t.lines}
    layers: dict[int, list[int]] = {0: [i.index for i in t.inputs]}
    for line in t.lines:
        layers.setdefault(line.depth, []).append(line.index)
    rank: dict[int, float] = {}
    for depth in sorted(layers):
        nodes = layers[depth]
        if depth > 0:
            nodes.sort(key=lambda i: (_np.mean([rank[p] for p in parents[i]]), i))
        for pos, i in enumerate(nodes):
            rank[i] = pos - (len(nodes) - 1) / 2
    return layers


def _graph_value(v: Any) -> str:
    """Values in graph labels: short, so the boxes stay small."""
    v = plain(v)
    if isinstance(v, _np.ndarray):
        if v.size <= 3:
            return fmt(v, 2)
        return "array " + "×".join(str(n) for n in v.shape)
    return fmt(v)


def _graph_arg(ref: int) -> str:
    return _math_name(ref)


def draw_trace(t: Trace, ax: Axes | None, values: bool,
                adjoints: dict[int, Any] | None,
                tangents: dict[int, Any] | None) -> Figure:
    outputs = {r for r in t.outputs if not isinstance(r, Const)}
    out_names = {r: sub(n) for n, r in zip(t.output_names, t.outputs, strict=True)
                 if not isinstance(r, Const)}
    labels: dict[int, list[str]] = {}
    colors: dict[int, str] = {}
    for i in [inp.index for inp in t.inputs] + [line.index for line in t.lines]:
        if i <= 0:
            inp = t.inputs[i + len(t.inputs) - 1]
            label = [f"{_math_name(i)} = {_math_input(inp.name)}"]
            colors[i] = "#cfe2f3"
        else:
            line = t.lines[i - 1]
            args = [_graph_arg(a) if not isinstance(a, Const)
                    else _graph_value(a.value) if isinstance(a.value, _np.ndarray)
                    else fmt_const(a.value) for a in line.args]
            expr = format_line(line.prim, args, line.kwargs)
            if len(expr) > 40:
                expr = f"{DISPLAY.get(line.prim.name, line.prim.name)}(…)"
            label = [_math_name(i), expr]
            colors[i] = "#fde9c9" if i in outputs else "#f2f2f2"
        if i in out_names:
            label[0] += f" = {out_names[i]}"
        if values:
            label.append(f"= {_graph_value(t.value_of(i))}")
        if tangents is not None and i in tangents:
            label.append(f"{_math_name(i, 'dot')} = {_graph_value(tangents[i])}")
        if adjoints is not None:
            label.append(f"{_math_name(i, 'bar')} = "
                         f"{_graph_value(adjoints.get(i, 0.0))}")
        labels[i] = label

    # Lay the layers out in inches, sized by their widest label, so boxes do not
    # overlap when the figure is ours.  (mathtext markup is not printed.)
    def chars(s: str) -> int:
        return len(re.sub(r"\$|\\\w+|[{}_]", "", s))

    layers = _layers(t)
    widths = {d: 0.075 * max(chars(s) for i in nodes for s in labels[i]) + 0.45
              for d, nodes in layers.items()}
    row = 0.19 * max(len(label) for label in labels.values()) + 0.4
    xs, x = {}, 0.0
    for d in sorted(layers):
        xs[d] = x + widths[d] / 2
        x += widths[d] + 0.45
    total_w = x - 0.45
    tallest = max(len(nodes) for nodes in layers.values())
    total_h = tallest * row
    if ax is None:
        from diffkit._figures import new_figure

        fig = new_figure((min(30.0, max(4.0, total_w + 0.4)),
                          min(20.0, max(2.0, total_h + 0.6))))
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    # Values the output does not depend on (a loop condition's abs(), say) were
    # computed but play no part in the derivative: drawn faded, dashed.
    live = set(outputs)
    for line in reversed(t.lines):
        if line.index in live:
            live.update(a for a in line.args if not isinstance(a, Const))
    texts = {}
    for d, nodes in layers.items():
        for k, i in enumerate(nodes):
            y = ((len(nodes) - 1) / 2 - k) * row
            faded = i not in live
            texts[i] = ax.text(
                xs[d], y, "\n".join(labels[i]), ha="center", va="center",
                fontsize=9, gid=f"node:{i}", zorder=3,
                color="0.45" if faded else "black",
                bbox={"boxstyle": "round,pad=0.4",
                      "facecolor": "white" if faded else colors[i],
                      "edgecolor": "0.6" if faded else "0.35",
                      "linestyle": "--" if faded else "-"},
            )
    for line in t.lines:
        for parent in dict.fromkeys(a for a in line.args if not isinstance(a, Const)):
            ax.annotate(
                "", xy=(0.0, 0.5), xycoords=texts[line.index],
                xytext=(1.0, 0.5), textcoords=texts[parent],
                arrowprops={"arrowstyle": "-|>", "color": "0.45", "shrinkA": 6,
                            "shrinkB": 6, "lw": 1.0},
                gid=f"edge:{parent}->{line.index}", zorder=1,
            )
    ax.set_xlim(-0.2, total_w + 0.2)
    ax.set_ylim(-total_h / 2 - 0.1, total_h / 2 + 0.1)
    ax.set_axis_off()
    n = len(t.lines)
    ax.set_title(f"Computational graph: {len(t.inputs)} input"
                 f"{'s' * (len(t.inputs) != 1)}, {n} primitive{'s' * (n != 1)}")
    return fig
