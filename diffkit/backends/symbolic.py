"""The symbolic method: run ``f`` on SymPy symbols, differentiate, evaluate.

Symbolic differentiation needs a formula, and a diffkit function is a
program.  This backend turns the one into the other the same way the AD
methods work: it is an *interpreter*.  The inputs become arrays of SymPy
symbols wrapped in boxes of a :class:`SymbolicTrace`, and every primitive the
program applies to them is replaced by its SymPy rule (``Primitive.sympy``,
see :mod:`diffkit.rules.sympy`).  What comes out is a SymPy expression of the
inputs -- one for every element of the output.

Then three steps:

1. **Differentiate.**  A SymPy expression built by a program is a DAG: in
   ``l = 4*l*(1 - l)`` the same ``l`` is used twice, and SymPy shares it
   rather than copying it.  ``sympy.diff`` walks the expression as a *tree*,
   so its time grows with the tree, which doubles at every step of that
   loop.  We apply the chain rule once per *distinct* subexpression instead,
   asking SymPy only for the derivative of each node with respect to its
   own arguments (``d sin(u)/du = cos(u)``).  That is forward-mode AD run on
   the expression DAG -- the reason "symbolic differentiation with common
   subexpressions shared" and "automatic differentiation" meet.
2. **Compile.**  ``sympy.cse`` names every repeated subexpression once and
   ``sympy.lambdify`` turns the result into a NumPy function.
3. **Evaluate** that function at the point.

Only a closed-form function can be differentiated this way.  A program that
*branches on a value* (``if x > 0``, ``while abs(term) > tol``) has a
different formula on each side of the branch; the comparison yields a SymPy
condition, and asking Python for its truth raises
:class:`~diffkit.errors.NotApplicable` naming the line of the program that
branched.  Conditions inside ``np.where`` are fine: they become
``Piecewise`` expressions.

``dk.stop_gradient`` works as everywhere else: the stopped value enters the
formula as a fresh constant symbol, which is replaced by what it stands for
only after differentiating.  Complex inputs get complex symbols; the
derivative is then the complex derivative ``f'(z)``, so the function must be
holomorphic (``abs``, ``real``, ``conj``... are refused with a message).

Where the formula has no derivative -- at a kink such as ``Max(x, 1)`` at
``x = 1`` or ``sqrt(x**2 + y**2)`` at the origin -- or says ``0/0``, the
derivative is the one forward and reverse mode give: the average of the
one-sided slopes, or the limit (:mod:`diffkit.rules._kinks`).  A tie in
``Max``/``Min`` is split evenly, the square root of a nonnegative quantity
has slope 0 at its zero, and ``x**y log(x)`` is 0 at ``x = 0``.

Expressions can swell.  A :class:`Budget` bounds the time and the number of
operations in the expression DAG, so that a derivative too large to handle
raises ``NotApplicable("too large: ...")`` instead of running for hours.

Compiled derivatives are cached, keyed by the evaluation trace of the
function (which primitives ran on which inputs, with which constants): the
same function at the same input shapes is traced again -- that is cheap and
always current -- but differentiated and compiled only once.

Examples
--------
>>> import diffkit as dk
>>> import diffkit.numpy as np
>>> float(dk.derivative(lambda x: np.sin(x) ** 2, 0.5, method="symbolic"))
0.8414709848078965
"""

from __future__ import annotations

import contextlib
import contextvars
import linecache
import os
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as _np
from numpy.lib.mixins import NDArrayOperatorsMixin

from diffkit.errors import DiffkitError, MissingRuleError, NotApplicable
from diffkit.primitives import Primitive
from diffkit.tracer import Box, Trace, call_traced, unbox
from diffkit.trees import TreeDef, flatten, unflatten

__all__ = [
    "Budget",
    "BUDGET",
    "SymbolicTrace",
    "SymbolicValue",
    "MissingSympyRuleError",
    "value_and_jacobian",
    "hessian",
    "trace",
    "Traced",
    "derivative_array",
    "count_ops",
    "dag_ops",
    "compile_exprs",
    "evaluate_to_digits",
    "is_condition",
    "dag_size",
    "tick",
    "values_error",
    "too_deep",
]


# --- the budget --------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """Limits that keep expression swell from turning into a hang.

    Attributes
    ----------
    seconds
        Wall time allowed for tracing, differentiating and compiling one
        function.
    max_ops
        Operations allowed in the function's expression or in its
        derivatives, each distinct subexpression counted once (the size of
        the expression DAG, what ``dag_ops`` reports).
    max_symbols
        Input elements allowed: each becomes one SymPy symbol.
    sympy_diff_ops
        Used by :func:`diffkit.swell`: ``sympy.diff`` itself (which walks
        the expression *tree*) is only timed for functions whose tree has at
        most this many operations.

    Examples
    --------
    >>> from diffkit.backends.symbolic import Budget
    >>> Budget(seconds=2.0).seconds
    2.0
    """

    seconds: float = 10.0
    max_ops: int = 100_000
    max_symbols: int = 2_000
    sympy_diff_ops: int = 2_000


#: The budget used when none is given (replace it to change the default).
BUDGET = Budget()


def _budget(budget: Budget | Mapping[str, Any] | None) -> Budget:
    if budget is None:
        return BUDGET
    if isinstance(budget, Budget):
        return budget
    if isinstance(budget, Mapping):
        try:
            return replace(BUDGET, **dict(budget))
        except TypeError:
            raise TypeError(
                f"Unknown budget field(s) in {dict(budget)!r}: use seconds, "
                "max_ops, max_symbols or sympy_diff_ops."
            ) from None
    raise TypeError(
        f"budget must be a diffkit.backends.symbolic.Budget or a dict, got "
        f"{type(budget).__name__}."
    )


class _Clock:
    """The time and size budget of one symbolic computation."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.start = time.perf_counter()

    def check(self, what: str) -> None:
        elapsed = time.perf_counter() - self.start
        if elapsed > self.budget.seconds:
            raise NotApplicable(
                f"too large: {what} took more than the budget of "
                f"{self.budget.seconds:g} s (expression swell); use an AD method, "
                "or raise the budget with budget=Budget(seconds=...)."
            )

    def ops(self, exprs: Iterable[Any], what: str) -> None:
        n = dag_size(exprs)
        if n > self.budget.max_ops:
            raise NotApplicable(
                f"too large: {what} has {n:,} operations even with every common "
                f"subexpression computed once (budget: {self.budget.max_ops:,}; "
                "expression swell); use an AD method, or raise the budget with "
                "budget=Budget(max_ops=...)."
            )


_CLOCK: contextvars.ContextVar[_Clock | None] = contextvars.ContextVar(
    "diffkit_symbolic_clock", default=None)


def tick(what: str) -> None:
    """Let a long SymPy rule check the time budget of the trace running it."""
    clock = _CLOCK.get()
    if clock is not None:
        clock.check(what)


@contextlib.contextmanager
def too_deep(what: str = "the function's expression") -> Iterator[None]:
    """Report an expression nested too deeply for SymPy as ``NotApplicable``.

    SymPy's algorithms (and Python's compiler, which compiles the
    derivative) recurse through the levels of nesting: ``sin(sin(...sin(x)))``
    a few hundred deep exhausts Python's recursion limit.  That is a limit
    of the symbolic method, not a bug of the function, so it is reported as
    one -- after the stack has unwound, when there is room to build the
    message.  The AD methods do not recurse on the expression.
    """
    try:
        yield
    except RecursionError:
        raise NotApplicable(
            f"too deep: {what} is nested more deeply than SymPy can handle "
            "(its algorithms recurse through the levels, and Python allows "
            f"{sys.getrecursionlimit()} nested calls); use method='forward' or "
            "'reverse'."
        ) from None


# --- SymPy numbers and object arrays -------------------------------------------------


def _sympy() -> Any:
    import sympy

    return sympy


def _as_written() -> Any:
    """SymPy keeps ``2*(a + b)`` as it is instead of distributing to ``2*a + 2*b``.

    Distributing copies the sum, so an expression built step by step would
    lose the sharing of subexpressions that keeps its DAG small.
    """
    from sympy.core.parameters import distribute

    return distribute(False)


