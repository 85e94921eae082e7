"""How big a derivative is: the SymPy tree, the DAG after CSE, the AD trace.

Differentiate ``l = 4*l*(1 - l)`` a few times symbolically and the formula
explodes: every step uses ``l`` twice, and the product rule writes each use
out again.  That is *expression swell*.  Three numbers measure it:

``tree_ops``
    operations in the derivative written out as a tree (a subexpression used
    twice counts twice) -- what you would get on paper, and the time
    ``sympy.diff`` takes, which walks that tree;
``dag_ops``
    operations after common-subexpression elimination (each distinct
    subexpression computed once) -- the formula as a program;
``trace_ops``
    primitives in the AD evaluation trace of the same function (the Wengert
    list that forward and reverse mode walk), and ``grad_ops``, the
    primitives reverse mode actually runs to get the whole gradient (the
    forward sweep plus the backward sweep).

For the logistic map ``l_n`` (the example of :func:`swell`) the three grow
very differently with ``n``: the tree exponentially; the DAG polynomially,
about ``n**3 / 3`` (SymPy flattens ``l_k`` into one product of ``k`` factors,
the product rule writes out ``k`` products of ``k - 1`` of them, and CSE,
which shares whole subexpressions, cannot share parts of products); the AD
trace linearly, three primitives per step.

:func:`symbolic` gives one function's formula and sizes; :func:`swell`
tabulates them for a family of functions ``family(n)``.
"""

from __future__ import annotations

import html
import inspect
import math
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as _np

from diffkit.backends import symbolic as _sym
from diffkit.errors import DiffkitError, NotApplicable
from diffkit.tracer import Box, Trace
from diffkit.trees import flatten, tree_map

__all__ = ["Size", "Symbolic", "symbolic", "Swell", "swell"]


# --- counting the AD evaluation trace -------------------------------------------------


class _CountingTrace(Trace):
    """Counts the primitives applied to its boxes, and does nothing else."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def process_primitive(self, prim: Any, args: tuple, kwargs: dict) -> Box:
        self.count += 1
        values = [a._value if isinstance(a, Box) and a._trace is self else a
                  for a in args]
        return Box(prim(*values, **kwargs), self, None)


def ad_counts(fun: Callable[[Any], Any], point: Any) -> tuple[int, int | None]:
    """Primitives in the evaluation trace of ``fun`` at ``point``, and in its gradient.

    The first number is the length of the Wengert list that AD records.  The
    second counts every primitive reverse mode runs to get the gradient of
    the sum of the outputs: the forward sweep and then the backward sweep
    (``None`` if reverse mode fails).

    Examples
    --------
    >>> import diffkit.numpy as np
    >>> ad_counts(lambda x: np.sin(x) * x, 1.0)  # sin, multiply; then their VJPs
    (2, 7)
    """
    from diffkit.transforms import vjp

    with _np.errstate(all="ignore"):
        counter = _CountingTrace()
        fun(tree_map(lambda v: Box(v, counter, None), point))
        trace_ops = counter.count
        counter = _CountingTrace()
        try:
            value, pullback = vjp(fun, tree_map(lambda v: Box(v, counter, None),
                                                point))
            pullback(_np.ones(_np.shape(value)))
        except DiffkitError:
            return trace_ops, None
    return trace_ops, counter.count


# --- the inputs of a function ---------------------------------------------------------


def _parameters(f: Callable[..., Any]) -> list[str] | None:
    """Names of ``f``'s required positional parameters; None if it takes ``*args``.

    A callable whose signature cannot be read (a NumPy ufunc, say) is taken
    to have one argument, ``x``.
    """
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return ["x"]
    names = []
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and \
                p.default is p.empty:
            names.append(p.name)
    return names


def _shape(spec: Any) -> tuple[int, ...]:
    if isinstance(spec, int | _np.integer):
        return (int(spec),)
    try:
        return tuple(int(n) for n in spec)
    except TypeError:
        raise TypeError(f"a shape must be an int or a tuple of ints, got {spec!r}."
                        ) from None


class _Leaf:
    """One input leaf known by its shape."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape


