"""Backpropagation's shares of big arrays, with as few passes over memory as possible.

:func:`diffkit.backends.reverse.backward` hands each node's parents their
shares of the adjoint, and a value used several times adds its shares up.
Written naively -- ``share = rule(g)``, ``adjoint = adjoint + share`` --
every step over a big array writes a fresh one.  At a million elements (8 MB)
that traffic, not the arithmetic, is what a gradient costs: NumPy computes
faster than it can write to memory it has not touched yet.  This module does
the same sums in fewer passes:

* The adjoint of ``np.sum(...)`` is one number spread over a whole array, and
  the share ``-a``, ``a - b``, ``3 * a`` or ``a / 2`` hands to ``a`` is the
  cotangent times a number.  :func:`split` and :class:`Scaled` keep such a
  number apart from its array, so it is folded into the next rule that
  touches the array (``g * 2 * x`` with ``g = -base`` is ``(-2 * x) * base``)
  or into the sum it lands in (``total -= base``) -- never a pass of its own.
* The adjoint of ``x[index]`` is zeros of ``x``'s shape holding ``g`` at
  ``index``.  A :class:`Scatter` stands for that array without writing it;
  when it meets the other shares of ``x`` it is added straight into their sum
  (``np.sum(x[1:] - x[:-1])`` then costs one buffer, not two plus their sum).
* Once a node's sum is a buffer this pass allocated itself, later shares are
  added into it in place.  A share itself is never written into: rules may
  hand the same array to several parents (the adjoint of ``a + b`` is ``g``
  for both).

None of this changes a single value: the lazy forms are written out (see
:func:`written`) wherever a rule needs an ordinary array.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit.tracer import Box

__all__ = ["Adjoints", "Scaled", "Scatter", "scaled", "split", "spread", "written"]


class Scaled:
    """``factor * base``: a number times an array, not multiplied out yet.

    The share that ``-a``, ``a - b``, ``3 * a`` or ``a / 2`` hands to ``a`` is
    the cotangent times a number.  Kept as the pair, the number is folded into
    whatever touches the array next: the next rule (``g * 2 * x`` with
    ``g = -base`` is ``(-2 * x) * base``, one pass less) or the sum the share
    lands in (``total -= base``).
    """

    __slots__ = ("factor", "base", "shape", "dtype")

    def __init__(self, factor: Any, base: _np.ndarray) -> None:
        self.factor = factor
        self.base = base
        self.shape = base.shape
        self.dtype = _np.result_type(base, factor)

    def dense(self) -> _np.ndarray:
        """The product, as a new array."""
        return self.base * self.factor

    def add_to(self, out: Any, index: Any = ...) -> None:
        """``out[index] += factor * base``."""
        if self.factor == -1:
            out[index] -= self.base
        else:
            out[index] += self.base * self.factor


class Scatter:
    """Zeros of ``shape`` holding ``g`` at ``index``, not yet written out.

    The adjoint of ``y = x[index]`` with respect to ``x``; an index that names
    an element twice (``x[[0, 0]]``) adds both of its adjoints there.  ``g``
    may itself be :class:`Scaled`.
    """

    __slots__ = ("g", "index", "shape", "dtype")

    def __init__(self, g: Any, index: Any, shape: tuple[int, ...]) -> None:
        self.g = g
        self.index = index
        self.shape = shape
        self.dtype = _np.result_type(g.dtype if type(g) is Scaled else g, _np.float64)

    def add_to(self, out: _np.ndarray) -> None:
        """``out[index] += g``, once for every time ``index`` names an element."""
        if not is_basic_index(self.index):
            _np.add.at(out, self.index, written(self.g))
        elif type(self.g) is Scaled:
            self.g.add_to(out, self.index)
        else:
            out[self.index] += self.g  # slices never name an element twice

    def dense(self) -> _np.ndarray:
        """The array itself."""
        out = _np.zeros(self.shape, self.dtype)
        if is_basic_index(self.index) and type(self.g) is not Scaled:
            out[self.index] = self.g  # cheaper than += into zeros
        else:
            self.add_to(out)
        return out


def written(v: Any) -> Any:
    """``v`` as an ordinary value: a :class:`Scaled` or :class:`Scatter` written out."""
    return v.dense() if type(v) in _LAZY else v


_LAZY = (Scaled, Scatter)
_NUMBERS = (float, _np.float64, complex, _np.complex128)


def is_basic_index(index: Any) -> bool:
    """Whether ``index`` holds only slices, integers, ``None`` and ``...``.

    Such an index never names an element twice, so plain assignment scatters
    as ``np.add.at`` would, and far faster.
    """
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, slice)
               or (isinstance(p, int | _np.integer) and not isinstance(p, bool))
               for p in parts)


class Adjoints(dict):
    """The adjoints found so far: node -> the sum of the shares it received.

    A plain dict for the first share of each node; :meth:`accumulate` adds
    the later ones.
    """

    __slots__ = ("_owned",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        # Nodes whose sum is a buffer this pass allocated and nobody else
        # holds: the only arrays it is safe to add into in place.  (A node is
        # popped once, after its last share: it never needs removing.)
        self._owned: set[Any] = set()

    def accumulate(self, node: Any, share: Any) -> None:
        """Add ``share`` to the adjoint of ``node``, which has one already."""
        old = self[node]
        if type(old) in _NUMBERS and type(share) in _NUMBERS:
            self[node] = old + share  # scalar code: nothing to save
            return
        if node in self._owned and _adds_in_place(old, share):
            _add_into(old, share)
            return
        if type(old) in _LAZY or type(share) in _LAZY:
            total = _add(old, share)
        else:
            total = old + share
        self[node] = total
        if type(total) is _np.ndarray:  # a fresh array, ours alone
            self._owned.add(node)
        else:  # traced (higher order): never written into
            self._owned.discard(node)

    def written_out(self) -> dict[Any, Any]:
        """The adjoints left (the inputs'), as ordinary values."""
        return {node: written(total) for node, total in self.items()}


def _add(old: Any, share: Any) -> Any:
    """``old + share`` as a new value, writing out as little as it can."""
    if type(old) in _LAZY and type(share) not in _LAZY:
        old, share = share, old
    if type(share) not in _LAZY:
        return old + share
    if type(old) in _LAZY:
        total = old.dense()  # a new array, which share can be added into
    elif type(old) is _np.ndarray and old.shape == share.shape:
        total = old.astype(_np.result_type(old, share.dtype))  # a copy
    else:
        return old + written(share)  # a traced sum (higher order), or a broadcast
    if _adds_in_place(total, share):
        _add_into(total, share)
        return total
    return total + written(share)


def _add_into(total: _np.ndarray, share: Any) -> None:
    """``total += share``, in place."""
    if type(share) in _LAZY:
        share.add_to(total)
    else:
        _np.add(total, share, out=total)


def _adds_in_place(total: _np.ndarray, share: Any) -> bool:
    """Whether ``total += share`` keeps ``total``'s shape and dtype."""
    if type(share) not in _LAZY and type(share) is not _np.ndarray:
        return False  # a box (higher order) or a number: add it the usual way
    return share.shape == total.shape and (
        share.dtype == total.dtype or _np.can_cast(share.dtype, total.dtype))


def split(v: Any, min_size: int) -> tuple[Any, Any]:
    """``v`` as ``(factor, base)`` with ``v == factor * base``, where that helps.

    ``base`` is None when ``v`` is one number everywhere (a broadcast, as the
    adjoint of ``np.sum`` is): the rules can then work on ``factor`` alone.
    ``factor`` is None when ``v`` is better left as it is: traced (higher
    order), complex, or smaller than ``min_size``, where the bookkeeping would
    cost more than it saves.
    """
    if type(v) is Scaled:
        return v.factor, v.base
    if type(v) is _np.ndarray and v.size >= min_size and v.dtype.kind in "fc":
        if v.size and not any(v.strides):
            return v[(0,) * v.ndim], None
        if v.dtype.kind == "f":
            return 1.0, v
    return None, v


def scaled(factor: Any, base: _np.ndarray) -> Any:
    """``factor * base``, kept as a :class:`Scaled` pair if ``factor`` is real."""
    if isinstance(factor, _np.ndarray) and factor.ndim == 0:
        factor = factor[()]
    if isinstance(factor, float | int | _np.floating | _np.integer) \
            and not isinstance(factor, bool):
        return base if factor == 1 else Scaled(factor, base)
    return factor * base


def spread(share: Any, shape: tuple[int, ...]) -> Any:
    """``share`` broadcast to ``shape`` (a zero-memory view when it is smaller)."""
    if _np.shape(share) == shape:
        return share
    if not isinstance(share, Box):
        return _np.broadcast_to(share, shape)
    from diffkit import numpy as dnp  # a traced share (higher order)

    return dnp.broadcast_to(share, shape)
