"""Reverse-mode rules: ``vjp(g, ans, *args) -> cotangent of one argument``.

``g`` is the adjoint of the output ``ans``; each rule returns ``g`` times the
partial derivative of ``ans`` with respect to one argument (a
vector-Jacobian product).  Elementwise rules may return a broadcast shape:
the tape sums it back down to the argument's shape (see
:func:`diffkit.backends.reverse.unbroadcast`).
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit import numpy as np
from diffkit.backends.reverse import unbroadcast
from diffkit.primitives import VariadicRules, defvjp
from diffkit.rules import _einsum as einsum_rules
from diffkit.rules._axes import kept_shape, normalize
from diffkit.rules._index import (
    along_axis_index,
    clip_bounds,
    diagonal_index,
    embed_diagonal,
    pad_source,
    pad_widths,
    partition_permutation,
    sort_permutation,
    take_index,
    tile_shapes,
)
from diffkit.rules._kinks import (
    clip_shares,
    reciprocal_or_zero,
    tie_average,
    tie_share,
)
from diffkit.rules._power import scaled_power_slope
from diffkit.rules._products import cumprod_cotangent, others_product
from diffkit.rules._sinc import sinc_slope
from diffkit.tracer import unbox

# --- elementwise, one argument -----------------------------------------------------
defvjp(np.negative, lambda g, ans, x: -g)
defvjp(np.positive, lambda g, ans, x: g)
defvjp(np.sin, lambda g, ans, x: g * np.cos(x))
defvjp(np.cos, lambda g, ans, x: -g * np.sin(x))
defvjp(np.tan, lambda g, ans, x: g / np.cos(x) ** 2)
defvjp(np.arcsin, lambda g, ans, x: g / np.sqrt(1 - x**2))
defvjp(np.arccos, lambda g, ans, x: -g / np.sqrt(1 - x**2))
defvjp(np.arctan, lambda g, ans, x: g / (1 + x**2))
defvjp(np.sinh, lambda g, ans, x: g * np.cosh(x))
defvjp(np.cosh, lambda g, ans, x: g * np.sinh(x))
defvjp(np.tanh, lambda g, ans, x: g / np.cosh(x) ** 2)
defvjp(np.arcsinh, lambda g, ans, x: g / np.sqrt(x**2 + 1))
defvjp(np.arccosh, lambda g, ans, x: g / np.sqrt(x**2 - 1))
defvjp(np.arctanh, lambda g, ans, x: g / (1 - x**2))
defvjp(np.exp, lambda g, ans, x: g * ans)
defvjp(np.exp2, lambda g, ans, x: g * ans * np.log(2.0))
defvjp(np.expm1, lambda g, ans, x: g * (ans + 1))
defvjp(np.log, lambda g, ans, x: g / x)
defvjp(np.log2, lambda g, ans, x: g / (x * np.log(2.0)))
defvjp(np.log10, lambda g, ans, x: g / (x * np.log(10.0)))
defvjp(np.log1p, lambda g, ans, x: g / (1 + x))
defvjp(np.sqrt, lambda g, ans, x: g * 0.5 / ans)
defvjp(np.cbrt, lambda g, ans, x: g / (3 * ans**2))
defvjp(np.square, lambda g, ans, x: g * 2 * x)
defvjp(np.reciprocal, lambda g, ans, x: -g / x**2)
defvjp(np.deg2rad, lambda g, ans, x: g * (np.pi / 180))
defvjp(np.rad2deg, lambda g, ans, x: g * (180 / np.pi))
defvjp(np.sinc, lambda g, ans, x: g * sinc_slope(x, order=1))  # exact at 0, any order


def _abs_vjp(g: Any, ans: Any, x: Any) -> Any:
    # d|x|/dx is sign(x) for real x (0 at the kink: a subgradient); for complex
    # z it is conj(z)/|z|, the autograd/JAX convention for real-valued outputs.
    if np.iscomplexobj(x):
        return g * np.conj(x) / np.where(ans == 0, 1.0, ans)
    return g * np.sign(x)


defvjp(np.absolute, _abs_vjp)
defvjp(np.fabs, lambda g, ans, x: g * np.sign(x))
defvjp(np.real, lambda g, ans, x: g + 0j if np.iscomplexobj(x) else g)
defvjp(np.imag, lambda g, ans, x: -1j * g if np.iscomplexobj(x) else 0.0 * g)
defvjp(np.conjugate, lambda g, ans, x: np.conj(g))
defvjp(np.angle, lambda g, ans, x: g * np.conj(x * 1j) / np.abs(x) ** 2
       if np.iscomplexobj(x) else 0.0 * g)

# --- elementwise, two arguments ----------------------------------------------------
defvjp(np.add, lambda g, ans, x, y: g, lambda g, ans, x, y: g)
defvjp(np.subtract, lambda g, ans, x, y: g, lambda g, ans, x, y: -g)
defvjp(np.multiply, lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x)
defvjp(np.true_divide, lambda g, ans, x, y: g / y,
       lambda g, ans, x, y: -g * x / y**2)


def _power_base(g: Any, ans: Any, x: Any, y: Any) -> Any:
    return scaled_power_slope(g, x, y)


def _power_exponent(g: Any, ans: Any, x: Any, y: Any) -> Any:
    # d(x**y)/dy = log(x) x**y; at x = 0 the product is 0 (for y > 0).
    return g * np.log(np.where(x == 0, 1.0, x)) * ans


defvjp(np.power, _power_base, _power_exponent)
defvjp(np.float_power, _power_base, _power_exponent)




for _extremum in (np.maximum, np.minimum, np.fmax, np.fmin):
    defvjp(_extremum, lambda g, ans, x, y: g * tie_share(x, ans, y),
           lambda g, ans, x, y: g * tie_share(y, ans, x))

# At the origin arctan2 jumps and hypot has a kink: slopes 0 there (_kinks.py).
defvjp(np.arctan2, lambda g, ans, y, x: g * x * reciprocal_or_zero(x**2 + y**2),
       lambda g, ans, y, x: -g * y * reciprocal_or_zero(x**2 + y**2))
defvjp(np.hypot, lambda g, ans, x, y: g * x * reciprocal_or_zero(ans),
       lambda g, ans, x, y: g * y * reciprocal_or_zero(ans))
defvjp(np.logaddexp, lambda g, ans, x, y: g * np.exp(x - ans),
       lambda g, ans, x, y: g * np.exp(y - ans))
defvjp(np.logaddexp2, lambda g, ans, x, y: g * 2 ** (x - ans),
       lambda g, ans, x, y: g * 2 ** (y - ans))
defvjp(np.remainder, lambda g, ans, x, y: g,
       lambda g, ans, x, y: -g * np.floor(x / y))
defvjp(np.fmod, lambda g, ans, x, y: g, lambda g, ans, x, y: -g * np.trunc(x / y))
defvjp(np.where, None, lambda g, ans, c, x, y: np.where(c, g, 0.0),
       lambda g, ans, c, x, y: np.where(c, 0.0, g))


def _clip(which: int) -> Any:
    def rule(g: Any, ans: Any, x: Any, lo: Any = None, hi: Any = None,
             **kw: Any) -> Any:
        return g * clip_shares(x, *clip_bounds(lo, hi, kw))[which]

    return rule


defvjp(np.clip, _clip(0), _clip(1), _clip(2))
defvjp(np.nan_to_num, lambda g, ans, x, **kw: g * np.isfinite(x))


# --- reductions --------------------------------------------------------------------
def _spread(g: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """Copy a reduction's cotangent back over the axes it reduced."""
    shape = np.shape(x)
    if not keepdims:
        g = np.reshape(g, kept_shape(shape, axis))
    return np.broadcast_to(g, shape)


