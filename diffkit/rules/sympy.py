"""SymPy rules: which SymPy operation each primitive becomes.

The symbolic backend (:mod:`diffkit.backends.symbolic`) runs a function on
NumPy *object arrays* whose elements are SymPy expressions.  A rule takes the
primitive's arguments in that form and returns an object array (or a single
expression).  Two kinds of rule cover almost everything:

* elementwise functions map a SymPy function over the broadcast arguments
  (``_map(sp.sin)``);
* shape manipulation, indexing, ``dot``, ``matmul``... need no rule of their
  own: NumPy runs them on object arrays with Python's ``+`` and ``*``, which
  SymPy overloads, so the NumPy function itself is the rule.

Comparisons give SymPy conditions (``x > 0`` becomes ``StrictGreaterThan``);
``np.where`` turns a condition into a ``Piecewise``.  Used as a number -- in
``(x > 0) * x`` or ``np.cumsum(x > 0)`` -- a condition counts as 1 where it
holds and 0 elsewhere, as a boolean does in NumPy.  Primitives whose result
depends on the *values* (``argmax``, ``sort``, ``unique``, an index chosen by
a condition...) have no formula: the symbolic method reports that it does
not apply.

SymPy is imported the first time a rule runs, so ``import diffkit`` stays fast.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as _np

from diffkit.backends.symbolic import as_object, is_condition, tick, values_error
from diffkit.numpy import linalg
from diffkit.numpy._primitives import PRIMITIVES
from diffkit.primitives import defsympy
from diffkit.rules._sinc import sympy_sinc


class _LazySympy:
    """``sympy``, imported on first use."""

    def __getattr__(self, name: str) -> Any:
        import sympy

        return getattr(sympy, name)


sp: Any = _LazySympy()


def rule(name: str, sympy_rule: Callable[..., Any], conditions: bool = False) -> None:
    """Give the primitive ``name`` of diffkit.numpy its SymPy rule.

    Conditions among the arguments are turned into numbers (1 where they
    hold, 0 elsewhere) first, unless ``conditions`` says that the rule takes
    them as they are: logical operations, ``where``, and the rules that only
    move elements around (a condition moved is still a condition).
    """
    if name in PRIMITIVES:  # the table may not have every NumPy function
        defsympy(PRIMITIVES[name], sympy_rule if conditions else _numeric(sympy_rule))


def _numeric(sympy_rule: Callable[..., Any]) -> Callable[..., Any]:
    """``sympy_rule`` with conditions among its arguments counted as 1 or 0."""
    def numeric(*args: Any, **kwargs: Any) -> Any:
        return sympy_rule(*[_as_number(a) for a in args], **kwargs)

    return numeric


def _as_number(a: Any) -> Any:
    """An argument with its conditions as numbers: ``x > 0`` becomes
    ``Piecewise((1, x > 0), (0, True))``, ``True`` becomes 1.  Anything else is
    returned as it is (the common case, checked without copying)."""
    if isinstance(a, _np.ndarray) and a.dtype == object:
        if not any(is_condition(e) for e in a.flat):
            return a
        return _np.frompyfunc(_as_number, 1, 1)(a)
    if is_condition(a):
        if a in (sp.true, sp.false):
            return sp.Integer(int(a == sp.true))
        return sp.Piecewise((sp.S.One, a), (sp.S.Zero, True))
    return a


def linalg_rule(name: str, sympy_rule: Callable[..., Any]) -> None:
    """Give the primitive ``name`` of diffkit.numpy.linalg its SymPy rule."""
    prim = getattr(linalg, name, None)
    if prim is not None:
        defsympy(prim, sympy_rule)


def _map(fun: Callable[..., Any]) -> Callable[..., Any]:
    """Apply a SymPy function elementwise, broadcasting like a ufunc."""
    def rule(*args: Any) -> Any:
        # SymPy's functions pull a minus sign out of their argument (cos(-u)
        # becomes cos(u)) by negating it, which must distribute: under the
        # trace's distribute(False), -(-z - x**3) stays a negated sum that
        # still "has a minus sign", and cos/sin/tanh... recurse forever.
        from sympy.core.parameters import distribute

        with distribute(True):
            return _np.frompyfunc(fun, len(args), 1)(*args)

    return rule


def _o(a: Any) -> Any:
    return as_object(a)


def _reduce(op: Callable[..., Any]) -> Callable[..., Any]:
    """A reduction (``sum``, ``prod``, ``max``...) as one SymPy n-ary operation.

    ``sympy.Add(*terms)`` builds one node for the whole sum; adding the terms
    one by one would build (and flatten) a new node per term.
    """
    def rule(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False, **kwargs: Any) -> Any:
        a = _o(a)
        axes = tuple(range(a.ndim)) if axis is None else \
            tuple(ax % a.ndim for ax in ((axis,) if _np.ndim(axis) == 0 else axis))
        kept = [ax for ax in range(a.ndim) if ax not in axes]
        moved = _np.transpose(a, kept + list(axes))
        kept_shape = moved.shape[:len(kept)]
        # The length of a row spelt out: -1 cannot be inferred when some
        # other axis is empty (a mean over axis 0 of a (2, 0) array).
        rows = moved.reshape(kept_shape + (int(_np.prod(moved.shape[len(kept):])),))
        result = _np.empty(kept_shape, dtype=object)
        for index in _np.ndindex(*kept_shape):
            result[index] = op(*rows[index])
        if keepdims:
            result = result.reshape(tuple(1 if ax in axes else n
                                          for ax, n in enumerate(a.shape)))
        return result

    return rule


def _count(a: Any, axis: Any) -> int:
    shape = _np.shape(a)
    if axis is None:
        return int(_np.prod(shape))
    axes = (axis,) if _np.ndim(axis) == 0 else axis
    return int(_np.prod([shape[ax] for ax in axes]))


def _mean(a: Any, axis: Any = None, keepdims: bool = False, **kwargs: Any) -> Any:
    return _reduce(sp.Add)(a, axis, keepdims=keepdims) / sp.Integer(_count(a, axis))


def _var(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False,
         **kwargs: Any) -> Any:
    a = _o(a)
    centred = a - _mean(a, axis, keepdims=True)
    squares = _np.frompyfunc(lambda e: sp.Abs(e) ** 2, 1, 1)(centred)
    total = _reduce(sp.Add)(squares, axis, keepdims=keepdims)
    return total / sp.Integer(_count(a, axis) - ddof)


def _where(condition: Any, a: Any, b: Any) -> Any:
    """One element of ``np.where``: a choice, or a Piecewise if it depends on x."""
    if condition in (sp.true, sp.false) or isinstance(condition, sp.Number):
        return a if bool(condition) else b
    if is_condition(condition):
        return sp.Piecewise((a, condition), (b, True))
    return sp.Piecewise((a, sp.Ne(condition, 0)), (b, True))


def _where_rule(condition: Any, *choices: Any) -> Any:
    """``np.where(condition, a, b)``: a ``Piecewise`` per element.

    ``np.where(condition)`` alone returns the *indices* where the condition
    holds: how many there are depends on the values, so there is no formula.
    """
    if len(choices) != 2:
        raise values_error("np.where(condition) without a and b (the indices "
                           "where the condition holds)")
    a, b = (_as_number(c) for c in choices)
    return _map(_where)(condition, a, b)


def _getitem(a: Any, index: Any) -> Any:
    """``a[index]``; an index computed from symbolic values has no formula."""
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if (isinstance(part, _np.ndarray) and part.dtype == object) or \
                isinstance(part, sp.Basic):
            raise values_error("the index (a mask or positions computed from x)")
    return a[index]


def _truth(e: Any) -> Any:
    """A condition; a number counts as true when it is non-zero (as in NumPy)."""
    if is_condition(e):
        return e
    return sp.true if e != 0 else sp.false


def _logical(op: Callable[..., Any]) -> Callable[..., Any]:
    """A logical operation on conditions."""
    return _map(lambda *args: op(*[_truth(e) for e in args]))


def _finite(e: Any) -> Any:
    # A formula is finite unless it is literally infinite or undefined: the
    # symbolic method describes the function where it is defined.
    return sp.false if e in (sp.oo, -sp.oo, sp.zoo, sp.nan) else sp.true


def _trunc(e: Any) -> Any:
    return sp.sign(e) * sp.floor(sp.Abs(e))


def _isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> Any:
    return _map(lambda x, y: sp.Le(sp.Abs(x - y), atol + rtol * sp.Abs(y)))(
        _o(a), _o(b))


def _allclose(a: Any, b: Any, **kwargs: Any) -> Any:
    return sp.And(*_np.ravel(_isclose(a, b, **kwargs)))


def _array_equal(a: Any, b: Any, equal_nan: bool = False) -> Any:
    if _np.shape(a) != _np.shape(b):
        return sp.false
    return sp.And(*_np.ravel(_map(sp.Eq)(_o(a), _o(b))))


def _batched(fun: Callable[..., Any]) -> Callable[..., Any]:
    """A rule for one matrix (last two axes), looped over any leading axes."""
    def rule(a: Any, *args: Any, **kwargs: Any) -> Any:
        a = _o(a)
        batch = a.shape[:-2]
        out = None
        for index in _np.ndindex(*batch):
            value = _o(fun(a[index], *args, **kwargs))
            if out is None:
                out = _np.empty(batch + value.shape, dtype=object)
            out[index + (Ellipsis,)] = value
        return out

    return rule


class _Minors:
    """Determinants of the square submatrices of ``m``, each computed once.

    Expanding along the first row, a minor is a sum of entries times smaller
    minors, and many minors share the same smaller ones.  Remembering them
    gives the determinant (and every cofactor) as a DAG of about n 2^n
    operations, instead of a tree of n! terms -- and no division, so no
    pivot can be zero.
    """

    def __init__(self, m: Any) -> None:
        self.m = m
        self.memo: dict[tuple, Any] = {}

    def det(self, rows: tuple[int, ...], cols: tuple[int, ...]) -> Any:
        if not rows:
            return sp.S.One
        key = (rows, cols)
        if key not in self.memo:
            tick("expanding a determinant")
            r, rest = rows[0], rows[1:]
            self.memo[key] = sp.Add(*[
                (-1) ** k * self.m[r, c] * self.det(rest, cols[:k] + cols[k + 1:])
                for k, c in enumerate(cols) if self.m[r, c] != 0])
        return self.memo[key]


def _det(m: Any) -> Any:
    n = m.shape[-1]
    return _Minors(m).det(tuple(range(n)), tuple(range(n)))


def _inv(m: Any) -> Any:
    """The inverse as adjugate over determinant (Cramer's rule)."""
    n = m.shape[-1]
    minors = _Minors(m)
    every = tuple(range(n))
    reciprocal = 1 / minors.det(every, every)
    out = _np.empty((n, n), dtype=object)
    for i in range(n):
        for j in range(n):
            cofactor = minors.det(every[:i] + every[i + 1:], every[:j] + every[j + 1:])
            out[j, i] = (-1) ** (i + j) * cofactor * reciprocal
    return out


def _pinv(m: Any, *args: Any, **kwargs: Any) -> Any:
    """The pseudo-inverse of a full-rank matrix."""
    if m.shape[0] >= m.shape[1]:
        return _np.matmul(_inv(_np.matmul(m.T, m)), m.T)
    return _np.matmul(m.T, _inv(_np.matmul(m, m.T)))


def _solve(a: Any, b: Any) -> Any:
    """``np.linalg.solve``: b is a vector only if it is 1-d (NumPy 2's rule)."""
    a, b = _o(a), _o(b)
    vector = b.ndim == 1
    b = b[..., None] if vector else b
    batch = _np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = _np.broadcast_to(a, batch + a.shape[-2:])
    b = _np.broadcast_to(b, batch + b.shape[-2:])
    out = _np.empty(b.shape, dtype=object)
    for index in _np.ndindex(*batch):
        out[index] = _np.matmul(_inv(a[index]), b[index])
    return out[..., 0] if vector else out


def _cholesky(a: Any, upper: bool = False) -> Any:
    """``np.linalg.cholesky``, which reads only one triangle of ``a``."""
    a = _o(a)
    n = a.shape[-1]
    i, j = _np.tril_indices(n) if not upper else _np.triu_indices(n)
    symmetric = _np.empty(a.shape, dtype=object)
    symmetric[..., i, j] = a[..., i, j]
    symmetric[..., j, i] = a[..., i, j]
    lower = _batched(lambda m: _np.array(
        sp.Matrix(m.tolist()).cholesky(hermitian=False).tolist(), dtype=object))(
        symmetric)
    return _np.swapaxes(lower, -1, -2) if upper else lower


def _untake(g: Any, index: Any, shape: tuple, dtype: Any = None) -> Any:
    out = _np.empty(shape, dtype=object)
    out.fill(sp.S.Zero)
    _np.add.at(out, index, _o(g))
    return out


@functools.cache
def _logaddexp(base: int | None = None) -> Any:
    """SymPy's ``logaddexp(a, b) = log(exp(a) + exp(b))`` (or ``logaddexp2``).

    Written out, ``exp(1000)`` overflows in double precision: the symbolic
    method gave ``inf`` and ``nan`` where forward and reverse mode give
    1000.69 and 1/2.  As a function of its own it compiles to NumPy's stable
    ``logaddexp``, evaluates to any precision with mpmath, and its
    derivative is AD's rule, ``exp(a - logaddexp(a, b))``, whose exponent is
    never positive.  ``.rewrite(sympy.log)`` gives the formula.
    """
    import mpmath

    name = "logaddexp" if base is None else f"logaddexp{base}"
    b_ = sp.E if base is None else sp.Integer(base)

    def fdiff(self: Any, argindex: int = 1) -> Any:
        from sympy.core.function import ArgumentIndexError

        if argindex not in (1, 2):
            raise ArgumentIndexError(self, argindex)
        return b_ ** (self.args[argindex - 1] - self)

    def _eval_rewrite_as_log(self: Any, a: Any, b: Any, **kwargs: Any) -> Any:
        return sp.log(b_**a + b_**b, b_)

    def _eval_evalf(self: Any, prec: int) -> Any:
        if not all(arg.is_number for arg in self.args):
            return None
        with mpmath.workprec(prec + 20):
            a, b = (arg._to_mpmath(prec + 20) for arg in self.args)
            if not (mpmath.isfinite(a) or mpmath.isfinite(b)) and a == b:
                total = a  # -oo and -oo, or +oo and +oo
            else:
                m = max(a, b)
                log_b = mpmath.log(b_._to_mpmath(prec + 20))
                total = m + mpmath.log(mpmath.exp((a - m) * log_b)
                                       + mpmath.exp((b - m) * log_b)) / log_b
        return sp.Expr._from_mpmath(total, prec)

    def _eval_is_extended_real(self: Any) -> Any:
        from sympy.core.logic import fuzzy_and

        return fuzzy_and(arg.is_extended_real for arg in self.args)

    def _numpycode(self: Any, printer: Any) -> str:
        a, b = (printer._print(arg) for arg in self.args)
        return f"{printer._module_format('numpy.' + name)}({a}, {b})"

    def _latex(self: Any, printer: Any) -> str:
        a, b = (printer._print(arg) for arg in self.args)
        return rf"\operatorname{{{name}}}\left({a}, {b}\right)"

    return type(name, (sp.Function,), {
        "nargs": 2, "fdiff": fdiff, "_eval_rewrite_as_log": _eval_rewrite_as_log,
        "_eval_evalf": _eval_evalf, "_eval_is_extended_real": _eval_is_extended_real,
        "_numpycode": _numpycode, "_latex": _latex, "__doc__": _logaddexp.__doc__})


@functools.cache
def _atan2() -> Any:
    """SymPy's ``atan2`` with slopes 0 at the origin, as forward and reverse mode.

    There ``x / (x**2 + y**2)`` is 0/0; along either axis ``atan2`` is
    constant on each side of its jump (diffkit.rules._kinks).
    """
    class atan2(sp.atan2):  # noqa: N801 - printed as SymPy's own atan2
        def fdiff(self, argindex: int = 1) -> Any:
            y, x = self.args
            r2 = x**2 + y**2
            slope = x / r2 if argindex == 1 else -y / r2
            return sp.Piecewise((sp.S.Zero, sp.Eq(r2, 0)), (slope, True))

    return atan2


def _norm2(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    squares = _np.frompyfunc(lambda e: sp.Abs(e) ** 2, 1, 1)(_o(x))
    return _map(sp.sqrt)(_reduce(sp.Add)(squares, axis, keepdims=keepdims))


# --- elementwise, one argument -----------------------------------------------------
rule("negative", lambda a: -a)
rule("positive", lambda a: +a)
rule("sin", _map(lambda a: sp.sin(a)))
rule("cos", _map(lambda a: sp.cos(a)))
rule("tan", _map(lambda a: sp.tan(a)))
rule("arcsin", _map(lambda a: sp.asin(a)))
rule("arccos", _map(lambda a: sp.acos(a)))
rule("arctan", _map(lambda a: sp.atan(a)))
rule("sinh", _map(lambda a: sp.sinh(a)))
rule("cosh", _map(lambda a: sp.cosh(a)))
rule("tanh", _map(lambda a: sp.tanh(a)))
rule("arcsinh", _map(lambda a: sp.asinh(a)))
rule("arccosh", _map(lambda a: sp.acosh(a)))
rule("arctanh", _map(lambda a: sp.atanh(a)))
rule("exp", _map(lambda a: sp.exp(a)))
rule("exp2", _map(lambda a: sp.Integer(2) ** a))
rule("expm1", _map(lambda a: sp.exp(a) - 1))
rule("log", _map(lambda a: sp.log(a)))
rule("log2", _map(lambda a: sp.log(a, 2)))
rule("log10", _map(lambda a: sp.log(a, 10)))
rule("log1p", _map(lambda a: sp.log(1 + a)))
rule("sqrt", _map(lambda a: sp.sqrt(a)))
# The real cube root by branches (not sign(a) |a|**(1/3), whose derivative is
# 0 * oo at 0): the slope at 0 is then +inf, as forward and reverse mode find.
rule("cbrt", _map(lambda a: sp.Piecewise((-(-a) ** sp.Rational(1, 3), a < 0),
                                         (a ** sp.Rational(1, 3), True))))
rule("square", lambda a: a**2)
rule("reciprocal", lambda a: 1 / a)
rule("absolute", _map(lambda a: sp.Abs(a)))
rule("fabs", _map(lambda a: sp.Abs(a)))
rule("real", _map(lambda a: sp.re(a)))
rule("imag", _map(lambda a: sp.im(a)))
rule("conjugate", _map(lambda a: sp.conjugate(a)))
rule("angle", _map(lambda a: sp.arg(a)))
rule("sinc", _map(lambda a: sympy_sinc(sp.pi * a)))  # its derivatives are exact at 0
rule("deg2rad", lambda a: a * sp.pi / 180)
rule("rad2deg", lambda a: a * 180 / sp.pi)

# --- elementwise, two arguments -----------------------------------------------------
rule("add", lambda a, b: a + b)
rule("subtract", lambda a, b: a - b)
rule("multiply", lambda a, b: a * b)
rule("true_divide", lambda a, b: a / b)
rule("power", lambda a, b: a**b)
rule("float_power", lambda a, b: a**b)
rule("maximum", _map(lambda a, b: sp.Max(a, b)))
rule("minimum", _map(lambda a, b: sp.Min(a, b)))
rule("fmax", _map(lambda a, b: sp.Max(a, b)))
rule("fmin", _map(lambda a, b: sp.Min(a, b)))
rule("arctan2", _map(lambda a, b: _atan2()(a, b)))
rule("hypot", _map(lambda a, b: sp.sqrt(a**2 + b**2)))
rule("logaddexp", _map(lambda a, b: _logaddexp()(a, b)))
rule("logaddexp2", _map(lambda a, b: _logaddexp(2)(a, b)))
rule("remainder", _map(lambda a, b: sp.Mod(a, b)))
rule("fmod", _map(lambda a, b: a - b * _trunc(a / b)))

# --- no derivative: conditions, and pieces of piecewise-constant functions ----------
rule("greater", _map(lambda a, b: sp.Gt(a, b)))
rule("greater_equal", _map(lambda a, b: sp.Ge(a, b)))
rule("less", _map(lambda a, b: sp.Lt(a, b)))
rule("less_equal", _map(lambda a, b: sp.Le(a, b)))
rule("equal", _map(lambda a, b: sp.Eq(a, b)))
rule("not_equal", _map(lambda a, b: sp.Ne(a, b)))
rule("logical_and", _logical(lambda a, b: sp.And(a, b)), conditions=True)
rule("logical_or", _logical(lambda a, b: sp.Or(a, b)), conditions=True)
rule("logical_not", _logical(lambda a: sp.Not(a)), conditions=True)
rule("logical_xor", _logical(lambda a, b: sp.Xor(a, b)), conditions=True)
rule("isfinite", _map(_finite))
rule("isinf", _map(lambda a: sp.true if a in (sp.oo, -sp.oo, sp.zoo)
                        else sp.false))
rule("isnan", _map(lambda a: sp.true if a is sp.nan else sp.false))
rule("isclose", _isclose)
rule("allclose", _allclose)
rule("array_equal", _array_equal)
rule("sign", _map(lambda a: sp.sign(a)))
rule("signbit", _map(lambda a: sp.Lt(a, 0)))
rule("floor", _map(lambda a: sp.floor(a)))
rule("ceil", _map(lambda a: sp.ceiling(a)))
rule("trunc", _map(_trunc))
rule("fix", _map(_trunc))
rule("floor_divide", _map(lambda a, b: sp.floor(a / b)))
rule("heaviside", _map(lambda a, b: sp.Heaviside(a, b)))
rule("any", _reduce(lambda *c: sp.Or(*[_truth(e) for e in c])), conditions=True)
rule("all", _reduce(lambda *c: sp.And(*[_truth(e) for e in c])), conditions=True)

# --- reductions -----------------------------------------------------------------------
rule("sum", _reduce(lambda *terms: sp.Add(*terms)))
rule("mean", _mean)
rule("prod", _reduce(lambda *factors: sp.Mul(*factors)))
rule("max", _reduce(lambda *items: sp.Max(*items)))
rule("min", _reduce(lambda *items: sp.Min(*items)))
rule("var", _var)
rule("std", lambda a, **kwargs: _map(sp.sqrt)(_var(a, **kwargs)))
rule("cumsum", lambda a, axis=None, **kwargs: _np.cumsum(_o(a), axis=axis))
rule("cumprod", lambda a, axis=None, **kwargs: _np.cumprod(_o(a), axis=axis))

# --- shape and indexing: NumPy itself runs them on object arrays -------------------
for _name in ["reshape", "transpose", "moveaxis", "swapaxes", "broadcast_to",
              "expand_dims", "squeeze", "ravel", "flip", "roll", "tile", "repeat",
              "diagonal", "diag", "triu", "tril", "trace", "take",
              "take_along_axis", "rot90", "atleast_1d", "atleast_2d",
              "atleast_3d"]:
    rule(_name, getattr(_np, _name), conditions=True)
rule("pad", lambda a, *args, **kwargs: _np.pad(_o(a), *args, **kwargs))
rule("getitem", _getitem, conditions=True)
rule("untake", _untake)
rule("concatenate", lambda axis, *arrays: _np.concatenate(
    [_o(a) for a in arrays], axis=axis), conditions=True)

# --- choosing: conditions become Piecewise -------------------------------------------
rule("where", _where_rule, conditions=True)
rule("clip", _map(lambda a, lo, hi: a if lo is None and hi is None
                       else sp.Max(a, lo) if hi is None
                       else sp.Min(a, hi) if lo is None
                       else sp.Min(sp.Max(a, lo), hi)))
rule("nan_to_num", lambda a, *args, **kwargs: a)  # formulas are finite

# --- products -------------------------------------------------------------------------
rule("dot", lambda a, b: _np.dot(_o(a), _o(b)))
rule("matmul", lambda a, b: _np.matmul(_o(a), _o(b)))
rule("tensordot", lambda a, b, axes=2: _np.tensordot(_o(a), _o(b), axes))
rule("einsum", lambda subscripts, *ops, **kwargs: _np.einsum(
    subscripts, *[_o(a) for a in ops]))

# --- linear algebra on SymPy matrices -------------------------------------------------
linalg_rule("inv", _batched(_inv))
linalg_rule("det", _batched(_det))
linalg_rule("logabsdet", _batched(lambda m: sp.log(sp.Abs(_det(m)))))
linalg_rule("solve", _solve)
linalg_rule("cholesky", _cholesky)
linalg_rule("pinv", _batched(_pinv))
linalg_rule("norm2", _norm2)

# The Fourier transforms, written out as sums (a module of their own).
from diffkit.rules import _fft_sympy  # noqa: E402,F401
