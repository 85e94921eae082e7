"""``dk.compare``: one function, every method, one table.

The four ways of differentiating trade different things.  Finite differences
only need to *evaluate* ``f`` but lose digits to truncation and round-off;
symbolic differentiation is exact but its expressions can swell; forward- and
reverse-mode AD are exact to rounding and cost a small multiple of one
evaluation -- per input direction (forward) or per output (reverse).

:func:`compare` runs every method on the same function at the same point and
lays the answers side by side: the derivative, its error against a trusted
reference, the wall time, the cost (function evaluations, or primitive
operations) and the size of what had to be built (expression or trace).  A
method that cannot handle the function gets a row that says why.
"""

from __future__ import annotations

import html
import importlib
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as _np

from diffkit.errors import NotApplicable
from diffkit.trees import flatten

__all__ = ["compare", "Comparison", "Row", "METHODS"]

#: The rows of a default comparison, in the order of the lessons.
METHODS: tuple[str, ...] = (
    "finite:forward",
    "finite:central",
    "finite:complex-step",
    "finite:richardson",
    "symbolic",
    "forward",
    "reverse",
)

_SCHEMES = ("forward", "backward", "central", "complex-step", "richardson")

#: Per method, how long (seconds) repeated timing runs may take in total.
#: Seven methods then stay well under a second for a simple function.
TIME_BUDGET = 0.08
MAX_RUNS = 7
#: A call slower than this (seconds) is timed once only.
SLOW = 0.5


@dataclass(frozen=True)
class Row:
    """One line of a :class:`Comparison`.

    Attributes
    ----------
    method
        ``"finite:<scheme>"``, ``"symbolic"``, ``"forward"`` or ``"reverse"``.
    value
        The derivative: a float for a scalar input and output, else an array
        (the gradient, or the Jacobian).  ``None`` if the method did not apply.
    abs_error, rel_error
        ``|value - reference|`` and that divided by ``|reference|`` (norms
        for arrays).
    time
        Best wall time of a few runs, in seconds.
    cost
        Function evaluations (finite differences) or primitive operations
        executed (AD passes; operations in the derivative expression after
        common-subexpression elimination for symbolic).
    size
        What the method had to build: the derivative's expression tree
        (symbolic) or the evaluation trace (AD).  ``None`` for finite
        differences, which build nothing.
    note
        How cost and size were counted, the step used, or why the method
        does not apply.
    """

    method: str
    value: Any
    abs_error: float | None
    rel_error: float | None
    time: float | None
    cost: int | None
    size: int | None
    note: str

    @property
    def ok(self) -> bool:
        """True if the method produced a derivative."""
        return self.value is not None

    def as_dict(self) -> dict[str, Any]:
        """The record as a plain dict with the keys of the table."""
        return asdict(self)