def sympy_number(v: Any) -> Any:
    """A Python or NumPy number as a SymPy number (whole floats become integers).

    ``4.0 * x`` then prints as ``4*x``: the float 4.0 is exactly the integer 4.
    """
    sp = _sympy()
    if isinstance(v, sp.Basic):
        return v
    if isinstance(v, bool | _np.bool_):
        return sp.Integer(int(v))
    if isinstance(v, int | _np.integer):
        return sp.Integer(int(v))
    if isinstance(v, float | _np.floating):
        v = float(v)
        if v.is_integer() and abs(v) < 2.0**53:
            return sp.Integer(int(v))
        return sp.Float(v)
    if isinstance(v, complex | _np.complexfloating):
        v = complex(v)
        return sympy_number(v.real) + sp.I * sympy_number(v.imag)
    raise TypeError(f"not a number: {v!r:.60}")


def as_object(v: Any) -> Any:
    """Numbers and numeric arrays as object arrays of SymPy numbers.

    Object arrays (already symbolic) pass through with any plain numbers in
    them converted; anything that is not numeric (an axis tuple, ``None``,
    a string) is returned unchanged.
    """
    sp = _sympy()
    if isinstance(v, _np.ndarray):
        if v.dtype == object:
            if all(isinstance(e, sp.Basic) for e in v.flat):
                return v
        elif v.dtype.kind not in "biufc":
            return v
        out = _np.empty(v.shape, dtype=object)
        for i, e in enumerate(v.flat):
            out.flat[i] = sympy_number(e)
        return out
    if isinstance(v, sp.Basic | bool | int | float | complex | _np.generic):
        out = _np.empty((), dtype=object)
        out[()] = sympy_number(v)
        return out
    if isinstance(v, list | tuple) and v and all(
            isinstance(e, int | float | complex | _np.generic | sp.Basic | list
                       | tuple) for e in v):
        try:
            return as_object(_np.array(v, dtype=object))
        except (TypeError, ValueError):
            return v
    return v


def is_condition(e: Any) -> bool:
    """True for a SymPy condition (``x > 0``, ``True``), not for an expression.

    (A SymPy ``Symbol`` is both: it may stand for a truth value.  Here
    symbols always stand for numbers.)
    """
    sp = _sympy()
    return isinstance(e, sp.logic.boolalg.Boolean) and not isinstance(e, sp.Expr)


def _result_array(v: Any, what: str) -> _np.ndarray:
    """A rule's result as an object array of SymPy expressions."""
    out = as_object(v)
    if not isinstance(out, _np.ndarray) or out.dtype != object:
        raise TypeError(f"the SymPy rule of {what} returned {type(v).__name__}, "
                        "not an array of expressions")
    return out


# --- where the user's program is ------------------------------------------------------

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _library_dirs() -> tuple[str, ...]:
    dirs = [_PACKAGE, os.path.dirname(os.path.abspath(_np.__file__))]
    if "sympy" in sys.modules:
        dirs.append(os.path.dirname(os.path.abspath(sys.modules["sympy"].__file__
                                                    or "")))
    return tuple(d + os.sep for d in dirs)


#: Files inside diffkit that hold *user-level* code: the worked examples are
#: programs a student reads, so a branch there is reported at its own line.
_USER_CODE = (os.path.join(_PACKAGE, "examples.py"),)


def user_line() -> str:
    """``file:line (`source`)`` of the innermost caller outside the libraries.

    The libraries are diffkit, NumPy and SymPy: the frame found is the line
    of the user's program that is running.  In Jupyter that is ``line 4 of
    the notebook cell`` rather than the kernel's temporary file.
    """
    skip = _library_dirs()
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        path = os.path.abspath(filename) if not filename.startswith("<") \
            else filename
        user = not path.startswith(skip) or path in _USER_CODE
        if user and "__array_function__" not in filename:
            lineno = frame.f_lineno
            source = linecache.getline(filename, lineno).strip()
            return (_place(path, lineno)
                    + (f" (`{source}`)" if source else ""))
        frame = frame.f_back  # type: ignore[assignment]
    return "an unknown line"


#: The files a Jupyter kernel runs cells from: ``/tmp/ipykernel_1234/2990437.py``
#: (ipykernel 6 and later; ``%TEMP%\ipykernel_1234\...`` on Windows), and
#: older IPython's ``<ipython-input-3-5f2d8a1c3b7e>``.  Their names mean
#: nothing to the reader, who sees a cell.
_NOTEBOOK_CELL = re.compile(r"(^|[\\/])ipykernel_\d+[\\/]\d+\.py$"
                            r"|^<ipython-input-\d+-[0-9a-f]+>$")


def _place(path: str, lineno: int) -> str:
    """Where line ``lineno`` of ``path`` is, in the reader's terms."""
    if _NOTEBOOK_CELL.search(path):
        return f"line {lineno} of the notebook cell"
    try:
        shown = os.path.relpath(path)
        if shown.startswith(".." + os.sep + ".."):
            shown = path
    except ValueError:  # another drive (Windows)
        shown = path
    return f"{shown}:{lineno}"


_FINITE = os.path.join(_PACKAGE, "backends", "finite.py")


def _in_finite_differences() -> bool:
    """Whether the innermost code running, outside the libraries, is diffkit's
    finite-difference backend rather than the user's own.

    Symbolic over finite: the finite backend, run on symbolic values, fails
    at its own code (choosing a step from ``|x|`` calls ``np.round`` on
    it) -- code the user never wrote and should not hear about.
    """
    skip = _library_dirs()
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith("<"):
            return False
        path = os.path.abspath(filename)
        if path == _FINITE:
            return True
        if not path.startswith(skip) and "__array_function__" not in filename:
            return False
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _finite_error() -> NotApplicable:
    return NotApplicable(
        f"the function takes a finite-difference derivative at {user_line()}, "
        "and a finite-difference derivative cannot be differentiated "
        "symbolically: method='finite' chooses its steps from the values of x "
        "(Richardson also from those of f), which a symbolic x does not have. "
        "Use method='symbolic' for the inner derivative too, or "
        "method='forward' or 'reverse' for the outer one."
    )


def _short(expr: Any, limit: int = 80) -> str:
    """A readable form of an expression, never printing a huge one."""
    exprs = list(expr.flat) if isinstance(expr, _np.ndarray) else [expr]
    if count_ops(exprs) > 60:
        return "a condition too large to print"
    text = ", ".join(str(e) for e in exprs)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _branch_error(expr: Any) -> NotApplicable:
    if _in_finite_differences():
        return _finite_error()
    return NotApplicable(
        "symbolic differentiation needs one closed-form expression, but the "
        f"function branches on a value at {user_line()}: whether "
        f"{_short(expr)} holds depends on the input. Use method='forward' or "
        "'reverse' (AD follows the branch taken at the point), or write the "
        "choice as np.where(condition, a, b)."
    )


def _number_error(kind: str) -> NotApplicable:
    if _in_finite_differences():
        return _finite_error()
    return NotApplicable(
        f"symbolic differentiation works on formulas, but {kind}() asked for "
        f"the number behind a symbolic value at {user_line()}. Keep the value "
        "as an array (use diffkit.numpy functions on it), or use method="
        "'forward' or 'reverse'."
    )


def values_error(name: str) -> NotApplicable:
    """The error for ``name`` depending on the *values* of a symbolic array.

    Raised (by the backend and by SymPy rules) where there is no formula: an
    index chosen by a condition on x, ``np.argmax``, ``np.sort``...
    """
    if _in_finite_differences():
        return _finite_error()
    return NotApplicable(
        f"symbolic differentiation needs a closed-form expression, but {name} "
        f"depends on the values of a symbolic array (at {user_line()}). Use "
        "method='forward' or 'reverse'."
    )


class MissingSympyRuleError(NotApplicable, MissingRuleError):
    """A primitive has no SymPy rule, so the symbolic method cannot run it."""


