"""``diffkit.numpy``: NumPy, thinly wrapped so that every function is a primitive.

Write ordinary NumPy code against this namespace and every method of
diffkit can differentiate it::

    import diffkit.numpy as np

    def f(x):
        return np.sin(x) ** 2 * np.exp(x)

On plain values each function is exactly NumPy's.  On traced values it hands
the call to the derivative in progress (see :mod:`diffkit.tracer`).
Functions NumPy has but diffkit has no rules for still work on plain values;
asked to differentiate, they fail with an error naming them.

Examples
--------
>>> import diffkit as dk
>>> import diffkit.numpy as np
>>> float(dk.grad(lambda x: np.sin(x) ** 2)(0.5))  # 2 sin x cos x
0.8414709848078965
"""

from __future__ import annotations

import builtins as _builtins
from typing import Any

import numpy as _np

from diffkit.numpy import fft, linalg, random
from diffkit.numpy._primitives import PRIMITIVES as _P
from diffkit.primitives import Primitive as _Primitive
from diffkit.tracer import Box as _Box

# Every primitive of the table, by its NumPy name.
negative: _Primitive = _P["negative"]
positive: _Primitive = _P["positive"]
sin: _Primitive = _P["sin"]
cos: _Primitive = _P["cos"]
tan: _Primitive = _P["tan"]
arcsin: _Primitive = _P["arcsin"]
arccos: _Primitive = _P["arccos"]
arctan: _Primitive = _P["arctan"]
sinh: _Primitive = _P["sinh"]
cosh: _Primitive = _P["cosh"]
tanh: _Primitive = _P["tanh"]
arcsinh: _Primitive = _P["arcsinh"]
arccosh: _Primitive = _P["arccosh"]
arctanh: _Primitive = _P["arctanh"]
exp: _Primitive = _P["exp"]
exp2: _Primitive = _P["exp2"]
expm1: _Primitive = _P["expm1"]
log: _Primitive = _P["log"]
log2: _Primitive = _P["log2"]
log10: _Primitive = _P["log10"]
log1p: _Primitive = _P["log1p"]
sqrt: _Primitive = _P["sqrt"]
cbrt: _Primitive = _P["cbrt"]
square: _Primitive = _P["square"]
reciprocal: _Primitive = _P["reciprocal"]
absolute: _Primitive = _P["absolute"]
fabs: _Primitive = _P["fabs"]
real: _Primitive = _P["real"]
imag: _Primitive = _P["imag"]
conjugate: _Primitive = _P["conjugate"]
angle: _Primitive = _P["angle"]
sinc: _Primitive = _P["sinc"]
deg2rad: _Primitive = _P["deg2rad"]
rad2deg: _Primitive = _P["rad2deg"]
add: _Primitive = _P["add"]
subtract: _Primitive = _P["subtract"]
multiply: _Primitive = _P["multiply"]
true_divide: _Primitive = _P["true_divide"]
power: _Primitive = _P["power"]
float_power: _Primitive = _P["float_power"]
maximum: _Primitive = _P["maximum"]
minimum: _Primitive = _P["minimum"]
fmax: _Primitive = _P["fmax"]
fmin: _Primitive = _P["fmin"]
arctan2: _Primitive = _P["arctan2"]
hypot: _Primitive = _P["hypot"]
logaddexp: _Primitive = _P["logaddexp"]
logaddexp2: _Primitive = _P["logaddexp2"]
remainder: _Primitive = _P["remainder"]
fmod: _Primitive = _P["fmod"]
sum: _Primitive = _P["sum"]
mean: _Primitive = _P["mean"]
prod: _Primitive = _P["prod"]
max: _Primitive = _P["max"]
min: _Primitive = _P["min"]
var: _Primitive = _P["var"]
std: _Primitive = _P["std"]
cumsum: _Primitive = _P["cumsum"]
cumprod: _Primitive = _P["cumprod"]
reshape: _Primitive = _P["reshape"]
transpose: _Primitive = _P["transpose"]
moveaxis: _Primitive = _P["moveaxis"]
swapaxes: _Primitive = _P["swapaxes"]
broadcast_to: _Primitive = _P["broadcast_to"]
expand_dims: _Primitive = _P["expand_dims"]
squeeze: _Primitive = _P["squeeze"]
ravel: _Primitive = _P["ravel"]
flip: _Primitive = _P["flip"]
roll: _Primitive = _P["roll"]
tile: _Primitive = _P["tile"]
repeat: _Primitive = _P["repeat"]
diagonal: _Primitive = _P["diagonal"]
diag: _Primitive = _P["diag"]
triu: _Primitive = _P["triu"]
tril: _Primitive = _P["tril"]
trace: _Primitive = _P["trace"]
sort: _Primitive = _P["sort"]
take: _Primitive = _P["take"]
take_along_axis: _Primitive = _P["take_along_axis"]
where: _Primitive = _P["where"]
clip: _Primitive = _P["clip"]
dot: _Primitive = _P["dot"]
matmul: _Primitive = _P["matmul"]
tensordot: _Primitive = _P["tensordot"]
pad: _Primitive = _P["pad"]
rot90: _Primitive = _P["rot90"]
atleast_1d: _Primitive = _P["atleast_1d"]
atleast_2d: _Primitive = _P["atleast_2d"]
atleast_3d: _Primitive = _P["atleast_3d"]
nan_to_num: _Primitive = _P["nan_to_num"]
partition: _Primitive = _P["partition"]
greater: _Primitive = _P["greater"]
greater_equal: _Primitive = _P["greater_equal"]
less: _Primitive = _P["less"]
less_equal: _Primitive = _P["less_equal"]
equal: _Primitive = _P["equal"]
not_equal: _Primitive = _P["not_equal"]
logical_and: _Primitive = _P["logical_and"]
logical_or: _Primitive = _P["logical_or"]
logical_not: _Primitive = _P["logical_not"]
logical_xor: _Primitive = _P["logical_xor"]
isfinite: _Primitive = _P["isfinite"]
isinf: _Primitive = _P["isinf"]
isnan: _Primitive = _P["isnan"]
isclose: _Primitive = _P["isclose"]
allclose: _Primitive = _P["allclose"]
array_equal: _Primitive = _P["array_equal"]
sign: _Primitive = _P["sign"]
signbit: _Primitive = _P["signbit"]
floor: _Primitive = _P["floor"]
ceil: _Primitive = _P["ceil"]
round: _Primitive = _P["round"]
rint: _Primitive = _P["rint"]
trunc: _Primitive = _P["trunc"]
fix: _Primitive = _P["fix"]
floor_divide: _Primitive = _P["floor_divide"]
argmax: _Primitive = _P["argmax"]
argmin: _Primitive = _P["argmin"]
argsort: _Primitive = _P["argsort"]
argpartition: _Primitive = _P["argpartition"]
argwhere: _Primitive = _P["argwhere"]
nonzero: _Primitive = _P["nonzero"]
flatnonzero: _Primitive = _P["flatnonzero"]
searchsorted: _Primitive = _P["searchsorted"]
count_nonzero: _Primitive = _P["count_nonzero"]
any: _Primitive = _P["any"]
all: _Primitive = _P["all"]
zeros_like: _Primitive = _P["zeros_like"]
ones_like: _Primitive = _P["ones_like"]
empty_like: _Primitive = _P["empty_like"]
full_like: _Primitive = _P["full_like"]
shape: _Primitive = _P["shape"]
ndim: _Primitive = _P["ndim"]
size: _Primitive = _P["size"]
result_type: _Primitive = _P["result_type"]
iscomplexobj: _Primitive = _P["iscomplexobj"]
isrealobj: _Primitive = _P["isrealobj"]
iscomplex: _Primitive = _P["iscomplex"]
isreal: _Primitive = _P["isreal"]
isscalar: _Primitive = _P["isscalar"]
digitize: _Primitive = _P["digitize"]
histogram: _Primitive = _P["histogram"]
bincount: _Primitive = _P["bincount"]
unique: _Primitive = _P["unique"]
heaviside: _Primitive = _P["heaviside"]
getitem: _Primitive = _P["getitem"]
untake: _Primitive = _P["untake"]