class Comparison:
    """The table made by :func:`compare`.

    ``print(cmp)`` gives an aligned text table, Jupyter shows an HTML table,
    :meth:`plot` draws errors and costs, and :attr:`rows` holds the records.
    """

    def __init__(self, label: str, at: str, rows: list[Row], reference: str,
                 exact: Any) -> None:
        self.label = label
        self.at = at
        self.rows = rows
        #: Where the errors are measured from, in words.
        self.reference = reference
        #: The reference derivative itself.
        self.exact = exact

    def __getitem__(self, method: str) -> Row:
        for row in self.rows:
            if row.method == method:
                return row
        raise KeyError(f"No row {method!r}; rows: {[r.method for r in self.rows]}.")

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __repr__(self) -> str:
        return self.__str__()

    # --- text ---------------------------------------------------------------------

    _LEGEND = ("cost: evaluations of f (finite differences), primitive operations "
               "run (AD) or in the derivative after CSE (symbolic); size: "
               "expression tree (symbolic) or trace length (AD)")

    _HEADER = ("method", "derivative", "abs error", "rel error", "time", "cost",
               "size", "note")

    def _cells(self) -> list[tuple[str, ...]]:
        return [
            (
                r.method,
                _fmt_value(r.value),
                _fmt_err(r.abs_error),
                _fmt_err(r.rel_error),
                _fmt_time(r.time),
                _fmt_int(r.cost),
                _fmt_int(r.size),
                r.note,
            )
            for r in self.rows
        ]

    def __str__(self) -> str:
        cells = [self._HEADER, *self._cells()]
        widths = [max(len(c[i]) for c in cells) for i in range(len(self._HEADER))]
        right = {1, 2, 3, 4, 5, 6}

        def line(c: tuple[str, ...]) -> str:
            parts = [c[i].rjust(widths[i]) if i in right else c[i].ljust(widths[i])
                     for i in range(len(c) - 1)]
            return "  ".join(parts + [c[-1]]).rstrip()

        rule = "  ".join("-" * w for w in widths[:-1]) + "  " + "-" * 4
        out = [f"d/dx {self.label} at {self.at}",
               f"reference: {self.reference}", "",
               line(cells[0]), rule]
        out += [line(c) for c in cells[1:]]
        out += ["", self._LEGEND]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{esc(h)}</th>" for h in self._HEADER)
        body = []
        for c in self._cells():
            tds = "".join(
                f'<td style="text-align:{"left" if i in (0, 7) else "right"}">'
                f"{esc(v)}</td>" for i, v in enumerate(c))
            body.append(f"<tr>{tds}</tr>")
        return (
            f"<table><caption>d/dx {esc(self.label)} at {esc(self.at)}<br>"
            f"<small>reference: {esc(self.reference)}</small></caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            f'<tfoot><tr><td colspan="8"><small>{esc(self._LEGEND)}</small>'
            "</td></tr></tfoot></table>"
        )

    # --- picture ------------------------------------------------------------------

    def plot(self, ax: Any = None) -> Any:
        """Bar charts of the absolute error and the cost of each method (log scale).

        Parameters
        ----------
        ax
            ``None`` (a new figure with two panels, which pyplot does not
            manage) or a pair of Axes.

        Returns
        -------
        matplotlib.figure.Figure
            Errors of 0 (the reference, to the last bit) are drawn at the
            bottom of the axis and labelled "0"; methods that did not apply
            are left out.
        """
        if ax is None:
            from diffkit._figures import new_figure

            fig = new_figure((10, 3.8), layout="constrained")
            ax_err, ax_cost = fig.subplots(1, 2)
        else:
            ax_err, ax_cost = ax
            fig = ax_err.figure
        rows = [r for r in self.rows if r.ok]
        names = [r.method for r in rows]
        floor = 1e-17
        errors = [max(r.abs_error or 0.0, floor) for r in rows]
        bars = ax_err.bar(names, errors, color="tab:red")
        ax_err.set_yscale("log")
        ax_err.set_ylim(floor / 3, max(max(errors, default=1.0) * 10, 1e-12))
        for bar, r in zip(bars, rows, strict=True):
            if not r.abs_error:
                ax_err.annotate("0", (bar.get_x() + bar.get_width() / 2, floor),
                                ha="center", va="bottom", fontsize=8)
        ax_err.set_ylabel("absolute error")
        ax_err.set_title("error against the reference")
        # Two units share the axis: evaluations of f and primitive operations.
        counted = [r for r in rows if r.cost is not None]
        colors = ["tab:blue" if r.method.startswith("finite:") else "tab:green"
                  for r in counted]
        ax_cost.bar([r.method for r in counted], [r.cost for r in counted],
                    color=colors)
        from matplotlib.patches import Patch

        ax_cost.legend(handles=[Patch(color="tab:blue", label="evaluations of f"),
                                Patch(color="tab:green", label="primitive operations")],
                       fontsize=8, loc="upper left")
        ax_cost.set_yscale("log")
        ax_cost.set_ylabel("cost")
        ax_cost.set_title("cost")
        for a in (ax_err, ax_cost):
            a.tick_params(axis="x", labelrotation=35)
            for label in a.get_xticklabels():
                label.set_horizontalalignment("right")
        fig.suptitle(f"d/dx {self.label} at {self.at}")
        return fig


# --- formatting ---------------------------------------------------------------------

def _fmt_value(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.16g}"
    a = _np.asarray(v)
    if a.size > 6:
        head = ", ".join(f"{e:.6g}" for e in a.ravel()[:4])
        return f"[{head}, ...] ({a.size} values)"
    return _np.array2string(a, separator=", ", max_line_width=10**6,
                            formatter={"float_kind": lambda e: f"{e:.10g}"})


def _fmt_err(e: float | None) -> str:
    if e is None:
        return "-"
    return "0" if e == 0 else f"{e:.1e}"


def _fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t * 1e9:.3g} ns"


def _fmt_int(n: int | None) -> str:
    return "-" if n is None else str(n)


# --- the problem being compared -----------------------------------------------------