class _Inputs(NamedTuple):
    names: list[str]  # one per parameter
    values: list[Any] | None  # one tree per parameter, if a point was given
    leaves: list[Any]  # one tree of _Leaf per parameter


def _inputs(f: Callable[..., Any], at: Any, shape: Any) -> _Inputs:
    if at is not None and shape is not None:
        raise TypeError("give either at= (a point) or shape= (input shapes), not both.")
    names = _parameters(f)
    given = at if at is not None else shape
    if names is None:  # f(*args): the point or the shapes say how many
        if given is None:
            raise TypeError(
                "cannot tell how many inputs a function of *args takes: pass "
                "at=(x1, x2, ...) or shape=((), (3,), ...).")
        count = len(given) if isinstance(given, tuple | list) else 1
        names = ["x"] if count == 1 else [f"x{i}" for i in range(1, count + 1)]
    if not names:
        raise TypeError("the function takes no arguments, so it has no derivative.")
    if given is None:
        return _Inputs(names, None, [_Leaf(()) for _ in names])
    if len(names) == 1:
        parts = [given]
    elif isinstance(given, tuple | list) and len(given) == len(names):
        parts = list(given)
    elif at is not None and _np.ndim(at) == 0 and not isinstance(at, tuple | list):
        parts = [at] * len(names)  # one number for every scalar argument
    else:
        what = "at" if at is not None else "shape"
        raise TypeError(
            f"the function takes {len(names)} arguments ({', '.join(names)}), so "
            f"{what}= must be a tuple of {len(names)} entries, one per argument.")
    if at is None:
        return _Inputs(names, None, [_Leaf(_shape(p)) for p in parts])
    from diffkit.values import as_float

    values = [tree_map(as_float, p) for p in parts]
    return _Inputs(names, values,
                   [tree_map(lambda v: _Leaf(_np.shape(v)), v) for v in values])


class _Run(NamedTuple):
    traced: _sym.Traced
    inputs: _Inputs
    leaf_shapes: list[tuple[int, ...]]
    scalar_args: bool  # every argument is one scalar
    fun: Callable[[Any], Any]


def _run(f: Callable[..., Any], at: Any, shape: Any, budget: Any) -> _Run:
    """Trace ``f`` on symbols shaped like its arguments."""
    inputs = _inputs(f, at, shape)
    leaves, treedef = flatten(tuple(inputs.leaves))
    leaf_shapes = [leaf.shape for leaf in leaves]
    complex_flags = [False] * len(leaves)
    if inputs.values is not None:
        complex_flags = [bool(_np.iscomplexobj(v))
                         for v in flatten(tuple(inputs.values))[0]]
    names = []
    for name, tree in zip(inputs.names, inputs.leaves, strict=True):
        count = len(flatten(tree)[0])
        names.extend([name] if count == 1 else [f"{name}{k}" for k in range(count)])

    def fun(args: tuple) -> Any:
        return f(*args)

    traced = _sym.trace(fun, list(zip(leaf_shapes, complex_flags, strict=True)),
                        treedef, names, budget)
    scalar = all(s == () for s in leaf_shapes) and len(leaves) == len(inputs.names)
    return _Run(traced, inputs, leaf_shapes, scalar, fun)


def _point(inputs: _Inputs) -> tuple:
    """Where AD counts are taken: ``at``, or 0.5 in every element."""
    if inputs.values is not None:
        return tuple(inputs.values)
    return tuple(tree_map(lambda leaf: _np.full(leaf.shape, 0.5), tree)
                 for tree in inputs.leaves)


# --- presenting expressions -----------------------------------------------------------


def _present(a: _np.ndarray) -> Any:
    """An object array as SymPy shows it: an Expr, a Matrix, or an N-d Array."""
    import sympy

    if a.ndim == 0:
        return a[()]
    if a.ndim == 1:
        return sympy.Matrix(a.tolist())
    if a.ndim == 2:
        return sympy.Matrix(a.tolist())
    return sympy.Array(a.tolist(), a.shape)


