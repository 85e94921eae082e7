"""The NumPy functions diffkit wraps as primitives.

Each name here becomes a :class:`~diffkit.primitives.Primitive` whose
implementation is the NumPy function of the same name.  Their derivative
rules live in :mod:`diffkit.rules` (``jvp.py``, ``vjp.py``, ``sympy.py``),
one short line per primitive, in the same order as these tables.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit.backends.adjoints import Scatter
from diffkit.primitives import Primitive

# Elementwise functions of one argument, with their cost weight in the
# operation counts of traces and comparison tables.
UNARY = [
    "negative", "positive", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
    "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p",
    "sqrt", "cbrt", "square", "reciprocal", "absolute", "fabs",
    "real", "imag", "conjugate", "angle", "sinc", "deg2rad", "rad2deg",
]

# Elementwise functions of two broadcasting arguments.
BINARY = [
    "add", "subtract", "multiply", "true_divide", "power", "float_power",
    "maximum", "minimum", "fmax", "fmin", "arctan2", "hypot",
    "logaddexp", "logaddexp2", "remainder", "fmod",
]

# Functions whose output carries no derivative: they run on plain values.
NONDIFFERENTIABLE = [
    "greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
    "logical_and", "logical_or", "logical_not", "logical_xor",
    "isfinite", "isinf", "isnan", "isclose", "allclose", "array_equal",
    "sign", "signbit", "floor", "ceil", "round", "rint", "trunc", "fix",
    "floor_divide", "argmax", "argmin", "argsort", "argwhere", "nonzero",
    "argpartition", "flatnonzero", "searchsorted", "count_nonzero", "any", "all",
    "zeros_like", "ones_like", "empty_like", "full_like", "shape", "ndim",
    "size", "result_type", "iscomplexobj", "isrealobj", "iscomplex", "isreal",
    "isscalar", "digitize", "histogram", "bincount", "unique", "heaviside",
]

# Everything else: reductions, shape manipulation, linear algebra.  Their
# rules are written one by one in diffkit.rules.  (``vdot``, ``inner``,
# ``outer``, ``kron``, ``cross`` and ``select`` are not here: diffkit.numpy
# builds them from these primitives, so they need no rules of their own.)
OTHER = [
    "sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "cumprod",
    "reshape", "transpose", "moveaxis", "swapaxes", "broadcast_to",
    "expand_dims", "squeeze", "ravel", "flip", "roll", "tile", "repeat",
    "diagonal", "diag", "triu", "tril", "trace", "sort", "partition", "take",
    "take_along_axis", "where", "clip", "dot", "matmul", "tensordot", "pad",
    "rot90", "atleast_1d", "atleast_2d", "atleast_3d", "nan_to_num",
]

NAMES = {"true_divide": "divide", "absolute": "abs", "conjugate": "conj"}

ELEMENTWISE = set(UNARY) | set(BINARY) | {"where", "clip", "nan_to_num"}


def _partition(a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect",
               order: Any = None) -> Any:
    """``numpy.partition``, arranged exactly as ``numpy.argpartition`` says.

    NumPy leaves the order of the entries around the ``kth`` ones unspecified,
    and ``partition`` and ``argpartition`` may arrange them differently.  The
    derivative rules move cotangents with ``argpartition``'s permutation, so
    the values are produced by the very same permutation.
    """
    perm = _np.argpartition(a, kth, axis=axis, kind=kind, order=order)  # type: ignore[arg-type]
    if axis is None:
        return _np.ravel(a)[perm]
    return _np.take_along_axis(_np.asarray(a), perm, axis=axis)


_IMPLS = {"partition": _partition}


def _make(name: str, **options: Any) -> Primitive:
    return Primitive(
        _IMPLS.get(name) or getattr(_np, name), NAMES.get(name, name),
        elementwise=name in ELEMENTWISE, **options,
    )


PRIMITIVES: dict[str, Primitive] = {}
for _name in UNARY + BINARY + OTHER:
    PRIMITIVES[_name] = _make(_name)
for _name in NONDIFFERENTIABLE:
    PRIMITIVES[_name] = _make(_name, differentiable=False)


def _getitem(x: Any, index: Any) -> Any:
    return x[index]


def _untake(g: Any, index: Any, shape: tuple, dtype: Any = None) -> Any:
    """Scatter-add ``g`` into zeros of ``shape`` at ``index`` (adjoint of x[index])."""
    return Scatter(g, index, shape).dense()


def _concatenate(axis: int, *arrays: Any) -> Any:
    return _np.concatenate(arrays, axis=axis)


def _einsum(subscripts: str, *operands: Any, optimize: Any = False) -> Any:
    return _np.einsum(subscripts, *operands, optimize=optimize)


PRIMITIVES["getitem"] = Primitive(_getitem, "getitem", latex=r"\operatorname{index}")
PRIMITIVES["untake"] = Primitive(_untake, "untake")
PRIMITIVES["concatenate"] = Primitive(_concatenate, "concatenate")
PRIMITIVES["einsum"] = Primitive(_einsum, "einsum")