def _count(x: Any, axis: Any) -> int:
    shape = np.shape(x)
    n = 1
    for a in normalize(axis, len(shape)):
        n *= shape[a]
    return n


defvjp(np.sum, lambda g, ans, x, axis=None, dtype=None, keepdims=False:
       _spread(g, x, axis, keepdims))
defvjp(np.mean, lambda g, ans, x, axis=None, dtype=None, keepdims=False:
       _spread(g, x, axis, keepdims) / _count(x, axis))
# The slope of prod in x_i is the product of the other entries (not ans / x_i,
# which is 0 / 0 at a zero): see diffkit.rules._products.
defvjp(np.prod, lambda g, ans, x, axis=None, dtype=None, keepdims=False:
       _spread(g, x, axis, keepdims) * others_product(x, axis))


def _extremum_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False,
                  **kw: Any) -> Any:
    # The gradient flows to the entries that attain the max (or min), split
    # equally among ties.
    winners = x == _spread(ans, x, axis, keepdims)
    return _spread(g, x, axis, keepdims) * winners / np.sum(
        winners, axis=axis, keepdims=True)


defvjp(np.max, _extremum_vjp)
defvjp(np.min, _extremum_vjp)


def _var_vjp(g: Any, ans: Any, x: Any, axis: Any = None, dtype: Any = None,
             out: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    centred = x - np.mean(x, axis=axis, keepdims=True)
    return _spread(g, x, axis, keepdims) * 2 * centred / (_count(x, axis) - ddof)


def _std_vjp(g: Any, ans: Any, x: Any, axis: Any = None, dtype: Any = None,
             out: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    # At constant data std has a kink (it is even in x - mean): slope 0.
    centred = x - np.mean(x, axis=axis, keepdims=True)
    return (_spread(g * reciprocal_or_zero(ans), x, axis, keepdims) * centred
            / (_count(x, axis) - ddof))


defvjp(np.var, _var_vjp)
defvjp(np.std, _std_vjp)


def _cumsum_vjp(g: Any, ans: Any, x: Any, axis: Any = None, **kw: Any) -> Any:
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(g))), np.shape(x))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