def _structure(run: _Run, array: _np.ndarray, order: int) -> Any:
    """The derivative array (over all input symbols) in the shape of the inputs."""
    out_shape = run.traced.out.shape
    sizes = [int(_np.prod(s)) for s in run.leaf_shapes]
    n = sum(sizes)
    if order == 0:
        return _present(array)
    if run.scalar_args or len(run.leaf_shapes) == 1:
        shape = run.leaf_shapes[0] if len(run.leaf_shapes) == 1 else (n,)
        full = array.reshape(out_shape + shape * order)
        if n == 1:
            full = full.reshape(out_shape)
        elif run.scalar_args and order == 1 and out_shape == ():
            return sympy_column(full)
        return _present(full)
    bounds = _np.cumsum([0] + sizes)

    def block(index: tuple[int, ...]) -> Any:
        region = array[(Ellipsis,) + tuple(slice(bounds[k], bounds[k + 1])
                                            for k in index)]
        shape = out_shape + sum((run.leaf_shapes[k] for k in index), ())
        return _present(region.reshape(shape))

    leaves = range(len(sizes))
    if order == 1:
        return tuple(block((k,)) for k in leaves)
    if order == 2:
        return tuple(tuple(block((j, k)) for k in leaves) for j in leaves)
    raise ValueError("derivatives of order above 2 need a single input "
                     "(or only scalar inputs).")


def sympy_column(a: _np.ndarray) -> Any:
    import sympy

    return sympy.Matrix(list(a.flat))


class Size(NamedTuple):
    """How big a derivative is, four ways (see :mod:`diffkit.sizes`)."""

    tree_ops: int
    dag_ops: int
    trace_ops: int | None
    grad_ops: int | None


class Symbolic:
    """A function's SymPy expression, or its derivative's, with its size.

    Made by :func:`symbolic`.  In Jupyter it shows as LaTeX.

    Attributes
    ----------
    expr
        The SymPy expression: an ``Expr`` for one scalar input and output; a
        ``Matrix`` for a gradient or Jacobian with respect to several scalar
        inputs or one vector, and for a Hessian; a tuple, one entry per
        argument, when there are several array arguments.
    order
        0 for the function itself, 1 for its first derivative, 2 for the
        second.
    variables
        The input symbols: one symbol per scalar argument, an array of
        symbols (``x_0, x_1, ...``) per array argument.
    """

    def __init__(self, expr: Any, order: int, variables: tuple, exprs: list[Any],
                 run: _Run) -> None:
        self.expr = expr
        self.order = order
        self.variables = variables
        self._exprs = exprs
        self._run = run
        self._size: Size | None = None
        self._tree: int | None = None

    @property
    def tree_ops(self) -> int:
        if self._tree is None:
            self._tree = _sym.count_ops(self._exprs)
        return self._tree

    @property
    def size(self) -> Size:
        """``Size(tree_ops, dag_ops, trace_ops, grad_ops)``.

        The AD counts are taken by running the function at ``at`` (or at
        0.5 in every input element): without branches on values they do not
        depend on the point.
        """
        if self._size is None:
            replacements, reduced = _sym.cse(self._exprs)
            dag = _sym.count_ops([e for _, e in replacements] + list(reduced))
            trace_ops: int | None = None
            grad_ops: int | None = None
            try:
                trace_ops, grad_ops = ad_counts(self._run.fun,
                                                _point(self._run.inputs))
            except DiffkitError:
                pass
            self._size = Size(self.tree_ops, dag, trace_ops, grad_ops)
        return self._size

    def _printable(self) -> bool:
        return self.tree_ops <= 2_000

    def __str__(self) -> str:
        if self._printable():
            return str(self.expr)
        return (f"<an expression of {self.tree_ops:,} operations: too large to "
                f"print; see .size>")

    def __repr__(self) -> str:
        what = ["f", "f'", "f''"][self.order] if self.order <= 2 else \
            f"order {self.order}"
        return f"Symbolic({what}: {self})"

    def _repr_latex_(self) -> str:
        if not self._printable():
            return (rf"$\text{{an expression of {self.tree_ops:,} operations "
                    r"(too large to show)}$")
        import sympy

        return rf"$\displaystyle {sympy.latex(self.expr)}$"


