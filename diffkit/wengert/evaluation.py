"""The evaluation trace itself: the numbered lines and how they print.

A :class:`Trace` holds what :func:`~diffkit.wengert.recording.trace`
recorded, numbered as in Baydin et al. (2018): the ``n`` inputs
``v_{1-n} ... v_0``, then one line ``v_i = op(v_j, ...)`` per primitive.
Its methods are the entry points of the interpreters that read it, each in
its own module: :mod:`~diffkit.wengert.tables` (forward and reverse mode),
:mod:`~diffkit.wengert.counts`, :mod:`~diffkit.wengert.symbolic` and
:mod:`~diffkit.wengert.graph`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from diffkit.trees import TreeDef, unflatten
from diffkit.wengert.counts import OperationCounts, count_operations
from diffkit.wengert.graph import draw_trace
from diffkit.wengert.recording import Const, Input, Line, Ref, plain
from diffkit.wengert.symbolic import line_partials, to_sympy
from diffkit.wengert.tables import (
    AdjointTrace,
    TangentTrace,
    backward,
    cotangent_leaves,
    seed_leaves,
    tangent_of,
)
from diffkit.wengert.text import (
    fmt,
    fmt_const,
    format_line,
    html_table,
    sub,
    text_table,
    vname,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Trace"]


class Trace:
    """The evaluation trace (Wengert list) of a function at one point.

    Made by :func:`trace`.  ``len(trace)`` is the number of primitive lines;
    ``trace.rows`` the table as records (inputs, lines, outputs);
    ``trace.value`` the output.  ``print(trace)`` shows the table and
    Jupyter an HTML table.
    """

    def __init__(self) -> None:  # use dk.trace(f, *args)
        self.inputs: list[Input] = []
        self.lines: list[Line] = []
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
        self.inputs = [Input(name, value, k + 1 - n)
                       for k, (name, value) in enumerate(zip(names, leaves,
                                                             strict=True))]

        def depth_of(ref: Any, lines: list[Line]) -> int:
            return 0 if ref[0] == "input" else lines[ref[1]].depth

        lines: list[Line] = []
        for prim, refs, kwargs, value in recorded:
            line = Line(prim, refs, kwargs, value)
            line.depth = 1 + max((depth_of(r, lines) for r in refs
                                  if not isinstance(r, Const)), default=0)
            lines.append(line)
        positions = list(range(len(lines)))
        if order == "depth":
            # A stable sort keeps program order within a layer.
            positions.sort(key=lambda k: lines[k].depth)
        new_index = {k: i + 1 for i, k in enumerate(positions)}

        def resolve(ref: Any) -> Ref:
            if isinstance(ref, Const):
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

    def __iter__(self) -> Iterator[Line]:
        return iter(self.lines)

    def value_of(self, ref: Ref) -> Any:
        """The value of variable ``v_ref`` (or of a constant)."""
        if isinstance(ref, Const):
            return ref.value
        if ref <= 0:
            return self.inputs[ref + len(self.inputs) - 1].value
        return self.lines[ref - 1].value

    @property
    def value(self) -> Any:
        """The output of the function, in the structure it returned."""
        leaves = [plain(self.value_of(r)) for r in self.outputs]
        assert self._out_treedef is not None
        return unflatten(self._out_treedef, leaves)

    def expression(self, line: Line, name: Callable[[int], str] | None = None
                   ) -> str:
        """The right-hand side of a line as text: ``"ln v₋₁"``, ``"v₋₁ × v₀"``."""
        return format_line(line.prim, [self._arg_text(a, name) for a in line.args],
                           line.kwargs)

    def _arg_text(self, ref: Ref, name: Callable[[int], str] | None = None) -> str:
        if isinstance(ref, Const):
            return fmt_const(ref.value)
        return (name or vname)(ref)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The table as records: one per input, per primitive and per output."""
        rows: list[dict[str, Any]] = []
        for inp in self.inputs:
            rows.append({"kind": "input", "index": inp.index, "name": vname(inp.index),
                         "op": "input", "expression": sub(inp.name),
                         "value": inp.value})
        for line in self.lines:
            rows.append({"kind": "primitive", "index": line.index,
                         "name": vname(line.index), "op": line.prim.name,
                         "expression": self.expression(line),
                         "args": [a.value if isinstance(a, Const) else a
                                  for a in line.args],
                         "value": line.value})
        for name, ref in zip(self.output_names, self.outputs, strict=True):
            rows.append({"kind": "output", "index": None, "name": sub(name),
                         "op": "output", "expression": self._arg_text(ref),
                         "value": self.value_of(ref)})
        return rows

    def _table(self) -> list[tuple[str, str, str]]:
        return [(row["name"], row["expression"], fmt(row["value"]))
                for row in self.rows]

    def _title(self) -> str:
        n, lines = len(self.inputs), len(self.lines)
        return (f"Evaluation trace: {n} input{'s' * (n != 1)}, "
                f"{lines} primitive{'s' * (lines != 1)}")

    def __str__(self) -> str:
        return text_table(self._title(), [self._table()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(self._title(), ["variable", "operation", "value"],
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
        seeds = seed_leaves(self, seed)
        tangents: dict[int, Any] = {}
        for inp, s in zip(self.inputs, seeds, strict=True):
            tangents[inp.index] = s
        for line in self.lines:
            tangents[line.index] = tangent_of(self, line, tangents)
        result = TangentTrace(self, seeds, tangents)
        self._tangents = result
        return result

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
        seeds = cotangent_leaves(self, cotangent)
        adjoints, steps = backward(self, seeds)
        result = AdjointTrace(self, seeds, adjoints, steps)
        self._adjoints = result
        return result

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
        return count_operations(self)

    def to_sympy(self) -> Any:
        """Replay the trace on SymPy symbols: the formula the function computed.

        Inputs become symbols named after the arguments (``x1``, ``x2``; an
        array input ``x`` becomes ``x_0, x_1, ...``); constants stay
        literals.  An array output comes back as a SymPy ``Matrix`` (1-D and
        2-D) or ``Array``.

        Raises
        ------
        NotApplicable
            If the formula is nested more deeply than SymPy can handle
            (thousands of levels: SymPy recurses once per level).

        Examples
        --------
        >>> import diffkit as dk
        >>> import diffkit.numpy as np
        >>> dk.trace(lambda x, y: 2 * np.exp(x) * y ** 2, 0.0, 1.0).to_sympy()
        2*y**2*exp(x)
        """
        return to_sympy(self)

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
        return draw_trace(
            self, ax=ax, values=values,
            adjoints=self._adjoints.adjoints if show_adj and self._adjoints else None,
            tangents=self._tangents.tangents if show_tan and self._tangents else None,
        )

    # -- symbolic partial derivatives, for the formula columns ---------------------
    def partials(self, line: Line) -> list[Any] | None:
        """``∂v_i/∂(argument k)`` as SymPy expressions in the ``v`` symbols.

        Only for elementwise primitives that have a SymPy form (there the
        scalar formula holds entry by entry); ``None`` otherwise.
        """
        if line.index in self._partials:
            return self._partials[line.index]
        result = line_partials(line)
        self._partials[line.index] = result
        return result
