"""Forward-mode rules: ``jvp(t, ans, *args) -> tangent of the output``.

``t`` holds a batch of tangents of one argument on a leading axis, shape
``(B,) + shape(arg)``.  Elementwise rules broadcast over it untouched (the
forward trace first gives ``t`` the output's rank); structural rules count
axes from the right (:func:`~diffkit.rules._axes.from_right`) or put the
batch axis back in front themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit import numpy as np
from diffkit.primitives import VariadicRules, defjvp
from diffkit.rules import _einsum as einsum_rules
from diffkit.rules._axes import from_right
from diffkit.rules._index import (
    clip_bounds,
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
from diffkit.rules._products import cumprod_tangent, others_product
from diffkit.rules._sinc import sinc_slope

# --- elementwise, one argument -----------------------------------------------------
defjvp(np.negative, lambda t, ans, x: -t)
defjvp(np.positive, lambda t, ans, x: t)
defjvp(np.sin, lambda t, ans, x: t * np.cos(x))
defjvp(np.cos, lambda t, ans, x: -t * np.sin(x))
defjvp(np.tan, lambda t, ans, x: t / np.cos(x) ** 2)
defjvp(np.arcsin, lambda t, ans, x: t / np.sqrt(1 - x**2))
defjvp(np.arccos, lambda t, ans, x: -t / np.sqrt(1 - x**2))
defjvp(np.arctan, lambda t, ans, x: t / (1 + x**2))
defjvp(np.sinh, lambda t, ans, x: t * np.cosh(x))
defjvp(np.cosh, lambda t, ans, x: t * np.sinh(x))
defjvp(np.tanh, lambda t, ans, x: t / np.cosh(x) ** 2)
defjvp(np.arcsinh, lambda t, ans, x: t / np.sqrt(x**2 + 1))
defjvp(np.arccosh, lambda t, ans, x: t / np.sqrt(x**2 - 1))
defjvp(np.arctanh, lambda t, ans, x: t / (1 - x**2))
defjvp(np.exp, lambda t, ans, x: t * ans)
defjvp(np.exp2, lambda t, ans, x: t * ans * np.log(2.0))
defjvp(np.expm1, lambda t, ans, x: t * (ans + 1))
defjvp(np.log, lambda t, ans, x: t / x)
defjvp(np.log2, lambda t, ans, x: t / (x * np.log(2.0)))
defjvp(np.log10, lambda t, ans, x: t / (x * np.log(10.0)))
defjvp(np.log1p, lambda t, ans, x: t / (1 + x))
defjvp(np.sqrt, lambda t, ans, x: t * 0.5 / ans)
defjvp(np.cbrt, lambda t, ans, x: t / (3 * ans**2))
defjvp(np.square, lambda t, ans, x: t * 2 * x)
defjvp(np.reciprocal, lambda t, ans, x: -t / x**2)
defjvp(np.deg2rad, lambda t, ans, x: t * (np.pi / 180))
defjvp(np.rad2deg, lambda t, ans, x: t * (180 / np.pi))
defjvp(np.sinc, lambda t, ans, x: t * sinc_slope(x, order=1))  # exact at 0, any order


def _abs_jvp(t: Any, ans: Any, x: Any) -> Any:
    if np.iscomplexobj(x):
        return np.real(np.conj(x) * t) / np.where(ans == 0, 1.0, ans)
    return t * np.sign(x)


defjvp(np.absolute, _abs_jvp)
defjvp(np.fabs, lambda t, ans, x: t * np.sign(x))
defjvp(np.real, lambda t, ans, x: np.real(t))
defjvp(np.imag, lambda t, ans, x: np.imag(t))
defjvp(np.conjugate, lambda t, ans, x: np.conj(t))
defjvp(np.angle, lambda t, ans, x: np.imag(np.conj(x) * t) / np.abs(x) ** 2
       if np.iscomplexobj(x) else 0.0 * t)

# --- elementwise, two arguments ----------------------------------------------------
defjvp(np.add, lambda t, ans, x, y: t, lambda t, ans, x, y: t)
defjvp(np.subtract, lambda t, ans, x, y: t, lambda t, ans, x, y: -t)
defjvp(np.multiply, lambda t, ans, x, y: t * y, lambda t, ans, x, y: t * x)
defjvp(np.true_divide, lambda t, ans, x, y: t / y,
       lambda t, ans, x, y: -t * x / y**2)


def _power_base(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return scaled_power_slope(t, x, y)


def _power_exponent(t: Any, ans: Any, x: Any, y: Any) -> Any:
    return t * np.log(np.where(x == 0, 1.0, x)) * ans


defjvp(np.power, _power_base, _power_exponent)
defjvp(np.float_power, _power_base, _power_exponent)




for _extremum in (np.maximum, np.minimum, np.fmax, np.fmin):
    defjvp(_extremum, lambda t, ans, x, y: t * tie_share(x, ans, y),
           lambda t, ans, x, y: t * tie_share(y, ans, x))

# At the origin arctan2 jumps and hypot has a kink: slopes 0 there (_kinks.py).
defjvp(np.arctan2, lambda t, ans, y, x: t * x * reciprocal_or_zero(x**2 + y**2),
       lambda t, ans, y, x: -t * y * reciprocal_or_zero(x**2 + y**2))
defjvp(np.hypot, lambda t, ans, x, y: t * x * reciprocal_or_zero(ans),
       lambda t, ans, x, y: t * y * reciprocal_or_zero(ans))
defjvp(np.logaddexp, lambda t, ans, x, y: t * np.exp(x - ans),
       lambda t, ans, x, y: t * np.exp(y - ans))
defjvp(np.logaddexp2, lambda t, ans, x, y: t * 2 ** (x - ans),
       lambda t, ans, x, y: t * 2 ** (y - ans))
defjvp(np.remainder, lambda t, ans, x, y: t,
       lambda t, ans, x, y: -t * np.floor(x / y))
defjvp(np.fmod, lambda t, ans, x, y: t, lambda t, ans, x, y: -t * np.trunc(x / y))
defjvp(np.where, None, lambda t, ans, c, x, y: np.where(c, t, 0.0),
       lambda t, ans, c, x, y: np.where(c, 0.0, t))


def _clip(which: int) -> Any:
    def rule(t: Any, ans: Any, x: Any, lo: Any = None, hi: Any = None,
             **kw: Any) -> Any:
        return t * clip_shares(x, *clip_bounds(lo, hi, kw))[which]

    return rule


defjvp(np.clip, _clip(0), _clip(1), _clip(2))
defjvp(np.nan_to_num, lambda t, ans, x, **kw: t * np.isfinite(x))


# --- reductions: the batch axis is never reduced -----------------------------------
defjvp(np.sum, lambda t, ans, x, axis=None, dtype=None, keepdims=False:
       np.sum(t, axis=from_right(axis, np.ndim(x)), keepdims=keepdims))
defjvp(np.mean, lambda t, ans, x, axis=None, dtype=None, keepdims=False:
       np.mean(t, axis=from_right(axis, np.ndim(x)), keepdims=keepdims))


def _spread(v: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    from diffkit.rules._axes import kept_shape

    shape = np.shape(x)
    return np.broadcast_to(v if keepdims else np.reshape(v, kept_shape(shape, axis)),
                           shape)


def _prod_jvp(t: Any, ans: Any, x: Any, axis: Any = None, dtype: Any = None,
              keepdims: bool = False) -> Any:
    # Each tangent entry times the product of the other entries (exact at
    # zeros, unlike ans / x), summed over the reduced axes.
    return np.sum(t * others_product(x, axis),
                  axis=from_right(axis, np.ndim(x)), keepdims=keepdims)


def _extremum_jvp(t: Any, ans: Any, x: Any, axis: Any = None,
                  keepdims: bool = False, **kw: Any) -> Any:
    winners = x == _spread(ans, x, axis, keepdims)
    weights = winners / np.sum(winners, axis=axis, keepdims=True)
    return np.sum(t * weights, axis=from_right(axis, np.ndim(x)), keepdims=keepdims)


def _var_jvp(t: Any, ans: Any, x: Any, axis: Any = None, dtype: Any = None,
             out: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    centred = x - np.mean(x, axis=axis, keepdims=True)
    n = np.size(x) // max(np.size(ans), 1)
    return np.sum(2 * centred * t, axis=from_right(axis, np.ndim(x)),
                  keepdims=keepdims) / (n - ddof)


def _std_jvp(t: Any, ans: Any, x: Any, axis: Any = None, dtype: Any = None,
             out: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    # At constant data std has a kink (it is even in x - mean): slope 0.
    return (_var_jvp(t, ans**2, x, axis, ddof=ddof, keepdims=keepdims)
            * reciprocal_or_zero(2 * ans))


defjvp(np.prod, _prod_jvp)
defjvp(np.max, _extremum_jvp)
defjvp(np.min, _extremum_jvp)
defjvp(np.var, _var_jvp)
defjvp(np.std, _std_jvp)


def _cumsum_jvp(t: Any, ans: Any, x: Any, axis: Any = None, **kw: Any) -> Any:
    if axis is None:
        return np.cumsum(np.reshape(t, (len(t), -1)), axis=-1)
    return np.cumsum(t, axis=from_right(axis, np.ndim(x))[0])


defjvp(np.cumsum, _cumsum_jvp)


def _cumprod_jvp(t: Any, ans: Any, x: Any, axis: Any = None, **kw: Any) -> Any:
    # d ans[j] = x[j] d ans[j-1] + ans[j-1] t[j]: the product rule on
    # ans[j] = ans[j-1] x[j], solved as a recurrence (no division by x).
    if axis is None:  # ans is the running product of the flattened x
        return cumprod_tangent(_flat(t), ans, np.ravel(x))
    ax = from_right(axis, np.ndim(x))[0]  # the same axis of t, x and ans
    last = [np.moveaxis(v, ax, -1) for v in (t, ans, x)]
    return np.moveaxis(cumprod_tangent(*last), -1, ax)


def _flat(t: Any) -> Any:
    """Each tangent of the batch flattened: shape ``(B, size)``."""
    return np.reshape(t, (len(t), -1))


defjvp(np.cumprod, _cumprod_jvp)

# --- shape manipulation ------------------------------------------------------------
_reshape_like_ans = lambda t, ans, x, *args, **kw: np.reshape(
    t, (len(t),) + np.shape(ans))
for _shape_only in (np.reshape, np.ravel, np.squeeze, np.expand_dims,
                    np.atleast_1d, np.atleast_2d, np.atleast_3d):
    defjvp(_shape_only, _reshape_like_ans)


def _transpose_jvp(t: Any, ans: Any, x: Any, axes: Any = None) -> Any:
    n = np.ndim(x)
    axes = range(n - 1, -1, -1) if axes is None else [a % n for a in axes]
    return np.transpose(t, (0, *[a + 1 for a in axes]))


defjvp(np.transpose, _transpose_jvp)
defjvp(np.moveaxis, lambda t, ans, x, source, destination: np.moveaxis(
    t, from_right(source, np.ndim(x)), from_right(destination, np.ndim(x))))
defjvp(np.swapaxes, lambda t, ans, x, a1, a2: np.swapaxes(
    t, *from_right((a1, a2), np.ndim(x))))


def _broadcast_to_jvp(t: Any, ans: Any, x: Any, shape: Any, **kw: Any) -> Any:
    shape = tuple(np.shape(ans))
    lead = len(shape) - np.ndim(x)
    t = np.reshape(t, (len(t),) + (1,) * lead + np.shape(x))
    return np.broadcast_to(t, (len(t),) + shape)


defjvp(np.broadcast_to, _broadcast_to_jvp)
defjvp(np.flip, lambda t, ans, x, axis=None: np.flip(t, from_right(axis, np.ndim(x))))


def _roll_jvp(t: Any, ans: Any, x: Any, shift: Any, axis: Any = None) -> Any:
    if axis is None:
        flat = np.roll(np.reshape(t, (len(t), -1)), shift, axis=-1)
        return np.reshape(flat, np.shape(t))
    return np.roll(t, shift, from_right(axis, np.ndim(x)))


defjvp(np.roll, _roll_jvp)
defjvp(np.triu, lambda t, ans, x, k=0: np.triu(t, k))
defjvp(np.tril, lambda t, ans, x, k=0: np.tril(t, k))
defjvp(np.rot90, lambda t, ans, m, k=1, axes=(0, 1): np.rot90(
    t, k, from_right(axes, np.ndim(m))))


def _tile_jvp(t: Any, ans: Any, x: Any, reps: Any) -> Any:
    shape, reps = tile_shapes(np.shape(x), reps)
    return np.tile(np.reshape(t, (len(t),) + shape), (1,) + reps)


defjvp(np.tile, _tile_jvp)


def _repeat_jvp(t: Any, ans: Any, x: Any, repeats: Any, axis: Any = None) -> Any:
    if axis is None:
        return np.repeat(_flat(t), repeats, axis=-1)
    return np.repeat(t, repeats, axis=from_right(axis, np.ndim(x))[0])


defjvp(np.repeat, _repeat_jvp)


# --- diagonals ---------------------------------------------------------------------
defjvp(np.diagonal, lambda t, ans, a, offset=0, axis1=0, axis2=1: np.diagonal(
    t, offset, *from_right((axis1, axis2), np.ndim(a))))
defjvp(np.trace, lambda t, ans, a, offset=0, axis1=0, axis2=1, dtype=None, out=None:
       np.trace(t, offset, *from_right((axis1, axis2), np.ndim(a))))


def _diag_jvp(t: Any, ans: Any, v: Any, k: int = 0) -> Any:
    if np.ndim(v) == 1:
        n = np.shape(ans)[0]
        return embed_diagonal(t, k, n, n)
    return np.diagonal(t, k, -2, -1)


defjvp(np.diag, _diag_jvp)


# --- indexing ----------------------------------------------------------------------
def _batched(index: Any) -> tuple:
    """An index into an array, shifted to leave its leading batch axis alone."""
    return (slice(None), *(index if isinstance(index, tuple) else (index,)))


defjvp(np.getitem, lambda t, ans, x, index: np.getitem(t, _batched(index)))
defjvp(np.untake, lambda t, ans, g, index, shape, dtype=None: np.untake(
    t, _batched(index), (len(t), *shape)))


def _concatenate_jvp(i: int) -> Any:
    def jvp(t: Any, ans: Any, axis: int, *arrays: Any) -> Any:
        parts = [t if j == i - 1 else np.zeros((len(t), *np.shape(a)))
                 for j, a in enumerate(arrays)]
        return np._P["concatenate"](
            from_right(axis, np.ndim(ans))[0], *parts)

    return jvp


np._P["concatenate"].jvps = VariadicRules(_concatenate_jvp)


def _take_jvp(t: Any, ans: Any, a: Any, indices: Any, axis: Any = None,
              out: Any = None, mode: str = "raise") -> Any:
    if axis is None:
        return np.take(_flat(t), take_index(indices, np.size(a), mode), axis=1)
    ax = from_right(axis, np.ndim(a))[0]
    return np.take(t, take_index(indices, np.shape(a)[ax], mode), axis=ax)


def _take_along_axis_jvp(t: Any, ans: Any, arr: Any, indices: Any,
                         axis: Any = -1) -> Any:
    index = _np.asarray(indices)[None]  # the same indices for every tangent
    if axis is None:
        return np.take_along_axis(_flat(t), index, axis=-1)
    return np.take_along_axis(t, index, axis=from_right(axis, np.ndim(arr))[0])


defjvp(np.take, _take_jvp)
defjvp(np.take_along_axis, _take_along_axis_jvp)


def _permute(t: Any, perm: Any, x: Any, axis: Any) -> Any:
    """Rearrange every tangent of the batch the way ``perm`` rearranged ``x``."""
    if axis is None:
        return np.take(_flat(t), perm, axis=1)
    return np.take_along_axis(t, perm[None], axis=from_right(axis, np.ndim(x))[0])


# Entries that tie get the mean of their tangents (_kinks.py), as in max.
defjvp(np.sort, lambda t, ans, x, axis=-1, kind=None, order=None: tie_average(
    _permute(t, sort_permutation(x, axis), x, axis), ans, axis, batched=True,
    is_sorted=True))
defjvp(np.partition, lambda t, ans, x, kth, axis=-1, kind="introselect", order=None:
       tie_average(_permute(t, partition_permutation(x, kth, axis, kind), x, axis),
                   ans, axis, batched=True))


def _pad_jvp(t: Any, ans: Any, x: Any, pad_width: Any, mode: str = "constant",
             **kw: Any) -> Any:
    if mode == "constant":  # the padding is constant: its tangent is zero
        widths = [(0, 0)] + [tuple(w) for w in pad_widths(pad_width, np.ndim(x))]
        return np.pad(t, widths)
    return np.take(_flat(t), pad_source(np.shape(x), pad_width, mode, kw), axis=1)


defjvp(np.pad, _pad_jvp)


# --- einsum and tensordot ----------------------------------------------------------
def _einsum_jvp(i: int) -> Any:
    def jvp(t: Any, ans: Any, subscripts: str, *operands: Any, **kw: Any) -> Any:
        ins, out = einsum_rules.explicit(subscripts, [np.shape(a) for a in operands])
        return einsum_rules.tangent(ins, out, operands, i - 1, t, **kw)

    return jvp


np._P["einsum"].jvps = VariadicRules(_einsum_jvp)


def _tensordot_jvp(k: int) -> Any:
    def jvp(t: Any, ans: Any, a: Any, b: Any, axes: Any = 2) -> Any:
        ins, out = einsum_rules.tensordot_labels(np.ndim(a), np.ndim(b), axes)
        return einsum_rules.tangent(ins, out, (a, b), k, t)

    return jvp


defjvp(np.tensordot, _tensordot_jvp(0), _tensordot_jvp(1))


# --- products ----------------------------------------------------------------------
def _dot_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return _batch_align(t, np.ndim(a), np.ndim(ans)) * b
    return np.dot(t, b)  # dot contracts the last axis of t: the batch stays in front


def _dot_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * _batch_align(t, np.ndim(b), np.ndim(ans))
    if np.ndim(b) == 1:
        return np.moveaxis(np.dot(a, np.moveaxis(t, 0, -1)), -1, 0)
    return np.moveaxis(np.dot(a, t), np.ndim(a) - 1, 0)


def _batch_align(t: Any, ndim: int, out_ndim: int) -> Any:
    shape = np.shape(t)
    return np.reshape(t, (shape[0],) + (1,) * (out_ndim - ndim) + shape[1:])


defjvp(np.dot, _dot_a, _dot_b)


def _matmul_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    batch = len(t)
    if np.ndim(a) == 1:
        row = np.reshape(t, (batch,) + (1,) * max(np.ndim(b) - 2, 0) + (1, -1))
        return np.reshape(np.matmul(row, b), (batch, *np.shape(ans)))
    if np.ndim(b) > np.ndim(a):
        t = _batch_align(t, np.ndim(a), np.ndim(b))
    return np.matmul(t, b)


def _matmul_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    if np.ndim(b) == 1:
        if np.ndim(a) == 1:
            return np.matmul(t, a)
        return np.moveaxis(np.matmul(a, np.moveaxis(t, 0, -1)), -1, 0)
    if np.ndim(a) > np.ndim(b):
        t = _batch_align(t, np.ndim(b), np.ndim(a))
    return np.matmul(a, t)


defjvp(np.matmul, _matmul_a, _matmul_b)