defvjp(np.cumsum, _cumsum_vjp)


def _cumprod_vjp(g: Any, ans: Any, x: Any, axis: Any = None, **kw: Any) -> Any:
    # ans[j] = x[0] ... x[j]; the cotangent of x[i] gathers g[j] times the
    # product of the others in ans[j], for every j >= i.  cumprod_cotangent
    # sums these by a backward recurrence, with no division by x[i]: exact
    # where x has zeros, and differentiable again.
    if axis is None:  # ans is the running product of the flattened x
        return np.reshape(cumprod_cotangent(g, ans, np.ravel(x)), np.shape(x))
    ax = axis % np.ndim(x)
    last = [np.moveaxis(v, ax, -1) for v in (g, ans, x)]
    return np.moveaxis(cumprod_cotangent(*last), -1, ax)


defvjp(np.cumprod, _cumprod_vjp)

# --- shape manipulation ------------------------------------------------------------
_reshape_back = lambda g, ans, x, *args, **kw: np.reshape(g, np.shape(x))
for _shape_only in (np.reshape, np.ravel, np.squeeze, np.expand_dims,
                    np.atleast_1d, np.atleast_2d, np.atleast_3d):
    defvjp(_shape_only, _reshape_back)


def _transpose_vjp(g: Any, ans: Any, x: Any, axes: Any = None) -> Any:
    if axes is None:
        return np.transpose(g)
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a % len(axes)] = i
    return np.transpose(g, inverse)


defvjp(np.transpose, _transpose_vjp)
defvjp(np.moveaxis, lambda g, ans, x, source, destination:
       np.moveaxis(g, destination, source))
defvjp(np.swapaxes, lambda g, ans, x, a1, a2: np.swapaxes(g, a1, a2))
defvjp(np.broadcast_to, lambda g, ans, x, shape, **kw: unbroadcast(g, x))
defvjp(np.flip, lambda g, ans, x, axis=None: np.flip(g, axis))
defvjp(np.roll, lambda g, ans, x, shift, axis=None: np.roll(
    g, -_np.asarray(shift), axis))
defvjp(np.triu, lambda g, ans, x, k=0: np.triu(g, k))
defvjp(np.tril, lambda g, ans, x, k=0: np.tril(g, k))
defvjp(np.rot90, lambda g, ans, m, k=1, axes=(0, 1): np.rot90(g, -k, axes))


def _tile_vjp(g: Any, ans: Any, x: Any, reps: Any) -> Any:
    # Give every output axis of length r * n its own pair of axes (r, n): the
    # copies then lie along the r axes, and the adjoint of copying is summing.
    shape, reps = tile_shapes(np.shape(x), reps)
    g = np.reshape(g, tuple(v for pair in zip(reps, shape, strict=True) for v in pair))
    return np.reshape(np.sum(g, axis=tuple(range(0, 2 * len(reps), 2))), np.shape(x))


defvjp(np.tile, _tile_vjp)


def _repeat_vjp(g: Any, ans: Any, x: Any, repeats: Any, axis: Any = None) -> Any:
    if axis is None:
        size = int(_np.size(unbox(x)))
        return np.reshape(_unrepeat(g, repeats, 0, (size,)), np.shape(x))
    shape = tuple(np.shape(x))
    return _unrepeat(g, repeats, axis % len(shape), shape)