#: Primitives with no formula at all, and why.
_NO_FORMULA = {
    "sort": "sorting depends on the values",
    "partition": "partitioning depends on the values",
    "eigh_values": "eigenvalues are the roots of a polynomial, with no closed "
                   "form beyond 4 x 4",
    "eigh_vectors": "eigenvectors have no closed form in general",
}


def _rule(prim: Primitive) -> Callable[..., Any]:
    rule = prim.sympy
    if rule is None:
        if not prim.differentiable:
            raise values_error(f"np.{prim.name}")
        if prim.name in _NO_FORMULA:
            raise NotApplicable(
                f"symbolic differentiation needs a closed-form expression, but "
                f"{prim.name} has none: {_NO_FORMULA[prim.name]} (at "
                f"{user_line()}). Use method='forward' or 'reverse'.")
        raise MissingSympyRuleError(
            f"diffkit has no SymPy rule for {prim.name!r}, so the symbolic "
            "method cannot run it. Add one with diffkit.primitives.defsympy("
            f"{prim.name}, lambda *args: ...) acting on object arrays of SymPy "
            "expressions, or use method='forward' or 'reverse'."
        )
    return rule


# --- the values flowing through a symbolic trace --------------------------------------


class SymbolicValue(NDArrayOperatorsMixin):
    """The unboxed face of a symbolic value: an array of SymPy expressions.

    Inside a :class:`SymbolicTrace` a box's value is one of these.  It is
    what code sees when it looks *under* the box: a primitive with no
    derivative (a comparison, ``floor``, ``sign``), ``dk.stop_gradient``,
    ``bool()``.  It speaks NumPy's protocols, so comparisons give SymPy
    conditions, ``np.shape`` works, and asking for a number -- ``bool``,
    ``float``, ``int`` -- raises :class:`~diffkit.errors.NotApplicable`:
    there is no number, only a formula.  Used as an argument of a
    differentiated primitive it is a *constant* (its derivative is zero).
    """

    __slots__ = ("expr", "trace", "ref", "_frozen")

    def __init__(self, expr: _np.ndarray, trace: SymbolicTrace, ref: int) -> None:
        self.expr = expr
        self.trace = trace
        self.ref = ref
        self._frozen: _np.ndarray | None = None

    # Array attributes: the shape is known even though the values are not.
    @property
    def shape(self) -> tuple[int, ...]:
        return self.expr.shape

    @property
    def ndim(self) -> int:
        return self.expr.ndim

    @property
    def size(self) -> int:
        return int(self.expr.size)

    @property
    def dtype(self) -> _np.dtype:
        return _np.dtype(_np.complex128 if self.trace.complex else _np.float64)

    @property
    def T(self) -> Any:
        from diffkit import numpy as dnp

        return dnp.transpose(self)

    def __len__(self) -> int:
        if not self.expr.ndim:
            raise TypeError("len() of a 0-d (scalar) array")
        return self.expr.shape[0]

    def __iter__(self) -> Any:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, index: Any) -> Any:
        from diffkit import numpy as dnp

        return dnp.getitem(self, index)

    def __getattr__(self, name: str) -> Any:
        if name in _METHODS:
            from diffkit import numpy as dnp

            fun = getattr(dnp, name if name != "flatten" else "ravel")
            return lambda *args, **kwargs: fun(self, *args, **kwargs)
        raise AttributeError(name)

    # Asking for numbers: not possible, and the message says where it happened.
    def __bool__(self) -> bool:
        sp = _sympy()
        values = list(self.expr.flat)
        if len(values) == 1 and values[0] in (sp.true, sp.false):
            return bool(values[0] == sp.true)
        if len(values) == 1 and isinstance(values[0], sp.Number):
            return bool(values[0] != 0)
        raise _branch_error(self.expr)

    def __float__(self) -> float:
        raise _number_error("float")

    def __int__(self) -> int:
        raise _number_error("int")

    def __index__(self) -> int:
        raise _number_error("int")

    def __complex__(self) -> complex:
        raise _number_error("complex")

    def refuse_conversion(self, kind: str) -> None:
        """Called by ``float(box)`` & co. on the box around this value."""
        raise _number_error(kind)

    def item(self, *args: Any) -> Any:
        raise _number_error("item")

    def astype(self, dtype: Any, **kwargs: Any) -> Any:
        """As a float (or complex) array: conditions become 1 and 0, as in NumPy.

        A cast to an integer type truncates, which depends on the values;
        only conditions survive it, as the same 1 and 0.
        """
        from diffkit import numpy as dnp

        kind = _np.dtype(dtype).kind
        conditions = all(is_condition(e) for e in self.expr.flat)
        if kind == "b" and conditions:
            return self
        if kind in "fc" or (kind in "iu" and conditions):
            return self.trace.apply(dnp.multiply, (self, 1), {})
        raise values_error(f"astype({_np.dtype(dtype).name})")

    def tolist(self) -> Any:
        raise _number_error("tolist")

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise _number_error("numpy.asarray")

    def __repr__(self) -> str:
        return f"SymbolicValue({_short(self.expr, 200)})"

    def __hash__(self) -> int:
        return id(self)

    # NumPy on symbolic values: the same primitive, by its SymPy rule.
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any,
                        **kwargs: Any) -> Any:
        if method != "__call__" or kwargs:
            raise NotApplicable(
                f"numpy.{ufunc.__name__}.{method}"
                f"{'(..., ' + ', '.join(kwargs) + '=...)' if kwargs else ''} is "
                "not supported on symbolic values; call the diffkit.numpy "
                "function instead."
            )
        target = _lookup(ufunc.__name__, "")
        if not isinstance(target, Primitive):
            raise NotApplicable(f"numpy.{ufunc.__name__} is not supported on "
                                "symbolic values; use method='forward' or 'reverse'.")
        return self.trace.apply(target, inputs, {})

    def __array_function__(self, func: Any, types: Any, args: tuple,
                           kwargs: dict) -> Any:
        name = func.__name__
        shaped = _SHAPE_FUNCTIONS.get(name)
        if shaped is not None:
            return shaped(*args, **kwargs)
        if name == "concatenate":
            arrays, *rest = args
            axis = rest[0] if rest else kwargs.get("axis", 0)
            from diffkit.numpy._primitives import PRIMITIVES

            if axis is None:
                from diffkit import numpy as dnp

                arrays, axis = [dnp.ravel(a) for a in arrays], 0
            return self.trace.apply(PRIMITIVES["concatenate"], (axis, *arrays), {})
        if name == "einsum":
            from diffkit.numpy._primitives import PRIMITIVES

            return self.trace.apply(PRIMITIVES["einsum"], args, kwargs)
        module = getattr(func, "__module__", "") or ""
        if name == "slogdet" and "linalg" in module:
            from diffkit import numpy as dnp

            t, a = self.trace, args[0]
            det = t.apply(dnp.linalg.det, (a,), {})
            return t.apply(dnp.sign, (det,), {}), t.apply(dnp.linalg.logabsdet,
                                                          (a,), {})
        target = _lookup(name, module)
        if isinstance(target, Primitive):
            return self.trace.apply(target, args, kwargs)
        # A diffkit.numpy function built of primitives; if it hands the call
        # straight back to NumPy, the symbolic method has no version of it.
        if name in _ACTIVE:
            raise NotApplicable(
                f"numpy.{name} on symbolic values is not supported by the "
                "symbolic method; use method='forward' or 'reverse'.")
        _ACTIVE.add(name)
        try:
            return target(*args, **kwargs)
        finally:
            _ACTIVE.discard(name)


_ACTIVE: set[str] = set()  # NumPy functions being redirected right now

_METHODS = frozenset([
    "sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "cumprod", "dot",
    "ravel", "flatten", "squeeze", "clip", "conj", "conjugate", "diagonal",
    "trace", "repeat", "swapaxes", "reshape", "transpose", "take", "any", "all",
])


def _lookup(name: str, module: str) -> Any:
    """The diffkit.numpy function of NumPy's function ``name``."""
    from diffkit import numpy as dnp

    space = dnp.linalg.__dict__ if "linalg" in module else dnp.__dict__
    target = space.get(name)
    if target is None:
        raise NotApplicable(
            f"numpy.{name} was called on a symbolic value and diffkit has no "
            "version of it for the symbolic method; use method='forward' or "
            "'reverse'."
        )
    return target


