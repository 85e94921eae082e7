"""The NumPy functions diffkit wraps as primitives.

Each name here becomes a :class:`~diffkit.primitives.Primitive` whose
implementation is the NumPy function of the same name.  Their derivative
rules live in :mod:`diffkit.rules` (``jvp.py``, ``vjp.py``, ``sympy.py``),
one short line per primitive, in the same order as these tables.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

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
    "flatnonzero", "searchsorted", "count_nonzero", "any", "all",
    "zeros_like", "ones_like", "empty_like", "full_like", "shape", "ndim",
    "size", "result_type", "iscomplexobj", "isrealobj", "iscomplex", "isreal",
    "isscalar", "digitize", "histogram", "bincount", "unique", "heaviside",
]

# Everything else: reductions, shape manipulation, linear algebra.  Their
# rules are written one by one in diffkit.rules.
OTHER = [
    "sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "cumprod",
    "reshape", "transpose", "moveaxis", "swapaxes", "broadcast_to",
    "expand_dims", "squeeze", "ravel", "flip", "roll", "tile", "repeat",
    "diagonal", "diag", "triu", "tril", "trace", "sort", "take",
    "take_along_axis", "where", "clip", "dot", "matmul", "vdot",
    "inner",
    "outer", "tensordot", "kron", "cross", "pad", "rot90", "atleast_1d",
    "atleast_2d", "atleast_3d", "nan_to_num", "partition", "select",
]

NAMES = {"true_divide": "divide", "absolute": "abs", "conjugate": "conj"}

ELEMENTWISE = set(UNARY) | set(BINARY) | {"where", "clip", "nan_to_num"}


def _make(name: str, **options: Any) -> Primitive:
    return Primitive(
        getattr(_np, name), NAMES.get(name, name),
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
    out = _np.zeros(shape, dtype=_np.result_type(g, _np.float64))
    _np.add.at(out, index, g)
    return out


def _concatenate(axis: int, *arrays: Any) -> Any:
    return _np.concatenate(arrays, axis=axis)


def _array_from_args(shape: tuple, *elements: Any) -> Any:
    """Build an array from its elements (``np.array([box, box])``)."""
    return _np.reshape(_np.array(elements), shape)


def _einsum(subscripts: str, *operands: Any) -> Any:
    return _np.einsum(subscripts, *operands)


def _stop_gradient(x: Any) -> Any:
    return x


PRIMITIVES["getitem"] = Primitive(_getitem, "getitem", latex=r"\operatorname{index}")
PRIMITIVES["untake"] = Primitive(_untake, "untake")
PRIMITIVES["concatenate"] = Primitive(_concatenate, "concatenate")
PRIMITIVES["array_from_args"] = Primitive(_array_from_args, "array")
PRIMITIVES["einsum"] = Primitive(_einsum, "einsum")