def symbolic(f: Any, order: int = 1, at: Any = None, shape: Any = None,
             budget: Any = None) -> Symbolic:
    """The SymPy expression of ``f`` (``order=0``) or of its derivatives.

    ``f`` runs once on SymPy symbols, one per scalar argument, named after
    its parameters.  For array arguments give a point (``at=``) or the shapes
    (``shape=``): each element then gets a symbol, ``x_0, x_1, ...``.

    Parameters
    ----------
    f
        A function written with ``diffkit.numpy``, or an expression string.
    order
        0 for f itself, 1 for the gradient/Jacobian, 2 for the Hessian.
    at
        The argument (for a function of several arguments, a tuple with one
        per argument; one number stands for every scalar argument).  Only
        its shapes shape the expression; it is also where ``.size`` runs f
        to count the AD trace.
    shape
        Instead of ``at``: the argument's shape (a tuple with one shape per
        argument for several arguments).  Default: every argument a scalar.
    budget
        A :class:`diffkit.backends.symbolic.Budget` (or a dict of its
        fields) bounding time and expression size.

    Returns
    -------
    Symbolic
        ``.expr`` the expression, ``.size`` its sizes.

    Raises
    ------
    NotApplicable
        If f branches on the value of its input (the message names the
        line), or its derivative is too large for the budget (or nested
        too deeply for SymPy).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> d = dk.symbolic(lambda x: np.sin(x) ** 2)
    >>> d.expr
    2*sin(x)*cos(x)
    >>> dk.symbolic(lambda x, y: x * y + np.log(y)).expr   # the gradient
    Matrix([
    [      y],
    [x + 1/y]])
    >>> dk.symbolic(lambda x: np.sum(x ** 2), at=np.ones(2)).expr
    Matrix([
    [2*x_0],
    [2*x_1]])
    >>> dk.symbolic(lambda x: 4 * x * (1 - x), order=0).size
    Size(tree_ops=4, dag_ops=4, trace_ops=3, grad_ops=8)
    """
    from diffkit.transforms import _callable

    f = _callable(f)
    if not isinstance(order, int | _np.integer) or order < 0:
        raise ValueError(f"order must be 0, 1, 2, ..., got {order!r}.")
    with _sym.too_deep():
        run = _run(f, at, shape, budget)
        array = _sym.derivative_array(run.traced, int(order))
        expr = _structure(run, array, int(order))
    exprs = list(array.flat)
    variables = tuple(s[()] if s.ndim == 0 else s for s in run.traced.symbols)
    return Symbolic(expr, int(order), variables, exprs, run)


# --- swell: sizes as the function grows -----------------------------------------------


_COLUMNS = ("n", "tree_ops", "dag_ops", "trace_ops", "grad_ops", "diff_s",
            "sympy_diff_s", "eval_s", "note")
_HEADERS = ("n", "tree ops", "DAG ops (CSE)", "AD trace", "AD gradient",
            "diff", "sympy.diff", "eval", "note")


def _seconds(t: float | None) -> str:
    if t is None:
        return "-"
    if t < 1e-3:
        return f"{t * 1e6:.0f} us"
    if t < 1:
        return f"{t * 1e3:.1f} ms"
    return f"{t:.2f} s"


def _count(n: int | None) -> str:
    if n is None:
        return "-"
    if n >= 10**9:
        return f"{n:.3g}"
    return f"{n:,}"


