"""What a derivative is at a kink: one convention for every method.

``np.maximum(x, 1.0)`` has no derivative at ``x = 1``: its slope is 0 on
the left and 1 on the right.  Any number between is a valid subgradient, and
libraries differ (autograd gives ``np.clip`` a 0 at its bounds, PyTorch a 1).
diffkit takes the *average of the one-sided slopes*, which is what a central
difference sees, and uses it in forward mode, reverse mode and the symbolic
method alike, so that the four methods agree at a kink instead of each
making its own choice:

* ``abs`` at 0 has slope 0; ``maximum``/``minimum`` at a tie give each
  argument half;
* ``clip`` is ``minimum(maximum(x, lo), hi)``: at a bound, ``x`` and the
  bound get half each;
* a reduction (``max``, ``min``) splits its cotangent evenly among all the
  tied entries (so the shares still add up to 1: the slope of ``max(x + t)``
  along ``t`` is 1), as autograd and JAX do.

* ``sort`` (and ``partition``) at a tie gives each of the tied entries the
  average of the slopes of the places they fill, so that ``sort(x)[-1]``
  splits a tie like ``max(x)`` and ``median`` like a central difference;
* a length -- ``hypot`` and ``std`` (and the 2-norm, :mod:`diffkit.rules.linalg`)
  -- is even about its zero, like ``abs``: its slopes there are 0, to every
  order, instead of ``0/0``.  ``arctan2`` at the origin gets 0 too: along
  either axis it is constant on each side of its jump.

The weights are written with diffkit's own comparisons, which carry no
derivative: the rules built on them differentiate again (to a zero second
derivative away from the kink, as the piecewise-linear function has).
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit import numpy as np
from diffkit.tracer import unbox

__all__ = ["tie_share", "clip_shares", "reciprocal_or_zero", "tie_average"]


def tie_share(x: Any, ans: Any, other: Any) -> Any:
    """``x``'s share of ``maximum(x, other)`` (or ``minimum``), whose value is ``ans``.

    1 where ``x`` alone is chosen, 1/2 where ``x`` and ``other`` tie, 0 where
    ``other`` is chosen.
    """
    return (x == ans) / (1.0 + (x == other))


def _above(x: Any, bound: Any) -> Any:
    """The slope of ``maximum(x, bound)`` along ``x``: 1 above, 1/2 at, 0 below."""
    if bound is None:
        return 1.0
    return 0.5 * (x > bound) + 0.5 * (x >= bound)


def clip_shares(x: Any, lo: Any, hi: Any) -> tuple[Any, Any, Any]:
    """The slopes of ``clip(x, lo, hi)`` along ``x``, ``lo`` and ``hi``.

    ``clip`` is ``minimum(maximum(x, lo), hi)`` (also when ``lo > hi``, as
    in NumPy: every element is then ``hi``), so its slopes are the chain of
    the two ties' shares.  ``lo`` or ``hi`` may be ``None`` (no bound).
    """
    if lo is None:
        floor, floor_share = x, 1.0
    else:
        floor = np.maximum(x, lo)  # the lower bound applied first
        floor_share = _above(x, lo)
    if hi is None:
        return floor_share, 1.0 - floor_share, 0.0
    below_hi = 1.0 - _above(floor, hi)  # minimum(floor, hi) along floor
    return floor_share * below_hi, (1.0 - floor_share) * below_hi, 1.0 - below_hi


def reciprocal_or_zero(r: Any) -> Any:
    """``1 / r``, and 0 where ``r = 0``: a length's slopes at its zero.

    ``d hypot(x, y) / dx = x / hypot(x, y)`` is ``0 / 0`` at the origin.  The
    factor is 0 there, not ``1 / 1`` (and the comparison carries no
    derivative), so a rule ``x * reciprocal_or_zero(r)`` also differentiates
    again to 0 at ``r = 0``, as ``abs`` does.
    """
    return (r != 0) / np.where(r == 0, 1.0, r)


def tie_average(g: Any, ans: Any, axis: Any, batched: bool = False,
                is_sorted: bool = False) -> Any:
    """``g`` with each entry replaced by its mean over the entries tied with it.

    ``ans`` is the output of ``sort`` or ``partition`` along ``axis`` (None:
    flattened, so ``ans`` is 1-d), and ``g`` a cotangent of it -- or, with
    ``batched``, a batch of tangents (one leading axis more).  Entries tie
    when their values in ``ans`` are equal along ``axis``.  Without ties
    ``g`` is returned as it is, which is the usual case: for the output of
    ``sort`` (``is_sorted``) finding that out costs one pass of comparisons.

    The grouping is read from the plain values, and the averaging is a
    scatter-add and a gather, both linear primitives: the result
    differentiates again like ``g`` itself.

    Examples
    --------
    >>> import numpy
    >>> from diffkit.rules._kinks import tie_average
    >>> tie_average(numpy.array([1.0, 2.0, 6.0]), numpy.array([0.0, 3.0, 3.0]), -1)
    array([1., 4., 4.])
    """
    a = _np.asarray(unbox(ans))
    if a.size == 0:
        return g
    ax = -1 if axis is None else axis % a.ndim
    rows = _np.moveaxis(a, ax, -1)
    moved_shape = rows.shape
    rows = rows.reshape(-1, moved_shape[-1])
    order = None if is_sorted else _np.argsort(rows, axis=-1, kind="stable")
    ordered = rows if order is None else _np.take_along_axis(rows, order, axis=-1)
    starts = _np.ones(ordered.shape, dtype=bool)  # where a new value begins
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]  # NaNs never tie
    if starts.all():
        return g
    if order is None:
        order = _np.broadcast_to(_np.arange(rows.shape[-1]), rows.shape)
    group = _np.cumsum(starts).reshape(ordered.shape) - 1  # numbered across rows
    ids = _np.empty_like(group)
    _np.put_along_axis(ids, order, group, axis=-1)
    ids = _np.moveaxis(ids.reshape(moved_shape), -1, ax).ravel()
    counts = _np.bincount(ids).astype(float)
    batch = np.shape(g)[0] if batched else 1
    flat = np.reshape(g, (batch, a.size))
    sums = np.untake(flat, (slice(None), ids), (batch, counts.size))
    means = np.take(sums, ids, axis=1) / counts[ids]
    return np.reshape(means, np.shape(g))
