"""Recording a function's evaluation trace.

:func:`trace` runs the function once under a :class:`RecordingTrace`, an
interpreter of diffkit's primitives that writes each primitive down instead
of differentiating it.  What it writes are the records below: a
:class:`Line` per primitive application, whose arguments point at earlier
variables by their index (or are :class:`Const` literals), and an
:class:`Input` per input leaf.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as _np

from diffkit.primitives import Primitive
from diffkit.tracer import Box
from diffkit.tracer import Trace as _InterpreterTrace
from diffkit.trees import flatten, unflatten

if TYPE_CHECKING:
    from diffkit.wengert.evaluation import Trace

__all__ = ["Const", "Ref", "Line", "Input", "RecordingTrace", "trace", "plain"]


@dataclass
class Const:
    """An argument that is not traced: a literal in the trace (``2`` in ``2·v₁``)."""

    value: Any


# An argument of a line: the index of a variable (Baydin numbering), or a constant.
Ref = int | Const


@dataclass
class Line:
    """One primitive application ``v_index = prim(*args, **kwargs) = value``."""

    prim: Primitive
    args: list[Ref]
    kwargs: dict[str, Any]
    value: Any
    index: int = 0
    depth: int = 0


@dataclass
class Input:
    """An input variable ``v_index``, named after the argument it came from."""

    name: str
    value: Any
    index: int


def plain(x: Any) -> Any:
    """Unbox, and 0-d arrays as NumPy scalars."""
    while isinstance(x, Box):
        x = x._value
    if isinstance(x, _np.ndarray) and x.ndim == 0:
        return x[()]
    return x


class RecordingTrace(_InterpreterTrace):
    """An interpreter that writes every primitive down instead of differentiating.

    Its boxes carry, as their node, the position of the value in the
    recording (``("input", k)`` or ``("line", k)``).  Like every diffkit
    interpreter it unboxes only its own boxes, so a trace can be recorded
    inside a derivative (the outer boxes flow through untouched).
    """

    __slots__ = ("lines",)

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[Primitive, list[Any], dict, Any]] = []

    def new_input(self, value: Any, k: int) -> Box:
        return Box(value, self, ("input", k))

    def process_primitive(self, prim: Primitive, args: tuple, kwargs: dict) -> Box:
        values = list(args)
        refs: list[Any] = []
        for i, a in enumerate(args):
            if type(a) is Box and a._trace is self:
                values[i] = a._value
                refs.append(a._node)
            else:
                refs.append(Const(a))
        ans = prim(*values, **kwargs)
        self.lines.append((prim, refs, dict(kwargs), ans))
        return Box(ans, self, ("line", len(self.lines) - 1))


def trace(f: Any, *args: Any, order: str = "depth") -> Trace:
    """Record the evaluation trace (Wengert list) of ``f`` at ``args``.

    Parameters
    ----------
    f
        A function written with ``diffkit.numpy`` (or an expression string).
    *args
        The point: numbers, arrays, or tuples/lists/dicts of them.  Every
        leaf becomes one input variable ``v_{1-n}, ..., v_0``.
    order
        ``"depth"`` (default) numbers the lines layer by layer -- first every
        operation that needs only the inputs, then those that need one of
        them, ... (ties keep program order).  That is the numbering of
        Baydin et al.'s tables and of the graph drawing.  ``"program"``
        keeps the order in which Python executed the primitives.

    Returns
    -------
    Trace
        Prints as the table of lines; ``.forward(seed)``, ``.reverse()``,
        ``.to_sympy()`` and ``.graph()`` interpret it.

    Examples
    --------
    Baydin et al. (2018), Table 2:

    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> def f(x1, x2):
    ...     return np.log(x1) + x1 * x2 - np.sin(x2)
    >>> t = dk.trace(f, 2.0, 5.0)
    >>> print(t)
    Evaluation trace: 2 inputs, 5 primitives
      v₋₁ = x₁        =  2
      v₀  = x₂        =  5
      v₁  = ln v₋₁    =  0.693
      v₂  = v₋₁ × v₀  = 10
      v₃  = sin v₀    = -0.959
      v₄  = v₁ + v₂   = 10.693
      v₅  = v₄ - v₃   = 11.652
      y   = v₅        = 11.652
    >>> len(t)
    5
    >>> float(t.forward((1.0, 0.0)).tangent)
    5.5
    >>> [round(float(g), 3) for g in t.reverse().gradient]
    [5.5, 1.716]
    >>> t.to_sympy()
    x1*x2 + log(x1) - sin(x2)
    """
    from diffkit.transforms import _callable
    from diffkit.values import as_float

    # The Trace numbers what is recorded here, so its module imports this one.
    from diffkit.wengert.evaluation import Trace

    if order not in ("depth", "program"):
        raise ValueError(f"order must be 'depth' or 'program', got {order!r}.")
    fun = _callable(f)
    if not args:
        raise TypeError(
            "dk.trace(f, *args) needs the point to evaluate f at, e.g. "
            "dk.trace(f, 2.0, 5.0)."
        )
    leaves, treedef = flatten(tuple(args))
    leaves = [as_float(leaf) for leaf in leaves]
    names = _input_names(fun, args)
    rec = RecordingTrace()
    boxes = [rec.new_input(leaf, k) for k, leaf in enumerate(leaves)]
    out = fun(*unflatten(treedef, boxes))
    out_leaves, out_treedef = flatten(out)
    out_refs: list[Any] = [
        o._node if type(o) is Box and o._trace is rec else Const(o)
        for o in out_leaves
    ]
    return Trace._build(fun, names, leaves, treedef, rec.lines, out_refs,
                        out_treedef, order)


def _input_names(fun: Callable[..., Any], args: tuple) -> list[str]:
    """Names for the input leaves: the parameter names where we can find them."""
    try:
        params = [
            p.name for p in inspect.signature(fun).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    if len(params) < len(args):
        params = [f"x{i + 1}" for i in range(len(args))]
    names: list[str] = []

    def walk(node: Any, label: str) -> None:
        if isinstance(node, tuple | list):
            for k, child in enumerate(node):
                walk(child, f"{label}[{k}]")
        elif isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{label}[{key!r}]")
        else:
            names.append(label)

    for p, a in zip(params, args, strict=False):
        walk(a, p)
    return names