class Swell:
    """Derivative sizes and times, one row per function (see :func:`swell`).

    Attributes
    ----------
    rows
        One dict per function with keys ``n``, ``tree_ops``, ``dag_ops``,
        ``trace_ops``, ``grad_ops`` (operation counts), ``diff_s`` (seconds
        for diffkit to differentiate the SymPy expression), ``sympy_diff_s``
        (seconds for ``sympy.diff``, ``None`` when the tree is too large to
        try), ``eval_s`` (seconds to evaluate the compiled derivative at
        ``at``, ``None`` without a point) and ``note``.
    """

    def __init__(self, rows: list[dict[str, Any]], label: str) -> None:
        self.rows = rows
        self.label = label

    def _cells(self) -> list[tuple[str, ...]]:
        cells: list[tuple[str, ...]] = []
        for r in self.rows:
            cells.append((
                "-" if r["n"] is None else str(r["n"]), _count(r["tree_ops"]),
                _count(r["dag_ops"]), _count(r["trace_ops"]),
                _count(r["grad_ops"]), _seconds(r["diff_s"]),
                _seconds(r["sympy_diff_s"]), _seconds(r["eval_s"]), r["note"]))
        return cells

    def __str__(self) -> str:
        cells = [_HEADERS, *self._cells()]
        widths = [max(len(c[i]) for c in cells) for i in range(len(_HEADERS))]

        def line(c: tuple[str, ...]) -> str:
            parts = [c[i].rjust(widths[i]) for i in range(len(c) - 1)]
            return "  ".join(parts + [c[-1]]).rstrip()

        rule = "  ".join("-" * w for w in widths[:-1]) + "  ----"
        return "\n".join([f"expression swell of the derivative: {self.label}",
                          line(cells[0]), rule] + [line(c) for c in cells[1:]])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{esc(h)}</th>" for h in _HEADERS)
        body = "".join(
            "<tr>" + "".join(
                f'<td style="text-align:{"left" if i == len(c) - 1 else "right"}">'
                f"{esc(v)}</td>" for i, v in enumerate(c)) + "</tr>"
            for c in self._cells())
        return (f"<table><caption>expression swell of the derivative: "
                f"{esc(self.label)}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>")

    def plot(self, ax: Any = None) -> Any:
        """Sizes against n on a logarithmic axis.

        Parameters
        ----------
        ax
            A matplotlib Axes to draw on; ``None`` makes a new figure that
            pyplot does not manage (a Jupyter cell ending in ``.plot()``
            shows it once; ``fig.savefig`` writes it to a file).

        Returns
        -------
        matplotlib.figure.Figure
            ``ax.figure``, or the new figure.
        """
        if ax is None:
            from diffkit._figures import new_figure

            fig = new_figure((6.4, 4.4))
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        xs = [r["n"] if r["n"] is not None else i for i, r in enumerate(self.rows)]
        styles = [("tree_ops", "SymPy expression tree", "o-"),
                  ("dag_ops", "after CSE (DAG)", "s-"),
                  ("trace_ops", "AD evaluation trace", "^-"),
                  ("grad_ops", "reverse-mode gradient", "v--")]
        for key, label, style in styles:
            points = [(x, r[key]) for x, r in zip(xs, self.rows, strict=True)
                      if r[key]]
            if points:
                ax.plot(*zip(*points, strict=True), style, label=label)
        ax.set_yscale("log")
        ax.set_xlabel("n")
        ax.set_ylabel("operations in the derivative")
        ax.set_title(f"Expression swell: {self.label}")
        ax.legend()
        return fig


def _name(f: Any) -> str:
    return str(getattr(f, "__name__", None) or type(f).__name__)


