"""Evaluation traces (Wengert lists) and the small interpreters that read them.

Running a function on numbers executes a sequence of primitive operations.
Written down one per line, each with a name for its result,

.. code-block:: text

    v₋₁ = x₁          =  2
    v₀  = x₂          =  5
    v₁  = ln v₋₁      =  0.693
    v₂  = v₋₁ × v₀    = 10
    ...

that sequence is the *evaluation trace* or *Wengert list* of the function at
that point (Baydin et al. 2018, "Automatic differentiation in machine
learning: a survey", Tables 2 and 3, whose notation we follow: the n inputs
are ``v_{1-n} ... v_0``, the intermediate values ``v_1, v_2, ...``).

:func:`trace` records it once, by running the function under a
:class:`RecordingTrace` -- one more interpreter of diffkit's primitives, which
writes each primitive down instead of differentiating it.  Everything else
is a short loop over the recorded lines (JAX's ``eval_jaxpr`` is the model):

* :meth:`Trace.forward` pushes tangents ``v̇`` down the list with each
  primitive's JVP rule: forward-mode AD, by hand;
* :meth:`Trace.reverse` walks the list backwards accumulating adjoints
  ``v̄ += v̄_i ∂v_i/∂v_j`` with the VJP rules: reverse-mode AD, by hand;
* :meth:`Trace.to_sympy` replays it on SymPy symbols to recover the formula;
* :meth:`Trace.graph` draws it as a computational graph.
"""

from __future__ import annotations

import html
import inspect
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as _np

from diffkit.primitives import Primitive
from diffkit.tracer import Box
from diffkit.tracer import Trace as _InterpreterTrace
from diffkit.trees import TreeDef, flatten, unflatten

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["trace", "Trace", "TangentTrace", "AdjointTrace", "RecordingTrace",
           "OperationCounts"]


# --- recording ----------------------------------------------------------------------


@dataclass
class _Const:
    """An argument that is not traced: a literal in the trace (``2`` in ``2·v₁``)."""

    value: Any


# An argument of a line: the index of a variable (Baydin numbering), or a constant.
Ref = int | _Const


@dataclass
class _Line:
    """One primitive application ``v_index = prim(*args, **kwargs) = value``."""

    prim: Primitive
    args: list[Ref]
    kwargs: dict[str, Any]
    value: Any
    index: int = 0
    depth: int = 0


@dataclass
class _Input:
    name: str
    value: Any
    index: int


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
                refs.append(_Const(a))
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
        o._node if type(o) is Box and o._trace is rec else _Const(o)
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


# --- the trace ----------------------------------------------------------------------