# NumPy's aliases.
abs: _Primitive = _P["absolute"]
divide: _Primitive = _P["true_divide"]
conj: _Primitive = _P["conjugate"]
amax: _Primitive = _P["max"]
amin: _Primitive = _P["min"]
mod: _Primitive = _P["remainder"]
round_: _Primitive = _P["round"]
degrees: _Primitive = _P["rad2deg"]
radians: _Primitive = _P["deg2rad"]

# Constants, dtypes and array constructors that take no traced input.
from numpy import (  # noqa: E402
    arange,
    bool_,
    complex64,
    complex128,
    dtype,
    e,
    empty,
    euler_gamma,
    eye,
    finfo,
    float32,
    float64,
    geomspace,
    identity,
    iinfo,
    inf,
    int32,
    int64,
    logspace,
    meshgrid,
    nan,
    ndarray,
    newaxis,
    ones,
    pi,
    tri,
    zeros,
)


def concatenate(arrays: Any, axis: int | None = 0) -> Any:
    """Join a sequence of arrays along an existing axis (differentiable)."""
    arrays = list(arrays)
    if axis is None:
        return _P["concatenate"](0, *[ravel(a) for a in arrays])
    return _P["concatenate"](axis, *arrays)


def stack(arrays: Any, axis: int = 0) -> Any:
    """Join a sequence of same-shaped arrays along a new axis (differentiable)."""
    arrays = [asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("need at least one array to stack")
    nd = ndim(arrays[0]) + 1
    ax = axis % nd
    return concatenate([expand_dims(a, ax) for a in arrays], axis=ax)


def hstack(arrays: Any) -> Any:
    arrays = [atleast_1d(a) for a in arrays]
    return concatenate(arrays, axis=0 if ndim(arrays[0]) == 1 else 1)


def vstack(arrays: Any) -> Any:
    return concatenate([atleast_2d(a) for a in arrays], axis=0)


row_stack = vstack


def dstack(arrays: Any) -> Any:
    return concatenate([atleast_3d(a) for a in arrays], axis=2)


def column_stack(arrays: Any) -> Any:
    cols = [reshape(a, (-1, 1)) if ndim(a) < 2 else a for a in arrays]
    return concatenate(cols, axis=1)


def array(obj: Any, dtype: Any = None, copy: bool = True, ndmin: int = 0) -> Any:
    """Like :func:`numpy.array`, but a list holding traced values stays traced."""
    if isinstance(obj, _Box):
        return obj
    if isinstance(obj, list | tuple) and _contains_box(obj):
        elements = [asarray(a) for a in obj]
        return stack(elements)
    return _np.array(obj, dtype=dtype, copy=copy, ndmin=ndmin)


def asarray(obj: Any, dtype: Any = None) -> Any:
    """Like :func:`numpy.asarray`; a traced value is returned as it is."""
    if isinstance(obj, _Box):
        return obj
    if isinstance(obj, list | tuple) and _contains_box(obj):
        return array(obj)
    return _np.asarray(obj, dtype=dtype)


def copy(x: Any) -> Any:
    return x if isinstance(x, _Box) else _np.copy(x)


def _contains_box(obj: Any) -> bool:
    if isinstance(obj, _Box):
        return True
    if isinstance(obj, list | tuple):
        return _builtins.any(_contains_box(o) for o in obj)
    return False


def einsum(subscripts: Any, *operands: Any, optimize: Any = False) -> Any:
    """Einstein summation, differentiable in every operand (``numpy.einsum``).

    Repeated labels (diagonals, traces), ``...`` and broadcasting all work,
    as does NumPy's sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> dk.grad(lambda a: np.einsum("ii", a))(a)  # the trace: its gradient is I
    array([[1., 0.],
           [0., 1.]])
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _sublists_to_subscripts(subscripts, *operands)
    if _builtins.any(isinstance(o, _Box) for o in operands):
        # Check the subscripts now, so a mistake is reported here and not
        # from inside a derivative rule later.
        from diffkit.rules._einsum import explicit

        explicit(subscripts, [shape(o) for o in operands])
    if optimize:
        return _P["einsum"](subscripts, *operands, optimize=optimize)
    return _P["einsum"](subscripts, *operands)


def _sublists_to_subscripts(*args: Any) -> tuple[str, tuple]:
    """``(a, [0, 1], b, [1, 2], [0, 2])`` as ``("ab,bc->ac", (a, b))``."""
    from diffkit.rules._einsum import LABELS

    def letters(sublist: Any) -> str:
        try:
            return "".join("..." if s is Ellipsis else LABELS[s] for s in sublist)
        except (TypeError, IndexError):
            raise ValueError(
                f"einsum sublist {sublist!r} must hold integers 0-51 or Ellipsis."
            ) from None

    operands = args[0::2]
    terms = [letters(s) for s in args[1::2]]
    if len(args) % 2:  # a last sublist without an operand: the output
        operands = operands[:-1]
        return ",".join(terms) + "->" + letters(args[-1]), tuple(operands)
    return ",".join(terms), tuple(operands)


# Functions built from the primitives above: they need no rules of their own.
from diffkit.numpy._composites import (  # noqa: E402
    append,
    array_split,
    cross,
    diff,
    dsplit,
    fliplr,
    flipud,
    full,
    hsplit,
    inner,
    kron,
    linspace,
    median,
    nanmax,
    nanmin,
    outer,
    percentile,
    ptp,
    quantile,
    rollaxis,
    select,
    split,
    vdot,
    vsplit,
)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """``log(sum(exp(x)))`` computed without overflow.

    Shifting by the maximum keeps ``exp`` finite; the shift cancels exactly,
    so it carries no derivative of its own.

    Examples
    --------
    >>> import diffkit.numpy as np
    >>> float(np.logsumexp(np.array([1000.0, 1000.0])))
    1000.6931471805599
    """
    from diffkit.transforms import stop_gradient

    m = stop_gradient(max(x, axis=axis, keepdims=True))
    m = where(isfinite(m), m, 0.0)
    out = log(sum(exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else squeeze(out, axis=axis) if axis is not None \
        else reshape(out, ())


def average(x: Any, axis: Any = None, weights: Any = None) -> Any:
    if weights is None:
        return mean(x, axis=axis)
    return sum(x * weights, axis=axis) / sum(weights, axis=axis)


def __getattr__(name: str) -> Any:
    """Reach the rest of NumPy: plain values pass, traced values get a clear error."""
    try:
        attr = getattr(_np, name)
    except AttributeError:
        raise AttributeError(f"module 'diffkit.numpy' has no attribute {name!r}") \
            from None
    if callable(attr) and not isinstance(attr, type):
        prim = _Primitive(attr, name)
        globals()[name] = prim
        return prim
    return attr


from diffkit.numpy import _boxes  # noqa: E402,F401  (gives boxes their operators)
from diffkit.rules import fft as _fft_rules  # noqa: E402,F401
from diffkit.rules import jvp as _jvp_rules  # noqa: E402,F401
from diffkit.rules import linalg as _linalg_rules  # noqa: E402,F401
from diffkit.rules import sympy as _sympy_rules  # noqa: E402,F401
from diffkit.rules import tape as _tape_rules  # noqa: E402,F401
from diffkit.rules import vjp as _vjp_rules  # noqa: E402,F401
