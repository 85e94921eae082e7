"""Summing the shares of backpropagation without wasting memory.

:func:`diffkit.backends.reverse.backward` hands each node's parents their
shares of the adjoint, and a value used several times adds its shares up.
Written naively, ``adjoint = adjoint + share``, every share of a big array
costs a fresh array.  This module keeps the same sums with less traffic,
which is most of what a gradient costs when the arrays are big (a million
elements is 8 MB, and writing to fresh memory is slower than computing):

* The adjoint of ``x[index]`` is zeros of ``x``'s shape holding ``g`` at
  ``index``.  A :class:`Scatter` stands for that array without writing it;
  when it meets the other shares of ``x`` it is added straight into their sum
  (``np.sum(x[1:] - x[:-1])`` then costs one buffer, not two plus their sum).
* Once a node's sum is a buffer this pass allocated itself, later shares are
  added into it in place.  A share itself is never written into: rules may
  hand the same array to several parents (the adjoint of ``a + b`` is ``g``
  for both).
* The adjoint of ``np.sum(...)`` is one number spread over a whole array;
  :func:`constant_value` recognises such an adjoint, so that elementwise
  rules can work on the number rather than on a million copies of it.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit.tracer import Box

__all__ = ["Adjoints", "Scatter", "constant_value", "spread"]


class Scatter:
    """Zeros of ``shape`` holding ``g`` at ``index``, not yet written out.

    The adjoint of ``y = x[index]`` with respect to ``x``; an index that names
    an element twice (``x[[0, 0]]``) adds both of its adjoints there.
    """

    __slots__ = ("g", "index", "shape", "dtype")

    def __init__(self, g: _np.ndarray, index: Any, shape: tuple[int, ...]) -> None:
        self.g = g
        self.index = index
        self.shape = shape
        self.dtype = _np.result_type(g, _np.float64)

    def add_to(self, out: _np.ndarray) -> None:
        """``out[index] += g``, once for every time ``index`` names an element."""
        if is_basic_index(self.index):
            out[self.index] += self.g  # slices never name an element twice
        else:
            _np.add.at(out, self.index, self.g)

    def dense(self) -> _np.ndarray:
        """The array itself."""
        out = _np.zeros(self.shape, self.dtype)
        if is_basic_index(self.index):
            out[self.index] = self.g  # cheaper than += into zeros
        else:
            _np.add.at(out, self.index, self.g)
        return out


def is_basic_index(index: Any) -> bool:
    """Whether ``index`` holds only slices, integers, ``None`` and ``...``.

    Such an index never names an element twice, so plain assignment scatters
    as ``np.add.at`` would, and far faster.
    """
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, slice)
               or (isinstance(p, int | _np.integer) and not isinstance(p, bool))
               for p in parts)


class Adjoints:
    """The adjoints found so far: for each node, the sum of the shares it received."""

    __slots__ = ("_sums", "_owned")

    def __init__(self) -> None:
        self._sums: dict[Any, Any] = {}
        # Nodes whose sum is a buffer this pass allocated and nobody else
        # holds: the only arrays it is safe to add into in place.
        self._owned: set[Any] = set()

    def add(self, node: Any, share: Any) -> None:
        """Add ``share`` to the adjoint of ``node``."""
        old = self._sums.get(node)
        if old is None:
            self._sums[node] = share  # kept as it is: the rule may share it
            return
        if node in self._owned and _adds_in_place(old, share):
            if type(share) is Scatter:
                share.add_to(old)
            else:
                _np.add(old, share, out=old)
            return
        total = _add(old, share)
        self._sums[node] = total
        if type(total) is _np.ndarray:  # a fresh array, ours alone
            self._owned.add(node)
        else:
            self._owned.discard(node)

    def pop(self, node: Any) -> Any:
        """Remove and return the adjoint of ``node`` (None if it received nothing)."""
        self._owned.discard(node)
        total = self._sums.pop(node, None)
        return total.dense() if type(total) is Scatter else total

    def remaining(self) -> dict[Any, Any]:
        """The adjoints not popped yet (the inputs'), written out as arrays."""
        return {node: self.pop(node) for node in list(self._sums)}


def _add(old: Any, share: Any) -> Any:
    """``old + share`` as a new value, writing out at most one Scatter."""
    if type(old) is Scatter:
        old, share = share, old
    if type(share) is not Scatter:
        return old + share
    if type(old) is Scatter:
        total = old.dense()
        share.add_to(total)
        return total
    if type(old) is _np.ndarray and old.shape == share.shape:
        total = old.astype(_np.result_type(old, share.dtype))  # a copy
        share.add_to(total)
        return total
    return old + share.dense()  # a traced sum (higher order), or a broadcast one


def _adds_in_place(total: _np.ndarray, share: Any) -> bool:
    """Whether ``total += share`` keeps ``total``'s shape and dtype."""
    if type(share) is Scatter:
        return share.shape == total.shape and _np.can_cast(share.dtype, total.dtype)
    if type(share) is _np.ndarray:
        return (_np.can_cast(share.dtype, total.dtype)
                and _np.broadcast_shapes(share.shape, total.shape) == total.shape)
    return False  # a box (higher order) or a Python number: add it the usual way


def constant_value(g: Any, min_size: int) -> Any:
    """The single value of an array that holds one value everywhere, else None.

    Recognises the cheap case only: a broadcast of one number (all strides
    0), as the adjoint of ``np.sum`` is.  Smaller arrays than ``min_size``
    are not worth the bookkeeping.
    """
    if type(g) is _np.ndarray and g.size >= min_size and g.size \
            and not any(g.strides):
        return g[(0,) * g.ndim]
    return None


def spread(share: Any, shape: tuple[int, ...]) -> Any:
    """``share`` broadcast to ``shape`` (a zero-memory view when it is smaller)."""
    if _np.shape(share) == shape:
        return share
    if not isinstance(share, Box):
        return _np.broadcast_to(share, shape)
    from diffkit import numpy as dnp  # a traced share (higher order)

    return dnp.broadcast_to(share, shape)