class Trace:
    """The evaluation trace (Wengert list) of a function at one point.

    Made by :func:`trace`.  ``len(trace)`` is the number of primitive lines;
    ``trace.rows`` the table as records (inputs, lines, outputs);
    ``trace.value`` the output.  ``print(trace)`` shows the table and
    Jupyter an HTML table.
    """

    def __init__(self) -> None:  # use dk.trace(f, *args)
        self.inputs: list[_Input] = []
        self.lines: list[_Line] = []
        self.outputs: list[Ref] = []
        self.output_names: list[str] = []
        self._out_treedef: TreeDef | None = None
        self._in_treedef: TreeDef | None = None
        self._fun: Callable[..., Any] | None = None
        self._adjoints: AdjointTrace | None = None
        self._tangents: TangentTrace | None = None
        self._partials: dict[int, list[Any] | None] = {}

    @classmethod
    def _build(cls, fun: Callable[..., Any], names: list[str], leaves: list[Any],
               in_treedef: TreeDef, recorded: list, out_refs: list[Any],
               out_treedef: TreeDef, order: str) -> Trace:
        self = cls()
        self._fun = fun
        self._in_treedef = in_treedef
        self._out_treedef = out_treedef
        n = len(leaves)
        # Baydin's numbering: inputs v_{1-n} .. v_0.
        self.inputs = [_Input(name, value, k + 1 - n)
                       for k, (name, value) in enumerate(zip(names, leaves,
                                                             strict=True))]

        def depth_of(ref: Any, lines: list[_Line]) -> int:
            return 0 if ref[0] == "input" else lines[ref[1]].depth

        lines: list[_Line] = []
        for prim, refs, kwargs, value in recorded:
            line = _Line(prim, refs, kwargs, value)
            line.depth = 1 + max((depth_of(r, lines) for r in refs
                                  if not isinstance(r, _Const)), default=0)
            lines.append(line)
        positions = list(range(len(lines)))
        if order == "depth":
            # A stable sort keeps program order within a layer.
            positions.sort(key=lambda k: lines[k].depth)
        new_index = {k: i + 1 for i, k in enumerate(positions)}

        def resolve(ref: Any) -> Ref:
            if isinstance(ref, _Const):
                return ref
            kind, k = ref
            return k + 1 - n if kind == "input" else new_index[k]

        for k in positions:
            line = lines[k]
            line.index = new_index[k]
            line.args = [resolve(r) for r in line.args]
            self.lines.append(line)
        self.outputs = [resolve(r) for r in out_refs]
        m = len(self.outputs)
        taken = {inp.name for inp in self.inputs}
        for stem in ("y", "f", "out", "result"):  # y, unless an input is called y
            names = [stem] if m == 1 else [f"{stem}{i + 1}" for i in range(m)]
            if taken.isdisjoint(names):
                break
        self.output_names = names
        return self

    # -- basic access ------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.lines)

    def __iter__(self) -> Iterator[_Line]:
        return iter(self.lines)

    def value_of(self, ref: Ref) -> Any:
        """The value of variable ``v_ref`` (or of a constant)."""
        if isinstance(ref, _Const):
            return ref.value
        if ref <= 0:
            return self.inputs[ref + len(self.inputs) - 1].value
        return self.lines[ref - 1].value

    @property
    def value(self) -> Any:
        """The output of the function, in the structure it returned."""
        leaves = [_plain(self.value_of(r)) for r in self.outputs]
        assert self._out_treedef is not None
        return unflatten(self._out_treedef, leaves)

    def expression(self, line: _Line, name: Callable[[int], str] | None = None
                   ) -> str:
        """The right-hand side of a line as text: ``"ln v₋₁"``, ``"v₋₁ × v₀"``."""
        return _expression(line.prim, [self._arg_text(a, name) for a in line.args],
                           line.kwargs)

    def _arg_text(self, ref: Ref, name: Callable[[int], str] | None = None) -> str:
        if isinstance(ref, _Const):
            return _fmt_const(ref.value)
        return (name or vname)(ref)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The table as records: one per input, per primitive and per output."""
        rows: list[dict[str, Any]] = []
        for inp in self.inputs:
            rows.append({"kind": "input", "index": inp.index, "name": vname(inp.index),
                         "op": "input", "expression": _sub(inp.name),
                         "value": inp.value})
        for line in self.lines:
            rows.append({"kind": "primitive", "index": line.index,
                         "name": vname(line.index), "op": line.prim.name,
                         "expression": self.expression(line),
                         "args": [a.value if isinstance(a, _Const) else a
                                  for a in line.args],
                         "value": line.value})
        for name, ref in zip(self.output_names, self.outputs, strict=True):
            rows.append({"kind": "output", "index": None, "name": _sub(name),
                         "op": "output", "expression": self._arg_text(ref),
                         "value": self.value_of(ref)})
        return rows

    def _table(self) -> list[tuple[str, str, str]]:
        return [(row["name"], row["expression"], _fmt(row["value"]))
                for row in self.rows]

    def _title(self) -> str:
        n, lines = len(self.inputs), len(self.lines)
        return (f"Evaluation trace: {n} input{'s' * (n != 1)}, "
                f"{lines} primitive{'s' * (lines != 1)}")

    def __str__(self) -> str:
        return _text_table(self._title(), [self._table()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return _html_table(self._title(), ["variable", "operation", "value"],
                           self._table())

    # -- interpreters ------------------------------------------------------------
    def forward(self, seed: Any = None) -> TangentTrace:
        """The forward tangent trace: ``v̇_i`` for every line (forward-mode AD).

        Parameters
        ----------
        seed
            The tangent of the inputs ``(ẋ₁, ẋ₂, ...)``, in the structure of
            the arguments (``(1, 0)`` differentiates with respect to ``x₁``).
            May be omitted when there is a single scalar input.

        Returns
        -------
        TangentTrace
            Prints as Baydin et al.'s Table 2 (primal and tangent traces side
            by side); ``.tangent`` is the output's tangent ``ẏ``.

        Examples
        --------
        >>> import diffkit as dk
        >>> import diffkit.numpy as np
        >>> t = dk.trace(lambda x: np.sin(x) * x, 2.0)
        >>> print(t.forward())
        Forward tangent trace, seed ẋ = 1
          v₀ = x       = 2       v̇₀ = ẋ                 =  1
          v₁ = sin v₀  = 0.909   v̇₁ = v̇₀ × cos(v₀)      = -0.416
          v₂ = v₁ × v₀ = 1.819   v̇₂ = v̇₁ × v₀ + v̇₀ × v₁ =  0.077
          y  = v₂      = 1.819   ẏ  = v̇₂                =  0.077
        """
        seeds = self._seed_leaves(seed)
        tangents: dict[int, Any] = {}
        for inp, s in zip(self.inputs, seeds, strict=True):
            tangents[inp.index] = s
        for line in self.lines:
            tangents[line.index] = self._jvp(line, tangents)
        result = TangentTrace(self, seeds, tangents)
        self._tangents = result
        return result

    def _seed_leaves(self, seed: Any) -> list[Any]:
        from diffkit.values import as_float

        n = len(self.inputs)
        if seed is None:
            if n == 1 and _np.size(self.inputs[0].value) == 1:
                seed = 1.0
            else:
                raise ValueError(
                    "Trace.forward needs a seed, the tangent of the inputs, when "
                    f"there are {n} inputs or an array input: for example "
                    f"forward({tuple([1.0] + [0.0] * (n - 1))}) for the derivative "
                    f"with respect to {self.inputs[0].name}."
                )
        leaves = [seed] if n == 1 else flatten(seed)[0]
        if len(leaves) != n:
            raise ValueError(
                f"The seed must give one tangent per input ({n}: "
                + ", ".join(i.name for i in self.inputs)
                + f"), got {len(leaves)}."
            )
        out = []
        for inp, s in zip(self.inputs, leaves, strict=True):
            s = as_float(s)
            if _np.shape(s) != _np.shape(inp.value):
                try:
                    s = _np.broadcast_to(s, _np.shape(inp.value)).copy()
                except ValueError:
                    raise ValueError(
                        f"The tangent of {inp.name} has shape {_np.shape(s)} but "
                        f"{inp.name} has shape {_np.shape(inp.value)}."
                    ) from None
            out.append(s)
        return out

    def _jvp(self, line: _Line, tangents: dict[int, Any],
             counter: _Counter | None = None) -> Any:
        """``v̇_i = Σ_j ∂v_i/∂v_j v̇_j`` through the primitive's JVP rules.

        The rules expect a batch axis in front of each tangent; we push a
        batch of one.  With a ``counter`` the rules run on its boxes, so
        every operation they perform is counted.
        """
        values = [self.value_of(a) for a in line.args]
        ans = line.value
        if counter is not None:
            values = [v if isinstance(a, _Const) else counter.box(v)
                      for a, v in zip(line.args, values, strict=True)]
            ans = counter.box(ans)
        out_ndim = _np.ndim(line.value)
        v_dot: Any = None
        for pos, ref in enumerate(line.args):
            if isinstance(ref, _Const):
                continue
            t = _np.asarray(tangents[ref])
            shape = _np.shape(t)
            if line.prim.elementwise:  # line the axes up the way broadcasting does
                shape = (1,) * (out_ndim - len(shape)) + shape
            t_in: Any = _np.reshape(t, (1, *shape))
            if counter is not None:
                t_in = counter.box(t_in)
            share = line.prim.jvp(pos, t_in, ans, values, line.kwargs)
            v_dot = share if v_dot is None else v_dot + share
        v_dot = _plain(v_dot)
        full = (1, *_np.shape(line.value))
        if _np.shape(v_dot) != full:
            v_dot = _np.broadcast_to(v_dot, full)
        return _plain(_np.reshape(v_dot, full[1:]))

    def _backward(self, seeds: list[Any], counter: _Counter | None = None
                  ) -> tuple[dict[int, Any], list[_Step]]:
        """The reverse sweep: adjoints of every variable and the steps taken."""
        from diffkit.backends.reverse import unbroadcast

        adjoints: dict[int, Any] = {}
        steps: list[_Step] = []
        for name, ref, s in zip(self.output_names, self.outputs, seeds, strict=True):
            if isinstance(ref, _Const):
                continue
            acc = ref in adjoints
            adjoints[ref] = adjoints[ref] + s if acc else s
            steps.append(_Step(ref, None, None, acc, s, adjoints[ref],
                               _bar(_sub(name))))
        if counter is not None:
            adjoints = {k: counter.box(v) for k, v in adjoints.items()}
        for line in reversed(self.lines):
            if line.index not in adjoints:  # the output does not depend on it
                continue
            v_bar = adjoints[line.index]
            values = [self.value_of(a) for a in line.args]
            ans = line.value
            if counter is not None:
                values = [v if isinstance(a, _Const) else counter.box(v)
                          for a, v in zip(line.args, values, strict=True)]
                ans = counter.box(ans)
            for pos, ref in enumerate(line.args):
                if isinstance(ref, _Const):
                    continue
                share = line.prim.vjp(pos, v_bar, ans, values, line.kwargs)
                if line.prim.elementwise:
                    share = unbroadcast(share, values[pos])
                acc = ref in adjoints
                adjoints[ref] = adjoints[ref] + share if acc else share
                if counter is None:
                    steps.append(_Step(ref, line, pos, acc, _plain(share),
                                       _plain(adjoints[ref])))
        return {k: _plain(v) for k, v in adjoints.items()}, steps

    def reverse(self, cotangent: Any = None) -> AdjointTrace:
        """The reverse adjoint trace: ``v̄ += v̄_i ∂v_i/∂v_j``, from the output back.

        Parameters
        ----------
        cotangent
            The seed ``ȳ`` (default 1, or ones for an array or several outputs:
            the gradient of their sum).

        Returns
        -------
        AdjointTrace
            Prints every accumulation step in the order executed (Baydin et
            al.'s Table 3, read from the bottom up); ``.gradient`` holds the
            input adjoints ``x̄``, ``.adjoints`` every ``v̄``.

        Examples
        --------
        >>> import diffkit as dk
        >>> t = dk.trace(lambda x: x * x + 3 * x, 2.0)
        >>> print(t)
        Evaluation trace: 1 input, 3 primitives
          v₀ = x       =  2
          v₁ = v₀ × v₀ =  4
          v₂ = 3 × v₀  =  6
          v₃ = v₁ + v₂ = 10
          y  = v₃      = 10
        >>> print(t.reverse())
        Reverse adjoint trace, seed ȳ = 1 (executed top to bottom)
          v̄₃ = ȳ                              = 1
          v̄₁ = v̄₃ ∂v₃/∂v₁      = v̄₃           = 1
          v̄₂ = v̄₃ ∂v₃/∂v₂      = v̄₃           = 1
          v̄₀ = v̄₂ ∂v₂/∂v₀      = v̄₂ × 3       = 3
          v̄₀ = v̄₀ + v̄₁ ∂v₁/∂v₀ = v̄₀ + v̄₁ × v₀ = 5
          v̄₀ = v̄₀ + v̄₁ ∂v₁/∂v₀ = v̄₀ + v̄₁ × v₀ = 7
          x̄  = v̄₀                             = 7

        ``v₀`` is used three times, so its adjoint collects three shares.
        """
        seeds = self._cotangent_leaves(cotangent)
        adjoints, steps = self._backward(seeds)
        result = AdjointTrace(self, seeds, adjoints, steps)
        self._adjoints = result
        return result

    def _cotangent_leaves(self, cotangent: Any) -> list[Any]:
        values = [self.value_of(r) for r in self.outputs]
        if cotangent is None:
            return [_plain(_np.ones(_np.shape(v))) for v in values]
        leaves = [cotangent] if len(values) == 1 else flatten(cotangent)[0]
        if len(leaves) != len(values):
            raise ValueError(
                f"The cotangent must give one value per output ({len(values)}), "
                f"got {len(leaves)}."
            )
        return [_plain(_np.broadcast_to(_np.asarray(c, dtype=float), _np.shape(v))
                       .copy()) for c, v in zip(leaves, values, strict=True)]

    def operation_counts(self) -> OperationCounts:
        """Count the arithmetic of f and of one tangent / one adjoint sweep.

        The sweeps run diffkit's actual JVP and VJP rules on counting boxes
        (one more interpreter), so the counts are what forward and reverse
        mode really execute.  An operation's work is its output size (its
        largest argument's for reductions), times the primitive's cost
        weight; a contraction (``dot``, ``matmul``...) does
        ``sqrt(|a| |b| |out|)`` multiply-adds, ``m·k·n`` for a matrix product.

        Examples
        --------
        >>> import diffkit as dk
        >>> import diffkit.numpy as np
        >>> counts = dk.trace(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2),
        ...                   2.0, 5.0).operation_counts()
        >>> counts.function
        5
        >>> counts.gradient_ratio <= 4  # Griewank's cheap gradient bound
        True
        """
        function = sum(_work(line.prim, [self.value_of(a) for a in line.args],
                             line.value) for line in self.lines)
        counter = _Counter()
        seeds = []
        for k, inp in enumerate(self.inputs):
            # one direction: the cost of a sweep does not depend on the seed
            seeds.append(_np.ones_like(inp.value) if k == 0
                         else _np.zeros_like(inp.value))
        tangents = dict(zip((i.index for i in self.inputs), seeds, strict=True))
        for line in self.lines:
            tangents[line.index] = self._jvp(line, tangents, counter)
        tangent = counter.ops
        counter.ops = 0
        self._backward(self._cotangent_leaves(None), counter)
        adjoint = counter.ops
        n_in = sum(int(_np.size(i.value)) for i in self.inputs)
        n_out = sum(int(_np.size(self.value_of(r))) for r in self.outputs)
        return OperationCounts(function, tangent, adjoint, n_in, n_out)

    def to_sympy(self) -> Any:
        """Replay the trace on SymPy symbols: the formula the function computed.

        Inputs become symbols named after the arguments (``x1``, ``x2``; an
        array input ``x`` becomes ``x_0, x_1, ...``); constants stay
        literals.  An array output comes back as a SymPy ``Matrix`` (1-D and
        2-D) or ``Array``.

        Examples
        --------
        >>> import diffkit as dk
        >>> import diffkit.numpy as np
        >>> dk.trace(lambda x, y: 2 * np.exp(x) * y ** 2, 0.0, 1.0).to_sympy()
        2*y**2*exp(x)
        """
        import sympy

        env: dict[int, Any] = {}
        for inp in self.inputs:
            env[inp.index] = _sympy_input(inp.name, inp.value)
        for line in self.lines:
            args = [_sympy_const(a.value) if isinstance(a, _Const) else env[a]
                    for a in line.args]
            env[line.index] = _sympy_apply(line.prim, args, line.kwargs)
        outs = []
        for ref in self.outputs:
            v = _sympy_const(ref.value) if isinstance(ref, _Const) else env[ref]
            if isinstance(v, _np.ndarray):
                v = (sympy.Matrix(v.tolist()) if v.ndim in (1, 2)
                     else sympy.Array(v.tolist()))
            outs.append(v)
        assert self._out_treedef is not None
        return unflatten(self._out_treedef, outs)

    def graph(self, ax: Axes | None = None, *, values: bool = True,
              adjoints: bool | None = None, tangents: bool | None = None,
              ) -> Figure:
        """Draw the computational graph, layered by topological depth.

        Each node is a variable (inputs on the left, the output highlighted)
        labelled with its operation and value; arrows run from arguments to
        results.  Values the output does not depend on are drawn dashed.
        ``adjoints``/``tangents`` add ``v̄``/``v̇`` to the labels (default:
        when :meth:`reverse`/:meth:`forward` has been run).

        Returns
        -------
        matplotlib.figure.Figure
            ``ax.figure``; without ``ax``, a new figure sized to the graph,
            which pyplot does not manage (shown once as a Jupyter cell's
            value; ``fig.savefig`` writes it to a file).

        Examples
        --------
        >>> import diffkit as dk
        >>> import diffkit.numpy as np
        >>> t = dk.trace(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2), 2.0, 5.0)
        >>> fig = t.graph()
        >>> len([a for a in fig.axes[0].texts if str(a.get_gid()).startswith("node")])
        7
        """
        show_adj = self._adjoints is not None if adjoints is None else adjoints
        show_tan = self._tangents is not None if tangents is None else tangents
        if show_adj and self._adjoints is None:
            self.reverse()
        if show_tan and self._tangents is None:
            raise ValueError("Run trace.forward(seed) first to show tangents.")
        return _draw_trace(
            self, ax=ax, values=values,
            adjoints=self._adjoints.adjoints if show_adj and self._adjoints else None,
            tangents=self._tangents.tangents if show_tan and self._tangents else None,
        )

    # -- symbolic partial derivatives, for the formula columns ---------------------
    def partials(self, line: _Line) -> list[Any] | None:
        """``∂v_i/∂(argument k)`` as SymPy expressions in the ``v`` symbols.

        Only for elementwise primitives that have a SymPy form (there the
        scalar formula holds entry by entry); ``None`` otherwise.
        """
        if line.index in self._partials:
            return self._partials[line.index]
        result = None
        rule = _scalar_sympy_rule(line.prim) if line.prim.elementwise else None
        if rule is not None:
            import sympy

            dummies = [sympy.Dummy(f"a{k}") for k in range(len(line.args))]
            actual = [
                _sympy_literal(a.value) if isinstance(a, _Const)
                else sympy.Symbol(vname(a)) for a in line.args
            ]
            try:
                expr = rule(*[d if not isinstance(a, _Const) else lit
                              for d, a, lit in zip(dummies, line.args, actual,
                                                   strict=True)],
                            **line.kwargs)
                subs = dict(zip(dummies, actual, strict=True))
                result = [
                    None if isinstance(a, _Const)
                    else sympy.diff(expr, d).xreplace(subs)
                    for d, a in zip(dummies, line.args, strict=True)
                ]
            except Exception:  # no formula: the generic ∂v_i/∂v_j notation
                result = None
        self._partials[line.index] = result
        return result


# --- the two derivative tables --------------------------------------------------------


class TangentTrace:
    """The forward tangent trace of a :class:`Trace` (Baydin et al., Table 2).

    ``.tangents`` maps each variable index to its tangent ``v̇``;
    ``.tangent`` is the output tangent ``ẏ`` (the directional derivative
    along the seed); ``.rows`` the records.
    """

    def __init__(self, parent: Trace, seeds: list[Any],
                 tangents: dict[int, Any]) -> None:
        self.trace = parent
        self.seed = seeds
        self.tangents = tangents

    @property
    def tangent(self) -> Any:
        outs = [0.0 * _np.asarray(self.trace.value_of(r)) if isinstance(r, _Const)
                else self.tangents[r] for r in self.trace.outputs]
        assert self.trace._out_treedef is not None
        return unflatten(self.trace._out_treedef, [_plain(o) for o in outs])

    def formula(self, line: _Line) -> str:
        """``v̇_i`` in terms of the argument tangents, e.g. ``v̇₋₁/v₋₁``."""
        partials = self.trace.partials(line)
        terms = []
        for pos, ref in enumerate(line.args):
            if isinstance(ref, _Const):
                continue
            if partials is not None:
                terms.append(_times(dotname(ref), partials[pos]))
            else:
                terms.append(f"∂{vname(line.index)}/∂{vname(ref)} {dotname(ref)}")
        return _join_terms(terms)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One record per input, line and output: primal and tangent."""
        t = self.trace
        rows = []
        for inp in t.inputs:
            rows.append({"kind": "input", "index": inp.index, "name": vname(inp.index),
                         "expression": _sub(inp.name), "value": inp.value,
                         "tangent_name": dotname(inp.index),
                         "tangent_expression": _dot(_sub(inp.name)),
                         "tangent": self.tangents[inp.index]})
        for line in t.lines:
            rows.append({"kind": "primitive", "index": line.index,
                         "name": vname(line.index), "expression": t.expression(line),
                         "value": line.value, "tangent_name": dotname(line.index),
                         "tangent_expression": self.formula(line),
                         "tangent": self.tangents[line.index]})
        for name, ref in zip(t.output_names, t.outputs, strict=True):
            formula, tangent = (("0", 0.0) if isinstance(ref, _Const)
                                else (dotname(ref), self.tangents[ref]))
            rows.append({"kind": "output", "index": None, "name": _sub(name),
                         "expression": t._arg_text(ref), "value": t.value_of(ref),
                         "tangent_name": _dot(_sub(name)),
                         "tangent_expression": formula, "tangent": tangent})
        return rows

    def _title(self) -> str:
        names = [_dot(_sub(i.name)) for i in self.trace.inputs]
        vals = [_fmt(s) for s in self.seed]
        if len(names) == 1:
            return f"Forward tangent trace, seed {names[0]} = {vals[0]}"
        return (f"Forward tangent trace, seed ({', '.join(names)}) = "
                f"({', '.join(vals)})")

    def _tables(self) -> list[list[tuple[str, str, str]]]:
        rows = self.rows
        return [[(r["name"], r["expression"], _fmt(r["value"])) for r in rows],
                [(r["tangent_name"], r["tangent_expression"], _fmt(r["tangent"]))
                 for r in rows]]

    def __str__(self) -> str:
        return _text_table(self._title(), self._tables())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        primal, tangent = self._tables()
        rows = [p + q for p, q in zip(primal, tangent, strict=True)]
        return _html_table(self._title(), ["variable", "primal", "value",
                                           "tangent", "forward step", "value"], rows)