def _shape_of(a: Any) -> tuple[int, ...]:
    return a.shape if isinstance(a, SymbolicValue) else _np.shape(a)


def _dtype_of(a: Any) -> Any:
    return a.dtype if isinstance(a, SymbolicValue) else _np.result_type(a)


def _like(fill: Any) -> Callable[..., Any]:
    def like(a: Any, *args: Any, dtype: Any = None, shape: Any = None,
             **kwargs: Any) -> Any:
        value = fill if fill is not None else (args[0] if args else
                                               kwargs.get("fill_value"))
        return _np.full(_shape_of(a) if shape is None else shape, value,
                        dtype=dtype or _dtype_of(a))

    return like


#: Functions that only need the shape or dtype: they get real answers.
_SHAPE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "shape": _shape_of,
    "ndim": lambda a: len(_shape_of(a)),
    "size": lambda a, axis=None: int(_np.prod(_shape_of(a))) if axis is None
    else _shape_of(a)[axis],
    "zeros_like": _like(0),
    "ones_like": _like(1),
    "empty_like": _like(0),
    "full_like": _like(None),
    "result_type": lambda *args: _np.result_type(*[
        _dtype_of(a) if isinstance(a, SymbolicValue) else a for a in args]),
    "iscomplexobj": lambda a: _dtype_of(a).kind == "c",
    "isrealobj": lambda a: _dtype_of(a).kind != "c",
}


# --- the trace ------------------------------------------------------------------------


class SymbolicTrace(Trace):
    """Runs a function on SymPy symbols, one primitive rule at a time.

    ``constants`` maps the fresh symbols that stand for constant values
    (``dk.stop_gradient`` of a symbolic value, the result of ``floor``...)
    to the expressions they stand for; ``records`` is the evaluation trace
    used as the cache key, and ``primitives`` counts the primitives applied
    to symbolic boxes (the length of the AD evaluation trace).
    """

    def __init__(self, clock: _Clock, complex_mode: bool = False) -> None:
        super().__init__()
        self.clock = clock
        self.complex = complex_mode
        self.constants: dict[Any, Any] = {}
        self.records: list[tuple] | None = []
        self.primitives = 0

    def new_input(self, symbols: _np.ndarray) -> Box:
        """Wrap an object array of SymPy symbols as an input of the function."""
        value = self._new_value(symbols, ("input", symbols.shape))
        return Box(value, self, symbols)

    def _new_value(self, expr: _np.ndarray, record: tuple) -> SymbolicValue:
        ref = -1
        if self.records is not None:
            ref = len(self.records)
            self.records.append(record)
        return SymbolicValue(expr, self, ref)

    # -- arguments --------------------------------------------------------------

    def _key(self, a: Any) -> Any:
        """A hashable stand-in for an argument, for the cache key."""
        if isinstance(a, Box):
            return ("v", a._value.ref) if a._trace is self else _uncacheable()
        if isinstance(a, SymbolicValue):
            return ("v", a.ref) if a.trace is self else _uncacheable()
        return _constant_key(a)

    def _foreign(self) -> NotApplicable:
        return NotApplicable(
            f"the symbolic method met a value traced by another derivative at "
            f"{user_line()}; it can only see its own inputs. Differentiate "
            "the whole computation with one method, or use 'forward'/'reverse'."
        )

    def freeze(self, value: SymbolicValue) -> _np.ndarray:
        """A symbolic value as a constant: fresh symbols standing for it.

        This is how ``dk.stop_gradient`` works here: the derivative treats
        the fresh symbols as constants, and afterwards they are replaced by
        the expressions they stand for.  Conditions and numbers need no
        stand-in: a condition is never differentiated.
        """
        if value.trace is not self:
            raise self._foreign()
        if value._frozen is None:
            sp = _sympy()
            frozen = _np.empty(value.expr.shape, dtype=object)
            for i, e in enumerate(value.expr.flat):
                if is_condition(e) or (e.is_Atom and not e.is_Symbol):
                    frozen.flat[i] = e
                else:
                    c = sp.Dummy("c", real=not self.complex)
                    self.constants[c] = e
                    frozen.flat[i] = c
            value._frozen = frozen
        return value._frozen

    def _operand(self, a: Any) -> Any:
        if isinstance(a, Box):
            if a._trace is not self:
                raise self._foreign()
            return a._node
        if isinstance(a, SymbolicValue):
            return self.freeze(a)
        return a

    # -- primitives ---------------------------------------------------------------

    def process_primitive(self, prim: Primitive, args: tuple, kwargs: dict) -> Box:
        self.clock.check("tracing the function")
        rule = _rule(prim)
        values = [self._operand(a) for a in args]
        options = {k: self._operand(v) for k, v in kwargs.items()}
        if prim.elementwise:
            values = [as_object(v) for v in values]
        self._record(prim, args, kwargs)
        out = _run_rule(prim, rule, values, options)
        self.primitives += 1
        ref = -1 if self.records is None else len(self.records) - 1
        return Box(SymbolicValue(out, self, ref), self, out)

    def apply(self, prim: Primitive, args: Iterable[Any], kwargs: dict) -> Any:
        """``prim`` on symbolic values seen without their box (constants).

        If a box is among the arguments after all, the primitive itself
        runs, so that the box's trace handles it.
        """
        args = tuple(args)
        if any(isinstance(a, Box) for a in args):
            return prim(*args, **kwargs)
        rule = _rule(prim)
        values = []
        for a in args:
            if isinstance(a, SymbolicValue):
                if a.trace is not self:
                    raise self._foreign()
                values.append(a.expr)
            else:
                values.append(a)
        if prim.elementwise:
            values = [as_object(v) for v in values]
        self._record(prim, args, kwargs)
        out = _run_rule(prim, rule, values, kwargs)
        ref = -1 if self.records is None else len(self.records) - 1
        return SymbolicValue(out, self, ref)

    def _record(self, prim: Primitive, args: tuple, kwargs: dict) -> None:
        if self.records is None:
            return
        try:
            # The primitive and its rule themselves (not their ids, which a
            # redefined primitive could reuse) make the record.
            self.records.append((
                prim, prim.sympy, tuple(self._key(a) for a in args),
                tuple(sorted((k, self._key(v)) for k, v in kwargs.items())),
            ))
        except _Uncacheable:
            self.records = None


def _run_rule(prim: Primitive, rule: Callable[..., Any], values: list[Any],
              options: dict) -> _np.ndarray:
    """``prim``'s SymPy rule on the arguments, as an object array.

    A rule is written for the arguments a formula can have.  Given others --
    an index that depends on x, say -- it fails inside SymPy or NumPy, with
    an error about their internals; the user needs to hear instead that the
    symbolic method does not apply, to which line, and what to use.
    """
    try:
        return _result_array(rule(*values, **options), prim.name)
    except (DiffkitError, RecursionError):
        raise  # already written for the user; or handled by too_deep
    except Exception as err:  # noqa: BLE001 - any internal failure of a rule
        if _in_finite_differences():
            raise _finite_error() from err
        raise NotApplicable(
            f"the symbolic method cannot run np.{prim.name} on these arguments "
            f"(at {user_line()}): {type(err).__name__}: {err}. Use "
            "method='forward' or 'reverse'."
        ) from err


class _Uncacheable(Exception):
    pass


def _uncacheable() -> Any:
    raise _Uncacheable


def _constant_key(a: Any) -> Any:
    """A hashable, exact description of a constant argument."""
    if isinstance(a, _np.ndarray):
        if a.dtype == object:
            return ("O", a.shape, tuple(_constant_key(e) for e in a.flat))
        return ("A", a.dtype.str, a.shape, a.tobytes())
    if a is None or a is Ellipsis or isinstance(a, str | bool):
        return (type(a).__name__, a)
    if isinstance(a, int | float | complex | _np.generic):
        return (type(a).__name__, a.item() if isinstance(a, _np.generic) else a)
    if isinstance(a, slice):
        return ("slice", _constant_key(a.start), _constant_key(a.stop),
                _constant_key(a.step))
    if isinstance(a, list | tuple):
        return (type(a).__name__, tuple(_constant_key(e) for e in a))
    if isinstance(a, dict):
        return ("dict", tuple(sorted((str(k), _constant_key(v))
                                     for k, v in a.items())))
    if isinstance(a, _np.dtype | type):
        return ("dtype", str(a))
    sp = _sympy()
    if isinstance(a, sp.Basic) and a.is_Atom and not a.is_Symbol:
        return ("sympy", a)
    raise _Uncacheable


