"""Derivatives of ``prod`` and ``cumprod`` without dividing by ``x``.

The textbook rules divide: ``d prod(x) / d x_i = prod(x) / x_i`` and
``d cumprod(x)_j / d x_i = cumprod(x)_j / x_i``.  Both are ``0 / 0`` as soon
as some ``x_i`` is zero, yet the derivatives themselves are perfectly
ordinary there: the slope of ``x_1 x_2 x_3`` in ``x_2`` is ``x_1 x_3``,
zero or not.  The helpers below compute the same quantities from
multiplications and additions alone, so they are exact at zeros, and --
being written with :mod:`diffkit.numpy` -- differentiate again, exactly,
to any order.

* ``prod``: the slope in ``x_i`` is the product of all the *other* entries,
  that is (product of the entries before ``i``) times (product of the
  entries after ``i``): two running products, one from each end.

* ``cumprod``: ``y_j = y_{j-1} x_j`` is a recurrence, and so are its
  derivatives.  Forward, ``dy_j = x_j dy_{j-1} + y_{j-1} dx_j``; backward,
  the cotangent of ``x_i`` is ``y_{i-1} c_i`` with
  ``c_i = g_i + x_{i+1} c_{i+1}``.  Both are *first-order linear
  recurrences* ``s_j = a_j s_{j-1} + b_j``, solved by
  :func:`linear_recurrence` in O(n) work -- never the n x n Jacobian.

Every helper works along the last axis; the rules move the axis there.

The price of not dividing: the slopes are assembled from *partial* products
(of the entries before ``i``, after ``i``, or in a window), and a partial
product can overflow or underflow where the whole product does not.  For
``x = [1e-300, 5, 1e300, 1e100]`` the slope in ``x_1`` is ``1e100``, but the
product after ``x_1`` is ``1e400``: inf in floating point, so the slope comes
out inf where ``prod(x) / x_1`` would have been right.  For entries of
moderate size, and at zeros, the products of others are exact.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit import numpy as np
from diffkit.rules._axes import normalize


def _filled(v: Any, value: float, length: int = 1) -> Any:
    """A constant block shaped like ``v`` but ``length`` long on the last axis."""
    shape = tuple(np.shape(v))[:-1] + (length,)
    return _np.full(shape, value, dtype=np.result_type(v))


def shift_in(v: Any, value: float) -> Any:
    """``v`` moved one step along the last axis, ``value`` entering at the front:
    ``out[..., 0] = value`` and ``out[..., j] = v[..., j - 1]``."""
    if np.shape(v)[-1] == 0:
        return v
    return np.concatenate([_filled(v, value), v[..., :-1]], axis=-1)


def exclusive_cumprod(v: Any) -> Any:
    """``out[..., i] = prod(v[..., :i])``: the product of the entries *before* i.

    The first entry is the empty product, 1; no entry includes ``v[..., i]``
    itself, which is what keeps a zero at ``i`` out of its own slope.
    """
    if np.shape(v)[-1] == 0:
        return v
    return shift_in(np.cumprod(v, axis=-1), 1.0)


def others_product(x: Any, axis: Any = None) -> Any:
    """For every entry of ``x``, the product of the other entries it is reduced
    with by ``prod(x, axis)``: the partial derivative ``d prod / d x_i``.

    The reduced axes are put last and flattened into one, so that "the
    others" are one row: (product before ``i``) * (product after ``i``).
    With one zero in a row only that zero's slope survives; with two or more,
    every slope in the row is zero -- as it should be, with no ``0 / 0``.
    """
    shape = tuple(np.shape(x))
    reduced = normalize(axis, len(shape))
    kept = tuple(d for d in range(len(shape)) if d not in reduced)
    order = kept + reduced
    moved = x if order == tuple(range(len(shape))) else np.transpose(x, order)
    n = 1
    for d in reduced:
        n *= shape[d]
    rows = np.reshape(moved, tuple(shape[d] for d in kept) + (n,))
    before = exclusive_cumprod(rows)
    after = np.flip(exclusive_cumprod(np.flip(rows, -1)), -1)
    others = np.reshape(before * after, tuple(np.shape(moved)))
    if moved is x:
        return others
    return np.transpose(others, tuple(_np.argsort(order)))


def linear_recurrence(a: Any, b: Any) -> Any:
    """Solve ``s[j] = a[j] * s[j-1] + b[j]`` along the last axis, ``s[-1] = 0``.

    Both are n long on the last axis; ``a`` may lack leading axes of ``b``
    (a forward-mode batch of tangents, say), which it broadcasts over.
    ``a[..., 0]`` only ever multiplies ``s[-1] = 0``.

    A Python loop over ``j`` would take n tiny steps.  Instead, take two
    steps at once: substituting ``s[2k]`` into ``s[2k+1]`` gives

        s[2k+1] = (a[2k+1] a[2k]) s[2k-1] + (a[2k+1] b[2k] + b[2k+1]),

    the same kind of recurrence for the odd entries alone, half as long.
    Solve that (recursively), then fill in each even entry from the odd one
    before it: ``s[2k] = a[2k] s[2k-1] + b[2k]``.  The lengths halve, so the
    work is ``n + n/2 + n/4 + ... = O(n)`` in about ``log2(n)`` rounds of
    whole-array NumPy operations.  Only products and sums appear: no
    division, so zeros in ``a`` need no special care, at any order.
    """
    n = np.shape(b)[-1]
    if n <= 1:
        return b
    if n % 2:  # pad with a step that changes nothing: s[n] = 1 * s[n-1] + 0
        a = np.concatenate([a, _filled(a, 1.0)], axis=-1)
        b = np.concatenate([b, _filled(b, 0.0)], axis=-1)
    a_even, a_odd = a[..., 0::2], a[..., 1::2]
    b_even, b_odd = b[..., 0::2], b[..., 1::2]
    odd = linear_recurrence(a_odd * a_even, a_odd * b_even + b_odd)
    even = a_even * shift_in(odd, 0.0) + b_even
    pairs = np.stack([even, odd], axis=-1)  # (..., m, 2): s[2k], s[2k+1]
    half = tuple(np.shape(odd))
    s = np.reshape(pairs, half[:-1] + (2 * half[-1],))  # interleaved back
    return s[..., :n] if n % 2 else s  # drop the padding step


def cumprod_tangent(t: Any, ans: Any, x: Any) -> Any:
    """The tangent of ``ans = cumprod(x, axis=-1)``: ``t`` may carry batch axes
    in front.  ``dy[j] = x[j] dy[j-1] + y[j-1] t[j]``, with ``y[-1] = 1``."""
    return linear_recurrence(x, shift_in(ans, 1.0) * t)


def cumprod_cotangent(g: Any, ans: Any, x: Any) -> Any:
    """The cotangent of ``x`` from ``g``, that of ``ans = cumprod(x, axis=-1)``.

    ``x_bar[i] = sum_{j >= i} g[j] d y[j] / d x[i] = y[i-1] c[i]``, where
    ``c[i] = sum_{j >= i} g[j] x[i+1] ... x[j]`` obeys, from the right,
    ``c[i] = g[i] + x[i+1] c[i+1]``: the recurrence of
    :func:`linear_recurrence` run on the reversed axis.  (Its first
    coefficient, the 1 after the last ``x``, only multiplies zero.)
    """
    following = np.concatenate([x[..., 1:], _filled(x, 1.0)], axis=-1)
    c = np.flip(linear_recurrence(np.flip(following, -1), np.flip(g, -1)), -1)
    return shift_in(ans, 1.0) * c