@dataclass
class _Step:
    """One adjoint update ``v̄_target (+)= v̄_line ∂v_line/∂v_target``."""

    target: int
    line: _Line | None  # None for the seed ȳ
    position: int | None
    accumulate: bool
    share: Any
    adjoint: Any
    source: str = field(default="")


class AdjointTrace:
    """The reverse adjoint trace of a :class:`Trace` (Baydin et al., Table 3).

    ``.steps``/``.rows`` hold every update in the order executed, with
    ``accumulate`` true for the ``v̄ = v̄ + ...`` steps (a variable used
    twice receives two shares); ``.adjoints`` maps each variable index to its
    final adjoint; ``.gradient`` the input adjoints ``x̄`` in the structure of
    the arguments.
    """

    def __init__(self, parent: Trace, seeds: list[Any], adjoints: dict[int, Any],
                 steps: list[_Step]) -> None:
        self.trace = parent
        self.seed = seeds
        self.adjoints = adjoints
        self.steps = steps

    @property
    def gradient(self) -> Any:
        t = self.trace
        grads = [self.adjoints.get(inp.index, _plain(_np.zeros_like(inp.value)))
                 for inp in t.inputs]
        assert t._in_treedef is not None
        out = unflatten(t._in_treedef, grads)
        return out[0] if len(out) == 1 else out

    def formula(self, step: _Step) -> tuple[str, str]:
        """The update in general form and with the partial derivative worked out."""
        if step.line is None:
            return step.source, step.source
        line, target = step.line, step.target
        source = barname(line.index)
        generic = f"{source} ∂{vname(line.index)}/∂{vname(target)}"
        partials = self.trace.partials(line)
        specific = (_times(source, partials[step.position])
                    if partials is not None and step.position is not None
                    else generic)
        if step.accumulate:
            generic = _join_terms([barname(target), generic])
            specific = _join_terms([barname(target), specific])
        return generic, specific

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One record per step, then one per input adjoint ``x̄``."""
        rows = []
        for step in self.steps:
            generic, specific = self.formula(step)
            rows.append({"kind": "seed" if step.line is None else "step",
                         "index": step.target, "name": barname(step.target),
                         "accumulate": step.accumulate,
                         "from": None if step.line is None else step.line.index,
                         "expression": generic, "formula": specific,
                         "share": step.share, "value": step.adjoint})
        for inp in self.trace.inputs:
            g = self.adjoints.get(inp.index, _plain(_np.zeros_like(inp.value)))
            rows.append({"kind": "input", "index": inp.index,
                         "name": _bar(_sub(inp.name)), "accumulate": False,
                         "from": None, "expression": barname(inp.index),
                         "formula": barname(inp.index), "share": None, "value": g})
        return rows

    def _title(self) -> str:
        names = [_bar(_sub(n)) for n in self.trace.output_names]
        vals = [_fmt(s) for s in self.seed]
        seed = (f"{names[0]} = {vals[0]}" if len(names) == 1 else
                f"({', '.join(names)}) = ({', '.join(vals)})")
        return f"Reverse adjoint trace, seed {seed} (executed top to bottom)"

    def _table(self) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for r in self.rows:
            if r["kind"] == "step" and r["formula"] != r["expression"]:
                out.append((r["name"], r["expression"], r["formula"],
                            _fmt(r["value"])))
            else:
                out.append((r["name"], r["expression"], _fmt(r["value"])))
        return out

    def __str__(self) -> str:
        return _text_table(self._title(), [self._table()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = [r if len(r) == 4 else (r[0], r[1], "", r[2]) for r in self._table()]
        return _html_table(self._title(), ["adjoint", "update", "worked out",
                                           "value"], rows)


# --- operation counts ---------------------------------------------------------------

#: Primitives that contract their arguments (multiply-add over a shared axis).
_CONTRACTIONS = {"dot", "matmul", "tensordot", "inner", "vdot", "outer", "einsum",
                 "kron"}


def _work(prim: Primitive, args: Sequence[Any], ans: Any) -> int:
    """Arithmetic done by one primitive application (see operation_counts)."""
    sizes = [int(_np.size(_plain(a))) for a in args
             if isinstance(_plain(a), _np.ndarray | int | float | complex | _np.number)]
    out = int(_np.size(_plain(ans)))
    if prim.name in _CONTRACTIONS and len(sizes) == 2:
        return max(1, round(math.sqrt(sizes[0] * sizes[1] * out)))
    return prim.cost * max([out, *sizes])


class _Counter(_InterpreterTrace):
    """Runs primitives and adds up their work: an interpreter that only counts."""

    __slots__ = ("ops",)

    def __init__(self) -> None:
        super().__init__()
        self.ops = 0

    def box(self, value: Any) -> Box:
        return Box(value, self, None)

    def process_primitive(self, prim: Primitive, args: tuple, kwargs: dict) -> Box:
        values = [a._value if type(a) is Box and a._trace is self else a
                  for a in args]
        ans = prim(*values, **kwargs)
        self.ops += _work(prim, values, ans)
        return Box(ans, self, None)


@dataclass(frozen=True)
class OperationCounts:
    """Arithmetic operations of f, of one tangent sweep and of one adjoint sweep.

    A full Jacobian costs ``function + n_inputs · tangent`` by forward mode
    (one sweep per input direction) and ``function + n_outputs · adjoint``
    by reverse mode (one sweep per output).
    """

    function: int
    tangent: int
    adjoint: int
    n_inputs: int
    n_outputs: int

    @property
    def forward_jacobian(self) -> int:
        return self.function + self.n_inputs * self.tangent

    @property
    def reverse_jacobian(self) -> int:
        return self.function + self.n_outputs * self.adjoint

    @property
    def gradient_ratio(self) -> float:
        """Cost of f and its gradient (one reverse sweep) over the cost of f."""
        return (self.function + self.adjoint) / max(self.function, 1)


# --- names and numbers as text ------------------------------------------------------

_SUBSCRIPTS = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
_DOT, _BAR = "\u0307", "\u0304"  # combining dot above, combining macron


def _sub(name: str) -> str:
    """``x1`` -> ``x₁``: trailing digits as subscripts, like the paper."""
    stem = name.rstrip("0123456789")
    if stem == name or not stem or not stem[-1].isalpha():
        return name
    return stem + name[len(stem):].translate(_SUBSCRIPTS)


def vname(i: int) -> str:
    """The display name of variable ``v_i``: ``v₋₁``, ``v₀``, ``v₁``."""
    return "v" + str(i).translate(_SUBSCRIPTS)


def _dot(name: str) -> str:
    # NFC: a precomposed character where Unicode has one (ẋ, ȳ), which renders
    # better than a letter followed by a combining mark.
    return unicodedata.normalize("NFC", name[0] + _DOT + name[1:])


def _bar(name: str) -> str:
    return unicodedata.normalize("NFC", name[0] + _BAR + name[1:])


def dotname(i: int) -> str:
    """``v̇_i``, the tangent of ``v_i``."""
    return _dot(vname(i))


def barname(i: int) -> str:
    """``v̄_i``, the adjoint of ``v_i``."""
    return _bar(vname(i))


def _plain(x: Any) -> Any:
    """Unbox, and 0-d arrays as NumPy scalars."""
    while isinstance(x, Box):
        x = x._value
    if isinstance(x, _np.ndarray) and x.ndim == 0:
        return x[()]
    return x


def _fmt_number(v: Any, digits: int) -> str:
    if isinstance(v, bool | _np.bool_):
        return str(bool(v))
    if isinstance(v, complex) or _np.iscomplexobj(v):
        c = complex(v)
        if c.imag == 0:
            return _fmt_number(c.real, digits)
        sign = "+" if c.imag >= 0 else "-"
        return f"{_fmt_number(c.real, digits)}{sign}{_fmt_number(abs(c.imag), digits)}j"
    x = float(v) + 0.0  # no negative zero
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if 1e-3 <= abs(x) < 1e7:
        s = f"{x:.{digits}f}"
        return s.rstrip("0").rstrip(".") if "." in s else s
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def _fmt(v: Any, digits: int = 3) -> str:
    """A value as the tables show it: 3 decimals, arrays compactly."""
    v = _plain(v)
    if isinstance(v, _np.ndarray | list | tuple):
        a = _np.asarray(v)
        if a.dtype == object:
            return str(v)
        if a.size <= 6:
            return _fmt_array(a, digits)
        flat = ", ".join(_fmt_number(x, digits) for x in a.ravel()[:3])
        shape = "×".join(str(n) for n in a.shape)
        return f"[{flat}, …] ({shape})"
    if isinstance(v, int | float | complex | _np.number | _np.bool_):
        return _fmt_number(v, digits)
    return str(v)


def _fmt_array(a: _np.ndarray, digits: int) -> str:
    if a.ndim == 0:
        return _fmt_number(a[()], digits)
    return "[" + ", ".join(_fmt_array(x, digits) for x in a) + "]"


def _fmt_const(c: Any) -> str:
    """A constant argument as a literal: ``2``, ``[1, 2]``, ``(2, 3)``, ``1:``."""
    if isinstance(c, slice):
        bits = ["" if b is None else _fmt_const(b) for b in (c.start, c.stop)]
        return ":".join(bits) + ("" if c.step is None else f":{_fmt_const(c.step)}")
    if c is Ellipsis:
        return "..."
    if isinstance(c, tuple):
        inner = ", ".join(_fmt_const(x) for x in c)
        return f"({inner},)" if len(c) == 1 else f"({inner})"
    if isinstance(c, _np.ndarray | list) and _np.asarray(c).dtype != object:
        return _fmt(c)
    if isinstance(c, bool | int | float | complex | _np.number | _np.bool_):
        return _fmt_number(c, 6)
    return repr(c)


# How lines read.  Infix operators as in the paper; unary functions applied to a
# plain variable without parentheses ("sin v₀"), everything else as a call.
_INFIX = {"add": "+", "subtract": "-", "multiply": "×", "divide": "/",
          "power": "^", "float_power": "^", "matmul": "@"}
_DISPLAY = {"log": "ln"}


def _expression(prim: Primitive, args: list[str], kwargs: dict) -> str:
    name = _DISPLAY.get(prim.name, prim.name)
    kw = [f"{k}={_fmt_const(v)}" for k, v in kwargs.items()]
    if prim.name in _INFIX and len(args) == 2 and not kw:
        a, b = (f"({s})" if " " in s and not s.startswith("[") else s for s in args)
        return f"{a} {_INFIX[prim.name]} {b}"
    if prim.name == "negative" and not kw:
        return f"-{args[0]}"
    if prim.name == "getitem" and len(args) == 2:
        index = args[1]
        if index.startswith("(") and index.endswith(")"):
            index = index[1:-1].rstrip(",")
        return f"{args[0]}[{index}]"
    if prim.name == "concatenate" and args:  # the axis comes first internally
        return f"concatenate({', '.join(args[1:])}, axis={args[0]})"
    if prim.name == "array" and args:  # the shape comes first internally
        return f"array({', '.join(args[1:])})"
    if prim.elementwise and len(args) == 1 and not kw and args[0].startswith("v"):
        return f"{name} {args[0]}"
    return f"{name}({', '.join(args + kw)})"


def _sympy_text(expr: Any) -> str:
    return str(expr).replace("**", "^").replace("*", "·")


def _times(name: str, partial: Any) -> str:
    """``name × partial``, the way one would write it by hand."""
    import sympy

    if partial == 1:
        return name
    if partial == -1:
        return f"-{name}"
    num, den = sympy.fraction(partial)
    if num in (1, -1) and den != 1:
        d = _sympy_text(den)
        if isinstance(den, sympy.Add | sympy.Mul):
            d = f"({d})"
        return f"{'-' if num == -1 else ''}{name}/{d}"
    text = _sympy_text(partial)
    if isinstance(partial, sympy.Add) or text.startswith("-"):
        text = f"({text})"
    return f"{name} × {text}"


def _join_terms(terms: Sequence[str]) -> str:
    out = ""
    for k, term in enumerate(terms):
        if k == 0:
            out = term
        elif term.startswith("-"):
            out += f" - {term[1:]}"
        else:
            out += f" + {term}"
    return out or "0"


def _width(s: str) -> int:
    """Display width: combining marks (the dot of v̇, the bar of v̄) take none."""
    return sum(not unicodedata.combining(ch) for ch in s)


def _pad(s: str, width: int, right: bool = False) -> str:
    fill = " " * (width - _width(s))
    return fill + s if right else s + fill


def _text_table(title: str, tables: Sequence[Sequence[Sequence[str]]]) -> str:
    """Tables of ``name = expression [= worked out] = value`` rows, side by side."""
    blocks = []
    for rows in tables:
        ncols = max(len(r) for r in rows)
        widths = [max(_width(r[c]) for r in rows if len(r) > c and c < len(r) - 1)
                  if any(len(r) > c + 1 for r in rows) else 0
                  for c in range(ncols)]
        values = _align_decimals([r[-1] for r in rows])
        lines = []
        for r, value in zip(rows, values, strict=True):
            cells = [_pad(r[0], widths[0])]
            middle = list(r[1:-1])
            if len(middle) < ncols - 2:  # a short row spans the middle columns
                span = sum(widths[1:-1]) + 3 * (ncols - 3)
                cells.append(_pad(" = ".join(middle), span))
            else:
                cells += [_pad(m, widths[c + 1]) for c, m in enumerate(middle)]
            lines.append(" = ".join(cells) + " = " + value)
        block_width = max(_width(line) for line in lines)
        blocks.append([_pad(line, block_width) for line in lines])
    out = [title]
    for k in range(len(blocks[0])):
        out.append("  " + "   ".join(b[k] for b in blocks).rstrip())
    return "\n".join(out)


def _align_decimals(values: list[str]) -> list[str]:
    """Line numbers up on their decimal points, as a printed table would."""
    if not all(re.fullmatch(r"-?\d+(\.\d+)?", v) for v in values):
        return values
    heads = [v.split(".")[0] for v in values]
    tails = [v[len(h):] for v, h in zip(values, heads, strict=True)]
    hw = max(len(h) for h in heads)
    tw = max(len(t) for t in tails)
    return [h.rjust(hw) + t.ljust(tw) for h, t in zip(heads, tails, strict=True)]


def _html_table(title: str, header: Sequence[str],
                rows: Sequence[Sequence[str]]) -> str:
    def cell(s: str, tag: str = "td") -> str:
        return f"<{tag}>{html.escape(s)}</{tag}>"

    head = "".join(cell(h, "th") for h in header)
    body = "".join("<tr>" + "".join(cell(s) for s in r) + "</tr>" for r in rows)
    return (f"<table class='diffkit-trace'><caption>{html.escape(title)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


# --- SymPy ----------------------------------------------------------------------------


def _sympy_literal(c: Any) -> Any:
    """A constant as SymPy: integers stay exact, other floats keep their digits."""
    import sympy

    c = _plain(c)
    if isinstance(c, _np.ndarray):
        return sympy.Symbol(_fmt(c))
    if isinstance(c, bool | _np.bool_):
        return sympy.true if c else sympy.false
    if isinstance(c, int | _np.integer):
        return sympy.Integer(int(c))
    if isinstance(c, float | _np.floating):
        x = float(c)
        if x.is_integer():
            return sympy.Integer(int(x))
        return sympy.Float(repr(x), "")
    if isinstance(c, complex | _np.complexfloating):
        z = complex(c)
        return _sympy_literal(z.real) + sympy.I * _sympy_literal(z.imag)
    return c


def _sympy_const(c: Any) -> Any:
    """A constant argument for the replay: arrays become object arrays of literals."""
    c = _plain(c)
    if isinstance(c, _np.ndarray) and c.dtype != object:
        out = _np.empty(c.shape, dtype=object)
        for k, x in _np.ndenumerate(c):
            out[k] = _sympy_literal(x)
        return out
    if isinstance(c, int | float | complex | _np.number):
        return _sympy_literal(c)
    return c


def _sympy_input(name: str, value: Any) -> Any:
    import sympy

    clean = name.replace("[", "_").replace("]", "").replace("'", "")
    if _np.ndim(value) == 0:
        return sympy.Symbol(clean)
    out = _np.empty(_np.shape(value), dtype=object)
    for k in _np.ndindex(*_np.shape(value)):
        out[k] = sympy.Symbol(clean + "_" + "_".join(str(i) for i in k))
    return out


def _scalar_sympy_table() -> dict[str, Callable[..., Any]]:
    import sympy as s

    return {
        "negative": lambda a: -a, "positive": lambda a: a,
        "sin": s.sin, "cos": s.cos, "tan": s.tan, "arcsin": s.asin,
        "arccos": s.acos, "arctan": s.atan, "sinh": s.sinh, "cosh": s.cosh,
        "tanh": s.tanh, "arcsinh": s.asinh, "arccosh": s.acosh,
        "arctanh": s.atanh, "exp": s.exp, "exp2": lambda a: 2**a,
        "expm1": lambda a: s.exp(a) - 1, "log": s.log,
        "log2": lambda a: s.log(a, 2), "log10": lambda a: s.log(a, 10),
        "log1p": lambda a: s.log(1 + a), "sqrt": s.sqrt,
        "cbrt": lambda a: s.real_root(a, 3), "square": lambda a: a**2,
        "reciprocal": lambda a: 1 / a, "abs": s.Abs, "fabs": s.Abs,
        "real": s.re, "imag": s.im, "conj": s.conjugate, "angle": s.arg,
        "sinc": lambda a: s.sinc(s.pi * a),
        "deg2rad": lambda a: a * s.pi / 180, "rad2deg": lambda a: a * 180 / s.pi,
        "add": lambda a, b: a + b, "subtract": lambda a, b: a - b,
        "multiply": lambda a, b: a * b, "divide": lambda a, b: a / b,
        "power": lambda a, b: a**b, "float_power": lambda a, b: a**b,
        "maximum": s.Max, "minimum": s.Min, "fmax": s.Max, "fmin": s.Min,
        "arctan2": lambda a, b: s.atan2(a, b),
        "hypot": lambda a, b: s.sqrt(a**2 + b**2),
        "logaddexp": lambda a, b: s.log(s.exp(a) + s.exp(b)),
        "logaddexp2": lambda a, b: s.log(2**a + 2**b, 2),
        "remainder": s.Mod, "fmod": s.Mod,
        "where": lambda c, a, b: a if c else b,
        "clip": lambda a, lo, hi: s.Min(s.Max(a, lo), hi),
        "nan_to_num": lambda a: a,
    }


_TABLE: dict[str, Callable[..., Any]] = {}


def _scalar_sympy_rule(prim: Primitive) -> Callable[..., Any] | None:
    """The SymPy form of an elementwise primitive, applied to scalars.

    A rule registered with :func:`diffkit.primitives.defsympy` wins; the
    table here covers NumPy's elementwise functions.
    """
    if prim.sympy is not None:
        return prim.sympy
    if not _TABLE:
        _TABLE.update(_scalar_sympy_table())
    return _TABLE.get(prim.name)


def _sympy_extremum(name: str, a: _np.ndarray, axis: Any = None,
                    keepdims: bool = False, **_: Any) -> Any:
    """``max``/``min`` of expressions: SymPy's Max/Min, as NumPy cannot compare."""
    import sympy

    fn = sympy.Max if name == "max" else sympy.Min
    if axis is None:
        out: Any = fn(*a.ravel())
        return _np.full((1,) * a.ndim, out, dtype=object) if keepdims else out
    out = _np.apply_along_axis(lambda v: fn(*v), axis, a)
    return _np.expand_dims(out, axis) if keepdims else out


