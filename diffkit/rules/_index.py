"""Index bookkeeping shared by the forward and reverse rules.

Shape-changing primitives (``take``, ``sort``, ``pad``, ``diagonal``...) move
entries around; both of their derivative rules move tangents or cotangents
along the same paths.  These helpers work out those paths once, on plain
NumPy values, so that the rules themselves stay one or two lines.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from diffkit import numpy as np
from diffkit.tracer import unbox


def clip_bounds(lo: Any, hi: Any, kw: dict) -> tuple[Any, Any]:
    """``clip``'s bounds, however they were passed (positionally, ``a_min=``...)."""
    lo = kw.get("a_min", kw.get("min", lo))
    hi = kw.get("a_max", kw.get("max", hi))
    return lo, hi


def tile_shapes(shape: tuple, reps: Any) -> tuple[tuple, tuple]:
    """``x``'s shape and ``reps``, both padded with leading 1s to one length."""
    reps = (int(reps),) if _np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    d = max(len(shape), len(reps))
    return (1,) * (d - len(shape)) + tuple(shape), (1,) * (d - len(reps)) + reps


def take_index(indices: Any, n: int, mode: str) -> Any:
    """``take``'s indices with its out-of-range ``mode`` applied."""
    index = _np.asarray(indices)
    if mode == "wrap":
        return index % n
    if mode == "clip":
        return _np.clip(index, 0, n - 1)
    return index


def along_axis_index(indices: Any, axis: int, shape: tuple) -> tuple:
    """The fancy index that ``take_along_axis(arr, indices, axis)`` amounts to.

    Along ``axis`` it is ``indices``; along every other axis it is a
    broadcastable ``arange``, so ``arr[index]`` picks ``indices[..., j, ...]``
    from the matching 1-d slice of ``arr``.
    """
    ax = axis % len(shape)
    index = []
    for d, n in enumerate(shape):
        if d == ax:
            index.append(_np.asarray(indices))
        else:
            lengths = [1] * len(shape)
            lengths[d] = n
            index.append(_np.arange(n).reshape(lengths))
    return tuple(index)


def sort_permutation(x: Any, axis: Any) -> Any:
    """The permutation ``sort`` applies (entries that tie keep their order)."""
    if axis is None:
        return np.argsort(np.ravel(unbox(x)), kind="stable")
    return np.argsort(unbox(x), axis=axis, kind="stable")


def partition_permutation(x: Any, kth: Any, axis: Any, kind: str = "introselect"
                          ) -> Any:
    """The permutation ``partition`` applies (see ``_primitives._partition``)."""
    return _np.argpartition(unbox(x), kth, axis=axis, kind=kind)  # type: ignore[arg-type]


def diagonal_index(n1: int, n2: int, offset: int) -> tuple[Any, Any]:
    """Rows and columns of the ``offset`` diagonal of an ``n1 x n2`` matrix."""
    row0, col0 = max(-offset, 0), max(offset, 0)
    length = max(0, min(n1 - row0, n2 - col0))
    steps = _np.arange(length)
    return row0 + steps, col0 + steps


def embed_diagonal(d: Any, offset: int, n1: int, n2: int) -> Any:
    """Zero matrices of shape ``(n1, n2)`` (stacked like ``d``) carrying ``d`` on
    their ``offset`` diagonal: the adjoint of taking a diagonal."""
    rows, cols = diagonal_index(n1, n2, offset)
    return np.untake(d, (Ellipsis, rows, cols), tuple(np.shape(d))[:-1] + (n1, n2))


#: pad modes that only copy entries of the array: their derivative moves
#: cotangents along the same copies.
COPYING_PAD_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad_source(shape: tuple, pad_width: Any, mode: str, kw: dict) -> Any:
    """For each entry of the padded array, the flat index of the entry of
    the original array it is a copy of (copying modes only)."""
    if mode not in COPYING_PAD_MODES or kw.get("reflect_type", "even") != "even":
        raise NotImplementedError(
            f"diffkit differentiates numpy.pad with mode='constant' or one of "
            f"{COPYING_PAD_MODES} (reflect_type='even'), not mode={mode!r} "
            f"with {kw}. Pad with one of those modes, or build the padding with "
            "np.concatenate."
        )
    source = _np.arange(int(_np.prod(shape))).reshape(shape)
    return _np.pad(source, pad_width, mode=mode, **kw)  # type: ignore[call-overload]


def pad_widths(pad_width: Any, ndim: int) -> Any:
    """``pad_width`` in its long form, one ``(before, after)`` pair per axis."""
    return _np.broadcast_to(_np.asarray(pad_width, dtype=int), (ndim, 2))