class _Problem:
    """``f`` and the point, normalised: a function of one tree argument."""

    def __init__(self, f: Any, x: Any) -> None:
        from diffkit.transforms import _callable
        from diffkit.values import as_float

        self.label = f if isinstance(f, str) else getattr(f, "__name__", repr(f))
        f = _callable(f)
        self.f = f
        nvars = _expression_arity(f)
        # An expression in several variables takes them as separate arguments;
        # we differentiate with respect to all of them at once.
        self.spread = nvars > 1
        if self.spread:
            if not isinstance(x, tuple | list | _np.ndarray) or len(x) != nvars:
                raise ValueError(
                    f"{self.label!r} has {nvars} variables "
                    f"({', '.join(getattr(f, 'variables', ()))}): give one value "
                    f"per variable, for example x={tuple(range(1, nvars + 1))}."
                )
            self.x: Any = tuple(as_float(v) for v in x)
            self.fun: Callable[[Any], Any] = lambda xs: f(*xs)
        else:
            self.x = _as_float_tree(x)
            self.fun = f
        leaves, _ = flatten(self.x)
        self.n_inputs = int(sum(_np.size(leaf) for leaf in leaves))
        with _np.errstate(all="ignore"):
            value = self.fun(self.x)  # a broken f or x fails here, loudly
        self.n_outputs = int(_np.size(value))
        self.scalar = (self.n_inputs == 1 and self.n_outputs == 1
                       and not self.spread and _np.ndim(self.x) == 0)
        self.at = _fmt_point(self.x, getattr(f, "variables", None))
        #: The shape of the derivative as the rows show it: ``out.shape +
        #: x.shape`` (``None`` when x is a tree of several arrays).
        self.derivative_shape: tuple[int, ...] | None = None
        if self.scalar:
            self.derivative_shape = ()
        elif self.spread:
            self.derivative_shape = (nvars,) if self.n_outputs == 1 else None
        elif len(leaves) == 1 and not isinstance(value, tuple | list | dict):
            self.derivative_shape = _np.shape(value) + _np.shape(leaves[0])
        #: ``dk.symbolic`` of f, once somebody needed it.
        self.symbolic: Any = None

    def shape(self, d: Any) -> Any:
        """A derivative as shown: float, or an array."""
        if self.scalar:
            v = _np.asarray(d).item()
            return complex(v) if _np.iscomplexobj(d) and v.imag else float(v.real)
        if self.spread:
            return _np.array([_np.asarray(v).item() for v in d])
        leaves, _ = flatten(d)
        if len(leaves) == 1:
            return _np.asarray(leaves[0], dtype=float)
        return d


def _expression_arity(f: Any) -> int:
    variables = getattr(f, "variables", None)
    return len(variables) if variables is not None else 1


def _as_float_tree(x: Any) -> Any:
    from diffkit.trees import tree_map
    from diffkit.values import as_float

    return tree_map(as_float, x)


def _fmt_point(x: Any, names: Sequence[str] | None) -> str:
    if names is not None and isinstance(x, tuple) and len(names) == len(x):
        return ", ".join(f"{n} = {float(v):g}" for n, v in zip(names, x, strict=True))
    if _np.ndim(x) == 0 and not isinstance(x, tuple | list | dict):
        v = _np.asarray(x).item()
        return f"x = {v:g}"
    return "x = " + _fmt_value(x)


def _flat(d: Any) -> _np.ndarray:
    leaves, _ = flatten(d)
    return _np.concatenate([_np.ravel(_np.asarray(leaf, dtype=complex)) for leaf
                            in leaves]) if leaves else _np.zeros(0)


def _errors(d: Any, ref: Any) -> tuple[float, float]:
    a, b = _flat(d), _flat(ref)
    with _np.errstate(invalid="ignore"):  # inf - inf: nan, as the table shows
        difference = _np.where(a == b, 0, a - b)  # but an exact inf is no error
    abs_err = float(_np.linalg.norm(difference))
    scale = float(_np.linalg.norm(b))
    return abs_err, (abs_err / scale if scale else abs_err)


# --- timing and counting ------------------------------------------------------------

def _timed(call: Callable[[], Any], budget: float = TIME_BUDGET) -> tuple[Any, float]:
    """Call once for the result, then repeat while the budget lasts; best time.

    The first run may pay one-time costs (importing SymPy, filling caches),
    so unless it was slow anyway, at least one more run is timed.
    """
    t0 = time.perf_counter()
    result = call()
    best = time.perf_counter() - t0
    runs, spent = 1, 0.0
    while runs < MAX_RUNS and best < SLOW and (runs == 1 or spent + best < budget):
        t0 = time.perf_counter()
        call()
        t = time.perf_counter() - t0
        best, spent, runs = min(best, t), spent + t, runs + 1
    return result, best