def _unrepeat(g: Any, repeats: Any, ax: int, shape: tuple) -> Any:
    """Sum each run of copies made by ``repeat`` along ``ax`` back into one entry."""
    if _np.size(repeats) == 1:  # equal runs: one reshape and a sum
        r = int(_np.reshape(repeats, -1)[0])
        g = np.reshape(g, shape[:ax + 1] + (r,) + shape[ax + 1:])
        return np.sum(g, axis=ax + 1)
    # runs of different lengths: entry i of the output came from source[i]
    source = _np.repeat(_np.arange(shape[ax]), repeats)
    return np.untake(g, (slice(None),) * ax + (source,), shape)


defvjp(np.repeat, _repeat_vjp)

# --- indexing ----------------------------------------------------------------------
defvjp(np.getitem, lambda g, ans, x, index: np.untake(g, index, np.shape(x)))
defvjp(np.untake, lambda g, ans, x, index, shape, dtype=None: np.getitem(g, index))


def _concatenate_vjp(i: int) -> Any:
    def vjp(g: Any, ans: Any, axis: int, *arrays: Any) -> Any:
        ax = axis % np.ndim(ans)
        start = 0
        for a in arrays[: i - 1]:
            start += np.shape(a)[ax]
        stop = start + np.shape(arrays[i - 1])[ax]
        return g[(slice(None),) * ax + (slice(start, stop),)]

    return vjp


np._P["concatenate"].vjps = VariadicRules(_concatenate_vjp)


def _take_vjp(g: Any, ans: Any, a: Any, indices: Any, axis: Any = None,
              out: Any = None, mode: str = "raise") -> Any:
    shape = tuple(np.shape(a))
    if axis is None:
        size = int(_np.size(unbox(a)))
        flat = np.untake(g, take_index(indices, size, mode), (size,))
        return np.reshape(flat, shape)
    ax = axis % len(shape)
    index = (slice(None),) * ax + (take_index(indices, shape[ax], mode),)
    return np.untake(g, index, shape)


defvjp(np.take, _take_vjp)


def _take_along_axis_vjp(g: Any, ans: Any, arr: Any, indices: Any,
                         axis: Any = -1) -> Any:
    shape = tuple(np.shape(arr))
    if axis is None:
        size = int(_np.size(unbox(arr)))
        return np.reshape(np.untake(g, _np.asarray(indices), (size,)), shape)
    return np.untake(g, along_axis_index(indices, axis, shape), shape)


defvjp(np.take_along_axis, _take_along_axis_vjp)


def _unpermute(g: Any, perm: Any, x: Any, axis: Any) -> Any:
    """Send ``g[..., k, ...]`` back to where entry ``k`` came from: ``perm[k]``.

    ``perm`` is the permutation that rearranged ``x`` along ``axis`` (from
    ``argsort`` or ``argpartition``); its inverse is ``argsort(perm)``.
    """
    if axis is None:
        return np.reshape(g[np.argsort(perm)], np.shape(x))
    return np.take_along_axis(g, np.argsort(perm, axis=axis), axis=axis)


# Entries that tie share their places' cotangents evenly (_kinks.py), as in max.
defvjp(np.sort, lambda g, ans, x, axis=-1, kind=None, order=None: _unpermute(
    tie_average(g, ans, axis, is_sorted=True), sort_permutation(x, axis), x, axis))
defvjp(np.partition, lambda g, ans, x, kth, axis=-1, kind="introselect", order=None:
       _unpermute(tie_average(g, ans, axis),
                  partition_permutation(x, kth, axis, kind), x, axis))


# --- diagonals ---------------------------------------------------------------------
def _diagonal_vjp(g: Any, ans: Any, a: Any, offset: int = 0, axis1: int = 0,
                  axis2: int = 1) -> Any:
    # numpy.diagonal moves the diagonal to the last axis; build the matrices
    # on the last two axes, then put those back where axis1 and axis2 were.
    shape = np.shape(a)
    full = embed_diagonal(g, offset, shape[axis1], shape[axis2])
    return np.moveaxis(full, (-2, -1), (axis1, axis2))


def _diag_vjp(g: Any, ans: Any, v: Any, k: int = 0) -> Any:
    if np.ndim(v) == 1:
        return np.diag(g, k)
    return embed_diagonal(g, k, *np.shape(v))


