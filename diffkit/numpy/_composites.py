"""NumPy functions that diffkit builds from its primitives.

None of these needs derivative rules of its own: ``kron`` is a broadcast
product and a reshape, ``cross`` three differences of products, ``select`` a
chain of ``where``... so every method differentiates them through the
primitives they are made of, to any order.  On plain (untraced) values each
one simply calls NumPy, so results there are NumPy's to the last bit.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as _np

from diffkit import numpy as dnp
from diffkit.tracer import Box, unbox

__all__ = [
    "append", "array_split", "cross", "diff", "dsplit", "fliplr", "flipud",
    "full", "hsplit", "inner", "kron", "linspace", "nanmax", "nanmin", "outer", "ptp",
    "rollaxis", "select", "split", "vdot", "vsplit",
]


def _plain(*args: Any) -> bool:
    """True when nothing among ``args`` (or in lists among them) is traced."""
    for a in args:
        if isinstance(a, Box):
            return False
        if isinstance(a, list | tuple) and not _plain(*a):
            return False
    return True


# --- products -------------------------------------------------------------------


def vdot(a: Any, b: Any) -> Any:
    """Dot product of the flattened arrays, conjugating ``a`` (as ``numpy.vdot``).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.grad(lambda a: np.vdot(a, np.array([1.0, 2.0])))(np.ones(2))
    array([1., 2.])
    """
    if _plain(a, b):
        return _np.vdot(a, b)
    if dnp.iscomplexobj(a):
        a = dnp.conj(a)
    return dnp.sum(dnp.ravel(a) * dnp.ravel(b))


def inner(a: Any, b: Any) -> Any:
    """Sum-product over the last axes of ``a`` and ``b`` (as ``numpy.inner``)."""
    if _plain(a, b):
        return _np.inner(a, b)
    if dnp.ndim(a) == 0 or dnp.ndim(b) == 0:
        return dnp.multiply(a, b)
    return dnp.tensordot(a, b, axes=(-1, -1))


def outer(a: Any, b: Any) -> Any:
    """``out[i, j] = a.ravel()[i] * b.ravel()[j]`` (as ``numpy.outer``)."""
    if _plain(a, b):
        return _np.outer(a, b)
    return dnp.reshape(a, (-1, 1)) * dnp.reshape(b, (1, -1))


def kron(a: Any, b: Any) -> Any:
    """Kronecker product (as ``numpy.kron``).

    Each axis of ``a`` is paired with the matching axis of ``b`` (after
    padding the shorter shape with leading 1s): interleave them as
    ``(a0, b0, a1, b1, ...)``, multiply with broadcasting, and merge each
    pair into one axis of length ``a_k * b_k``.

    Examples
    --------
    >>> import diffkit.numpy as np
    >>> np.kron(np.array([1.0, 2.0]), np.array([1.0, 10.0]))
    array([ 1., 10.,  2., 20.])
    """
    if _plain(a, b):
        return _np.kron(a, b)
    nd = max(dnp.ndim(a), dnp.ndim(b))
    sa = (1,) * (nd - dnp.ndim(a)) + tuple(dnp.shape(a))
    sb = (1,) * (nd - dnp.ndim(b)) + tuple(dnp.shape(b))
    a2 = dnp.reshape(a, tuple(v for n in sa for v in (n, 1)))
    b2 = dnp.reshape(b, tuple(v for n in sb for v in (1, n)))
    return dnp.reshape(a2 * b2, tuple(p * q for p, q in zip(sa, sb, strict=True)))


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Any:
    """Cross product of 3-vectors along an axis (as ``numpy.cross``).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> e1, e2 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    >>> dk.jacobian(lambda b: np.cross(e1, b))(e2)  # b -> e1 x b
    array([[ 0.,  0.,  0.],
           [ 0.,  0., -1.],
           [ 0.,  1.,  0.]])
    """
    if _plain(a, b):
        return _np.cross(a, b, axisa, axisb, axisc, axis)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = dnp.moveaxis(dnp.asarray(a), axisa, -1)
    b = dnp.moveaxis(dnp.asarray(b), axisb, -1)
    na, nb = dnp.shape(a)[-1], dnp.shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product "
                         "(dimension must be 2 or 3)")
    if na == 2 or nb == 2:
        warnings.warn(  # as NumPy 2 does, for the same input
            "Arrays of 2-dimensional vectors are deprecated. Use arrays of "
            "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
            DeprecationWarning, stacklevel=2)
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2] if na == 3 else 0.0
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2] if nb == 3 else 0.0
    if na == nb == 2:  # NumPy's convention: just the z component
        return a0 * b1 - a1 * b0
    c = dnp.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return dnp.moveaxis(c, -1, axisc)


# --- choosing -----------------------------------------------------------------------


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """Pick from ``choicelist`` where the first true condition says (``numpy.select``).

    Built as nested :func:`where` calls, last condition innermost, so the
    first condition that holds wins -- NumPy's rule.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> f = lambda x: np.sum(np.select([x < 0, x < 1], [-x, x ** 2], default=x))
    >>> dk.grad(f)(np.array([-2.0, 0.5, 3.0]))
    array([-1.,  1.,  1.])
    """
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if _plain(list(choicelist), default):
        return _np.select(condlist, choicelist, default)
    result = default
    for cond, choice in zip(reversed(condlist), reversed(choicelist), strict=True):
        result = dnp.where(cond, choice, result)
    return result


# --- shapes ---------------------------------------------------------------------


def flipud(m: Any) -> Any:
    """Reverse the first axis (``numpy.flipud``)."""
    return dnp.flip(m, 0)


def fliplr(m: Any) -> Any:
    """Reverse the second axis (``numpy.fliplr``)."""
    return dnp.flip(m, 1)


def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """Move ``axis`` to before position ``start`` (``numpy.rollaxis``)."""
    n = dnp.ndim(a)
    axis %= n
    if start < 0:
        start += n
    if axis < start:
        start -= 1
    return a if axis == start else dnp.moveaxis(a, axis, start)


def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None,
         append: Any = None) -> Any:
    """``n``-th differences along ``axis`` (``numpy.diff``), from slices."""
    if _plain(a, prepend, append):
        kwargs = {k: v for k, v in (("prepend", prepend), ("append", append))
                  if v is not None}
        return _np.diff(a, n=n, axis=axis, **kwargs)
    a = dnp.asarray(a)
    ax = axis % dnp.ndim(a)
    ends = []
    for end in (prepend, append):
        if end is not None and dnp.ndim(end) == 0:
            shape = list(dnp.shape(a))
            shape[ax] = 1
            end = dnp.broadcast_to(end, tuple(shape))
        ends.append(end)
    pieces = [p for p in (ends[0], a, ends[1]) if p is not None]
    if len(pieces) > 1:
        a = dnp.concatenate(pieces, axis=ax)
    before = (slice(None),) * ax
    for _ in range(n):
        a = a[before + (slice(1, None),)] - a[before + (slice(None, -1),)]
    return a


def append(arr: Any, values: Any, axis: int | None = None) -> Any:
    """``values`` appended to ``arr`` (``numpy.append``)."""
    if axis is None:
        return dnp.concatenate([dnp.ravel(arr), dnp.ravel(values)])
    return dnp.concatenate([arr, values], axis=axis)


def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """Split into pieces, allowing unequal ones (``numpy.array_split``).

    Every piece is a slice of ``ary``, so gradients flow back through each.
    """
    n = dnp.shape(ary)[axis]
    if _np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extra = divmod(n, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        bounds = [0]
        for size in sizes:
            bounds.append(bounds[-1] + size)
    else:
        bounds = [0, *[int(i) for i in indices_or_sections], n]
    ax = axis % dnp.ndim(ary)
    return [ary[(slice(None),) * ax + (slice(lo, hi),)]
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """Split into equal pieces, or at the given indices (``numpy.split``)."""
    if _np.ndim(indices_or_sections) == 0:
        n = dnp.shape(ary)[axis]
        if n % int(indices_or_sections):
            raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary: Any, indices_or_sections: Any) -> list:
    """Split along the second axis (the first for 1-d arrays)."""
    return split(ary, indices_or_sections, axis=1 if dnp.ndim(ary) > 1 else 0)


def vsplit(ary: Any, indices_or_sections: Any) -> list:
    """Split along the first axis of an array with at least two axes."""
    if dnp.ndim(ary) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, axis=0)


def dsplit(ary: Any, indices_or_sections: Any) -> list:
    """Split along the third axis of an array with at least three axes."""
    if dnp.ndim(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, axis=2)


# --- order statistics ---------------------------------------------------------------
# At a tie these split the slope evenly among the tied entries, as max and min
# do (diffkit.rules._kinks), so every method gives the same number.


def _no_out(out: Any, name: str) -> None:
    if out is not None:
        raise TypeError(
            f"{name}(..., out=...) cannot store a value being differentiated: "
            f"use the returned array instead (y = np.{name}(x)).")


def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    """The range ``max - min`` along ``axis`` (``numpy.ptp``).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.grad(np.ptp)(np.array([3.0, 1.0, 3.0]))  # the tie for the max splits
    array([ 0.5, -1. ,  0.5])
    """
    if _plain(a):
        return _np.ptp(a, axis=axis, out=out, keepdims=keepdims)
    _no_out(out, "ptp")
    return (dnp.max(a, axis=axis, keepdims=keepdims)
            - dnp.min(a, axis=axis, keepdims=keepdims))


def _nan_extremum(name: str, a: Any, axis: Any, out: Any, keepdims: bool) -> Any:
    """``max`` (or ``min``) ignoring NaNs: NaNs become -inf (+inf) first."""
    from diffkit.backends.symbolic import SymbolicValue

    _no_out(out, f"nan{name}")
    a = dnp.asarray(a)
    values = unbox(a)
    if isinstance(values, SymbolicValue):  # a formula is never NaN
        return getattr(dnp, name)(a, axis=axis, keepdims=keepdims)
    missing = _np.isnan(values)
    filled = dnp.where(missing, -_np.inf if name == "max" else _np.inf, a)
    result = getattr(dnp, name)(filled, axis=axis, keepdims=keepdims)
    empty = _np.all(missing, axis=axis, keepdims=keepdims)
    if _np.any(empty):
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
        result = dnp.where(empty, _np.nan, result)
    return result


def nanmax(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    """The maximum along ``axis``, ignoring NaNs (``numpy.nanmax``).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.grad(np.nanmax)(np.array([2.0, np.nan, 2.0, 1.0]))
    array([0.5, 0. , 0.5, 0. ])
    """
    if _plain(a):
        return _np.nanmax(a, axis=axis, out=out, keepdims=keepdims)
    return _nan_extremum("max", a, axis, out, keepdims)


def nanmin(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    """The minimum along ``axis``, ignoring NaNs (``numpy.nanmin``)."""
    if _plain(a):
        return _np.nanmin(a, axis=axis, out=out, keepdims=keepdims)
    return _nan_extremum("min", a, axis, out, keepdims)


# --- constructors that may receive a traced value --------------------------------


def full(shape: Any, fill_value: Any, dtype: Any = None, order: str = "C") -> Any:
    """An array of ``shape`` filled with ``fill_value`` (which may be traced)."""
    if _plain(fill_value):
        return _np.full(shape, fill_value, dtype=dtype, order=order)  # type: ignore[call-overload]
    shape = (shape,) if _np.ndim(shape) == 0 else tuple(shape)
    return dnp.broadcast_to(fill_value, shape)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
             retstep: bool = False, dtype: Any = None, axis: int = 0) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop`` (either may be traced).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.jacobian(lambda b: np.linspace(0.0, b, 3))(2.0)  # d/db [0, b/2, b]
    array([0. , 0.5, 1. ])
    """
    if _plain(start, stop):
        return _np.linspace(start, stop, num, endpoint=endpoint,  # type: ignore[call-overload]
                            retstep=retstep, dtype=dtype, axis=axis)
    nd = len(_np.broadcast_shapes(dnp.shape(start), dnp.shape(stop)))
    fractions = _np.linspace(0.0, 1.0, num, endpoint=endpoint)
    fractions = fractions.reshape((num,) + (1,) * nd)
    span = dnp.subtract(stop, start)
    out = dnp.add(start, span * fractions)
    if axis != 0:
        out = dnp.moveaxis(out, 0, axis)
    if retstep:
        return out, span / max(num - 1 if endpoint else num, 1)
    return out