# --- tracing a function ------------------------------------------------------------


@dataclass
class Traced:
    """A function run on symbols: its inputs, its output expression, its trace."""

    symbols: list[_np.ndarray]  # one object array of symbols per input leaf
    treedef: TreeDef
    out: _np.ndarray  # the output, with stand-ins for constants
    constants: dict[Any, Any]
    key: Any  # None if the trace could not be keyed
    primitives: int
    complex: bool
    clock: _Clock

    @property
    def flat_symbols(self) -> list[Any]:
        return [s for leaf in self.symbols for s in leaf.flat]


def make_symbols(name: str, shape: tuple[int, ...], real: bool = True) -> _np.ndarray:
    """An object array of SymPy symbols: ``x`` for a scalar, ``x_0, x_1...`` else."""
    sp = _sympy()
    out = _np.empty(shape, dtype=object)
    if not shape:
        out[()] = sp.Symbol(name, real=True) if real else sp.Symbol(name)
        return out
    for index in _np.ndindex(*shape):
        label = name + "_" + "_".join(str(i) for i in index)
        out[index] = sp.Symbol(label, real=True) if real else sp.Symbol(label)
    return out


def trace(fun: Callable[[Any], Any], specs: list[tuple[tuple[int, ...], bool]],
          treedef: TreeDef, names: list[str] | None = None,
          budget: Budget | Mapping[str, Any] | None = None) -> Traced:
    """Run ``fun`` on a tree of symbol arrays.

    ``specs`` gives each leaf's ``(shape, is_complex)``; ``names`` the base
    name of each leaf's symbols (``x0, x1...`` by default).
    """
    clock = _Clock(_budget(budget))
    n = sum(int(_np.prod(shape)) for shape, _ in specs)
    if n > clock.budget.max_symbols:
        raise NotApplicable(
            f"too large: the input has {n:,} elements and the symbolic method "
            f"makes one symbol per element (budget: {clock.budget.max_symbols:,}); "
            "use an AD method, or raise budget=Budget(max_symbols=...)."
        )
    complex_mode = any(c for _, c in specs)
    if names is None:
        names = ["x"] if len(specs) == 1 else [f"x{k}" for k in range(len(specs))]
    t = SymbolicTrace(clock, complex_mode)
    symbols = [make_symbols(name, shape, real=not complex_mode)
               for name, (shape, _) in zip(names, specs, strict=True)]
    inputs = [t.new_input(s) for s in symbols]
    token = _CLOCK.set(clock)
    try:
        with _np.errstate(all="ignore"), _as_written():
            out = call_traced(fun, unflatten(treedef, inputs))
    finally:
        _CLOCK.reset(token)
    if isinstance(out, Box):
        if out._trace is not t:
            raise t._foreign()
        expr, ref = out._node, out._value.ref
    elif isinstance(out, SymbolicValue):
        expr, ref = t.freeze(out), out.ref
    else:
        if isinstance(out, tuple | list | dict):
            raise TypeError(
                "the symbolic method differentiates functions that return one "
                f"array, but this one returned a {type(out).__name__}; return "
                "np.stack(...) or np.concatenate(...) of the pieces instead."
            )
        expr = as_object(_np.asarray(out))
        if not isinstance(expr, _np.ndarray) or expr.dtype != object:
            raise TypeError(f"the function returned {type(out).__name__}, not "
                            "a number or an array of numbers.")
        ref = ("const", _constant_key(_np.asarray(out)))
    clock.ops(list(expr.flat), "the function's expression")
    key = None
    if t.records is not None:
        key = (tuple(names), tuple(specs), tuple(t.records), ref)
    return Traced(symbols, treedef, expr, dict(t.constants), key, t.primitives,
                  complex_mode, clock)


# --- differentiation on the expression DAG -----------------------------------------


def _locals_rule(func: Any, nargs: int, real: bool) -> list[Any]:
    """``d func(u_1..u_n) / d u_i`` for each i, in terms of stand-in symbols."""
    key = (func, nargs, real)
    found = _LOCAL_RULES.get(key)
    if found is not None:
        return found
    sp = _sympy()
    dummies = [sp.Dummy(f"u{i}", real=real) for i in range(nargs)]
    node = func(*dummies)
    partials = []
    for d in dummies:
        p = sp.diff(node, d)
        p = p.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)
        if p.has(sp.Derivative, sp.Subs):
            p = None
        partials.append(p)
    found = [dummies, partials]
    _LOCAL_RULES[key] = found
    return found


_LOCAL_RULES: dict[tuple, list[Any]] = {}


def _piecewise_constant() -> tuple[type, ...]:
    sp = _sympy()
    return (sp.sign, sp.floor, sp.ceiling, sp.Heaviside, sp.frac, sp.DiracDelta)


def _non_holomorphic() -> tuple[type, ...]:
    sp = _sympy()
    return (sp.Abs, sp.re, sp.im, sp.conjugate, sp.arg, sp.Max, sp.Min, sp.sign)


def _chain(e: Any, ds: list[Any], real: bool) -> Any:
    """The derivative of node ``e`` from the derivatives ``ds`` of its arguments."""
    sp = _sympy()
    zero = sp.S.Zero
    if all(d is zero for d in ds):
        return zero
    args = e.args
    if e.is_Add:
        return sp.Add(*ds)
    if e.is_Mul:
        return sp.Add(*[sp.Mul(*args[:i], d, *args[i + 1:])
                        for i, d in enumerate(ds) if d is not zero])
    if e.is_Pow:
        base, p = args
        dbase, dp = ds
        if dp is zero:
            slope = p * base ** (p - 1) * dbase
            if p == sp.S.Half and base.is_nonnegative:
                # The square root of a sum of squares (a norm, hypot, std) is
                # even about its zero, like abs: slope 0 there, not 0/0
                # (diffkit.rules._kinks), to every order.
                return sp.Piecewise((zero, sp.Eq(base, 0)), (slope, True))
            return slope
        along_base = zero if dbase is zero else p * base ** (p - 1) * dbase
        return along_base + e * _log_or_zero(base) * dp
    if isinstance(e, sp.Piecewise):
        return sp.Piecewise(*[(d, pair.cond) for d, pair in zip(ds, args,
                                                                strict=True)])
    if isinstance(e, _piecewise_constant()):
        return zero
    if not real and isinstance(e, _non_holomorphic()):
        raise NotApplicable(
            f"{type(e).__name__} is not complex-differentiable, so a function of "
            "a complex input that uses it has no complex derivative; the "
            "symbolic method handles holomorphic functions of complex inputs. "
            "Use method='forward' or 'reverse' (they follow autograd's convention)."
        )
    if isinstance(e, sp.Mod):
        a, b = args
        return ds[0] - sp.floor(a / b) * ds[1]
    if isinstance(e, sp.Max | sp.Min):
        return sp.Add(*[_choice(e, i) * d for i, d in enumerate(ds) if d is not zero])
    dummies, partials = _locals_rule(e.func, len(args), real)
    terms = []
    for i, d in enumerate(ds):
        if d is zero:
            continue
        p = partials[i]
        if p is None:
            raise NotApplicable(
                f"SymPy knows no derivative of {e.func.__name__} with respect to "
                f"its argument {i + 1}; use method='forward' or 'reverse'."
            )
        terms.append(p.xreplace(dict(zip(dummies, args, strict=True))) * d)
    return sp.Add(*terms)