def _ad_cost(p: _Problem, mode: str) -> tuple[int, int, str]:
    """``(cost, size, note)`` of an AD derivative, read off the evaluation trace.

    The operations are counted by running diffkit's own JVP or VJP rules over
    the recorded trace: f once, then one tangent sweep per input (forward)
    or one adjoint sweep per output (reverse).
    """
    from diffkit.wengert import trace

    tr = trace(p.f, *(p.x if p.spread else (p.x,)))
    c = tr.operation_counts()
    if mode == "forward":
        sweeps, each, cost, kind = c.n_inputs, c.tangent, c.forward_jacobian, "tangent"
    else:
        sweeps, each, cost, kind = c.n_outputs, c.adjoint, c.reverse_jacobian, "adjoint"
    plural = "" if sweeps == 1 else "s"
    note = f"f {_ops(c.function)} + {sweeps} {kind} sweep{plural} x {_ops(each)}"
    return int(cost), len(tr), note


# --- one row per method -------------------------------------------------------------

def _run_symbolic(p: _Problem) -> tuple[Any, float, int, int, str]:
    import sympy  # noqa: F401 - a one-time import is not part of the timing

    from diffkit.backends import symbolic

    (_, d), t = _timed(lambda: symbolic.value_and_jacobian(p.fun, p.x))
    size = _expression(p).size
    return (d, t, int(size.dag_ops), int(size.tree_ops),
            f"derivative: {_ops(size.tree_ops)} as a tree, {size.dag_ops} after CSE")


def _expression(p: _Problem) -> Any:
    """``dk.symbolic`` of the problem, computed once."""
    if p.symbolic is None:
        from diffkit.sizes import symbolic

        p.symbolic = symbolic(p.f, at=p.x)
    return p.symbolic


def _run_ad(p: _Problem, mode: str) -> tuple[Any, float, int, int, str]:
    backend = importlib.import_module(f"diffkit.backends.{mode}")
    if mode == "reverse" and p.n_outputs == 1:
        def call() -> Any:
            _, pullback = backend.vjp(p.fun, p.x)
            return pullback(_np.ones(()))
        d, t = _timed(call)
    else:
        (_, d), t = _timed(lambda: backend.value_and_jacobian(p.fun, p.x))
    cost, size, note = _ad_cost(p, mode)
    return d, t, cost, size, note


def _ops(n: int) -> str:
    return f"{n} op{'' if n == 1 else 's'}"


def _run(p: _Problem, method: str) -> tuple[Any, float, int | None, int | None, str]:
    with warnings.catch_warnings(), _np.errstate(all="ignore"):
        # A method that fails prints no warnings; it gets a row saying why.
        warnings.simplefilter("ignore")
        if method.startswith("finite:"):
            return _run_finite(p, method.split(":", 1)[1])
        if method == "symbolic":
            return _run_symbolic(p)
        return _run_ad(p, method)


def _run_finite(p: _Problem, scheme: str) -> tuple[Any, float, int, None, str]:
    from diffkit.backends import finite

    est, t = _timed(lambda: finite.estimate(p.fun, p.x, scheme=scheme))
    notes = []
    steps = _np.abs(_flat(est.step))
    if steps.size and _np.all(steps == steps[0]):
        notes.append(f"step h = {steps[0]:.1e}")
    elif steps.size:
        notes.append(f"steps h = {steps.min():.1e}..{steps.max():.1e}")
    if est.error_estimate is not None:
        notes.append(f"own error estimate {est.error_estimate:.1e}")
    note = "; ".join(notes)
    return est.derivative, t, int(est.evaluations), None, note


def _why(err: BaseException) -> str:
    """An exception as one short line for the note column."""
    msg = " ".join(str(err).split())
    if isinstance(err, NotApplicable):
        return f"not applicable: {msg}"
    return f"failed: {type(err).__name__}: {msg}"


# --- the reference ------------------------------------------------------------------