def _trace_vjp(g: Any, ans: Any, a: Any, offset: int = 0, axis1: int = 0,
               axis2: int = 1, dtype: Any = None, out: Any = None) -> Any:
    shape = np.shape(a)
    length = len(diagonal_index(shape[axis1], shape[axis2], offset)[0])
    g = np.broadcast_to(np.expand_dims(g, -1), tuple(np.shape(g)) + (length,))
    return _diagonal_vjp(g, None, a, offset, axis1, axis2)


defvjp(np.diagonal, _diagonal_vjp)
defvjp(np.diag, _diag_vjp)
defvjp(np.trace, _trace_vjp)


# --- padding -----------------------------------------------------------------------
def _pad_vjp(g: Any, ans: Any, x: Any, pad_width: Any, mode: str = "constant",
             **kw: Any) -> Any:
    shape = tuple(np.shape(x))
    if mode == "constant":  # the original array is a block of the padded one
        widths = pad_widths(pad_width, len(shape))
        return g[tuple(slice(int(b), int(b) + n)
                       for (b, _), n in zip(widths, shape, strict=True))]
    source = pad_source(shape, pad_width, mode, kw)
    size = int(_np.prod(shape))
    return np.reshape(np.untake(g, source, (size,)), shape)


defvjp(np.pad, _pad_vjp)


# --- einsum and tensordot: every rule is an einsum again ---------------------------
def _einsum_vjp(i: int) -> Any:
    def vjp(g: Any, ans: Any, subscripts: str, *operands: Any, **kw: Any) -> Any:
        ins, out = einsum_rules.explicit(subscripts, [np.shape(a) for a in operands])
        return einsum_rules.cotangent(ins, out, operands, i - 1, g, **kw)

    return vjp


np._P["einsum"].vjps = VariadicRules(_einsum_vjp)


def _tensordot_vjp(k: int) -> Any:
    def vjp(g: Any, ans: Any, a: Any, b: Any, axes: Any = 2) -> Any:
        ins, out = einsum_rules.tensordot_labels(np.ndim(a), np.ndim(b), axes)
        return einsum_rules.cotangent(ins, out, (a, b), k, g)

    return vjp


defvjp(np.tensordot, _tensordot_vjp(0), _tensordot_vjp(1))

# --- products ----------------------------------------------------------------------


def _dot_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        return unbroadcast(g * b, a)
    if nb == 1:  # g has shape a.shape[:-1]
        return np.expand_dims(g, -1) * b
    if nb == 2:  # g has shape a.shape[:-1] + (n,)
        return np.dot(g, np.transpose(b))
    return np.tensordot(g, np.swapaxes(b, -1, -2), nb - 1)


def _dot_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        return unbroadcast(g * a, b)
    if na == 1 and nb == 1:
        return g * a
    if na == 1:  # g has shape b.shape[:-2] + (n,)
        return np.expand_dims(a, -1) * np.expand_dims(g, -2)
    if na == 2 and nb <= 2:  # g has shape (m,) or (m, n)
        return np.dot(np.transpose(a), g)
    # contract g's leading a.ndim-1 axes with a's leading axes
    lead = list(range(na - 1))
    out = np.tensordot(a, g, (lead, lead))  # shape (k,) + b.shape[:-2] + (n,)
    return np.moveaxis(out, 0, -2) if nb > 1 else out


defvjp(np.dot, _dot_a, _dot_b)


def _matmul_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if np.ndim(b) == 1:
        if np.ndim(a) == 1:
            return g * b
        return unbroadcast(np.expand_dims(g, -1) * b, a)
    if np.ndim(a) == 1:
        return unbroadcast(np.matmul(np.expand_dims(g, -2),
                                     np.swapaxes(b, -1, -2))[..., 0, :], a)
    return unbroadcast(np.matmul(g, np.swapaxes(b, -1, -2)), a)


def _matmul_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if np.ndim(a) == 1:
        if np.ndim(b) == 1:
            return g * a
        return unbroadcast(np.expand_dims(a, -1) * np.expand_dims(g, -2), b)
    if np.ndim(b) == 1:
        return unbroadcast(np.matmul(np.swapaxes(a, -1, -2),
                                     np.expand_dims(g, -1))[..., 0], b)
    return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g), b)


defvjp(np.matmul, _matmul_a, _matmul_b)