def _log_or_zero(base: Any) -> Any:
    """``log(base)`` in ``d(base**p)/dp = base**p log(base)``, 0 at ``base = 0``.

    ``0**p log(0)`` is ``0 * -oo``, but its limit is 0 (for ``p > 0``), which is
    what forward and reverse mode give: their rule takes the log of
    ``where(x == 0, 1, x)``.  Built the same way here, so that it is 0 at a
    zero base in every derivative, with no infinity on the way.
    """
    sp = _sympy()
    if base.is_positive:
        return sp.log(base)
    return sp.log(sp.Piecewise((sp.S.One, sp.Eq(base, 0)), (base, True)))


def _choice(e: Any, i: int) -> Any:
    """d Max(u_1, ..., u_k) / d u_i: where u_i is one of m tied largest, 1/m.

    (Likewise for Min.)  Ties are split evenly, the convention of forward
    and reverse mode (:mod:`diffkit.rules._kinks`), so that the methods agree
    at a kink; away from ties this is 1 for the largest argument, 0 elsewhere.
    """
    sp = _sympy()
    tied = [sp.Piecewise((1, sp.Eq(u, e)), (0, True)) for u in e.args]
    return sp.Piecewise((1 / sp.Add(*tied), sp.Eq(e.args[i], e)), (0, True))


def _children(e: Any) -> tuple:
    sp = _sympy()
    if isinstance(e, sp.Piecewise):
        return tuple(pair.expr for pair in e.args)
    return e.args