def _reference(p: _Problem, reference: Any,
               results: dict[str, Any]) -> tuple[Any, str]:
    """The trusted derivative and a sentence saying where it came from."""
    if not isinstance(reference, str):
        return reference, "given by the caller"
    method = _normalise(reference)
    if method == "symbolic":
        precise, why_not = _high_precision(p)
        if precise is not None:
            return precise, "symbolic (SymPy's derivative evaluated to 30 digits)"
        symbolic = results.get("symbolic")
        if symbolic is not None and _all_finite(symbolic):
            return symbolic, f"symbolic (SymPy, in double precision: {why_not})"
        d = results.get("reverse")
        if d is None:
            d = _run(p, "reverse")[0]
        if symbolic is not None:  # a formula with a removable 0/0 here, say
            return d, ("reverse-mode AD, as SymPy's formula is not a finite "
                       f"number at this point ({(why_not or '').rstrip('.')})")
        why = results.get("symbolic:why") or _symbolic_why(p)
        reason = why.removeprefix("not applicable: ")
        return d, f"reverse-mode AD, as symbolic does not apply: {reason}"
    d = results.get(method)
    if d is None:
        d = _run(p, method)[0]
    return d, method


def _all_finite(value: Any) -> bool:
    try:
        return bool(_np.all(_np.isfinite(_flat(value))))
    except (TypeError, ValueError):
        return True  # not an array of numbers: let the comparison say so


def _check_reference(p: _Problem, reference: Any) -> None:
    """Refuse a reference that cannot be compared with the rows, before any runs."""
    if isinstance(reference, str):
        _normalise(reference)  # an unknown name fails now, not as a blank column
        return
    try:
        size = _flat(reference).size
    except (TypeError, ValueError):
        raise TypeError(
            "reference must be a method name such as 'symbolic' or the exact "
            f"derivative (a number or an array), got {type(reference).__name__}."
        ) from None
    shape = p.derivative_shape
    if isinstance(reference, dict) or shape is None:
        expected = p.n_inputs * p.n_outputs
        if size != expected:
            raise ValueError(
                f"reference has {size} values, but the derivative of "
                f"{p.label!r} at this x has {expected}.")
        return
    if _np.shape(reference) != shape:
        raise ValueError(
            f"reference has shape {_np.shape(reference)}, but the derivative "
            f"of {p.label!r} at this x has shape {shape} (the output's shape, "
            "then the input's): give the exact derivative in that shape.")


def _symbolic_why(p: _Problem) -> str:
    try:
        _run(p, "symbolic")
    except Exception as err:  # noqa: BLE001 - reported, not raised
        return _why(err)
    return "unavailable"


def _high_precision(p: _Problem) -> tuple[Any, str | None]:
    """The SymPy derivative to 30 significant digits, as ``(value, None)``;
    or ``(None, why not)``.

    Double precision would limit the errors we can measure to about 1e-16
    relative; 30 digits make the reference exact for every practical purpose.
    The derivative is evaluated node by node on its DAG
    (:func:`diffkit.backends.symbolic.evaluate_to_digits`), never as a tree:
    for the logistic map at n = 10 the tree has 41,216 operations and the
    DAG after CSE 465, and the tree doubles with every further step.
    """
    import sympy

    from diffkit.backends import symbolic

    single_array = not p.spread and isinstance(p.x, _np.ndarray)
    if p.n_outputs != 1 or not (p.scalar or p.spread or single_array):
        return None, "30 digits are computed for one output only"
    complex_input = any(_np.iscomplexobj(leaf) for leaf in flatten(p.x)[0])
    try:
        sym = _expression(p)
        expr = sym.expr
        exprs = (list(expr) if isinstance(expr, tuple | list | sympy.MatrixBase)
                 else [expr])
        symbols = [v for var in sym.variables for v in _np.ravel(_np.asarray(
            var, dtype=object))]
        # The point the other methods see: the double-precision numbers, exactly.
        flat = _flat(p.x)
        values = list(flat) if complex_input else [float(v.real) for v in flat]
        if len(symbols) != len(values) or len(exprs) != p.n_inputs:
            return None, "the expression does not match the input"
        precise = symbolic.evaluate_to_digits(
            exprs, dict(zip(symbols, values, strict=True)), digits=30)
        out = _np.array([complex(v) for v in precise])
    except Exception as err:  # noqa: BLE001 - then the double-precision value will do
        return None, _why(err).removeprefix("not applicable: ")
    if not complex_input:
        if any(abs(v.imag) > 1e-12 * max(1.0, abs(v.real)) for v in out):
            return None, "the 30-digit value is complex"
        out = out.real
    # (For a complex input, like the symbolic row, the complex derivative f'(z).)
    if p.scalar:
        return (complex(out[0]) if complex_input else float(out[0])), None
    return (out if p.spread else out.reshape(_np.shape(p.x))), None


