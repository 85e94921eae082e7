"""Axis bookkeeping shared by the reduction and shape rules."""

from __future__ import annotations

from typing import Any


def normalize(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, int or tuple) as a tuple of non-negative axes, in order."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim if ndim else 0 for a in axis)


def from_right(axis: Any, ndim: int) -> tuple[int, ...]:
    """The same axes counted from the right (negative), so leading batch axes
    of a forward-mode tangent do not shift them."""
    return tuple(a - ndim for a in normalize(axis, ndim))


def kept_shape(shape: tuple, axis: Any) -> tuple:
    """The shape of a reduction's result with ``keepdims=True``."""
    axes = normalize(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))