def differentiate(exprs: list[Any], x: Any, memo: dict[int, tuple[Any, Any]],
                  clock: _Clock | None = None, real: bool = True) -> list[Any]:
    """The derivatives of ``exprs`` with respect to the symbol ``x``.

    Each distinct subexpression is differentiated once (``memo`` maps a
    node's ``id`` to the node and its derivative, and may be shared between
    calls with the same ``x``), so the work grows with the size of the
    expression DAG, not with its tree.
    """
    sp = _sympy()
    zero, one = sp.S.Zero, sp.S.One
    for root in exprs:
        stack = [root]
        while stack:
            e = stack[-1]
            if id(e) in memo:
                stack.pop()
                continue
            if e.is_Atom or is_condition(e) or not e.args:
                memo[id(e)] = (e, one if e == x else zero)
                stack.pop()
                continue
            children = _children(e)
            pending = [c for c in children if id(c) not in memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            memo[id(e)] = (e, _chain(e, [memo[id(c)][1] for c in children], real))
            if clock is not None:
                clock.check("differentiating")
    return [memo[id(root)][1] for root in exprs]


def substitute(exprs: list[Any], mapping: dict[Any, Any]) -> list[Any]:
    """Replace symbols by expressions, visiting each distinct node once."""
    if not mapping:
        return list(exprs)
    memo: dict[int, tuple[Any, Any]] = {}
    for root in exprs:
        stack = [root]
        while stack:
            e = stack[-1]
            if id(e) in memo:
                stack.pop()
                continue
            if e.is_Atom or not e.args:
                memo[id(e)] = (e, mapping.get(e, e) if e.is_Symbol else e)
                stack.pop()
                continue
            pending = [c for c in e.args if id(c) not in memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            new = [memo[id(c)][1] for c in e.args]
            same = all(n is c for n, c in zip(new, e.args, strict=True))
            memo[id(e)] = (e, e if same else e.func(*new))
    return [memo[id(root)][1] for root in exprs]


def _resolved_constants(constants: dict[Any, Any]) -> dict[Any, Any]:
    """Stand-ins whose expressions use earlier stand-ins, fully expanded."""
    resolved: dict[Any, Any] = {}
    for c, e in constants.items():  # insertion order: each uses only earlier ones
        resolved[c] = substitute([e], resolved)[0]
    return resolved


def derivative_array(traced: Traced, order: int,
                     keep_constants: bool = False) -> _np.ndarray:
    """The ``order``-th derivative: shape ``out.shape + (n,) * order``.

    ``n`` is the number of input symbols (all leaves, flattened in order).
    Stand-ins for constants are replaced afterwards (unless
    ``keep_constants``), so ``stop_gradient`` contributes no derivative.
    """
    with _as_written():
        return _derivative_array(traced, order, keep_constants)


def _derivative_array(traced: Traced, order: int,
                      keep_constants: bool) -> _np.ndarray:
    syms = traced.flat_symbols
    real = not traced.complex
    current = traced.out
    for _ in range(order):
        flat = list(current.flat)
        columns = []
        for x in syms:
            columns.append(differentiate(flat, x, {}, traced.clock, real))
        nxt = _np.empty(current.shape + (len(syms),), dtype=object)
        for j, column in enumerate(columns):
            nxt[..., j] = object_array(column, current.shape)
        current = nxt
        traced.clock.ops(list(current.flat), "the derivative")
    resolved = {} if keep_constants else _resolved_constants(traced.constants)
    if resolved:
        current = object_array(substitute(list(current.flat), resolved),
                               current.shape)
    return current


def object_array(items: list[Any], shape: tuple[int, ...]) -> _np.ndarray:
    """An object array of ``shape`` holding ``items`` (NumPy never looks inside)."""
    out = _np.empty(shape, dtype=object)
    for i, e in enumerate(items):
        out.flat[i] = e
    return out


# --- sizes: operations in the tree and in the DAG -------------------------------------


def _weight(e: Any) -> int:
    """Operations one node stands for: k - 1 for a sum or product of k terms."""
    sp = _sympy()
    if e.is_Atom or not e.args:
        return 0
    if e.is_Add or e.is_Mul:
        return len(e.args) - 1
    if isinstance(e, sp.Piecewise):
        return len(e.args)
    if isinstance(e, sp.functions.elementary.piecewise.ExprCondPair):
        return 0
    return 1


def count_ops(exprs: Iterable[Any]) -> int:
    """Operations in the expression *trees*: a shared subexpression counts each time.

    Computed on the DAG with memoisation, so even a tree with 10**30
    operations is counted instantly.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> u = sympy.sin(x) + 1
    >>> count_ops([u * sympy.cos(u)])   # u (2 operations) counted twice
    6
    """
    memo: dict[int, tuple[Any, int]] = {}
    total = 0
    for root in exprs:
        stack = [root]
        while stack:
            e = stack[-1]
            if id(e) in memo:
                stack.pop()
                continue
            pending = [c for c in e.args if id(c) not in memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            memo[id(e)] = (e, _weight(e) + sum(memo[id(c)][1] for c in e.args))
        total += memo[id(root)][1]
    return total


def dag_size(exprs: Iterable[Any]) -> int:
    """Operations in the expression DAG: each distinct node counted once.

    Nodes are told apart by identity, so this is quick and close to (never
    below) what common-subexpression elimination achieves.
    """
    seen: dict[int, Any] = {}
    total = 0
    stack = list(exprs)
    while stack:
        e = stack.pop()
        if id(e) not in seen:
            seen[id(e)] = e
            total += _weight(e)
            stack.extend(e.args)
    return total


def cse(exprs: list[Any], clock: _Clock | None = None) -> tuple[list, list]:
    """Common-subexpression elimination: name every subexpression used twice.

    Returns ``(replacements, reduced)`` like ``sympy.cse``: a list of
    ``(symbol, expression)`` pairs, each using only earlier symbols, and the
    expressions rewritten with them.  Unlike ``sympy.cse``, which compares
    subexpressions with SymPy's ``==`` (a walk over the whole tree, so its
    time grows with the *tree*), nodes are numbered by their function and the
    numbers of their arguments: the work is one visit per distinct node.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> u = sympy.sin(x) + 1
    >>> replacements, reduced = cse([u * sympy.cos(u)])
    >>> replacements, reduced
    ([(_t0, sin(x) + 1)], [_t0*cos(_t0)])
    >>> count_ops([e for _, e in replacements] + reduced)   # u computed once
    4
    """
    sp = _sympy()
    number: dict[int, int] = {}  # id(node) -> number of its class of equal nodes
    table: dict[Any, int] = {}  # (func, argument numbers) -> number
    nodes: list[Any] = []  # one representative per number, arguments first
    for root in exprs:
        stack = [root]
        while stack:
            e = stack[-1]
            if id(e) in number:
                stack.pop()
                continue
            pending = [a for a in e.args if id(a) not in number]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            key = ("atom", e) if not e.args else \
                (e.func, tuple(number[id(a)] for a in e.args))
            if key not in table:
                table[key] = len(nodes)
                nodes.append(e)
            number[id(e)] = table[key]
    if clock is not None:
        clock.check("eliminating common subexpressions")
    uses = [0] * len(nodes)
    for e in nodes:
        for a in e.args:
            uses[number[id(a)]] += 1
    for root in exprs:
        uses[number[id(root)]] += 1
    names = sp.numbered_symbols("t", cls=sp.Dummy)
    replacements = []
    reduced_of: list[Any] = []
    for k, e in enumerate(nodes):
        if not e.args:
            reduced_of.append(e)
            continue
        args = [reduced_of[number[id(a)]] for a in e.args]
        form = _rebuild(e, args)
        if uses[k] > 1 and (isinstance(e, sp.Expr) or is_condition(e)):
            t = next(names)
            replacements.append((t, form))
            form = t
        reduced_of.append(form)
    return replacements, [reduced_of[number[id(root)]] for root in exprs]


def _rebuild(e: Any, args: list[Any]) -> Any:
    """``e`` with new arguments, keeping its structure (no re-simplification)."""
    if all(a is b for a, b in zip(args, e.args, strict=True)):
        return e
    try:
        return e.func(*args, evaluate=False)
    except TypeError:  # a class without the evaluate option
        return e.func(*args)


def dag_ops(exprs: list[Any], clock: _Clock | None = None) -> int:
    """Operations after common-subexpression elimination (each computed once)."""
    replacements, reduced = cse(exprs, clock)
    return count_ops([e for _, e in replacements] + list(reduced))


# --- compiling and evaluating ---------------------------------------------------------


def compile_exprs(symbols: list[Any], exprs: list[Any],
                  clock: _Clock | None = None) -> Callable[..., list]:
    """A NumPy function of ``symbols`` returning the list of ``exprs``' values."""
    sp = _sympy()
    if clock is not None:
        clock.ops(exprs, "the derivative")
    replacements, reduced = cse(exprs, clock)
    if clock is not None:
        clock.check("compiling the derivative")
    fn = sp.lambdify(symbols, list(reduced), modules="numpy",
                     cse=lambda _: (replacements, list(reduced)),
                     docstring_limit=0)
    return fn  # type: ignore[no-any-return]


def evaluate_to_digits(exprs: list[Any], point: Mapping[Any, Any], digits: int = 30,
                       budget: Budget | Mapping[str, Any] | None = None
                       ) -> list[Any]:
    """``exprs`` at ``point``, to ``digits`` significant digits, evaluated on the DAG.

    ``expr.evalf(digits, subs=point)`` would walk the expression *tree*, and
    the tree of a derivative can be exponentially larger than the DAG SymPy
    holds in memory (the logistic map's doubles at every step).  So the
    expressions are evaluated the way a program runs instead: node by node,
    arguments first, each distinct node once, each from the values of its
    arguments, with SymPy's arbitrary-precision numbers.  The work grows
    with the DAG, and no single step is ever larger than one node.

    At a fixed working precision, rounding errors may grow from one node to
    the next.  So the evaluation runs at ``digits + 10`` significant digits
    and again at twice that, and the second result is returned once the two
    agree to ``digits`` digits (relative to the largest value); if they do
    not, the precision doubles, at most twice more.

    Parameters
    ----------
    exprs
        SymPy expressions of the symbols in ``point``.
    point
        A number for each symbol.  A Python float is taken exactly, as the
        binary number it is: that is the point a double-precision method
        evaluates at.
    digits
        Significant digits wanted.
    budget
        A :class:`Budget` (or a dict of its fields); its ``seconds`` bound
        the whole evaluation.

    Returns
    -------
    list
        SymPy numbers (``Float``, or ``Float + I*Float`` for a complex value),
        one per expression.

    Raises
    ------
    NotApplicable
        If a value is not a finite number, the results do not settle to
        ``digits`` digits, or the time budget runs out.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> [e] = evaluate_to_digits([sympy.exp(x) ** 2], {x: 0.5}, digits=25)
    >>> str(e)[:27]                          # e = 2.71828 18284 59045 23536 02874...
    '2.7182818284590452353602874'
    """
    clock = _Clock(_budget(budget))
    working = digits + 10
    previous = None
    for _ in range(4):
        values = _evaluate_dag(list(exprs), point, working, clock)
        if previous is not None and _agree(previous, values, digits):
            return values
        previous, working = values, 2 * working
    raise NotApplicable(
        f"rounding errors grow too fast to get {digits} digits: even with "
        f"{working // 2} significant digits the value still changes in its "
        f"first {digits}."
    )


def _evaluate_dag(exprs: list[Any], point: Mapping[Any, Any], dps: int,
                  clock: _Clock) -> list[Any]:
    """The values of ``exprs`` at ``point``, one node at a time, at ``dps`` digits."""
    sp = _sympy()
    inputs = {s: _exact_float(v, dps) for s, v in point.items()}
    memo: dict[int, tuple[Any, Any]] = {}  # id(node) -> (node, its value)
    for root in exprs:
        stack = [root]
        while stack:
            e = stack[-1]
            if id(e) in memo:
                stack.pop()
                continue
            if not e.args:  # a symbol, or an exact number such as 1/3 or pi
                memo[id(e)] = (e, inputs.get(e, e))
                stack.pop()
                continue
            pending = [a for a in e.args if id(a) not in memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            memo[id(e)] = (e, _node_value(e, [memo[id(a)][1] for a in e.args], dps))
            clock.check(f"evaluating the derivative to {dps} digits")
    out = [memo[id(root)][1] for root in exprs]
    for v in out:
        if not (isinstance(v, sp.Expr) and v.is_number and v.is_finite):
            raise NotApplicable(f"its value is {_short(v)}, not a finite number.")
    return out


def _node_value(e: Any, args: list[Any], dps: int) -> Any:
    """Node ``e`` applied to the values of its arguments."""
    sp = _sympy()
    try:
        # Rebuilding the node from numbers computes it (SymPy evaluates
        # arithmetic and functions of Floats at the largest precision among
        # them); evalf finishes what is left, such as 0.5*sqrt(2).  A
        # condition becomes true or false, and then needs nothing more.
        v = e.func(*args)
        return v.evalf(dps) if isinstance(v, sp.Expr) and not v.is_Float else v
    except ArithmeticError as err:  # mpmath divides by zero, say
        raise NotApplicable(f"evaluating it fails: {type(err).__name__} "
                            f"{err}".rstrip()) from None


def _exact_float(v: Any, dps: int) -> Any:
    """A Python or NumPy number as a SymPy number with ``dps`` digits, exactly."""
    sp = _sympy()
    if isinstance(v, sp.Basic):
        return v
    c = complex(v)
    real = sp.Float(c.real, dps)  # a float converts exactly: its binary value
    return real if c.imag == 0 and not _np.iscomplexobj(v) else \
        real + sp.I * sp.Float(c.imag, dps)


def _agree(a: list[Any], b: list[Any], digits: int) -> bool:
    """Whether ``a`` and ``b`` agree to ``digits`` digits, relative to ``max |b|``."""
    sp = _sympy()
    error = max((abs(p - q) for p, q in zip(a, b, strict=True)), default=sp.S.Zero)
    scale = max((abs(q) for q in b), default=sp.S.Zero)
    return bool(error <= scale * sp.Integer(10) ** -digits)


class _Compiled:
    """One traced function: its expression and, once asked for, its derivatives."""

    def __init__(self, traced: Traced) -> None:
        self.traced = traced
        self.functions: dict[int, Callable[..., list]] = {}
        self.shapes: dict[int, tuple[int, ...]] = {}

    def function(self, order: int, budget: Any
                 ) -> tuple[Callable[..., list], list[tuple]]:
        """A compiled function returning f's value and derivatives up to ``order``."""
        if order not in self.functions:
            t = self.traced
            t.clock = _Clock(_budget(budget))
            arrays = [derivative_array(t, k, keep_constants=True)
                      for k in range(order + 1)]
            exprs = [e for a in arrays for e in a.flat]
            stand_ins = list(t.constants)
            fn = compile_exprs(t.flat_symbols + stand_ins, exprs, t.clock)
            if stand_ins:
                with _as_written():
                    values = list(_resolved_constants(t.constants).values())
                fn = _with_constants(fn, compile_exprs(t.flat_symbols, values))
            self.functions[order] = fn
            self.shapes[order] = tuple(a.shape for a in arrays)  # type: ignore
        return self.functions[order], list(self.shapes[order])  # type: ignore


def _with_constants(fn: Callable[..., list], constants: Callable[..., list]
                    ) -> Callable[..., list]:
    """``fn`` of the inputs, given the stand-ins' values from the plain inputs.

    A constant (``stop_gradient``) must stay one for a method that works on
    this one from outside (``dk.grad`` of a symbolic ``dk.grad``), so its
    value is computed from the values underneath their boxes, and handed
    over through ``dk.stop_gradient`` (which finite differences hold fixed).
    """
    def run(*args: Any) -> list:
        from diffkit.transforms import stop_gradient

        values = stop_gradient(constants(*[unbox(a) for a in args]))
        return fn(*args, *values)

    return run


_CACHE: OrderedDict[Any, _Compiled] = OrderedDict()
_CACHE_SIZE = 64


def _compiled(fun: Callable[[Any], Any], leaves: list[Any], treedef: TreeDef,
              budget: Any) -> _Compiled:
    specs = [(_leaf_shape(leaf), _is_complex(leaf)) for leaf in leaves]
    traced = trace(fun, specs, treedef, budget=budget)
    key = traced.key
    if key is not None:
        try:
            found = _CACHE.get(key)
        except TypeError:  # an unhashable constant slipped through
            key, found = None, None
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    compiled = _Compiled(traced)
    if key is not None:
        _CACHE[key] = compiled
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return compiled


def _is_complex(leaf: Any) -> bool:
    from diffkit import numpy as dnp

    return bool(dnp.iscomplexobj(leaf))


def _evaluate(fn: Callable[..., list], leaves: list[Any], shapes: list[tuple],
              complex_mode: bool) -> list[Any]:
    """Run a compiled function on the point; split its flat output by shapes."""
    from diffkit import numpy as dnp

    traced = any(isinstance(leaf, Box) for leaf in leaves)
    args: list[Any] = []
    for leaf in leaves:
        if traced:
            flat = dnp.ravel(leaf)
            args.extend(flat[i] for i in range(int(_np.prod(dnp.shape(leaf)))))
        else:
            args.extend(_np.asarray(leaf).ravel())
    # Plain values: NumPy's warnings (log of a negative...) would only repeat
    # what the nan in the result says.  Traced values keep their own rules.
    with _np.errstate(all="ignore") if not traced else contextlib.nullcontext():
        values = fn(*args)
    out, offset = [], 0
    for shape in shapes:
        size = int(_np.prod(shape))
        chunk = values[offset:offset + size]
        offset += size
        if traced and any(isinstance(v, Box) for v in chunk):
            piece = dnp.reshape(dnp.stack([dnp.asarray(v) for v in chunk]), shape) \
                if chunk else _np.zeros(shape)
        else:
            piece = _np.asarray([_np.asarray(v)[()] for v in chunk]).reshape(shape)
            if piece.dtype.kind not in "c" or complex_mode:
                piece = piece.astype(_np.complex128 if piece.dtype.kind == "c"
                                     else _np.float64)
        out.append(piece)
    return out


# --- the backend interface ------------------------------------------------------------


def _leaf_shape(leaf: Any) -> tuple[int, ...]:
    from diffkit import numpy as dnp

    return tuple(dnp.shape(leaf))


def _prepare(x: Any) -> tuple[list[Any], TreeDef]:
    from diffkit.values import as_float

    leaves, treedef = flatten(x)
    return [as_float(leaf) for leaf in leaves], treedef


def value_and_jacobian(fun: Callable[[Any], Any], x: Any,
                       budget: Budget | Mapping[str, Any] | None = None,
                       **other: Any) -> tuple[Any, Any]:
    """``fun(x)`` and its Jacobian by SymPy: per leaf, ``out.shape + leaf.shape``.

    Parameters
    ----------
    fun
        A function of one tree of arrays, written with ``diffkit.numpy``.
    x
        The point: an array, a number, or a tuple/list/dict of them.
    budget
        A :class:`Budget` (or a dict of its fields) bounding time and size.
    other
        Only catches options of other methods, to say where they belong.

    Raises
    ------
    NotApplicable
        If ``fun`` branches on the value of its input, asks for a number,
        or its derivative is too large (or too deeply nested) for SymPy.

    Examples
    --------
    >>> import diffkit.numpy as np
    >>> from diffkit.backends import symbolic
    >>> value, jac = symbolic.value_and_jacobian(lambda x: x[0] * np.sin(x[1]),
    ...                                          np.array([2.0, 0.0]))
    >>> float(value), jac
    (0.0, array([0., 2.]))
    """
    _no_options(other)
    leaves, treedef = _prepare(x)
    with too_deep():
        compiled = _compiled(fun, leaves, treedef, budget)
        fn, shapes = compiled.function(1, budget)
        value, jac = _evaluate(fn, leaves, shapes, compiled.traced.complex)
    out_shape = tuple(_np.shape(value))
    pieces, offset = [], 0
    for leaf in leaves:
        shape = _leaf_shape(leaf)
        size = int(_np.prod(shape))
        piece = jac[..., offset:offset + size]
        offset += size
        pieces.append(piece.reshape(out_shape + shape))
    return value, unflatten(treedef, pieces)


def hessian(fun: Callable[[Any], Any], x: Any,
            budget: Budget | Mapping[str, Any] | None = None, **other: Any) -> Any:
    """The Hessian of a scalar ``fun`` at ``x`` by SymPy.

    For an array ``x`` the result has shape ``x.shape + x.shape``; for a
    tree of leaves it is a tree (over the first leaf) of trees (over the
    second).  Like every method's Hessian, it needs one output: a
    ``TypeError`` says so otherwise.

    Examples
    --------
    >>> import diffkit.numpy as np
    >>> from diffkit.backends import symbolic
    >>> symbolic.hessian(lambda x: x[0] ** 2 * x[1], np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """
    _no_options(other)
    leaves, treedef = _prepare(x)
    with too_deep():
        compiled = _compiled(fun, leaves, treedef, budget)
        shape = compiled.traced.out.shape
        if shape != ():
            raise TypeError(
                f"A Hessian needs a function with a scalar output, but this one "
                f"returned an array of shape {shape}. Use dk.jacobian of "
                "dk.jacobian for every second derivative of every output.")
        fn, shapes = compiled.function(2, budget)
        value, _, hess = _evaluate(fn, leaves, shapes, compiled.traced.complex)
    out_shape = tuple(_np.shape(value))
    leaf_shapes = [_leaf_shape(leaf) for leaf in leaves]
    bounds, offset = [], 0
    for shape in leaf_shapes:
        size = int(_np.prod(shape))
        bounds.append((offset, offset + size))
        offset += size
    rows = []
    for (a0, a1), sa in zip(bounds, leaf_shapes, strict=True):
        row = []
        for (b0, b1), sb in zip(bounds, leaf_shapes, strict=True):
            row.append(hess[..., a0:a1, b0:b1].reshape(out_shape + sa + sb))
        rows.append(unflatten(treedef, row))
    return unflatten(treedef, rows)


def _no_options(other: Mapping[str, Any]) -> None:
    """Refuse options of other methods, saying which method takes them."""
    if other:
        finite = sorted(set(other) & {"scheme", "step"})
        where = (f"; {' and '.join(f'{k}=' for k in finite)} "
                 f"{'apply' if len(finite) > 1 else 'applies'} to method='finite'"
                 if finite else "")
        raise TypeError(
            f"method='symbolic' takes the option budget= only, got "
            f"{', '.join(sorted(other))}{where}."
        )