# --- the public function ------------------------------------------------------------

def _normalise(method: str) -> str:
    if not isinstance(method, str):
        raise TypeError(f"A method is a string such as 'reverse', got {method!r}.")
    m = method.strip().lower().replace("_", "-")
    aliases = {"finite": "finite:central", "fd": "finite:central",
               "fwd": "forward", "rev": "reverse", "complex": "finite:complex-step",
               "complex step": "finite:complex-step", "sympy": "symbolic"}
    m = aliases.get(m, m)
    if m in ("symbolic", "forward", "reverse"):  # "forward" is forward-mode AD
        return m
    if m in _SCHEMES:
        return f"finite:{m}"
    if m.startswith("finite:") and m.split(":", 1)[1] in _SCHEMES:
        return m
    choices = ", ".join([*(f"finite:{s}" for s in _SCHEMES),
                         "symbolic", "forward", "reverse"])
    raise ValueError(f"Unknown method {method!r}: choose from {choices}.")


def compare(f: Any, x: Any, methods: Sequence[str] | None = None,
            reference: Any = "symbolic") -> Comparison:
    """Differentiate ``f`` at ``x`` by every method and tabulate the results.

    Parameters
    ----------
    f
        A function written with ``diffkit.numpy``, or an expression string
        such as ``"sin(x)**2*exp(x)"`` (several variables: pass one value per
        variable, in the order they first appear).
    x
        The point: a number, an array, or a tuple of values for an
        expression in several variables.
    methods
        Which rows, in order: one method name, or a list of them.  Default:
        the finite-difference schemes ``"finite:forward"``,
        ``"finite:central"``, ``"finite:complex-step"``,
        ``"finite:richardson"``, then ``"symbolic"``, ``"forward"``,
        ``"reverse"``.  A bare scheme name (``"central"``) means that
        finite-difference scheme.
    reference
        What the errors are measured against: ``"symbolic"`` (the SymPy
        derivative, evaluated to 30 digits when possible, else in double
        precision; when symbolic differentiation does not apply, reverse-mode
        AD; the table says which, and why), any other method name, or the
        exact derivative as a number or array shaped like the rows' values
        (``out.shape + x.shape``).

    Returns
    -------
    Comparison
        ``print()`` it for a text table; ``.rows`` holds :class:`Row`
        records; ``.plot()`` draws errors and costs.  A method that cannot
        differentiate ``f`` is a row whose note says why -- never an error.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> cmp = dk.compare(lambda x: x ** 2, 2.0, methods=["forward", "reverse"],
    ...                  reference=4.0)
    >>> [row.method for row in cmp.rows]
    ['forward', 'reverse']
    >>> cmp["reverse"].value, cmp["reverse"].abs_error
    (4.0, 0.0)
    """
    p = _Problem(f, x)
    if isinstance(methods, str):  # one method, not a sequence of letters
        methods = [methods]
    chosen = [_normalise(m) for m in (METHODS if methods is None else methods)]
    if not chosen:
        raise ValueError("methods is empty: name at least one method.")
    _check_reference(p, reference)
    raw: dict[str, Any] = {}
    runs: dict[str, tuple[Any, float | None, int | None, int | None, str]] = {}
    for method in dict.fromkeys(chosen):
        try:
            d, t, cost, size, note = _run(p, method)
        except Exception as err:  # noqa: BLE001 - every failure becomes a row
            runs[method] = (None, None, None, None, _why(err))
            raw[f"{method}:why"] = _why(err)
            continue
        raw[method] = d
        runs[method] = (d, t, cost, size, note)
    try:
        exact, said = _reference(p, reference, raw)
    except Exception as err:  # noqa: BLE001 - no reference: errors left blank
        exact, said = None, f"none ({_why(err)})"
    rows = []
    for method in chosen:
        d, seconds, cost, size, note = runs[method]
        abs_err: float | None = None
        rel_err: float | None = None
        if d is not None and exact is not None:
            abs_err, rel_err = _errors(d, exact)
        rows.append(Row(method, None if d is None else p.shape(d), abs_err, rel_err,
                        seconds, cost, size, note))
    shown = p.shape(exact) if exact is not None and not isinstance(
        reference, int | float | complex) else exact
    return Comparison(p.label, p.at, rows, said, shown)
