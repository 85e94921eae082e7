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
    "full", "hsplit", "inner", "kron", "linspace", "median", "nanmax", "nanmin",
    "outer", "percentile", "ptp", "quantile", "rollaxis", "select", "split", "vdot",
    "vsplit",
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


def _sorted_along_first(a: Any, axis: Any) -> tuple[Any, tuple[int, ...]]:
    """``a`` sorted along the reduced axes, merged into axis 0 (as NumPy's
    ``_ureduce`` does); and the shape a ``keepdims=True`` result has."""
    a = dnp.asarray(a)
    if dnp.iscomplexobj(a):
        raise TypeError("a must be an array of real numbers")
    shape = tuple(dnp.shape(a))
    if axis is None:
        axes = tuple(range(len(shape)))
    else:
        given = (axis,) if _np.ndim(axis) == 0 else tuple(axis)
        for ax in given:
            if not -len(shape) <= ax < len(shape):
                raise ValueError(f"axis {ax} is out of bounds for an array of "
                                 f"dimension {len(shape)}")
        axes = tuple(sorted({int(ax) % len(shape) for ax in given}))
    rest = tuple(n for i, n in enumerate(shape) if i not in axes)
    moved = dnp.moveaxis(a, axes, tuple(range(len(axes)))) if axes else a
    data = dnp.reshape(moved, (-1,) + rest)
    if dnp.shape(data)[0] == 0:
        raise ValueError("quantiles of an empty array are not defined")
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    return dnp.sort(data, axis=0), kept


def _with_nans(s: Any, result: Any) -> Any:
    """NaN where a slice holds a NaN (it sorts last), as NumPy's quantiles give."""
    has_nan = _np.isnan(_np.asarray(unbox(s)[-1]))
    return dnp.where(has_nan, _np.nan, result) if _np.any(has_nan) else result


def _traced_quantile(a: Any, q: Any, axis: Any, out: Any, method: str,
                     keepdims: bool, weights: Any, name: str) -> Any:
    if not _plain(q):
        raise TypeError(
            f"np.{name} differentiates with respect to the data, not to q: give "
            "q as plain numbers.")
    if method != "linear" or weights is not None:
        raise TypeError(
            f"np.{name} of a value being differentiated supports NumPy's default "
            f"method='linear' without weights (got method={method!r}"
            f"{', weights' if weights is not None else ''}); the other methods "
            "jump between order statistics and have no useful derivative.")
    _no_out(out, name)
    q = _np.asarray(q, dtype=float)
    if not _np.all((q >= 0) & (q <= 1)):
        raise ValueError("Quantiles must be in the range [0, 1]"
                         if name == "quantile" else "Percentiles must be in the "
                         "range [0, 100]")
    s, kept = _sorted_along_first(a, axis)
    n = dnp.shape(s)[0]
    # NumPy's own arithmetic (_quantile, _lerp), so that values agree to the bit.
    virtual = (n - 1) * q.ravel()
    below = _np.floor(virtual)
    above = below + 1
    last = virtual >= n - 1
    below[last] = -1
    above[last] = -1
    gamma = (virtual - below).reshape((-1,) + (1,) * (dnp.ndim(s) - 1))
    lo = dnp.take(s, below.astype(_np.intp), axis=0)
    hi = dnp.take(s, above.astype(_np.intp), axis=0)
    step = hi - lo
    result = dnp.where(gamma >= 0.5, hi - step * (1 - gamma), lo + step * gamma)
    result = _with_nans(s, result)
    rest = tuple(dnp.shape(s)[1:])
    return dnp.reshape(result, q.shape + (kept if keepdims else rest))


def quantile(a: Any, q: Any, axis: Any = None, out: Any = None,
             overwrite_input: bool = False, method: str = "linear",
             keepdims: bool = False, *, weights: Any = None) -> Any:
    """The ``q``-th quantiles of ``a`` along ``axis`` (``numpy.quantile``).

    A traced ``a`` takes NumPy's default ``method="linear"``: the value is
    interpolated between two order statistics, so its derivative is theirs,
    weighted ``1 - gamma`` and ``gamma``.  At a tie the tied entries share
    evenly, as in ``sort``, ``max`` and ``min`` (diffkit.rules._kinks).

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.grad(lambda x: np.quantile(x, 0.25))(np.array([4.0, 1.0, 3.0, 2.0, 5.0]))
    array([0., 0., 0., 1., 0.])
    """
    if _plain(a, q):
        extra = {} if weights is None else {"weights": weights}
        return _np.quantile(a, q, axis=axis, out=out, overwrite_input=overwrite_input,
                            method=method, keepdims=keepdims, **extra)  # type: ignore[call-overload]
    return _traced_quantile(a, q, axis, out, method, keepdims, weights, "quantile")


def percentile(a: Any, q: Any, axis: Any = None, out: Any = None,
               overwrite_input: bool = False, method: str = "linear",
               keepdims: bool = False, *, weights: Any = None) -> Any:
    """The ``q``-th percentiles of ``a`` (``numpy.percentile``): quantiles at ``q/100``.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.grad(lambda x: np.percentile(x, 50))(np.array([1.0, 3.0, 3.0]))
    array([0. , 0.5, 0.5])
    """
    if _plain(a, q):
        extra = {} if weights is None else {"weights": weights}
        return _np.percentile(a, q, axis=axis, out=out, overwrite_input=overwrite_input,
                              method=method, keepdims=keepdims, **extra)  # type: ignore[call-overload]
    if _plain(q):
        q = _np.true_divide(q, 100)
    return _traced_quantile(a, q, axis, out, method, keepdims, weights, "percentile")


def median(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
           keepdims: bool = False) -> Any:
    """The median along ``axis`` (``numpy.median``): the middle entry, or the
    mean of the two middle ones.

    At a tie the tied entries share evenly, as in ``sort``
    (diffkit.rules._kinks): the median of ``[1, 3, 3]`` gives each 3 a half.

    Examples
    --------
    >>> import diffkit as dk
    >>> import diffkit.numpy as np
    >>> dk.grad(np.median)(np.array([4.0, 1.0, 3.0, 2.0]))
    array([0. , 0. , 0.5, 0.5])
    """
    if _plain(a):
        return _np.median(a, axis=axis, out=out, overwrite_input=overwrite_input,
                          keepdims=keepdims)
    _no_out(out, "median")
    s, kept = _sorted_along_first(a, axis)
    n = dnp.shape(s)[0]
    middle = slice(n // 2, n // 2 + 1) if n % 2 else slice(n // 2 - 1, n // 2 + 1)
    result = _with_nans(s, dnp.mean(s[middle], axis=0))
    return dnp.reshape(result, kept) if keepdims else result


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