def _sympy_apply(prim: Primitive, args: list[Any], kwargs: dict) -> Any:
    """Apply ``prim`` to SymPy values (scalars or object arrays of expressions)."""
    from diffkit.errors import NotApplicable

    if prim.elementwise:
        rule = _scalar_sympy_rule(prim)
        if rule is not None and not kwargs:
            if any(isinstance(a, _np.ndarray) for a in args):
                return _np.frompyfunc(rule, len(args), 1)(*args)
            return rule(*args)
    if prim.name in ("max", "min") and isinstance(args[0], _np.ndarray):
        return _sympy_extremum(prim.name, args[0], **kwargs)
    # Structural operations (sum, reshape, dot, indexing...) do the same thing to
    # an object array of expressions as to numbers: let NumPy do it.
    try:
        with _np.errstate(all="ignore"):
            out = prim.impl(*args, **kwargs)
    except Exception as err:
        raise NotApplicable(
            f"Trace.to_sympy cannot replay {prim.name!r} on SymPy expressions "
            f"({type(err).__name__}: {err}). Give it a SymPy rule with "
            "diffkit.primitives.defsympy."
        ) from None
    if isinstance(out, _np.ndarray) and out.ndim == 0:
        out = out[()]
    return out


# --- the graph drawing --------------------------------------------------------------


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
    parents = {line.index: [a for a in line.args if not isinstance(a, _Const)]
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
    v = _plain(v)
    if isinstance(v, _np.ndarray):
        if v.size <= 3:
            return _fmt(v, 2)
        return "array " + "×".join(str(n) for n in v.shape)
    return _fmt(v)


def _graph_arg(ref: int) -> str:
    return _math_name(ref)


def _draw_trace(t: Trace, ax: Axes | None, values: bool,
                adjoints: dict[int, Any] | None,
                tangents: dict[int, Any] | None) -> Figure:
    outputs = {r for r in t.outputs if not isinstance(r, _Const)}
    out_names = {r: _sub(n) for n, r in zip(t.output_names, t.outputs, strict=True)
                 if not isinstance(r, _Const)}
    labels: dict[int, list[str]] = {}
    colors: dict[int, str] = {}
    for i in [inp.index for inp in t.inputs] + [line.index for line in t.lines]:
        if i <= 0:
            inp = t.inputs[i + len(t.inputs) - 1]
            label = [f"{_math_name(i)} = {_math_input(inp.name)}"]
            colors[i] = "#cfe2f3"
        else:
            line = t.lines[i - 1]
            args = [_graph_arg(a) if not isinstance(a, _Const)
                    else _graph_value(a.value) if isinstance(a.value, _np.ndarray)
                    else _fmt_const(a.value) for a in line.args]
            expr = _expression(line.prim, args, line.kwargs)
            if len(expr) > 40:
                expr = f"{_DISPLAY.get(line.prim.name, line.prim.name)}(…)"
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
            live.update(a for a in line.args if not isinstance(a, _Const))
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
        for parent in dict.fromkeys(a for a in line.args if not isinstance(a, _Const)):
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