def _best_time(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _row(f: Callable[..., Any], n: int | None, at: Any, budget: Any) -> dict:
    import sympy

    row: dict[str, Any] = dict.fromkeys(_COLUMNS)
    row["n"], row["note"] = n, ""
    run = None
    try:
        run = _run(f, at, None, budget)
        t0 = time.perf_counter()
        d = _sym.derivative_array(run.traced, 1)
        row["diff_s"] = time.perf_counter() - t0
        exprs = list(d.flat)
        replacements, reduced = _sym.cse(exprs, run.traced.clock)
        row["tree_ops"] = _sym.count_ops(exprs)
        row["dag_ops"] = _sym.count_ops([e for _, e in replacements] + list(reduced))
        fexprs = list(run.traced.out.flat)
        if _sym.count_ops(fexprs) <= _sym._budget(budget).sympy_diff_ops:
            syms = run.traced.flat_symbols
            row["sympy_diff_s"] = _best_time(
                lambda: [sympy.diff(e, s) for e in fexprs for s in syms], 1)
        else:
            row["note"] = "sympy.diff not timed: tree too large"
        if at is not None:
            compiled = _sym.compile_exprs(run.traced.flat_symbols, exprs,
                                          run.traced.clock)
            values = [v for leaf in flatten(tuple(run.inputs.values or ()))[0]
                      for v in _np.ravel(leaf)]
            with _np.errstate(all="ignore"):
                row["eval_s"] = _best_time(lambda: compiled(*values))
    except NotApplicable as err:
        row["note"] = "symbolic: " + " ".join(str(err).split())
    try:  # even where the symbolic method failed, AD can be counted
        inputs = run.inputs if run is not None else _inputs(f, at, None)
        row["trace_ops"], row["grad_ops"] = ad_counts(lambda a: f(*a),
                                                      _point(inputs))
    except (DiffkitError, TypeError, ValueError) as err:
        row["note"] = (row["note"] + "; " if row["note"] else "") + \
            f"AD count failed: {err}"
    return row


def swell(f: Any, n: Iterable[int] | None = None, at: Any = None,
          budget: Any = None) -> Swell:
    """Expression swell of the derivative, for one function or a family.

    Parameters
    ----------
    f
        A function, or a *family*: a callable ``family(n)`` returning the n-th
        function.  ``f`` is a family if ``n`` is given, or if its only
        parameter is called ``n``.
    n
        The sizes to tabulate (default ``range(1, 9)`` for a family).
    at
        A point: the derivative is also evaluated there and timed, and the
        AD counts are taken there (else at 0.5).  One number stands for
        every scalar argument.
    budget
        A :class:`diffkit.backends.symbolic.Budget` (or a dict of its
        fields).

    Returns
    -------
    Swell
        ``print()`` gives a table, Jupyter an HTML table, ``.plot()`` a figure,
        ``.rows`` the records.  A function the symbolic method cannot handle
        is a row with a note saying why.

    Examples
    --------
    >>> import diffkit as dk
    >>> def logistic(n):
    ...     def f(x):
    ...         for _ in range(n - 1):
    ...             x = 4 * x * (1 - x)
    ...         return x
    ...     return f
    >>> report = dk.swell(logistic, n=range(1, 5))
    >>> [(r["n"], r["tree_ops"], r["dag_ops"], r["trace_ops"]) for r in report.rows]
    [(1, 0, 0, 0), (2, 5, 5, 3), (3, 28, 17, 6), (4, 104, 38, 9)]
    """
    from diffkit.transforms import _callable

    f = _callable(f)
    family = n is not None or _parameters(f) == ["n"]
    if not family:
        return Swell([_row(f, None, at, budget)], _name(f))
    try:
        sizes = list(range(1, 9) if n is None else n)
    except TypeError:
        raise TypeError(
            f"n is the sizes to tabulate, such as n=range(1, 9) or n=[1, 2, 4]; "
            f"got {n!r}."
        ) from None
    if not sizes or not all(isinstance(k, int | _np.integer) and k >= 1
                            for k in sizes):
        raise ValueError(f"n must list positive integer sizes, got {n!r}.")
    rows = []
    for k in sizes:
        member = f(k)
        if not callable(member):
            raise TypeError(f"a family must return a function for each n; "
                            f"{_name(f)}({k}) returned {type(member).__name__}.")
        rows.append(_row(member, k, at, budget))
    return Swell(rows, _name(f))
